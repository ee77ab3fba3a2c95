//! The `jornada` binary, run as users run it.

use assert_cmd::Command;
use predicates::prelude::*;

fn jornada() -> Command {
    Command::cargo_bin("jornada").expect("binary built")
}

#[test]
fn presets_lists_and_prints() {
    jornada()
        .arg("presets")
        .assert()
        .success()
        .stdout(predicate::str::contains("ecommerce").and(predicate::str::contains("seven_phase")));
    let out = jornada().args(["presets", "ecommerce"]).assert().success();
    let json = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let back = jornada::Model::from_json(&json).expect("printed preset is a valid model");
    assert_eq!(back.name(), "ecommerce");
    jornada().args(["presets", "nope"]).assert().code(1).stderr(
        predicate::str::contains("unknown preset `nope`")
            .and(predicate::str::contains("[unknown_preset]")),
    );
}

#[test]
fn validate_reports_every_problem_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"jornada_model":1,"name":"x","identities":[],"channels":["web"],"event_kinds":["a"],"stages":["s"],"rules":[{"name":"r","on":"b","to":"t"}]}"#,
    )
    .unwrap();
    jornada().arg("validate").arg(&bad).assert().code(1).stderr(
        predicate::str::contains("3 problem(s)")
            .and(predicate::str::contains(
                "rules[0].to: unknown stage `t` [unknown_stage]",
            ))
            .and(predicate::str::contains(
                "rules[0].on: unknown event kind `b`",
            ))
            .and(predicate::str::contains("identities:")),
    );
    let good = dir.path().join("good.json");
    std::fs::write(
        &good,
        jornada::Model::preset("seven_phase").unwrap().to_json(),
    )
    .unwrap();
    jornada()
        .arg("validate")
        .arg(&good)
        .assert()
        .success()
        .stdout(predicate::str::contains("valid: model `seven_phase`"));
    jornada()
        .args(["validate", "--preset", "ecommerce"])
        .assert()
        .success();
}

