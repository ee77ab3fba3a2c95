//! Criterion benchmarks of batch analytics on the `ecommerce` preset: simulate 50k customers
//! (about 1M events), replay the log, compute the stage figures. The full-size figures (500k
//! customers, about 10M events) come from the `bench-replay` harness.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use jornada::analytics::simulate::{simulate, SimConfig};
use jornada::analytics::{replay, stages, ReplayOptions};
use jornada::Model;

fn analytics(c: &mut Criterion) {
    let model = Model::preset("ecommerce").unwrap();
    let cfg = SimConfig {
        customers: 50_000,
        seed: 7,
        ..Default::default()
    };
    let log = simulate(&model, &cfg);
    let mut g = c.benchmark_group("analytics");
    g.sample_size(10);
    g.throughput(Throughput::Elements(log.len() as u64));
    g.bench_function("simulate_50k_customers", |b| {
        b.iter(|| simulate(&model, &cfg))
    });
    g.bench_function("replay_50k_customers", |b| {
        b.iter(|| replay(&model, &log, &ReplayOptions::default()).unwrap())
    });
    let r = replay(&model, &log, &ReplayOptions::default()).unwrap();
    g.bench_function("stages_50k_customers", |b| {
        b.iter(|| {
            (
                stages::time_in_stage(&r),
                stages::scoring_table(&r, "customer").unwrap(),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, analytics);
criterion_main!(benches);
