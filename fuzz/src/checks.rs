//! What each fuzz target does with one input. Every function here must return normally for every
//! input; a panic (in jornada or in one of the assertions below) is a finding.
//!
//! This file depends on `jornada` only, so `tests/tests/fuzz_regressions.rs` can include it with
//! `#[path]` and replay the seeds and the saved regression inputs in an ordinary `cargo test`.

use jornada::time::MAX_MILLIS;
use jornada::{CustomerView, Engine, Model, Timestamp};
use std::sync::OnceLock;

/// `model_json`: any text through [`Model::from_json`]; an accepted model must survive its
/// canonical JSON form (pretty, and the compact form a snapshot embeds) unchanged.
pub fn model_json(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(model) = Model::from_json(&text) else {
        return;
    };
    // Accessors must not panic on anything the validator accepted.
    let _ = model.warnings();
    let _ = model.allowed_lateness();
    for name in model.stage_names() {
        assert!(
            model.stage_index(name).is_some(),
            "stage `{name}` has no index"
        );
    }
    let _ = model.channel_names().count();
    let _ = model.event_kind_names().count();
    let _ = model.identity_kind_names().count();
    let _ = model.rule_names().count();

    let json = model.to_json();
    let again = Model::from_json(&json)
        .unwrap_or_else(|e| panic!("to_json() of an accepted model is rejected: {e}\n{json}"));
    assert_eq!(model, again, "model changed through to_json/from_json");
    assert_eq!(again.to_json(), json, "to_json is not a fixed point");

    // A snapshot embeds the model in compact JSON; an empty engine must restore.
    let snap = Engine::new(model.clone()).snapshot();
    let restored = Engine::restore(&snap)
        .unwrap_or_else(|e| panic!("snapshot of an empty engine does not restore: {e}"));
    assert_eq!(*restored.model(), model, "model changed through a snapshot");
}

/// The ecommerce preset, compiled once.
fn ecommerce() -> Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL
        .get_or_init(|| Model::preset("ecommerce").expect("the ecommerce preset compiles"))
        .clone()
}

/// Ids to look up besides the known customers: both naming forms, unknown kinds, edge cases.
const PROBE_IDS: &[&str] = &[
    "c1",
    "c2",
    "customer_id:c1",
    "email:ana@example.com",
    "cookie:abc",
    "device:d1",
    "phone:",
    "nope:x",
    "",
    ":",
    "::",
    "email",
    "\u{0}",
];

/// Everything a caller can observe about the customers (not the per-call outcomes).
fn observe(e: &Engine) -> (Vec<String>, Vec<Option<CustomerView>>, String) {
    let ids = e.customer_ids();
    let mut views: Vec<Option<CustomerView>> = ids.iter().map(|id| e.customer(id)).collect();
    for (id, v) in ids.iter().zip(&views) {
        assert!(
            v.is_some(),
            "customer_ids() lists `{id}` but customer() does not find it"
        );
    }
    views.extend(PROBE_IDS.iter().map(|id| e.customer(id)));
    assert_eq!(e.len(), ids.len(), "len() differs from customer_ids()");
    let _ = e.memory_usage();
    let summary = format!("now={:?} stage_counts={:?}", e.now(), e.stage_counts());
    (ids, views, summary)
}

/// Snapshot, restore, and check that the restored engine is the same one, byte for byte and as
/// seen through the public API. Returns the restored engine.
fn snapshot_roundtrip(e: &Engine, what: &str) -> Engine {
    let snap = e.snapshot();
    let restored = Engine::restore(&snap)
        .unwrap_or_else(|err| panic!("{what}: snapshot() does not restore: {err}"));
    assert!(
        restored.snapshot() == snap,
        "{what}: snapshot of the restored engine differs from the snapshot it came from"
    );
    assert_eq!(
        observe(e),
        observe(&restored),
        "{what}: restored engine differs"
    );
    restored
}

/// Moves event time 100 days past the engine's time (so every timeout of the preset is due).
fn advance_far(e: &mut Engine) {
    let now = e.now().map_or(0, |t| t.0);
    let _ = e.advance_to(Timestamp(
        now.saturating_add(100 * 86_400_000).min(MAX_MILLIS),
    ));
}

/// `touchpoint_json`: the input as JSON lines for an engine on the ecommerce preset, once line
/// by line through `ingest_json` and once at once through `ingest_json_lines`. Both engines must
/// end up with the same customers, snapshot and restore to themselves, and go on the same way
/// after a restore as without one.
pub fn touchpoint_json(data: &[u8]) {
    let model = ecommerce();

    let mut one = Engine::new(model.clone());
    for line in data.split(|b| *b == b'\n') {
        // `ingest_json_lines` rejects a line that is not UTF-8 (serde_json checks), so skipping
        // it here keeps the two engines comparable.
        if let Ok(text) = std::str::from_utf8(line) {
            let _ = one.ingest_json(text);
        }
    }
    let mut all = Engine::new(model);
    let out = all.ingest_json_lines(data);
    for r in &out.rejected {
        let _ = r.error.to_string();
        let _ = r.error.code();
    }

    assert_eq!(
        observe(&one),
        observe(&all),
        "ingest_json line by line and ingest_json_lines disagree"
    );

    let mut restored = snapshot_roundtrip(&one, "after ingest");
    snapshot_roundtrip(&all, "after ingest_json_lines");

    // Restoring and continuing must be indistinguishable from never stopping.
    advance_far(&mut one);
    advance_far(&mut restored);
    assert_eq!(
        observe(&one),
        observe(&restored),
        "restored engine goes on differently after advance_to"
    );
    snapshot_roundtrip(&one, "after advance_to");
}

