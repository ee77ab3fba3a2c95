//! The simulator: deterministic, the shape of a believable shop for the `ecommerce` preset,
//! valid against the model, and generic (every preset's customers move through its stages).

use jornada::analytics::simulate::{simulate, SimConfig};
use jornada::analytics::{replay, stages, EventLog, ReplayOptions};
use jornada::{Model, PropValue};
use jornada_tests::analytics::SMALL_MODEL;

fn ecommerce() -> Model {
    Model::preset("ecommerce").unwrap()
}

fn cfg(customers: usize, seed: u64) -> SimConfig {
    SimConfig {
        customers,
        seed,
        ..Default::default()
    }
}

fn fingerprint(log: &EventLog) -> String {
    format!(
        "{:?}{:?}{:?}{:?}{:?}{:?}{:?}",
        log.customers(),
        log.at(),
        log.channel_codes(),
        log.kind_codes(),
        log.values(),
        log.properties(),
        log.offsets()
    )
}

#[test]
fn deterministic_for_a_seed_and_any_thread_count() {
    let model = ecommerce();
    let a = simulate(&model, &cfg(3_000, 42));
    let b = simulate(&model, &cfg(3_000, 42));
    assert_eq!(fingerprint(&a), fingerprint(&b));
    let c = simulate(&model, &cfg(3_000, 43));
    assert_ne!(a.at(), c.at());
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| simulate(&model, &cfg(9_000, 5)));
    let three = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap()
        .install(|| simulate(&model, &cfg(9_000, 5)));
    assert_eq!(fingerprint(&one), fingerprint(&three));
}

#[test]
fn a_believable_shop() {
    let model = ecommerce();
    let n = 20_000;
    let log = simulate(&model, &cfg(n, 7));
    assert_eq!(log.n_customers(), n);
    // About 20 events per customer.
    let per = log.len() as f64 / n as f64;
    assert!((16.0..24.0).contains(&per), "{per} events per customer");
    // Heavy-tailed activity.
    let mut counts: Vec<usize> = (0..n).map(|c| log.customer_rows(c).len()).collect();
    counts.sort_unstable();
    let median = counts[n / 2];
    let max = counts[n - 1];
    let top: usize = counts[n - n / 10..].iter().sum();
    assert!(max >= 15 * median, "max {max}, median {median}");
    assert!(top as f64 >= 0.3 * log.len() as f64, "top 10% hold {top}");
    // All six channels, each a real share.
    assert_eq!(log.channels().len(), 6);
    let mut per_channel = [0usize; 6];
    for &c in log.channel_codes() {
        per_channel[c as usize] += 1;
    }
    for (c, k) in per_channel.iter().enumerate() {
        assert!(
            *k * 200 >= log.len(),
            "{} has {k}",
            log.channel_name(c as u16)
        );
    }
    // The shop's kinds, with values on purchases and ratings on reviews.
    for kind in [
        "page_view",
        "product_view",
        "search",
        "add_to_cart",
        "checkout",
        "purchase",
        "review",
        "return",
        "email_open",
        "email_click",
        "sms_click",
        "support_contact",
        "app_open",
        "store_visit",
    ] {
        assert!(log.kind_code(kind).is_some(), "no {kind}");
    }
    let purchase = log.kind_code("purchase").unwrap();
    let review = log.kind_code("review").unwrap();
    let rating = log.property("rating").expect("ratings");
    for r in 0..log.len() {
        let k = log.kind_codes()[r];
        assert_eq!(k == purchase, !log.values()[r].is_nan(), "row {r}");
        if k == review {
            let Some(PropValue::Num(x)) = rating.get(r) else {
                panic!("review without rating at row {r}");
            };
            assert!((1.0..=5.0).contains(&x));
        }
    }
    // Customers switch channels.
    let multi = (0..n)
        .filter(|&c| {
            let rows = log.customer_rows(c);
            let first = log.channel_codes()[rows.start];
            log.channel_codes()[rows].iter().any(|&x| x != first)
        })
        .count();
    assert!(
        multi * 10 >= n * 4,
        "{multi} customers use two channels or more"
    );

    // Through the model: a funnel with drop-off, abandoned carts, repeat buyers, advocates,
    // lapsed customers.
    let r = replay(&model, &log, &ReplayOptions::default()).unwrap();
    assert_eq!(r.stats().events as usize, log.len(), "every event is valid");
    let m = stages::transition_matrix(&r);
    let reached = |s: &str| m.customers[model.stage_index(s).unwrap()] as f64 / n as f64;
    assert!(reached("browsing") > 0.6, "{}", reached("browsing"));
    assert!((0.1..0.5).contains(&reached("cart")), "{}", reached("cart"));
    let conversion = reached("customer");
    assert!((0.05..0.4).contains(&conversion), "conversion {conversion}");
    assert!(reached("abandoned_cart") > 0.1);
    assert!(reached("repeat_customer") > 0.02 && reached("repeat_customer") < conversion);
    assert!(reached("advocate") > 0.01 && reached("advocate") < conversion);
    assert!(reached("lapsed") > 0.01);
    let cart = model.stage_index("cart").unwrap();
    let abandoned = model.stage_index("abandoned_cart").unwrap();
    assert!(m.probability(cart, abandoned) > 0.3, "carts are abandoned");
}

#[test]
fn every_preset_moves_customers_through_its_stages() {
    let mut models: Vec<Model> = jornada::model::presets::NAMES
        .iter()
        .map(|n| Model::preset(n).unwrap())
        .collect();
    models.push(Model::from_json(SMALL_MODEL).unwrap());
    for model in models {
        let log = simulate(&model, &cfg(2_000, 1));
        let r = replay(&model, &log, &ReplayOptions::default()).unwrap();
        assert_eq!(r.stats().events as usize, log.len(), "{}", model.name());
        let m = stages::transition_matrix(&r);
        let entered = m.customers.iter().filter(|&&c| c > 0).count();
        assert!(
            entered * 10 >= m.n() * 6,
            "{}: only {entered} of {} stages entered: {:?}",
            model.name(),
            m.n(),
            m.customers
        );
        // Every customer's events are at distinct, increasing times.
        for c in 0..log.n_customers() {
            let at = &log.at()[log.customer_rows(c)];
            assert!(at.windows(2).all(|w| w[0] < w[1]), "{}", model.name());
        }
    }
}

#[test]
fn windows_at_the_ends_of_time_stay_within_valid_times() {
    use jornada::time::{MAX_MILLIS, MIN_MILLIS};
    use jornada::Timestamp;
    let model = ecommerce();
    for (start, days) in [
        (i64::MIN, 180),
        (MIN_MILLIS, 180),
        (MAX_MILLIS - 10 * 86_400_000, 180),
        (MAX_MILLIS, 180),
        (i64::MAX, 180),
        (0, u32::MAX),
    ] {
        let cfg = SimConfig {
            customers: 300,
            seed: 3,
            start: Timestamp(start),
            days,
            ..Default::default()
        };
        let log = simulate(&model, &cfg);
        assert!(log.len() > 300, "start {start}, days {days}");
        for &t in log.at() {
            assert!(
                (MIN_MILLIS..=MAX_MILLIS).contains(&t),
                "start {start}, days {days}: time {t}"
            );
        }
        // Replay accepts the log: every time is one the engine takes.
        let r = replay(&model, &log, &ReplayOptions::default()).unwrap();
        assert_eq!(r.stats().events as usize, log.len(), "every event is valid");
    }
}