#[test]
fn missing_files_and_bad_usage_have_their_own_exit_codes() {
    jornada()
        .args(["validate", "/no/such/model.json"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("[io_error]"));
    jornada().arg("frobnicate").assert().code(2);
    jornada().arg("validate").assert().code(1);
    jornada()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Examples:"));
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const CSV_OK: &str = "customer,at,channel,kind,value\n\
c1,2026-03-01T10:00:00Z,web,page_view,\n\
c1,2026-03-01T10:01:00Z,web,product_view,\n\
c1,2026-03-01T10:02:00Z,web,add_to_cart,\n\
c1,2026-03-01T10:05:00Z,web,purchase,59.9\n\
c2,2026-03-01T11:00:00Z,app,page_view,\n\
c2,2026-03-01T11:01:00Z,app,add_to_cart,\n\
c2,2026-03-01T14:00:00Z,app,page_view,\n";

#[test]
fn simulate_then_run_round_trips_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    for ext in ["parquet", "csv", "jsonl"] {
        let events = dir.path().join(format!("events.{ext}"));
        jornada()
            .args([
                "simulate",
                "--model",
                "ecommerce",
                "--customers",
                "300",
                "--seed",
                "3",
                "--out",
            ])
            .arg(&events)
            .assert()
            .success();
        let out = dir.path().join(format!("out-{ext}"));
        jornada()
            .args(["run", "--model", "ecommerce", "--events"])
            .arg(&events)
            .arg("--out")
            .arg(&out)
            .assert()
            .success();
        for f in [
            "stages.csv",
            "stages.parquet",
            "transitions.jsonl",
            "actions.jsonl",
            "summary.json",
        ] {
            assert!(out.join(f).exists(), "{ext}: {f} written");
        }
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap())
                .unwrap();
        assert_eq!(summary["customers"], 300, "{ext}");
        let stages = std::fs::read_to_string(out.join("stages.csv")).unwrap();
        assert!(stages.starts_with("customer,final_stage,entered_visitor,"));
        assert_eq!(stages.lines().count(), 301);
        let first = std::fs::read_to_string(out.join("transitions.jsonl")).unwrap();
        let t: serde_json::Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
        assert_eq!(t["to"], "visitor");
    }
    // The three formats hold the same events: the same summaries.
    let read = |ext: &str| {
        std::fs::read_to_string(dir.path().join(format!("out-{ext}/summary.json"))).unwrap()
    };
    let strip = |s: String| {
        s.lines()
            .filter(|l| !l.contains("events_file"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(read("parquet")), strip(read("csv")));
    assert_eq!(strip(read("parquet")), strip(read("jsonl")));
}

#[test]
fn run_maps_column_names_and_reads_jsonl_properties() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write(
        dir.path(),
        "renamed.csv",
        &CSV_OK.replacen(
            "customer,at,channel,kind,value",
            "user,ts,via,event,amount",
            1,
        ),
    );
    let out = dir.path().join("out");
    jornada()
        .args([
            "run",
            "--model",
            "ecommerce",
            "--customer-col",
            "user",
            "--at-col",
            "ts",
            "--channel-col",
            "via",
            "--kind-col",
            "event",
            "--value-col",
            "amount",
            "--events",
        ])
        .arg(&csv)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let stages = std::fs::read_to_string(out.join("stages.csv")).unwrap();
    assert!(stages.contains("c1,customer,"), "{stages}");
    assert!(stages.contains("c2,abandoned_cart,"), "{stages}");
    let jsonl = write(
        dir.path(),
        "e.jsonl",
        "{\"customer\":\"c1\",\"at\":\"2026-03-01T10:00:00Z\",\"channel\":\"web\",\"kind\":\"purchase\",\"value\":10}\n\n{\"customer\":\"c1\",\"at\":1772362800000,\"channel\":\"web\",\"kind\":\"review\",\"properties\":{\"rating\":5}}\n",
    );
    jornada()
        .args([
            "stages",
            "--model",
            "ecommerce",
            "--format",
            "csv",
            "--events",
        ])
        .arg(&jsonl)
        .assert()
        .success()
        .stdout(predicate::str::contains("advocate,1,"));
}

#[test]
fn bad_events_name_the_file_the_column_and_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let run = |file: &std::path::Path| {
        let mut c = jornada();
        c.args(["funnel", "--model", "ecommerce", "--events"])
            .arg(file);
        c
    };
    let missing = write(
        dir.path(),
        "missing.csv",
        "customer,at,channel\nc1,2026-03-01T10:00:00Z,web\n",
    );
    run(&missing).assert().code(1).stderr(
        predicate::str::contains("missing.csv")
            .and(predicate::str::contains("no column `kind`"))
            .and(predicate::str::contains("--kind-col")),
    );
    let bad_time = write(
        dir.path(),
        "time.csv",
        &CSV_OK.replace("2026-03-01T10:02:00Z", "yesterday"),
    );
    run(&bad_time).assert().code(1).stderr(
        predicate::str::contains("time.csv")
            .and(predicate::str::contains("row 2 (line 4)"))
            .and(predicate::str::contains("column `at`"))
            .and(predicate::str::contains("yesterday")),
    );
    let bad_value = write(dir.path(), "value.csv", &CSV_OK.replace("59.9", "lots"));
    run(&bad_value).assert().code(1).stderr(
        predicate::str::contains("row 3 (line 5), column `value`")
            .and(predicate::str::contains("`lots`")),
    );
    let bad_kind = write(
        dir.path(),
        "kind.csv",
        &CSV_OK.replace("product_view", "teleport"),
    );
    run(&bad_kind).assert().code(1).stderr(
        predicate::str::contains("kind.csv")
            .and(predicate::str::contains("teleport"))
            .and(predicate::str::contains("[unknown_event_kind]"))
            .and(predicate::str::contains("line 3")),
    );
    // ... unless unknown kinds are skipped.
    run(&bad_kind).arg("--skip-unknown").assert().success();
    let good_line =
        r#"{"customer":"c1","at":"2026-03-01T10:00:00Z","channel":"web","kind":"page_view"}"#;
    let bad_json = write(
        dir.path(),
        "bad.jsonl",
        &format!("{good_line}\n\nnot json\n"),
    );
    run(&bad_json).assert().code(1).stderr(
        predicate::str::contains("bad.jsonl")
            .and(predicate::str::contains("line 3, row 1"))
            .and(predicate::str::contains("[invalid_json]")),
    );
    let no_at = write(dir.path(), "no_at.jsonl", "{\"customer\":\"c1\"}\n");
    run(&no_at).assert().code(1).stderr(
        predicate::str::contains("no_at.jsonl")
            .and(predicate::str::contains("line 1, row 0, column `at`"))
            .and(predicate::str::contains("[missing_field]")),
    );
    let not_parquet = write(dir.path(), "fake.parquet", "hello");
    run(&not_parquet)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "fake.parquet: not a readable Parquet file",
        ));
    run(&dir.path().join("nope.csv"))
        .assert()
        .code(3)
        .stderr(predicate::str::contains("nope.csv"));
    let ok = write(dir.path(), "ok.csv", CSV_OK);
    jornada()
        .args(["funnel", "--model", "no_such_preset", "--events"])
        .arg(&ok)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("[unknown_preset]"));
    for out in [&missing, &bad_time, &bad_kind] {
        run(out)
            .assert()
            .stderr(predicate::str::contains("panicked").not());
    }
}

