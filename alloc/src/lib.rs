//! The allocator of jornada's programs and extension modules (the CLI, the Python module, the
//! Node addon, the bench harnesses): [mimalloc](https://github.com/microsoft/mimalloc), with one
//! option changed by [`tune`]. The `jornada` library itself never sets an allocator.
//!
//! Each program declares it and tunes it once at start:
//!
//! ```
//! #[global_allocator]
//! static ALLOC: jornada_alloc::MiMalloc = jornada_alloc::MiMalloc;
//!
//! jornada_alloc::tune();
//! assert!(jornada_alloc::tuned());
//! ```

pub use mimalloc::MiMalloc;

/// The index of mimalloc's `purge_decommits` option in its `mi_option_e` (5 in mimalloc v2 and
/// v3; a test checks it against the option's environment variable).
const PURGE_DECOMMITS: libmimalloc_sys::mi_option_t = 5;

/// Makes mimalloc purge the memory it frees by resetting it (`MADV_FREE`: the pages stay mapped
/// and the kernel takes them back when it needs memory) rather than decommitting it.
///
/// Why: ingest frees memory all the time (each call's outputs, once the caller drops them; the
/// lists and tables the engine outgrows). Decommitted, that memory comes back as fresh pages,
/// which the kernel zeroes again on first touch (huge pages, 2 MiB at a time): at 1M customers
/// that zeroing was 21-24% of columnar ingest time, and purging by reset makes columnar
/// ingest 10-25% faster (README, Benchmarks). Memory is still returned to the system, when the
/// system asks for it. Setting `MIMALLOC_PURGE_DECOMMITS=1` in the environment restores the
/// default: [`tune`] leaves an option the environment set alone.
pub fn tune() {
    if std::env::var_os("MIMALLOC_PURGE_DECOMMITS").is_none() {
        // SAFETY: sets one of mimalloc's option values (an atomic store); touches no memory
        // the program owns.
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DECOMMITS, 0) }
    }
}

/// Whether freed memory is purged by reset ([`tune`] ran, or the environment asked for it).
pub fn tuned() -> bool {
    // SAFETY: reads one of mimalloc's option values.
    unsafe { libmimalloc_sys::mi_option_get(PURGE_DECOMMITS) == 0 }
}

#[cfg(test)]
mod tests {
    #[global_allocator]
    static ALLOC: super::MiMalloc = super::MiMalloc;

    /// Option 5 is `purge_decommits`: a child process with `MIMALLOC_PURGE_DECOMMITS=0` in its
    /// environment reads 0 there, one without it reads mimalloc's default, 1.
    #[test]
    fn option_five_is_purge_decommits() {
        if let Some(expected) = std::env::var_os("JORNADA_ALLOC_CHILD") {
            // SAFETY: reads an option value.
            let got = unsafe { libmimalloc_sys::mi_option_get(super::PURGE_DECOMMITS) };
            assert_eq!(got.to_string(), expected.to_string_lossy());
            println!("child read {got}");
            return;
        }
        for (env, expected) in [(Some("0"), "0"), (None, "1")] {
            let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
            cmd.args([
                "--exact",
                "tests::option_five_is_purge_decommits",
                "--nocapture",
            ])
            .env("JORNADA_ALLOC_CHILD", expected)
            .env_remove("MIMALLOC_PURGE_DECOMMITS");
            if let Some(v) = env {
                cmd.env("MIMALLOC_PURGE_DECOMMITS", v);
            }
            let out = cmd.output().unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success(), "{stdout}");
            assert!(
                stdout.contains(&format!("child read {expected}")),
                "{stdout}"
            );
        }
    }

    #[test]
    fn tune_sets_the_option() {
        if std::env::var_os("MIMALLOC_PURGE_DECOMMITS").is_none() {
            super::tune();
            assert!(super::tuned());
        }
    }
}
