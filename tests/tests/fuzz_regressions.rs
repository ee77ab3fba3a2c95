//! Replays the fuzz targets' inputs without the fuzzer: every file in
//! `tests/fuzz_regressions/<target>/` (minimized inputs the fuzzers found) and in
//! `fuzz/seeds/<target>/` (the seed corpora) goes through the very checks the target runs
//! (`fuzz/src/checks.rs`, included below). See `fuzz/README.md`.

#[path = "../../fuzz/src/checks.rs"]
#[allow(dead_code)]
mod checks;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn inputs(target: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in [
        root.join("fuzz_regressions").join(target),
        root.join("../fuzz/seeds").join(target),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("readable directory entry").path();
            if path.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn replay(target: &str, check: fn(&[u8])) {
    let files = inputs(target);
    assert!(
        !files.is_empty(),
        "no inputs for `{target}` (seeds are in fuzz/seeds/{target})"
    );
    let mut failed = Vec::new();
    for path in &files {
        let data = std::fs::read(path).expect("readable input");
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| check(&data))) {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failed.push(format!("{}: {msg}", path.display()));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} `{target}` inputs fail:\n{}",
        failed.len(),
        files.len(),
        failed.join("\n")
    );
}

#[test]
fn model_json() {
    replay("model_json", checks::model_json);
}

#[test]
fn touchpoint_json() {
    replay("touchpoint_json", checks::touchpoint_json);
}

#[test]
fn snapshot() {
    replay("snapshot", checks::snapshot);
}

/// The snapshot seeds are this build's base snapshot and edits of it. They are committed; this
/// rewrites them (`cargo test -p jornada-tests --test fuzz_regressions -- --ignored`) when the
/// snapshot format changes.
#[test]
#[ignore]
fn write_snapshot_seeds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/snapshot");
    std::fs::create_dir_all(&dir).unwrap();
    let base = checks::base_snapshot();
    let payload = &base[checks::SNAPSHOT_HEADER..];
    // Raw restore path (mode byte b'J' % 3 == 2 also seals the rest as a payload).
    std::fs::write(dir.join("base.snap"), base).unwrap();
    // Mode 0 (edit the whole snapshot): no edits, then a flip in the header's length.
    let mut m0 = vec![0u8];
    std::fs::write(dir.join("mode0_noop"), &m0).unwrap();
    m0.extend_from_slice(&[0, 13, 0, 1]);
    std::fs::write(dir.join("mode0_len_flip"), &m0).unwrap();
    // Mode 1 (edit the payload, reseal): no edits, a flip, an insertion and a truncation.
    std::fs::write(dir.join("mode1_noop"), [1u8]).unwrap();
    std::fs::write(dir.join("mode1_flip"), [1u8, 0, 40, 0, 0x10]).unwrap();
    std::fs::write(dir.join("mode1_insert"), [1u8, 2, 3, 0, 0x7f]).unwrap();
    let half = (payload.len() / 2) as u16;
    let [lo, hi] = half.to_le_bytes();
    std::fs::write(dir.join("mode1_truncate"), [1u8, 4, lo, hi, 0]).unwrap();
    // Mode 2 (the rest is the payload): the base payload itself.
    let mut m2 = vec![2u8];
    m2.extend_from_slice(payload);
    std::fs::write(dir.join("mode2_payload"), &m2).unwrap();
}
