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
    let bad_json = write(dir.path(), "bad.jsonl", "{\"customer\":\"c1\"}\nnot json\n");
    run(&bad_json)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("bad.jsonl: line 2"));
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
    for cmd in [
        "demo", "simulate", "run", "stages", "funnel", "report", "validate", "presets",
    ] {
        jornada()
            .args([cmd, "--help"])
            .assert()
            .success()
            .stdout(predicate::str::contains("Examples:"));
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
