//! Runs the shared test vectors in `tests/vectors/*.json` against the Rust engine.
//!
//! The format and the rules of comparison are described in `tests/vectors/README.md`; the
//! Python, Node and WebAssembly bindings run the same files with the same rules.

use jornada::{Engine, Error, Model, Outcome, Timestamp, Touchpoint};
use serde_json::{Map, Value};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Fewest vectors that must run (not counting skipped `known_bug` vectors).
const MIN_VECTORS: usize = 20;

/// Keys of an outcome that a step's `expect` may list (besides `erased` for erase steps).
const OUTCOME_KEYS: &[&str] = &[
    "transitions",
    "actions",
    "retracted_transitions",
    "retracted_actions",
    "merges",
    "duplicates",
    "rejected",
];

/// Operations a step may name (exactly one per step).
const OPS: &[&str] = &[
    "ingest",
    "ingest_batch",
    "ingest_json_lines",
    "advance_to",
    "consent",
    "erase",
    "snapshot_restore",
];

#[derive(Default)]
struct Report {
    failures: Vec<String>,
}

impl Report {
    fn fail(&mut self, vector: &str, step: Option<usize>, what: impl AsRef<str>) {
        let place = match step {
            Some(i) => format!("{vector}: step {i}"),
            None => format!("{vector}: final"),
        };
        self.failures.push(format!("{place}: {}", what.as_ref()));
    }
}

fn vector_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn shared_vectors() {
    let mut report = Report::default();
    let mut ran = Vec::new();
    let mut skipped = Vec::new();
    for path in vector_files() {
        let file = path.file_stem().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&path).expect("readable vector");
        let v: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                report.fail(&file, None, format!("not valid JSON: {e}"));
                continue;
            }
        };
        let name = v["name"].as_str().unwrap_or(&file).to_string();
        if name != file {
            report.fail(
                &file,
                None,
                format!("`name` is `{name}`, the file is `{file}.json`"),
            );
        }
        if let Some(bug) = v.get("known_bug") {
            println!("SKIPPED {name}: known bug: {}", bug.as_str().unwrap_or("?"));
            skipped.push(name);
            continue;
        }
        run_vector(&name, &v, &mut report);
        ran.push(name);
    }
    println!(
        "{} vectors ran, {} skipped as known bugs{}",
        ran.len(),
        skipped.len(),
        if skipped.is_empty() {
            String::new()
        } else {
            format!(" ({})", skipped.join(", "))
        }
    );
    if !report.failures.is_empty() {
        panic!(
            "{} failure(s) in the shared vectors:\n\n{}",
            report.failures.len(),
            report.failures.join("\n\n")
        );
    }
    assert!(
        ran.len() >= MIN_VECTORS,
        "only {} vectors ran; at least {MIN_VECTORS} expected",
        ran.len()
    );
}

fn load_model(v: &Value) -> Result<Model, String> {
    match v {
        Value::String(name) => Model::preset(name).map_err(|e| e.to_string()),
        Value::Object(_) => Model::from_json(&v.to_string()).map_err(|e| e.to_string()),
        _ => Err("`model` must be a preset name or a model object".into()),
    }
}

fn parse_time(v: &Value) -> Result<Timestamp, String> {
    match v {
        Value::String(s) => Timestamp::parse(s).ok_or_else(|| format!("bad timestamp `{s}`")),
        Value::Number(n) => n
            .as_i64()
            .and_then(Timestamp::from_millis_checked)
            .ok_or_else(|| format!("bad timestamp {n}")),
        _ => Err(format!("bad timestamp {v}")),
    }
}

/// What a step produced.
enum Produced {
    Outcome(Outcome),
    Erased(Value),
    Nothing,
}

