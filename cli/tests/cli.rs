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