#[test]
fn funnel_prints_tables_csv_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let ok = write(dir.path(), "ok.csv", CSV_OK);
    jornada()
        .args([
            "funnel",
            "--model",
            "ecommerce",
            "--steps",
            "visitor,cart,customer",
            "--events",
        ])
        .arg(&ok)
        .assert()
        .success()
        .stdout(predicate::str::contains("step").and(predicate::str::contains("customer")));
    jornada()
        .args([
            "funnel",
            "--model",
            "ecommerce",
            "--steps",
            "visitor,cart,customer",
            "--format",
            "csv",
            "--events",
        ])
        .arg(&ok)
        .assert()
        .success()
        .stdout(
            predicate::str::starts_with("step,customers,")
                .and(predicate::str::contains("cart,2,100.0%")),
        );
    let out = jornada()
        .args([
            "funnel",
            "--model",
            "ecommerce",
            "--format",
            "json",
            "--events",
        ])
        .arg(&ok)
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(v[0]["stage"], "visitor");
    assert_eq!(v[0]["customers"], 2);
    jornada()
        .args([
            "funnel",
            "--model",
            "ecommerce",
            "--steps",
            "visitor,nirvana",
            "--events",
        ])
        .arg(&ok)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("nirvana"));
}

#[test]
fn report_is_self_contained_html_with_the_funnel() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.parquet");
    jornada()
        .args(["simulate", "--customers", "500", "--out"])
        .arg(&events)
        .assert()
        .success();
    let html = dir.path().join("r/report.html");
    jornada()
        .args(["report", "--model", "ecommerce", "--events"])
        .arg(&events)
        .arg("--html")
        .arg(&html)
        .assert()
        .success();
    let text = std::fs::read_to_string(&html).unwrap();
    assert!(text.starts_with("<!DOCTYPE html>"));
    assert!(!text.contains("<script"));
    let urls = text.matches("http").count();
    assert_eq!(
        urls,
        text.matches("http://www.w3.org/2000/svg").count(),
        "no external URLs"
    );
    for part in [
        "Stage funnel",
        "Transitions between stages",
        "Time in stage",
        "<svg",
    ] {
        assert!(text.contains(part), "{part}");
    }
    // Well-formed: every element closed and nested, checked by parsing it as XML once the
    // doctype is dropped and HTML's void elements (`<meta>`, the only ones used) self-closed.
    let mut body = String::new();
    let mut rest = text.trim_start_matches("<!DOCTYPE html>");
    while let Some(i) = rest.find("<meta") {
        let end = i + rest[i..].find('>').unwrap();
        body.push_str(&rest[..end]);
        if !rest[..end].ends_with('/') {
            body.push('/');
        }
        rest = &rest[end..];
    }
    body.push_str(rest);
    for void in ["<br", "<img", "<hr", "<input", "<link"] {
        assert!(!body.contains(void), "unexpected void element {void}");
    }
    roxmltree::Document::parse(&body).expect("well-formed markup");
}

#[test]
fn demo_prints_a_summary_and_writes_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("demo.html");
    jornada()
        .args(["demo", "--customers", "2000", "--html"])
        .arg(&html)
        .assert()
        .success()
        .stdout(
            predicate::str::contains("Funnel over stages")
                .and(predicate::str::contains("abandoned_cart"))
                .and(predicate::str::contains("Report:")),
        );
    assert!(std::fs::read_to_string(&html)
        .unwrap()
        .contains("Stage funnel"));
}

#[test]
fn every_command_has_examples_in_its_help() {
    // Every command `jornada --help` lists (so a new one cannot be forgotten here).
    let out = jornada().arg("--help").assert().success();
    let help = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let listed: Vec<String> = help[help.find("Commands:").unwrap()..]
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter(|l| !l.starts_with("   ")) // a wrapped description
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|c| c != "help")
        .collect();
    let expected = [
        "demo",
        "simulate",
        "run",
        "stages",
        "funnel",
        "attribution",
        "paths",
        "retention",
        "effort",
        "report",
        "validate",
        "presets",
    ];
    assert_eq!(listed, expected);
    for cmd in &listed {
        let out = jornada().args([cmd, "--help"]).assert().success();
        let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
        let examples = &text[text
            .find("Examples:")
            .unwrap_or_else(|| panic!("{cmd}: no examples"))..];
        assert!(
            examples.contains(&format!("jornada {cmd}")),
            "{cmd}: the examples run it: {examples}"
        );
    }
}

