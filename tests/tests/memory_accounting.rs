//! `Engine::memory_usage` counts what is really allocated: checked against an independent count,
//! a global allocator that tracks the live heap bytes of this test binary (one test only, so
//! nothing else allocates meanwhile).

use jornada::{Engine, Model, Timestamp, Touchpoint};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const MIN: i64 = 60_000;

#[test]
fn memory_usage_matches_the_allocator() {
    let model = Model::preset("ecommerce").unwrap();
    // The touchpoints are built first: only the engine allocates between the two readings.
    let kinds = [
        ("web", "page_view"),
        ("web", "product_view"),
        ("app", "add_to_cart"),
        ("web", "checkout"),
        ("web", "purchase"),
        ("email", "email_open"),
        ("app", "review"),
    ];
    let mut tps = Vec::new();
    let mut x: u64 = 7;
    let mut rand = |n: u64| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) % n
    };
    for c in 0..4_000i64 {
        let n = 1 + rand(30) as i64;
        for i in 0..n {
            let (ch, kind) = kinds[rand(kinds.len() as u64) as usize];
            let mut tp = Touchpoint::new(ch, kind, Timestamp(c * 1_000 + i * 7 * MIN))
                .key("customer_id", format!("customer-{c}"));
            if c % 3 == 0 {
                tp = tp.key("email", format!("c{c}@example.com"));
            }
            match kind {
                "purchase" => tp = tp.value(12.5).id(format!("order-{c}-{i}")),
                "review" => tp = tp.property("rating", 4i64).property("text", "fine shop"),
                _ => {}
            }
            tps.push(tp);
        }
    }
    tps.sort_by_key(|tp| tp.at);

    let before = LIVE.load(Ordering::Relaxed);
    let mut engine = Engine::new(model);
    for tp in &tps {
        engine.ingest(tp).unwrap();
    }
    engine
        .set_consent("customer-5", "sms", true, Timestamp(0))
        .unwrap();
    engine.erase("customer-9").unwrap();
    let real = (LIVE.load(Ordering::Relaxed) - before) as f64;
    let usage = engine.memory_usage();
    let counted = usage.total as f64;
    eprintln!("counted {counted} B, allocated {real} B");
    assert_eq!(usage.touchpoints, tps.len() - engine_erased_events(&tps));
    // What the accounting leaves out is small and does not grow with the customers: the model's
    // copy of property names, per-call scratch buffers, the stage counts.
    assert!(
        counted <= real && real - counted < 0.02 * real,
        "counted {counted} B, allocated {real} B ({usage:?})"
    );
    drop(engine);
}

fn engine_erased_events(tps: &[Touchpoint]) -> usize {
    tps.iter().filter(|tp| tp.keys[0].1 == "customer-9").count()
}