fn run_vector(name: &str, v: &Value, report: &mut Report) {
    let model = match v
        .get("model")
        .ok_or("no `model`".to_string())
        .and_then(load_model)
    {
        Ok(m) => m,
        Err(e) => return report.fail(name, None, format!("model: {e}")),
    };
    let mut engine = Engine::new(model.clone());
    let steps = v["steps"].as_array().cloned().unwrap_or_default();
    for (i, step) in steps.iter().enumerate() {
        let Some(obj) = step.as_object() else {
            report.fail(name, Some(i), "a step must be an object");
            continue;
        };
        let ops: Vec<&str> = OPS
            .iter()
            .copied()
            .filter(|op| obj.contains_key(*op))
            .collect();
        for k in obj.keys() {
            if !OPS.contains(&k.as_str()) && !["expect", "error", "comment"].contains(&k.as_str()) {
                report.fail(name, Some(i), format!("unknown step key `{k}`"));
            }
        }
        if ops.len() != 1 {
            report.fail(
                name,
                Some(i),
                format!("a step needs exactly one operation, has {ops:?}"),
            );
            continue;
        }
        let op = ops[0];
        let arg = &obj[op];
        let result: Result<Produced, Error> = match run_op(&mut engine, &model, op, arg) {
            Ok(r) => r,
            Err(bad) => {
                report.fail(name, Some(i), format!("{op}: malformed step: {bad}"));
                continue;
            }
        };
        match (result, obj.get("error"), obj.get("expect")) {
            (_, Some(_), Some(_)) => {
                report.fail(name, Some(i), "a step has `expect` or `error`, not both");
            }
            (Err(e), None, _) => {
                report.fail(
                    name,
                    Some(i),
                    format!("{op} failed unexpectedly: [{}] {e}", e.code()),
                );
            }
            (Err(e), Some(want), None) => {
                let code = want["code"].as_str().unwrap_or("");
                if e.code() != code {
                    report.fail(
                        name,
                        Some(i),
                        format!("{op}: expected error `{code}`, got `{}`: {e}", e.code()),
                    );
                }
                if let Some(p) = want.get("path") {
                    let got = e.path().unwrap_or("");
                    if p.as_str() != Some(got) {
                        report.fail(
                            name,
                            Some(i),
                            format!("{op}: expected error path {p}, got \"{got}\""),
                        );
                    }
                }
            }
            (Ok(_), Some(want), None) => {
                report.fail(
                    name,
                    Some(i),
                    format!("{op}: expected error {want}, but it succeeded"),
                );
            }
            (Ok(produced), None, expect) => {
                if let Some(expect) = expect {
                    for diff in check_expect(op, &produced, expect) {
                        report.fail(name, Some(i), format!("{op}: {diff}"));
                    }
                }
            }
        }
    }
    if let Some(fin) = v.get("final") {
        for diff in check_final(&engine, fin) {
            report.fail(name, None, diff);
        }
    }
}

/// Runs one operation. `Err(String)` means the step itself is malformed.
fn run_op(
    engine: &mut Engine,
    model: &Model,
    op: &str,
    arg: &Value,
) -> Result<Result<Produced, Error>, String> {
    Ok(match op {
        "ingest" => {
            if !arg.is_object() {
                return Err("`ingest` takes a touchpoint object".into());
            }
            engine.ingest_json(&arg.to_string()).map(Produced::Outcome)
        }
        "ingest_batch" => {
            let list = arg.as_array().ok_or("`ingest_batch` takes a list")?;
            Ok(Produced::Outcome(ingest_batch(engine, model, list)))
        }
        "ingest_json_lines" => {
            let text = arg.as_str().ok_or("`ingest_json_lines` takes a string")?;
            Ok(Produced::Outcome(engine.ingest_json_lines(text.as_bytes())))
        }
        "advance_to" => Ok(Produced::Outcome(engine.advance_to(parse_time(arg)?))),
        "consent" => {
            let customer = arg["customer"].as_str().ok_or("consent needs `customer`")?;
            let channel = arg["channel"].as_str().ok_or("consent needs `channel`")?;
            let granted = arg["granted"].as_bool().ok_or("consent needs `granted`")?;
            let at = parse_time(&arg["at"])?;
            engine
                .set_consent(customer, channel, granted, at)
                .map(Produced::Outcome)
        }
        "erase" => {
            let customer = arg.as_str().ok_or("`erase` takes a customer id")?;
            engine
                .erase(customer)
                .map(|e| Produced::Erased(serde_json::to_value(e).expect("serializes")))
        }
        "snapshot_restore" => {
            if arg != &Value::Bool(true) {
                return Err("`snapshot_restore` takes `true`".into());
            }
            Engine::restore(&engine.snapshot()).map(|e| {
                *engine = e;
                Produced::Nothing
            })
        }
        _ => unreachable!(),
    })
}

