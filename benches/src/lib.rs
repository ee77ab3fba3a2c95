//! Workloads for jornada's benchmarks: a seeded generator of realistic e-commerce touchpoints
//! for the `ecommerce` preset.
//!
//! Shape: heavy-tailed activity per customer (most customers have a few touchpoints, a few have
//! hundreds), sessions on one channel separated by hours or days, a funnel walk inside each
//! session (page view, product views, cart, checkout, purchase) with drop-off at every step,
//! marketing touches by email and SMS, support contacts and reviews. Touchpoints come out sorted
//! by time, as a live stream would deliver them.

use jornada::analytics::EventLog;
use jornada::{PropValue, Timestamp, Touchpoint};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// 2026-03-01T00:00:00Z.
pub const START: i64 = 1_772_323_200_000;

const CHANNELS: [(&str, f64); 4] = [
    ("web", 0.55),
    ("app", 0.30),
    ("store", 0.10),
    ("support", 0.05),
];

/// Generates about `touchpoints` touchpoints for `customers` customers over about 60 days, sorted by
/// time. Deterministic for a seed.
pub fn ecommerce(customers: usize, touchpoints: usize, seed: u64) -> Vec<Touchpoint> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mean = touchpoints as f64 / customers as f64;
    let mut out: Vec<Touchpoint> = Vec::with_capacity(touchpoints + touchpoints / 10);
    let mut keys: Vec<String> = Vec::with_capacity(customers);
    for c in 0..customers {
        keys.push(format!("c{c}"));
    }
    let day = 86_400_000i64;
    for key in &keys {
        // Pareto-like activity with the requested mean: n = ceil(mean * 0.5 * u^-0.5) capped.
        let u: f64 = rng.gen_range(0.0001..1.0);
        let n = ((mean * 0.5 * u.powf(-0.5)).ceil() as usize).clamp(1, (mean * 60.0) as usize);
        let mut t = START + rng.gen_range(0..30 * day);
        // The customer's activity spans 1 to 30 days, spread over their sessions.
        let span = rng.gen_range(day..30 * day);
        let sessions = (n as i64 * 2 / 5).max(1);
        let gap = span / sessions;
        let mut emitted = 0;
        let mut bought = false;
        while emitted < n {
            let roll: f64 = rng.gen();
            let channel = CHANNELS
                .iter()
                .scan(0.0, |acc, (c, p)| {
                    *acc += p;
                    Some((*c, *acc))
                })
                .find(|(_, acc)| roll < *acc)
                .map(|(c, _)| c)
                .unwrap_or("web");
            // A session: a funnel walk with drop-off.
            let steps: &[(&str, f64)] = if channel == "support" {
                &[("support_contact", 1.0), ("support_contact", 0.3)]
            } else if bought && rng.gen_bool(0.2) {
                &[("review", 1.0)]
            } else {
                &[
                    ("page_view", 1.0),
                    ("product_view", 0.8),
                    ("product_view", 0.6),
                    ("product_view", 0.5),
                    ("add_to_cart", 0.45),
                    ("checkout", 0.6),
                    ("purchase", 0.75),
                ]
            };
            for (kind, p) in steps {
                if emitted >= n || !rng.gen_bool(*p) {
                    break;
                }
                let mut tp =
                    Touchpoint::new(channel, *kind, Timestamp(t)).key("customer_id", key.as_str());
                match *kind {
                    "purchase" => {
                        tp = tp.value((rng.gen_range(500..20_000) as f64) / 100.0);
                        bought = true;
                    }
                    "review" => tp = tp.property("rating", rng.gen_range(1..=5) as i64),
                    _ => {}
                }
                out.push(tp);
                emitted += 1;
                t += rng.gen_range(5_000..300_000);
            }
            // Marketing touch between sessions.
            if emitted < n && rng.gen_bool(0.15) {
                t += rng.gen_range(3_600_000..(gap / 2).max(3_600_001));
                let (ch, kind) = if rng.gen_bool(0.6) {
                    ("email", "email_open")
                } else {
                    ("sms", "sms_click")
                };
                out.push(Touchpoint::new(ch, kind, Timestamp(t)).key("customer_id", key.as_str()));
                emitted += 1;
            }
            t += rng.gen_range(gap / 2..=gap.max(1_800_000));
        }
    }
    out.sort_by_key(|tp| tp.at);
    out
}

/// The [`ecommerce`] workload as an [`EventLog`] for the analytics benchmarks: the customer is
/// each touchpoint's first identity key (no identity stitching), properties kept.
pub fn ecommerce_log(customers: usize, touchpoints: usize, seed: u64) -> EventLog {
    let mut b = EventLog::builder();
    for tp in ecommerce(customers, touchpoints, seed) {
        let props: Vec<(&str, PropValue)> = tp
            .properties
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        b.push_with_props(
            &tp.keys[0].1,
            tp.at,
            &tp.channel,
            &tp.kind,
            tp.value,
            &props,
        )
        .expect("generated touchpoints are valid");
    }
    b.finish().expect("generated log is valid")
}

/// The harnesses' numeric command-line arguments (sizes, run counts), in order; `_` may group
/// digits (`1_000_000`) and anything else is skipped.
pub fn size_args() -> Vec<usize> {
    std::env::args()
        .skip(1)
        .filter_map(|a| a.replace('_', "").parse().ok())
        .collect()
}

/// The harnesses' sizes: each of [`size_args`] in order, or its default where none is given.
///
/// ```
/// let [customers, touchpoints, runs] = jornada_benches::sizes([1_000_000, 10_000_000, 3]);
/// assert!(customers > 0 && touchpoints > 0 && runs > 0);
/// ```
pub fn sizes<const N: usize>(defaults: [usize; N]) -> [usize; N] {
    let args = size_args();
    std::array::from_fn(|i| args.get(i).copied().unwrap_or(defaults[i]))
}

/// The touchpoints as JSON lines.
pub fn to_json_lines(tps: &[Touchpoint]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(tps.len() * 110);
    for tp in tps {
        serde_json::to_writer(&mut buf, tp).expect("serializes");
        buf.push(b'\n');
    }
    buf
}

/// A size field (`VmHWM`, `VmRSS`) of /proc/self/status, in bytes (0 where there is none).
fn status_bytes(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

/// Peak resident set size of this process, in bytes (Linux; 0 elsewhere).
pub fn peak_rss() -> u64 {
    status_bytes("VmHWM:")
}

/// Current resident set size of this process, in bytes (Linux; 0 elsewhere).
pub fn rss() -> u64 {
    status_bytes("VmRSS:")
}

/// Turns `perf record` on or off around the timed section `section` (`parsed`, `columnar`,
/// `json`) when the harness runs under `perf record --control fifo:CTL -D -1` with
/// `BENCH_PERF_CTL=CTL` set; with `BENCH_PERF_SECTION` set, only around that section. Does
/// nothing otherwise.
///
/// ```sh
/// mkfifo /tmp/ctl; BENCH_PERF_CTL=/tmp/ctl BENCH_PERF_SECTION=columnar \
///   perf record -D -1 --control fifo:/tmp/ctl target/release/bench-ingest 1000000 10000000 1
/// ```
pub fn perf_control(section: &str, enable: bool) {
    if std::env::var("BENCH_PERF_SECTION").is_ok_and(|s| s != section) {
        return;
    }
    if let Some(path) = std::env::var_os("BENCH_PERF_CTL") {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(path) {
            let _ = f.write_all(if enable { b"enable\n" } else { b"disable\n" });
        }
    }
}
