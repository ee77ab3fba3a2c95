//! Criterion benchmarks of attribution on `ecommerce_log(50_000, 1_000_000, 42)` (conversion
//! kind `purchase`, default journey options): Markov order 1 from the log and from aggregated
//! paths, every heuristic model, Shapley, higher Markov orders. The full-size figures (best of
//! N, memory, the 10M-event log) come from the `bench-attribution` harness.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use jornada::analytics::attribution::{
    attribute, attribute_paths, journey_paths, AttributionConfig, AttributionModel, ShapleyOptions,
};
use jornada::Duration;
use jornada_benches::ecommerce_log;

fn attribution(c: &mut Criterion) {
    let log = ecommerce_log(50_000, 1_000_000, 42);
    let base = AttributionConfig::new("purchase");
    let mut g = c.benchmark_group("attribution_1M");
    g.sample_size(10);
    g.throughput(Throughput::Elements(log.len() as u64));
    let cases = [
        ("markov_order1", AttributionModel::Markov { order: 1 }),
        ("markov_order2", AttributionModel::Markov { order: 2 }),
        ("first_touch", AttributionModel::FirstTouch),
        ("last_touch", AttributionModel::LastTouch),
        ("linear", AttributionModel::Linear),
        (
            "position_based",
            AttributionModel::PositionBased {
                first: 0.4,
                last: 0.4,
            },
        ),
        (
            "time_decay",
            AttributionModel::TimeDecay {
                half_life: Duration::from_millis(7 * 86_400_000),
            },
        ),
        (
            "shapley",
            AttributionModel::Shapley(ShapleyOptions::default()),
        ),
    ];
    for (name, model) in cases {
        let mut config = base.clone();
        config.models = vec![model];
        g.bench_function(name, |b| b.iter(|| attribute(&log, &config).unwrap()));
    }
    g.finish();

    let table = journey_paths(&log, &base, ">").unwrap();
    let markov = [AttributionModel::Markov { order: 1 }];
    let mut g = c.benchmark_group("attribution_paths");
    g.sample_size(10);
    g.throughput(Throughput::Elements(table.path.len() as u64));
    g.bench_function("markov_order1_from_paths", |b| {
        b.iter(|| {
            attribute_paths(
                &table.path,
                &table.total_conversions,
                Some(&table.total_conversion_value),
                Some(&table.total_null),
                ">",
                &markov,
            )
            .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, attribution);
criterion_main!(benches);
