//! The ingest bench harness: 1M customers, 10M touchpoints on the `ecommerce` preset, single
//! thread; throughput from parsed touchpoints (as generated, and allocated in arrival order),
//! from columnar batches ([`TouchpointBatch`]) and from
//! JSON lines, and memory per customer. `BENCH_SKIP_COLUMNS=1` / `BENCH_SKIP_JSON=1` skip those runs.
//!
//! `cargo run --release -p jornada-benches --bin bench-ingest -- [customers] [touchpoints] [runs]`

use jornada::{Engine, Model, Touchpoint, TouchpointBatch};
use jornada_benches::{ecommerce, peak_rss, perf_control, rss, to_json_lines};
use std::time::Instant;

/// The harness runs on mimalloc, tuned as jornada's programs and extension modules do
/// ([`jornada_alloc`]; feature `mimalloc`, on by default; `--no-default-features` measures the
/// system allocator).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOC: jornada_alloc::MiMalloc = jornada_alloc::MiMalloc;

/// What the first parsed run leaves for the summary: memory usage, RSS growth, stage counts.
type Summary = (jornada::MemoryUsage, u64, Vec<(std::sync::Arc<str>, u64)>);

/// `runs` runs of `ingest_batch` over `tps` in batches of 100,000, each on a new engine; the
/// best time, and the first run's summary.
fn run_parsed(model: &Model, tps: &[Touchpoint], runs: usize, label: &str) -> (f64, Summary) {
    let mut best = f64::MAX;
    let mut summary = None;
    for run in 0..runs {
        let mut engine = Engine::new(model.clone());
        let before = rss();
        perf_control("parsed", true);
        let t = Instant::now();
        let mut transitions = 0usize;
        let mut actions = 0usize;
        for chunk in tps.chunks(100_000) {
            let out = engine.ingest_batch(chunk);
            assert!(out.rejected.is_empty(), "{:?}", out.rejected.first());
            transitions += out.transitions.len();
            actions += out.actions.len();
        }
        let secs = t.elapsed().as_secs_f64();
        perf_control("parsed", false);
        best = best.min(secs);
        eprintln!("run {run}: {label}: {:.2} s, {:.2} M touchpoints/s ({transitions} transitions, {actions} actions)", secs, tps.len() as f64 / secs / 1e6);
        if summary.is_none() {
            let usage = engine.memory_usage();
            let rss_delta = rss().saturating_sub(before);
            summary = Some((usage, rss_delta, engine.stage_counts()));
        }
    }
    (best, summary.expect("at least one run"))
}

