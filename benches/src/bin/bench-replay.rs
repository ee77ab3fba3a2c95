//! The replay bench harness: simulate an e-commerce shop from the `ecommerce` preset, then replay
//! the log through the model and compute the stage figures; prints events/s, wall time and the
//! process's peak RSS.
//!
//! `cargo run --release -p jornada-benches --bin bench-replay -- [customers] [runs] [threads]`
//! (defaults: 500000 customers, 5 runs, rayon's default thread count).

use jornada::analytics::simulate::{simulate, SimConfig};
use jornada::analytics::{replay, stages, ReplayOptions};
use jornada::Model;
use jornada_benches::{peak_rss, rss};
use std::time::Instant;

fn main() {
    let args = jornada_benches::size_args();
    let customers = *args.first().unwrap_or(&500_000);
    let runs = (*args.get(1).unwrap_or(&5)).max(1);
    if let Some(&threads) = args.get(2) {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .expect("thread pool");
    }
    let model = Model::preset("ecommerce").expect("preset");
    let cfg = SimConfig {
        customers,
        seed: 7,
        ..Default::default()
    };
    let t = Instant::now();
    let log = simulate(&model, &cfg);
    let sim_secs = t.elapsed().as_secs_f64();
    let rss_log = rss();
    let peak_sim = peak_rss();
    // Reset the peak (Linux), so the next reading is the peak while replaying.
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    println!(
        "simulate: {} customers, {} events, {} channels: {:.2} s ({:.1} M events/s); log {:.0} MB",
        log.n_customers(),
        log.len(),
        log.channels().len(),
        sim_secs,
        log.len() as f64 / sim_secs / 1e6,
        log.memory_bytes() as f64 / 1e6
    );

    let mut best = f64::MAX;
    let mut result = None;
    for run in 0..runs {
        drop(result.take());
        let t = Instant::now();
        let r = replay(&model, &log, &ReplayOptions::default()).expect("replay");
        let secs = t.elapsed().as_secs_f64();
        best = best.min(secs);
        eprintln!(
            "run {run}: replay {:.3} s, {:.1} M events/s",
            secs,
            log.len() as f64 / secs / 1e6
        );
        result = Some(r);
    }
    let r = result.expect("at least one run");
    println!(
        "replay: {} events, {} customers, {} threads, best of {runs}: {:.3} s ({:.1} M events/s); {} transitions, {} actions; result {:.0} MB",
        r.stats().events,
        r.n_customers(),
        rayon::current_num_threads(),
        best,
        log.len() as f64 / best / 1e6,
        r.transitions().len(),
        r.actions().len(),
        r.memory_bytes() as f64 / 1e6
    );
    let t = Instant::now();
    let now = stages::customers_per_stage(&r);
    let times = stages::time_in_stage(&r);
    let matrix = stages::transition_matrix(&r);
    let funnel = stages::funnel(
        &r,
        &[
            "visitor",
            "browsing",
            "interested",
            "cart",
            "customer",
            "repeat_customer",
        ],
    )
    .expect("funnel");
    let score = stages::scoring_table(&r, "customer").expect("score");
    println!(
        "stages: per stage, time in stage, matrix, funnel, scoring: {:.3} s",
        t.elapsed().as_secs_f64()
    );
    println!(
        "memory: RSS with the log {:.0} MB; peak RSS while replaying {:.0} MB{} (log and result included); peak while simulating {:.0} MB",
        rss_log as f64 / 1e6,
        peak_rss() as f64 / 1e6,
        if reset { "" } else { " (peak not reset: since start)" },
        peak_sim as f64 / 1e6
    );
    println!(
        "\nstage            now   entered  median-stay  p90-stay   P(customer)  E[t to customer]"
    );
    for (i, s) in now.iter().enumerate() {
        let tm = &times[i];
        let h = |ms: Option<i64>| ms.map_or("-".into(), |x| format!("{:.1} h", x as f64 / 3.6e6));
        println!(
            "{:<15} {:>7} {:>8} {:>11} {:>10} {:>11.3} {:>12}",
            s.stage,
            s.customers,
            matrix.customers[i],
            h(tm.median_ms),
            h(tm.p90_ms),
            score[i].p,
            score[i]
                .expected_ms
                .map_or("-".into(), |x| format!("{:.1} d", x / 8.64e7))
        );
    }
    println!("\nfunnel:");
    for f in &funnel {
        println!(
            "  {:<16} {:>8}  conversion {}",
            f.stage,
            f.customers,
            f.conversion
                .map_or("-".into(), |c| format!("{:.1}%", c * 100.0))
        );
    }
}
