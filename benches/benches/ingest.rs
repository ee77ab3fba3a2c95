//! Criterion benchmarks of ingest on the `ecommerce` preset (100k customers, 1M touchpoints):
//! owned touchpoints (`ingest_batch`), a columnar `TouchpointBatch` (`ingest_columns`) and JSON
//! lines.
//! The full-size figures (1M customers, 10M touchpoints) come from the `bench-ingest` harness.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use jornada::{Engine, Model, TouchpointBatch};
use jornada_benches::{ecommerce, to_json_lines};

fn ingest(c: &mut Criterion) {
    let model = Model::preset("ecommerce").unwrap();
    let tps = ecommerce(100_000, 1_000_000, 7);
    let json = to_json_lines(&tps);
    let batch = TouchpointBatch::from(&tps[..]);
    let mut g = c.benchmark_group("ingest");
    g.sample_size(10);
    g.throughput(Throughput::Elements(tps.len() as u64));
    g.bench_function("parsed_1M", |b| {
        b.iter_batched(
            || Engine::new(model.clone()),
            |mut engine| {
                let out = engine.ingest_batch(&tps);
                assert!(out.rejected.is_empty());
                engine
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("columns_1M", |b| {
        b.iter_batched(
            || Engine::new(model.clone()),
            |mut engine| {
                let out = engine.ingest_columns(&batch);
                assert!(out.rejected.is_empty());
                engine
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("json_lines_1M", |b| {
        b.iter_batched(
            || Engine::new(model.clone()),
            |mut engine| {
                let out = engine.ingest_json_lines(&json);
                assert!(out.rejected.is_empty());
                engine
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
    let single = &tps[..10_000];
    c.bench_function("ingest_single_10k", |b| {
        b.iter_batched(
            || Engine::new(model.clone()),
            |mut engine| {
                for tp in single {
                    engine.ingest(tp).unwrap();
                }
                engine
            },
            BatchSize::PerIteration,
        )
    });
}

fn snapshot(c: &mut Criterion) {
    let model = Model::preset("ecommerce").unwrap();
    let tps = ecommerce(100_000, 1_000_000, 7);
    let mut engine = Engine::new(model);
    engine.ingest_batch(&tps);
    let bytes = engine.snapshot();
    let mut g = c.benchmark_group("snapshot");
    g.sample_size(10);
    g.throughput(Throughput::Elements(100_000));
    g.bench_function("save_100k_customers", |b| b.iter(|| engine.snapshot()));
    g.bench_function("restore_100k_customers", |b| {
        b.iter(|| Engine::restore(&bytes).unwrap())
    });
    g.finish();
}

criterion_group!(benches, ingest, snapshot);
criterion_main!(benches);