/// `ingest_batch` through [`Engine::ingest_batch`]: each element is converted from its canonical
/// JSON form; one that does not convert is rejected at its index with the conversion error (the
/// same parser the engine uses), and the others go to the engine as one batch, whose rejection
/// indexes are mapped back to positions in the vector's list.
fn ingest_batch(engine: &mut Engine, model: &Model, list: &[Value]) -> Outcome {
    let mut good = Vec::new();
    let mut positions = Vec::new();
    let mut early = Vec::new();
    for (i, tp) in list.iter().enumerate() {
        match Touchpoint::from_json(model, &tp.to_string()) {
            Ok(t) => {
                good.push(t);
                positions.push(i);
            }
            Err(e) => early.push(jornada::Rejected {
                index: i,
                error: e.at_index(i),
            }),
        }
    }
    let mut out = engine.ingest_batch(&good);
    for r in &mut out.rejected {
        r.index = positions[r.index];
    }
    out.rejected.extend(early);
    out.rejected.sort_by_key(|r| r.index);
    out
}

/// The outcome as JSON; `rejected` elements as `{index, code, path, line}`.
fn outcome_json(out: &Outcome) -> Map<String, Value> {
    let mut v = serde_json::to_value(out).expect("an outcome serializes");
    let rejected: Vec<Value> = out
        .rejected
        .iter()
        .map(|r| {
            let mut m = Map::new();
            m.insert("index".into(), r.index.into());
            m.insert("code".into(), r.error.code().into());
            m.insert(
                "path".into(),
                r.error.path().map_or(Value::Null, |p| p.into()),
            );
            m.insert(
                "line".into(),
                r.error
                    .location()
                    .and_then(|l| l.line)
                    .map_or(Value::Null, |l| l.into()),
            );
            Value::Object(m)
        })
        .collect();
    v["rejected"] = Value::Array(rejected);
    match v {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

fn check_expect(op: &str, produced: &Produced, expect: &Value) -> Vec<String> {
    let mut diffs = Vec::new();
    let Some(expect) = expect.as_object() else {
        return vec!["`expect` must be an object".into()];
    };
    match produced {
        Produced::Nothing => {
            if !expect.is_empty() {
                diffs.push("this operation has no outcome to expect".into());
            }
        }
        Produced::Erased(actual) => {
            for k in expect.keys() {
                if k != "erased" {
                    diffs.push(format!("unknown expect key `{k}` for erase"));
                }
            }
            if let Some(want) = expect.get("erased") {
                diff_json("erased", want, actual, &mut diffs);
            }
        }
        Produced::Outcome(out) => {
            for k in expect.keys() {
                if !OUTCOME_KEYS.contains(&k.as_str()) {
                    diffs.push(format!("unknown expect key `{k}` for {op}"));
                }
            }
            let actual = outcome_json(out);
            for key in OUTCOME_KEYS {
                let want = expect.get(*key).cloned().unwrap_or(Value::Array(vec![]));
                let got = actual.get(*key).cloned().unwrap_or(Value::Array(vec![]));
                if *key == "rejected" {
                    compare_rejected(&want, &got, &mut diffs);
                } else {
                    compare_list(key, &want, &got, &mut diffs);
                }
            }
        }
    }
    diffs
}

fn compare_list(key: &str, want: &Value, got: &Value, diffs: &mut Vec<String>) {
    if json_eq(want, got) {
        return;
    }
    let mut lines = Vec::new();
    diff_values(key, want, got, &mut lines);
    diffs.push(format!(
        "`{key}` differs:\n    {}\n  expected {key}:\n{}\n  actual {key}:\n{}",
        lines.join("\n    "),
        indent(want),
        indent(got)
    ));
}

fn compare_rejected(want: &Value, got: &Value, diffs: &mut Vec<String>) {
    let (Some(w), Some(g)) = (want.as_array(), got.as_array()) else {
        diffs.push("`rejected` must be a list".into());
        return;
    };
    let mut bad = w.len() != g.len();
    for (a, b) in w.iter().zip(g) {
        let Some(a) = a.as_object() else {
            diffs.push("`rejected` elements must be objects".into());
            return;
        };
        for k in a.keys() {
            if !["index", "code", "line", "path"].contains(&k.as_str()) {
                diffs.push(format!("unknown key `{k}` in a `rejected` element"));
            }
        }
        if !a.contains_key("index") || !a.contains_key("code") {
            diffs.push("`rejected` elements need `index` and `code`".into());
        }
        for (k, v) in a {
            if !b.get(k).is_some_and(|x| json_eq(v, x)) {
                bad = true;
            }
        }
    }
    if bad {
        diffs.push(format!(
            "`rejected` differs (index and code compared, line and path where given):\n  expected rejected:\n{}\n  actual rejected:\n{}",
            indent(want),
            indent(got)
        ));
    }
}

fn diff_json(what: &str, want: &Value, got: &Value, diffs: &mut Vec<String>) {
    if !json_eq(want, got) {
        let mut lines = Vec::new();
        diff_values(what, want, got, &mut lines);
        diffs.push(format!(
            "`{what}` differs:\n    {}\n  expected:\n{}\n  actual:\n{}",
            lines.join("\n    "),
            indent(want),
            indent(got)
        ));
    }
}

/// Lists the paths where two JSON values differ (at most 12).
fn diff_values(path: &str, want: &Value, got: &Value, out: &mut Vec<String>) {
    if out.len() >= 12 || json_eq(want, got) {
        return;
    }
    match (want, got) {
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                out.push(format!(
                    "{path}: expected {} element(s), got {}",
                    a.len(),
                    b.len()
                ));
            }
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                diff_values(&format!("{path}[{i}]"), x, y, out);
            }
        }
        (Value::Object(a), Value::Object(b)) => {
            for (k, x) in a {
                match b.get(k) {
                    Some(y) => diff_values(&format!("{path}.{k}"), x, y, out),
                    None => out.push(format!("{path}.{k}: expected {x}, missing")),
                }
            }
            for (k, y) in b {
                if !a.contains_key(k) {
                    out.push(format!("{path}.{k}: not expected, got {y}"));
                }
            }
        }
        _ => out.push(format!("{path}: expected {want}, got {got}")),
    }
}

