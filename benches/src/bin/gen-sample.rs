//! Writes the demo's sample data: `cargo run -p jornada-benches --bin gen-sample > core/examples/data/shop.jsonl`.
//!
//! 600 customers of the `ecommerce` preset; a quarter of them first browse anonymously with a
//! `cookie` and later log in (touchpoints carrying both keys), so the demo shows identity merges.

use jornada_benches::ecommerce;
use std::io::Write;

fn main() {
    let tps = ecommerce(600, 6_000, 11);
    let mut out = std::io::BufWriter::new(std::io::stdout());
    let mut seen = std::collections::HashSet::new();
    for (i, mut tp) in tps.into_iter().enumerate() {
        let customer = tp.keys[0].1.clone();
        let n: usize = customer[1..].parse().unwrap();
        tp = tp.id(format!("e{i}"));
        if n.is_multiple_of(4) {
            // Anonymous until the first purchase or cart: a cookie, then both keys.
            let cookie = format!("ck{n:04}");
            if seen.contains(&customer) || matches!(tp.kind.as_str(), "add_to_cart" | "purchase") {
                seen.insert(customer.clone());
                if seen.len().is_multiple_of(2) || tp.kind == "purchase" {
                    tp.keys.push(("cookie".into(), cookie));
                }
            } else {
                tp.keys = vec![("cookie".into(), cookie)];
            }
        }
        writeln!(out, "{}", tp.to_json()).unwrap();
    }
}