#[test]
fn attribution_credits_by_hand_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("ev.csv");
    // c1: email then web, then buys; c2: web, then buys. By hand: first touch email 1, web 1;
    // last touch web 2; linear email 0.5, web 1.5.
    std::fs::write(
        &csv,
        "customer,at,channel,kind\n\
         c1,2026-03-01T10:00:00Z,email,email_click\n\
         c1,2026-03-01T11:00:00Z,web,page_view\n\
         c1,2026-03-01T12:00:00Z,web,purchase\n\
         c2,2026-03-02T10:00:00Z,web,page_view\n\
         c2,2026-03-02T10:30:00Z,web,purchase\n",
    )
    .unwrap();
    let out = jornada()
        .args([
            "attribution",
            "--conversion",
            "purchase",
            "--models",
            "first_touch,last_touch,linear",
            "--format",
            "json",
            "--events",
        ])
        .arg(&csv)
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(v["channels"], serde_json::json!(["email", "web"]));
    assert_eq!(v["conversions"], 2.0);
    let credits = |i: usize| v["models"][i]["conversions"].clone();
    assert_eq!(credits(0), serde_json::json!([1.0, 1.0]));
    assert_eq!(credits(1), serde_json::json!([0.0, 2.0]));
    assert_eq!(credits(2), serde_json::json!([0.5, 1.5]));
    jornada()
        .args(["attribution", "--conversion", "purchase", "--events"])
        .arg(&csv)
        .assert()
        .success()
        .stdout(predicate::str::contains("markov").and(predicate::str::contains("shapley")));
    jornada()
        .args(["attribution", "--conversion", "nope", "--events"])
        .arg(&csv)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("unknown_event_kind"));
    jornada()
        .args(["attribution", "--lookback", "soon", "--events"])
        .arg(&csv)
        .assert()
        .code(1);
}

#[test]
fn paths_and_retention_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("ev.csv");
    // c1 views, looks at a product, buys (and comes back the next day); c2 views and looks;
    // c3 only views. Paths stop before the purchase: `page_view > product_view` for c1 (converted)
    // and c2, `page_view` for c3. Daily cohort of 2026-03-02: 3 customers, 1 active on day +1.
    std::fs::write(
        &csv,
        "customer,at,channel,kind\n\
         c1,2026-03-02T10:00:00Z,web,page_view\n\
         c1,2026-03-02T10:01:00Z,web,product_view\n\
         c1,2026-03-02T10:02:00Z,web,purchase\n\
         c1,2026-03-03T09:00:00Z,app,page_view\n\
         c2,2026-03-02T11:00:00Z,web,page_view\n\
         c2,2026-03-02T11:01:00Z,web,product_view\n\
         c3,2026-03-02T12:00:00Z,web,page_view\n",
    )
    .unwrap();
    let out = jornada()
        .args([
            "paths",
            "--conversion",
            "purchase",
            "--format",
            "json",
            "--events",
        ])
        .arg(&csv)
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let first = &v["variants"][0];
    assert_eq!(
        first["steps"],
        serde_json::json!(["page_view", "product_view"])
    );
    assert_eq!(first["customers"], 2);
    assert_eq!(first["converted"], 1);
    assert_eq!(v["variants"][1]["steps"], serde_json::json!(["page_view"]));
    assert_eq!(v["variants"][1]["converted"], 0);
    jornada()
        .args(["paths", "--events"])
        .arg(&csv)
        .assert()
        .success()
        .stdout(predicate::str::contains("page_view > product_view"));

    let out = jornada()
        .args([
            "retention",
            "--period",
            "day",
            "--format",
            "json",
            "--events",
        ])
        .arg(&csv)
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let cohort = &v["cohorts"][0];
    assert_eq!(cohort["customers"], 3);
    assert_eq!(cohort["active"][0], 3);
    assert_eq!(cohort["active"][1], 1);
    jornada()
        .args(["retention", "--period", "day", "--events"])
        .arg(&csv)
        .assert()
        .success()
        .stdout(predicate::str::contains("2026-03-02").and(predicate::str::contains("33.3%")));
    jornada()
        .args(["retention", "--period", "fortnight", "--events"])
        .arg(&csv)
        .assert()
        .code(2);
}

/// A small shop log whose effort figures are counted by hand below.
const EFFORT_CSV: &str = "customer,at,channel,kind,value\n\
c1,2026-03-01T10:00:00Z,web,page_view,\n\
c1,2026-03-01T10:05:00Z,web,add_to_cart,\n\
c1,2026-03-01T12:00:00Z,app,purchase,30\n\
c1,2026-03-02T09:00:00Z,support,support_contact,\n\
c1,2026-03-03T09:00:00Z,support,support_contact,\n\
c2,2026-03-01T10:00:00Z,web,page_view,\n\
c2,2026-03-01T10:10:00Z,web,add_to_cart,\n\
c2,2026-03-01T10:20:00Z,web,purchase,20\n\
c3,2026-03-05T10:00:00Z,email,email_click,\n\
c3,2026-03-05T10:01:00Z,web,add_to_cart,\n\
c3,2026-03-20T10:00:00Z,web,page_view,\n";