/// JSON equality, numbers compared by value (`5` equals `5.0`), objects regardless of key order.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

fn indent(v: &Value) -> String {
    let text = serde_json::to_string_pretty(v).expect("serializes");
    let mut s = String::new();
    for line in text.lines() {
        let _ = writeln!(s, "      {line}");
    }
    s.trim_end().to_string()
}

fn check_final(engine: &Engine, fin: &Value) -> Vec<String> {
    let mut diffs = Vec::new();
    let Some(fin) = fin.as_object() else {
        return vec!["`final` must be an object".into()];
    };
    for k in fin.keys() {
        if !["customers", "absent", "stage_counts", "customer_ids"].contains(&k.as_str()) {
            diffs.push(format!("unknown key `{k}` in `final`"));
        }
    }
    if let Some(customers) = fin.get("customers").and_then(Value::as_object) {
        for (id, want) in customers {
            let Some(view) = engine.customer(id) else {
                diffs.push(format!("customer `{id}`: not found"));
                continue;
            };
            let got = serde_json::to_value(view).expect("a customer view serializes");
            let Some(want) = want.as_object() else {
                diffs.push(format!("customer `{id}`: expected an object"));
                continue;
            };
            for (field, w) in want {
                match got.get(field) {
                    Some(g) => diff_json(&format!("customers.{id}.{field}"), w, g, &mut diffs),
                    None => diffs.push(format!("customer `{id}`: no field `{field}` in the view")),
                }
            }
        }
    }
    if let Some(absent) = fin.get("absent").and_then(Value::as_array) {
        for id in absent {
            let id = id.as_str().unwrap_or("");
            if let Some(view) = engine.customer(id) {
                diffs.push(format!(
                    "customer `{id}` should be absent, found {}",
                    serde_json::to_value(view).unwrap()
                ));
            }
        }
    }
    if let Some(want) = fin.get("stage_counts").and_then(Value::as_object) {
        let counts = engine.stage_counts();
        for (stage, n) in want {
            match counts.iter().find(|(s, _)| &**s == stage) {
                Some((_, c)) => {
                    if Some(*c) != n.as_u64() {
                        diffs.push(format!("stage_counts.{stage}: expected {n}, got {c}"));
                    }
                }
                None => diffs.push(format!("stage_counts: no stage `{stage}` in the model")),
            }
        }
    }
    if let Some(want) = fin.get("customer_ids") {
        let got = serde_json::to_value(engine.customer_ids()).unwrap();
        diff_json("customer_ids", want, &got, &mut diffs);
    }
    diffs
}
