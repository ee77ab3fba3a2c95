//! Criterion benchmarks of paths, retention and effort on `ecommerce_log(100_000, 2_000_000,
//! 42)`. The full-size figures come from the `bench-funnel` harness.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use jornada::analytics::{
    directly_follows, effort, retention, sankey, top_paths, EffortSpec, EventFilter, PathLabel,
    PathSpec, Period, RetentionSpec,
};
use jornada_benches::ecommerce_log;

fn paths(c: &mut Criterion) {
    let log = ecommerce_log(100_000, 2_000_000, 42);
    let mut g = c.benchmark_group("paths");
    g.sample_size(20);
    g.throughput(Throughput::Elements(log.len() as u64));
    let kinds = PathSpec::default();
    g.bench_function("dfg_kinds", |b| {
        b.iter(|| directly_follows(&log, &kinds).unwrap())
    });
    let channels = PathSpec {
        label: PathLabel::Channel,
        collapse_repeats: true,
        ..PathSpec::default()
    };
    g.bench_function("dfg_channels_collapsed", |b| {
        b.iter(|| directly_follows(&log, &channels).unwrap())
    });
    let top = PathSpec {
        conversion: Some(EventFilter::kind("purchase")),
        ..PathSpec::default()
    };
    g.bench_function("top_paths_5", |b| b.iter(|| top_paths(&log, &top).unwrap()));
    g.bench_function("sankey_5", |b| b.iter(|| sankey(&log, &kinds).unwrap()));
    g.finish();

    let mut g = c.benchmark_group("cohorts");
    g.sample_size(20);
    g.throughput(Throughput::Elements(log.len() as u64));
    let weekly = RetentionSpec {
        repeat: Some(EventFilter::kind("purchase")),
        ..RetentionSpec::new(Period::Week)
    };
    g.bench_function("retention_weekly", |b| {
        b.iter(|| retention(&log, &weekly).unwrap())
    });
    let spec = EffortSpec::default();
    g.bench_function("effort", |b| b.iter(|| effort(&log, &spec).unwrap()));
    g.finish();
}

criterion_group!(benches, paths);
criterion_main!(benches);