/// The same log built with the core, and core's effort figures for it (default options).
fn core_effort(csv: &str) -> jornada::analytics::EffortSummary {
    let mut b = jornada::analytics::EventLog::builder();
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        b.push(
            f[0],
            jornada::Timestamp::parse(f[1]).unwrap(),
            f[2],
            f[3],
            f[4].parse::<f64>().ok(),
        )
        .unwrap();
    }
    let log = b.finish().unwrap();
    jornada::analytics::effort(&log, &jornada::analytics::EffortSpec::default())
        .unwrap()
        .summary
}

/// `figure → value` from a two-column CSV table.
fn figures(csv: &str) -> std::collections::HashMap<String, String> {
    csv.lines()
        .skip(1)
        .map(|l| {
            let (k, v) = l.rsplit_once(',').unwrap();
            (
                k.trim_matches('"').to_string(),
                v.trim_matches('"').to_string(),
            )
        })
        .collect()
}

#[test]
fn effort_figures_are_core_figures_and_match_a_hand_count() {
    use jornada_report::svg::{number, percent};
    let dir = tempfile::tempdir().unwrap();
    let csv = write(dir.path(), "effort.csv", EFFORT_CSV);
    let core = core_effort(EFFORT_CSV);
    // By hand: c1 and c2 buy after 2 touches each (2 h and 20 min); channels 3, 1, 2; switches
    // 2 (web→app→support), 0, 1 (email→web); c1's two support contacts a day apart are one
    // issue with one repeat contact, resolved (nothing for 17 days); carts: c1's abandoned
    // (the purchase came 1h55 later) and recovered, c2's converted, c3's abandoned; sessions
    // (30 minutes): c1 4, c2 1, c3 2.
    assert_eq!((core.customers, core.converters), (3, 2));
    assert_eq!(core.mean_touches_to_conversion, 2.0);
    assert_eq!(core.median_days_to_conversion, Some(20.0 / 1440.0));
    assert_eq!((core.mean_channels, core.mean_channel_switches), (2.0, 1.0));
    assert_eq!((core.support_contacts, core.repeat_contacts), (2, 1));
    assert_eq!((core.issues, core.resolved_issues), (1, 1));
    assert_eq!(
        (core.carts, core.abandoned_carts, core.recovered_carts),
        (3, 2, 1)
    );
    assert_eq!(core.sessions, 7);

    // `jornada effort --format json`: core's summary, unrounded.
    let out = jornada()
        .args(["effort", "--format", "json", "--events"])
        .arg(&csv)
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(v["summary"], serde_json::to_value(&core).unwrap());
    // Converters by touches before the first purchase: both in the `2` bucket.
    assert_eq!(
        v["touches_before_conversion"][2],
        serde_json::json!(["2", 2])
    );

    // The table (as CSV): the figures as shown, rounded for reading.
    let out = jornada()
        .args(["effort", "--format", "csv", "--events"])
        .arg(&csv)
        .assert()
        .success();
    let shown = figures(&String::from_utf8(out.get_output().stdout.clone()).unwrap());
    let expect = [
        ("customers", number(core.customers as f64)),
        ("customers with a purchase", number(core.converters as f64)),
        (
            "touches before the first purchase, mean",
            number(core.mean_touches_to_conversion),
        ),
        (
            "days to the first purchase, mean",
            number(core.mean_days_to_conversion),
        ),
        (
            "customers on more than one channel",
            percent(core.multichannel_share),
        ),
        (
            "channel switches per customer, mean",
            number(core.mean_channel_switches),
        ),
        (
            "repeat support contacts (within 7 days of the previous)",
            number(core.repeat_contacts as f64),
        ),
        (
            "repeat contacts, share of contacts",
            percent(core.repeat_contact_rate),
        ),
        (
            "support issues resolved (no contact for 7 days)",
            "1 of 1".into(),
        ),
        (
            "abandoned carts (no purchase within 1 hour)",
            number(core.abandoned_carts as f64),
        ),
        ("abandonment rate", percent(core.abandonment_rate)),
        (
            "recovered carts (a later purchase)",
            number(core.recovered_carts as f64),
        ),
        (
            "sessions (ended by 30 minutes without events)",
            number(core.sessions as f64),
        ),
        (
            "events per session, mean",
            number(core.mean_events_per_session),
        ),
    ];
    for (k, v) in &expect {
        assert_eq!(shown.get(*k), Some(v), "{k}: {shown:?}");
    }
    assert_eq!(shown["abandonment rate"], "66.7%");

    // The HTML report shows the same rows, with its charts; summary.json carries the figures.
    let html = dir.path().join("r.html");
    jornada()
        .args(["report", "--model", "ecommerce", "--events"])
        .arg(&csv)
        .arg("--html")
        .arg(&html)
        .assert()
        .success();
    let text = std::fs::read_to_string(&html).unwrap();
    assert!(text.contains("<h2>Customer effort</h2>"), "effort section");
    for (k, v) in &expect {
        assert!(
            text.contains(&format!("<td>{k}</td><td>{v}</td>")),
            "report row {k} = {v}"
        );
    }
    assert!(text.contains("Customers by touches before their first purchase"));
    assert!(text.contains("Cart episodes: abandoned and recovered"));
    let out = dir.path().join("out");
    jornada()
        .args(["run", "--model", "ecommerce", "--events"])
        .arg(&csv)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["effort"], serde_json::to_value(&core).unwrap());
}

