//! Criterion benchmarks of funnels on `ecommerce_log(100_000, 2_000_000, 42)`: the 5-step,
//! 7-day funnel in the default (`windowFunnel`) mode, `strict_order`, any order, with an
//! exclusion (the every-chain engine) and with a channel breakdown. The full-size figures
//! (500k customers, 10M events) come from the `bench-funnel` harness.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use jornada::analytics::{
    funnel, Breakdown, EventFilter, Exclusion, FunnelOrder, FunnelSpec, FunnelStep,
};
use jornada::Duration;
use jornada_benches::ecommerce_log;

fn spec() -> FunnelSpec {
    FunnelSpec::new(
        [
            "page_view",
            "product_view",
            "add_to_cart",
            "checkout",
            "purchase",
        ]
        .map(FunnelStep::kind),
        Duration::parse("7d").unwrap(),
    )
}

fn funnels(c: &mut Criterion) {
    let log = ecommerce_log(100_000, 2_000_000, 42);
    let mut g = c.benchmark_group("funnel");
    g.sample_size(20);
    g.throughput(Throughput::Elements(log.len() as u64));
    let variants = [
        ("window_funnel_5_steps_7d", spec()),
        ("strict_order", spec().order(FunnelOrder::StrictOrder)),
        ("any_order", spec().order(FunnelOrder::Any)),
        (
            "exclusion",
            spec().exclude(Exclusion::new(EventFilter::kind("support_contact"), 2, 4)),
        ),
        ("breakdown_channel", spec().breakdown(Breakdown::Channel)),
    ];
    for (name, s) in variants {
        g.bench_function(name, |b| b.iter(|| funnel(&log, &s).unwrap()));
    }
    g.finish();
}

criterion_group!(benches, funnels);
criterion_main!(benches);