/// Bytes of the snapshot header: magic, version, payload length, CRC-32.
pub const SNAPSHOT_HEADER: usize = 8 + 4 + 8 + 4;

/// CRC-32 (IEEE), as the snapshot header uses, to make mutated payloads pass the checksum.
fn crc32(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

/// A snapshot around `payload` with a correct header (version 1, length, checksum), so that
/// restore gets past the checksum to postcard decoding and semantic validation.
pub fn seal(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(SNAPSHOT_HEADER + payload.len());
    out.extend_from_slice(b"JRNDSNAP");
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc32(payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// Touchpoints behind the base snapshot: several identity kinds and a merge, ids, values,
/// declared and undeclared properties of every type, a late arrival, and an erased customer (so
/// the free list is not empty).
pub const BASE_TOUCHPOINTS: &str = r#"{"id": "e1", "customer_id": "c1", "channel": "web", "kind": "product_view", "at": "2026-03-01T10:00:00Z", "properties": {"sku": "A1", "category": "shoes"}}
{"customer_id": "c1", "channel": "app", "kind": "add_to_cart", "at": "2026-03-01T10:05:00Z", "value": 59.9, "properties": {"sku": "A1", "qty": 2, "gift": true}}
{"id": "e3", "customer_id": "c1", "email": "ana@example.com", "channel": "web", "kind": "product_view", "at": "2026-03-01T10:01:00Z"}
{"customer_id": "c2", "channel": "web", "kind": "search", "at": "2026-03-01T11:00:00Z", "properties": {"q": "boots"}}
{"cookie": "abc", "device": "d1", "channel": "web", "kind": "page_view", "at": 1772362800000}
{"customer_id": "c3", "channel": "store", "kind": "purchase", "at": "2026-03-02T09:00:00Z", "value": 120}
{"customer_id": "c3", "channel": "web", "kind": "review", "at": "2026-03-03T09:00:00Z", "properties": {"rating": 5}}
"#;

/// The base snapshot the structured `snapshot` variants mutate.
pub fn base_snapshot() -> &'static [u8] {
    static SNAP: OnceLock<Vec<u8>> = OnceLock::new();
    SNAP.get_or_init(|| {
        let mut e = Engine::new(ecommerce());
        let out = e.ingest_json_lines(BASE_TOUCHPOINTS.as_bytes());
        assert!(
            out.rejected.is_empty(),
            "base touchpoints rejected: {:?}",
            out.rejected
        );
        let at = Timestamp::parse("2026-03-01T09:00:00Z").unwrap();
        e.set_consent("c1", "sms", true, at).unwrap();
        e.set_consent("c1", "email", true, at).unwrap();
        e.set_consent("c3", "email", false, at).unwrap();
        e.erase("c2").unwrap();
        let snap = e.snapshot();
        assert_eq!(
            seal(&snap[SNAPSHOT_HEADER..]),
            snap,
            "seal() does not write the header snapshot() writes"
        );
        snap
    })
}

/// Applies edits read from `ops` (4 bytes each: operation, position u16 LE, byte) to `buf`.
fn mutate(buf: &mut Vec<u8>, ops: &[u8]) {
    for op in ops.chunks_exact(4) {
        let pos = usize::from(u16::from_le_bytes([op[1], op[2]]));
        let val = op[3];
        let len = buf.len();
        match op[0] % 6 {
            0 if len > 0 => buf[pos % len] ^= val.max(1),
            1 if len > 0 => buf[pos % len] = val,
            2 => buf.insert(pos % (len + 1), val),
            3 if len > 0 => {
                buf.remove(pos % len);
            }
            4 => buf.truncate(pos % (len + 1)),
            // A varint-sized step: add to a byte at `pos`, carrying.
            5 if len > 0 => {
                let i = pos % len;
                let (v, carry) = buf[i].overflowing_add(val);
                buf[i] = v;
                if carry && i + 1 < len {
                    buf[i + 1] = buf[i + 1].wrapping_add(1);
                }
            }
            _ => {}
        }
    }
}

/// Restores `bytes`; it must answer `Ok` or `Err`. An accepted snapshot must behave: its own
/// snapshot restores to the same bytes, its customers can be queried, time can move on.
fn restore_checked(bytes: &[u8]) {
    let Ok(mut e) = Engine::restore(bytes) else {
        return;
    };
    let mut again = snapshot_roundtrip(&e, "restored snapshot");
    advance_far(&mut e);
    advance_far(&mut again);
    assert_eq!(
        observe(&e),
        observe(&again),
        "restored snapshot goes on differently after advance_to"
    );
}

/// `snapshot`: the input as snapshot bytes, then as edits of a valid snapshot. The first input
/// byte picks the variant: 0 edits the whole snapshot, header included (mostly caught by the
/// length and checksum checks); 1 edits the payload and reseals it (correct length and
/// checksum); 2 seals the rest of the input as the payload itself.
pub fn snapshot(data: &[u8]) {
    restore_checked(data);
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let base = base_snapshot();
    match mode % 3 {
        0 => {
            let mut b = base.to_vec();
            mutate(&mut b, rest);
            restore_checked(&b);
        }
        1 => {
            let mut payload = base[SNAPSHOT_HEADER..].to_vec();
            mutate(&mut payload, rest);
            restore_checked(&seal(&payload));
        }
        _ => restore_checked(&seal(rest)),
    }
}