#[test]
fn effort_options_and_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write(dir.path(), "effort.csv", EFFORT_CSV);
    // Options change the figures as the core says: a 3-hour cart window converts c1's cart.
    let out = jornada()
        .args([
            "effort",
            "--abandon-after",
            "3h",
            "--format",
            "json",
            "--events",
        ])
        .arg(&csv)
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(v["summary"]["abandoned_carts"], 1);
    assert_eq!(v["summary"]["recovered_carts"], 0);
    // A log without support contacts: no support rows rather than zeros.
    let no_support: String = EFFORT_CSV
        .lines()
        .filter(|l| !l.contains("support_contact"))
        .map(|l| format!("{l}\n"))
        .collect();
    let ns = write(dir.path(), "ns.csv", &no_support);
    jornada()
        .args(["effort", "--events"])
        .arg(&ns)
        .assert()
        .success()
        .stdout(
            predicate::str::contains("support contacts")
                .not()
                .and(predicate::str::contains("abandoned carts")),
        );
    jornada()
        .args(["effort", "--support", "phone_call", "--events"])
        .arg(&csv)
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("effort.csv")
                .and(predicate::str::contains("phone_call"))
                .and(predicate::str::contains("support.kinds[0]"))
                .and(predicate::str::contains("[unknown_event_kind]")),
        );
    jornada()
        .args(["effort", "--session-timeout", "soon", "--events"])
        .arg(&csv)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--session-timeout `soon`"));
    jornada()
        .args(["effort", "--events"])
        .arg(dir.path().join("nope.csv"))
        .assert()
        .code(3);
    jornada()
        .args(["effort", "--format", "yaml", "--events"])
        .arg(&csv)
        .assert()
        .code(2);
}

#[test]
fn demo_prints_the_effort_figures_of_the_core() {
    use jornada::analytics::{effort, simulate, EffortSpec, SimConfig};
    use jornada_report::svg::{number, percent};
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("demo.html");
    let out = jornada()
        .args(["demo", "--customers", "1500", "--seed", "5", "--html"])
        .arg(&html)
        .assert()
        .success();
    let printed = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let effort_part = &printed[printed.find("Customer effort:").expect("effort block")..];
    // The figure's value: the last cell of its line in the printed table.
    let shown = |figure: &str| -> String {
        let line = effort_part
            .lines()
            .find(|l| l.trim_start().starts_with(figure))
            .unwrap_or_else(|| panic!("no line `{figure}` in {effort_part}"));
        line[line.find(figure).unwrap() + figure.len()..]
            .trim()
            .to_string()
    };
    let model = jornada::Model::preset("ecommerce").unwrap();
    let log = simulate(
        &model,
        &SimConfig {
            customers: 1500,
            seed: 5,
            ..Default::default()
        },
    );
    let core = effort(&log, &EffortSpec::default()).unwrap().summary;
    assert!(core.converters > 0 && core.support_contacts > 0 && core.carts > 0);
    assert_eq!(
        shown("customers with a purchase"),
        number(core.converters as f64)
    );
    assert_eq!(
        shown("touches before the first purchase, mean"),
        number(core.mean_touches_to_conversion)
    );
    assert_eq!(
        shown("channel switches per customer, mean"),
        number(core.mean_channel_switches)
    );
    assert_eq!(
        shown("repeat support contacts (within 7 days of the previous)"),
        number(core.repeat_contacts as f64)
    );
    assert_eq!(
        shown("abandoned carts (no purchase within 1 hour)"),
        number(core.abandoned_carts as f64)
    );
    assert_eq!(
        shown("recovery rate, of abandoned carts"),
        percent(core.recovery_rate)
    );
    assert_eq!(
        shown("sessions (ended by 30 minutes without events)"),
        number(core.sessions as f64)
    );
    let text = std::fs::read_to_string(&html).unwrap();
    assert!(text.contains(&format!(
        "<td>customers with a purchase</td><td>{}</td>",
        number(core.converters as f64)
    )));
}