fn main() {
    #[cfg(feature = "mimalloc")]
    jornada_alloc::tune();
    let [customers, touchpoints, runs] = jornada_benches::sizes([1_000_000, 10_000_000, 3]);
    let model = Model::preset("ecommerce").expect("preset");
    let t0 = Instant::now();
    let tps = ecommerce(customers, touchpoints, 7);
    let json = to_json_lines(&tps);
    eprintln!(
        "generated {} touchpoints for {} customers ({:.1} MB of JSON lines) in {:.1?}",
        tps.len(),
        customers,
        json.len() as f64 / 1e6,
        t0.elapsed()
    );

    let (best_parsed, summary) = run_parsed(&model, &tps, runs, "parsed touchpoints");
    // Columnar batches: built once (timed apart), then ingested with `ingest_columns`.
    let t = Instant::now();
    let batches: Vec<TouchpointBatch> = tps.chunks(100_000).map(TouchpointBatch::from).collect();
    let build_secs = t.elapsed().as_secs_f64();
    let mut best_columns = f64::MAX;
    let column_runs = if std::env::var_os("BENCH_SKIP_COLUMNS").is_some() {
        0
    } else {
        runs
    };
    for run in 0..column_runs {
        let mut engine = Engine::new(model.clone());
        perf_control("columnar", true);
        let t = Instant::now();
        for batch in &batches {
            let out = engine.ingest_columns(batch);
            assert!(out.rejected.is_empty(), "{:?}", out.rejected.first());
        }
        let secs = t.elapsed().as_secs_f64();
        perf_control("columnar", false);
        best_columns = best_columns.min(secs);
        eprintln!(
            "run {run}: columnar batches: {:.2} s, {:.2} M touchpoints/s",
            secs,
            tps.len() as f64 / secs / 1e6
        );
    }
    drop(batches);
    let mut best_json = f64::MAX;
    let json_runs = if std::env::var_os("BENCH_SKIP_JSON").is_some() {
        0
    } else {
        runs
    };
    for run in 0..json_runs {
        let mut engine = Engine::new(model.clone());
        perf_control("json", true);
        let t = Instant::now();
        // Whole-buffer ingest, split at line boundaries in ~8 MB pieces.
        let mut start = 0;
        while start < json.len() {
            let mut end = (start + (8 << 20)).min(json.len());
            while end < json.len() && json[end - 1] != b'\n' {
                end += 1;
            }
            let out = engine.ingest_json_lines(&json[start..end]);
            assert!(out.rejected.is_empty(), "{:?}", out.rejected.first());
            start = end;
        }
        let secs = t.elapsed().as_secs_f64();
        perf_control("json", false);
        best_json = best_json.min(secs);
        eprintln!(
            "run {run}: JSON lines: {:.2} s, {:.2} M touchpoints/s, {:.0} MB/s",
            secs,
            tps.len() as f64 / secs / 1e6,
            json.len() as f64 / secs / 1e6
        );
    }
    // The same touchpoints allocated in arrival order, as a live stream parses them: the
    // generator builds them customer by customer, so above each one's strings lie far from
    // its neighbours' in a log sorted by time.
    let arrival = tps.clone();
    drop(tps);
    let (best_arrival, _) = run_parsed(&model, &arrival, runs, "parsed, in arrival order");
    let tps = arrival;
    let (usage, rss_delta, counts) = summary;
    println!("ingest, ecommerce preset, {customers} customers, {} touchpoints, single thread (best of {runs}):", tps.len());
    println!(
        "  parsed touchpoints: {:.2} M touchpoints/s ({:.2} s; allocated in arrival order: {:.2} M touchpoints/s)",
        tps.len() as f64 / best_parsed / 1e6,
        best_parsed,
        tps.len() as f64 / best_arrival / 1e6,
    );
    if column_runs > 0 {
        println!(
        "  columnar batches:   {:.2} M touchpoints/s ({:.2} s; building the batches from the touchpoints: {:.2} s)",
        tps.len() as f64 / best_columns / 1e6,
        best_columns,
        build_secs
    );
    }
    if json_runs > 0 {
        println!(
            "  JSON lines:         {:.2} M touchpoints/s ({:.2} s, {:.0} MB/s)",
            tps.len() as f64 / best_json / 1e6,
            best_json,
            json.len() as f64 / best_json / 1e6
        );
    }
    // mimalloc serves the engine from pages the generated input freed, so the process's RSS
    // only tells the engine's memory on the system allocator.
    let rss_note = if cfg!(feature = "mimalloc") {
        "RSS growth not measured under mimalloc (--no-default-features measures it)".to_string()
    } else {
        format!(
            "RSS growth {:.0} B per customer",
            rss_delta as f64 / customers as f64
        )
    };
    println!("  memory per customer: {:.0} B excluding stage history, {:.0} B in all (engine accounting); {rss_note}", usage.per_customer_excluding_history(), usage.per_customer());
    println!("  memory by part (MB): timelines {:.1}, identities {:.1}, profiles {:.1}, history {:.1}, timers {:.1}, ids {:.1}", usage.timelines as f64 / 1e6, usage.identities as f64 / 1e6, usage.profiles as f64 / 1e6, usage.history as f64 / 1e6, usage.timers as f64 / 1e6, usage.ids as f64 / 1e6);
    println!(
        "  peak RSS of the process: {:.0} MB (includes the generated input)",
        peak_rss() as f64 / 1e6
    );
    println!(
        "  customers per stage: {}",
        counts
            .iter()
            .map(|(s, n)| format!("{s} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
}
