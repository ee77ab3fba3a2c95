//! The jornada demo: an online shop's touchpoints (bundled sample data, 600 customers across web,
//! app, store, email, SMS and support) replayed through the `ecommerce` preset.
//!
//! `cargo run --release -p jornada --example demo`

use jornada::{Engine, Model, Timestamp};
use std::collections::BTreeMap;

const SAMPLE: &[u8] = include_bytes!("data/shop.jsonl");

fn main() -> Result<(), jornada::Error> {
    let model = Model::preset("ecommerce")?;
    let mut engine = Engine::new(model);
    println!(
        "jornada demo: the `ecommerce` journey model over {} touchpoints of a shop\n",
        SAMPLE
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .count()
    );

    // Every third customer opted in to marketing email and SMS at the start of the period.
    for n in (0..600).step_by(3) {
        let t = Timestamp::parse("2026-03-01T00:00:00Z").expect("valid");
        engine.set_consent(&format!("c{n}"), "email", true, t)?;
        engine.set_consent(&format!("c{n}"), "sms", true, t)?;
    }

    let started = std::time::Instant::now();
    let mut out = engine.ingest_json_lines(SAMPLE);
    let end = engine.now().expect("touchpoints were ingested");
    out.extend(engine.advance_to(Timestamp(end.0 + 86_400_000)));
    let elapsed = started.elapsed();

    println!(
        "ingested in {:.1?}: {} transitions, {} actions, {} merges, {} rejected\n",
        elapsed,
        out.transitions.len(),
        out.actions.len(),
        out.merges.len(),
        out.rejected.len()
    );
    println!("customers per stage (of {}):", engine.len());
    let max = engine
        .stage_counts()
        .iter()
        .map(|(_, n)| *n)
        .max()
        .unwrap_or(1)
        .max(1);
    for (stage, n) in engine.stage_counts() {
        println!(
            "  {stage:<16} {n:>5}  {}",
            "#".repeat((n * 40 / max) as usize)
        );
    }

    let mut actions: BTreeMap<(String, bool), usize> = BTreeMap::new();
    for a in &out.actions {
        *actions
            .entry((a.action.to_string(), a.suppressed))
            .or_default() += 1;
    }
    println!("\nactions to take (suppressed: no consent for the channel):");
    for ((name, suppressed), n) in &actions {
        println!(
            "  {name:<24} {n:>5}{}",
            if *suppressed { "  suppressed" } else { "" }
        );
    }

    let mut rules: BTreeMap<String, usize> = BTreeMap::new();
    for t in &out.transitions {
        *rules
            .entry(
                t.rule
                    .as_deref()
                    .unwrap_or("(first touchpoint)")
                    .to_string(),
            )
            .or_default() += 1;
    }
    println!("\ntransitions by rule:");
    for (rule, n) in &rules {
        println!("  {rule:<24} {n:>5}");
    }

    if let Some(m) = out.merges.first() {
        println!(
            "\nidentity stitching: {} profiles merged or renamed, e.g. {:?} became {:?} at {}",
            out.merges.len(),
            m.from,
            m.into,
            m.at
        );
    }
    let c = engine
        .customer("c8")
        .or_else(|| {
            engine
                .customer_ids()
                .first()
                .and_then(|id| engine.customer(id))
        })
        .expect("customers exist");
    println!("\none journey, customer {}:", c.id);
    for v in &c.history {
        println!(
            "  {}  {:<16} via {:<18} on {}",
            v.entered_at,
            v.stage,
            v.rule.as_deref().unwrap_or("first touchpoint"),
            v.channel.as_deref().unwrap_or("(timeout)")
        );
    }

    let snapshot = engine.snapshot();
    let restored = Engine::restore(&snapshot)?;
    assert_eq!(restored.stage_counts(), engine.stage_counts());
    println!(
        "\nsnapshot: {} bytes for {} customers; restored with identical stage counts",
        snapshot.len(),
        engine.len()
    );
    Ok(())
}