/// Long work is quiet when stderr is not a terminal (here a pipe): no bar, no spinner, no
/// terminal control characters, only the final lines.
#[test]
fn progress_is_quiet_when_piped() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("ev.parquet");
    let quiet = |stderr: &[u8]| {
        let s = String::from_utf8_lossy(stderr);
        assert!(!s.contains('\r') && !s.contains('\u{1b}'), "{s:?}");
        assert!(!s.contains("ETA") && !s.contains("customers ("), "{s:?}");
        s.to_string()
    };
    let out = jornada()
        .args(["simulate", "--customers", "5000", "--out"])
        .arg(&events)
        .assert()
        .success();
    let err = quiet(&out.get_output().stderr);
    assert_eq!(err.lines().count(), 1, "{err:?}");
    assert!(err.starts_with("wrote "), "{err:?}");
    let out = jornada()
        .args(["report", "--model", "ecommerce", "--events"])
        .arg(&events)
        .arg("--html")
        .arg(dir.path().join("r.html"))
        .assert()
        .success();
    assert_eq!(quiet(&out.get_output().stderr).lines().count(), 1);
    for args in [
        &["attribution", "--events"][..],
        &["stages", "--model", "ecommerce", "--events"][..],
    ] {
        let out = jornada().args(args).arg(&events).assert().success();
        assert_eq!(quiet(&out.get_output().stderr), "");
    }
    let out = jornada()
        .args(["demo", "--customers", "2000", "--html"])
        .arg(dir.path().join("d.html"))
        .assert()
        .success();
    assert_eq!(quiet(&out.get_output().stderr), "");
}

