//! The fuzz targets' checks, one function per target. Kept free of `libfuzzer-sys` so that
//! `tests/tests/fuzz_regressions.rs` can include `checks.rs` as a module and replay inputs
//! through exactly the code the fuzzers run.

pub mod checks;
