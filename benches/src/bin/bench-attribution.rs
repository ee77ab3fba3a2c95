//! The attribution bench harness: each model alone on `ecommerce_log(customers, events, 42)`,
//! conversion kind `purchase`, default journey options (30-day lookback, every other kind a
//! touch, null paths). Best of `runs` wall times, and the peak heap that attribution allocates
//! on top of the log (a counting allocator); the process's peak RSS at the end.
//!
//! `cargo run --release -p jornada-benches --bin bench-attribution -- [customers] [events] [runs]`

use jornada::analytics::attribution::{
    attribute, attribute_paths, journey_paths, AttributionConfig, AttributionModel, ShapleyGame,
    ShapleyOptions,
};
use jornada::Duration;
use jornada_benches::{ecommerce_log, peak_rss, rss};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Instant;

/// The system allocator, counting live bytes and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Relaxed) + layout.size();
            PEAK.fetch_max(live, Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size > layout.size() {
                let live =
                    LIVE.fetch_add(new_size - layout.size(), Relaxed) + new_size - layout.size();
                PEAK.fetch_max(live, Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

/// Runs `f`, returning its result and the peak of live heap bytes above the level at the start.
fn heap_peak<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.load(Relaxed);
    PEAK.store(base, Relaxed);
    let out = f();
    (out, PEAK.load(Relaxed) - base)
}

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::MAX;
    let mut out = None;
    for _ in 0..runs {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed().as_secs_f64());
        out = Some(r);
    }
    (best, out.expect("at least one run"))
}

fn main() {
    let [customers, events, runs] = jornada_benches::sizes([50_000, 1_000_000, 5]);
    let runs = runs.max(1);

    let t0 = Instant::now();
    let log = ecommerce_log(customers, events, 42);
    eprintln!(
        "log: {} events, {} customers, {} channels, built in {:.1?}; log memory {:.1} MB, process RSS {:.1} MB",
        log.len(),
        log.n_customers(),
        log.channels().len(),
        t0.elapsed(),
        mb(log.memory_bytes() as u64),
        mb(rss())
    );

    let base = AttributionConfig::new("purchase");
    let table = journey_paths(&log, &base, ">").expect("journeys");
    let conversions: f64 = table.total_conversions.iter().sum();
    let nulls: f64 = table.total_null.iter().sum();
    eprintln!(
        "journeys: {} conversions, {} null paths, {} distinct paths",
        conversions,
        nulls,
        table.path.len()
    );

    let cases: Vec<(&str, Vec<AttributionModel>)> = vec![
        ("journeys only, no model", vec![]),
        (
            "markov order 1",
            vec![AttributionModel::Markov { order: 1 }],
        ),
        ("first touch", vec![AttributionModel::FirstTouch]),
        ("last touch", vec![AttributionModel::LastTouch]),
        ("linear", vec![AttributionModel::Linear]),
        (
            "position-based 40/20/40",
            vec![AttributionModel::PositionBased {
                first: 0.4,
                last: 0.4,
            }],
        ),
        (
            "time decay (7d)",
            vec![AttributionModel::TimeDecay {
                half_life: Duration::from_millis(7 * 86_400_000),
            }],
        ),
        (
            "shapley (subsets, exact)",
            vec![AttributionModel::Shapley(ShapleyOptions::default())],
        ),
        (
            "shapley (markov order 1, exact)",
            vec![AttributionModel::Shapley(ShapleyOptions {
                game: ShapleyGame::Markov { order: 1 },
                ..Default::default()
            })],
        ),
        (
            "markov order 2",
            vec![AttributionModel::Markov { order: 2 }],
        ),
        (
            "markov order 3",
            vec![AttributionModel::Markov { order: 3 }],
        ),
        ("all default models", AttributionModel::defaults()),
    ];

    println!("| work | best of {runs} | peak heap above the log |");
    println!("| --- | --- | --- |");
    for (name, models) in cases {
        let mut config = base.clone();
        config.models = models;
        let ((secs, result), heap) =
            heap_peak(|| best_of(runs, || attribute(&log, &config).expect("attribution")));
        println!(
            "| {name} (from the log) | {:.3} s | {:.1} MB |",
            secs,
            mb(heap as u64)
        );
        if name == "markov order 1" {
            let m = &result.models[0];
            let effects = &m.markov.as_ref().expect("markov details").removal_effects;
            for (i, c) in result.channels.iter().enumerate() {
                eprintln!(
                    "  {c:>8}: removal effect {:.4}, credited {:.1} conversions, {:.1} value",
                    effects[i], m.conversions[i], m.value[i]
                );
            }
        }
    }

    // From aggregated paths (ChannelAttribution's input), as strings.
    let markov = [AttributionModel::Markov { order: 1 }];
    let ((secs, _), heap) = heap_peak(|| {
        best_of(runs, || {
            attribute_paths(
                &table.path,
                &table.total_conversions,
                Some(&table.total_conversion_value),
                Some(&table.total_null),
                ">",
                &markov,
            )
            .expect("attribution")
        })
    });
    println!(
        "| markov order 1 (from {} aggregated path strings) | {:.3} s | {:.1} MB |",
        table.path.len(),
        secs,
        mb(heap as u64)
    );
    println!(
        "peak RSS of the process (generator and log included): {:.1} MB",
        mb(peak_rss())
    );
}