/// On a terminal (a pseudo-terminal from util-linux `script`), simulating draws a bar with the
/// position, the total and the percentage, and reading an events file a bar over its bytes.
#[test]
fn progress_draws_a_bar_on_a_terminal() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: util-linux `script` is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bin = assert_cmd::cargo::cargo_bin("jornada");
    let cmd = format!(
        "{} simulate --customers 20000 --out {}",
        bin.display(),
        dir.path().join("ev.csv").display()
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env("TERM", "xterm")
        .env("COLUMNS", "160")
        .output()
        .unwrap();
    assert!(out.status.success());
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(
        screen.contains("simulating customers [") && screen.contains("/20,000 customers ("),
        "{screen}"
    );
    assert!(screen.contains("ETA"), "{screen}");
    assert!(screen.contains("wrote "), "{screen}");
    // Reading an events file: a bar over its bytes.
    let cmd = format!(
        "{} paths --events {}",
        bin.display(),
        dir.path().join("ev.csv").display()
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env("TERM", "xterm")
        .output()
        .unwrap();
    assert!(out.status.success());
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(
        screen.contains("reading ") && screen.contains("MiB ("),
        "{screen}"
    );
}

/// Every command, given bad input, fails with its exit code (1 invalid input, 2 usage, 3 I/O)
/// and a message naming what is wrong, never a panic.
#[test]
fn every_command_rejects_bad_input_with_a_coded_error() {
    let dir = tempfile::tempdir().unwrap();
    let ok = write(dir.path(), "ok.csv", CSV_OK).display().to_string();
    // A regular file where a folder is needed: writing under it fails.
    let file = write(dir.path(), "a-file", "x").display().to_string();
    let under = |name: &str| format!("{file}/{name}");
    let bad_model = write(dir.path(), "m.json", "{\"jornada_model\": 1,")
        .display()
        .to_string();
    let cases: Vec<(Vec<String>, i32, &str)> = vec![
        (
            vec!["demo".into(), "--customers".into(), "many".into()],
            2,
            "many",
        ),
        (
            vec![
                "demo".into(),
                "--customers".into(),
                "10".into(),
                "--html".into(),
                under("r.html"),
            ],
            3,
            "a-file",
        ),
        (
            vec![
                "simulate".into(),
                "--model".into(),
                "nope".into(),
                "--out".into(),
                "e.csv".into(),
            ],
            1,
            "[unknown_preset]",
        ),
        (
            vec![
                "simulate".into(),
                "--model".into(),
                bad_model.clone(),
                "--out".into(),
                "e.csv".into(),
            ],
            1,
            "m.json",
        ),
        (
            vec![
                "simulate".into(),
                "--customers".into(),
                "10".into(),
                "--out".into(),
                "e.txt".into(),
            ],
            1,
            "unknown file type",
        ),
        (
            vec![
                "simulate".into(),
                "--customers".into(),
                "10".into(),
                "--out".into(),
                under("e.csv"),
            ],
            3,
            "a-file",
        ),
        (
            vec!["simulate".into(), "--customers".into(), "10".into()],
            2,
            "--out",
        ),
        (
            vec![
                "run".into(),
                "--model".into(),
                "ecommerce".into(),
                "--events".into(),
                ok.clone(),
                "--out".into(),
                under("out"),
            ],
            3,
            "a-file",
        ),
        (
            vec![
                "run".into(),
                "--model".into(),
                bad_model.clone(),
                "--events".into(),
                ok.clone(),
                "--out".into(),
                "o".into(),
            ],
            1,
            "m.json",
        ),
        (
            vec![
                "stages".into(),
                "--model".into(),
                "ecommerce".into(),
                "--events".into(),
                "missing.csv".into(),
            ],
            3,
            "missing.csv",
        ),
        (
            vec![
                "stages".into(),
                "--model".into(),
                "ecommerce".into(),
                "--events".into(),
                ok.clone(),
                "--format".into(),
                "xml".into(),
            ],
            2,
            "xml",
        ),
        (
            vec![
                "funnel".into(),
                "--model".into(),
                "ecommerce".into(),
                "--events".into(),
                ok.clone(),
                "--steps".into(),
                "cart,heaven".into(),
            ],
            1,
            "heaven",
        ),
        (
            vec![
                "attribution".into(),
                "--events".into(),
                ok.clone(),
                "--models".into(),
                "magic".into(),
            ],
            1,
            "magic",
        ),
        (
            vec![
                "paths".into(),
                "--events".into(),
                ok.clone(),
                "--conversion".into(),
                "nope".into(),
            ],
            1,
            "[unknown_event_kind]",
        ),
        (
            vec![
                "paths".into(),
                "--events".into(),
                ok.clone(),
                "--top".into(),
                "-3".into(),
            ],
            2,
            "-3",
        ),
        (
            vec![
                "retention".into(),
                "--events".into(),
                ok.clone(),
                "--purchase".into(),
                "nope".into(),
            ],
            1,
            "[unknown_event_kind]",
        ),
        (
            vec![
                "effort".into(),
                "--events".into(),
                ok.clone(),
                "--cart".into(),
                "basket".into(),
            ],
            1,
            "basket",
        ),
        (
            vec![
                "report".into(),
                "--model".into(),
                "ecommerce".into(),
                "--events".into(),
                ok.clone(),
                "--steps".into(),
                "visitor,heaven".into(),
            ],
            1,
            "heaven",
        ),
        (
            vec![
                "report".into(),
                "--model".into(),
                "ecommerce".into(),
                "--events".into(),
                ok.clone(),
                "--html".into(),
                under("r.html"),
            ],
            3,
            "a-file",
        ),
        (
            vec![
                "report".into(),
                "--model".into(),
                "ecommerce".into(),
                "--events".into(),
                "missing.parquet".into(),
            ],
            3,
            "missing.parquet",
        ),
        (vec!["validate".into(), bad_model.clone()], 1, "m.json"),
        (
            vec!["validate".into(), "--preset".into(), "nope".into()],
            1,
            "[unknown_preset]",
        ),
        (vec!["presets".into(), "nope".into()], 1, "[unknown_preset]"),
        (
            vec!["presets".into(), "a".into(), "b".into()],
            2,
            "unexpected argument",
        ),
    ];
    let mut seen = std::collections::BTreeSet::new();
    for (args, code, says) in &cases {
        let out = jornada()
            .current_dir(dir.path())
            .args(args)
            .assert()
            .code(*code);
        let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        seen.insert(args[0].clone());
    }
    assert_eq!(
        seen.len(),
        12,
        "every command has a bad-input case: {seen:?}"
    );
}

/// The README's model example is valid, and its table of fields names every field a model has.
#[test]
fn readme_model_format_is_valid_and_complete() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let start = readme
        .find("## The model format")
        .expect("model format section");
    let section = &readme[start..];
    let json_start = section.find("```json\n").unwrap() + 8;
    let example = &section[json_start..json_start + section[json_start..].find("```").unwrap()];
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "readme-model.json", example);
    jornada()
        .arg("validate")
        .arg(&file)
        .assert()
        .success()
        .stdout(predicate::str::contains("valid: model `shop`"));
    // Every top-level field (the fullest preset has them all but `scoring`) is in the table.
    let table = &section[..section.find("## Semantics").unwrap()];
    let preset: serde_json::Value =
        serde_json::from_str(&jornada::Model::preset("ecommerce").unwrap().to_json()).unwrap();
    let mut fields: Vec<String> = preset.as_object().unwrap().keys().cloned().collect();
    fields.push("scoring".into());
    for f in fields {
        assert!(
            table.contains(&format!("| `{f}`")) || table.contains(&format!(", `{f}` |")),
            "README model table lacks `{f}`"
        );
    }
}
