//! `bridges` through its binary: a refusal is one line on stderr that names
//! the key or argument and the value, and exits 2 for bad input
//! (configuration in a file or a `BRIDGES_` variable, an argument) and 1 for
//! the environment (a data folder that cannot be opened). The `BRIDGES_`
//! variables that are not configuration are accepted.

use std::path::Path;
use std::process::{Command, Output};

use bridges_tests::{binary, run, workspace_root};

fn bridges(data: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(binary("bridges"));
    cmd.arg("--data").arg(data).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(&mut cmd)
}

fn one_line_error(out: &Output, code: i32, names: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    for n in names {
        assert!(err.contains(n), "names {n}: {err}");
    }
}

#[test]
fn bad_configuration_and_arguments_exit_2_with_one_line_naming_key_and_value() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let verify = ["log", "verify"];

    let out = bridges(&data, &[("BRIDGES_SOLVER__TIME_LIMIT_SECONDS", "abc")], &verify);
    one_line_error(
        &out,
        2,
        &["BRIDGES_SOLVER__TIME_LIMIT_SECONDS", "solver.time_limit_seconds", "\"abc\""],
    );

    let out = bridges(&data, &[("BRIDGES_SOLVER_TIME_LIMIT_SECONDS", "5")], &verify);
    one_line_error(&out, 2, &["BRIDGES_SOLVER_TIME_LIMIT_SECONDS", "unknown key"]);

    let out = bridges(&data, &[("BRIDGES_COLOUR", "blue")], &verify);
    one_line_error(&out, 2, &["BRIDGES_COLOUR", "\"blue\"", "unknown key"]);

    let default =
        std::fs::read_to_string(workspace_root().join("config/default.toml")).expect("default");
    let file = dir.path().join("typo.toml");
    std::fs::write(&file, default.replace("mip_gap = 0.0", "mip_gap = 0.0\nmip_gapp = 0.1"))
        .expect("write");
    let out =
        bridges(&data, &[], &["--config", file.to_str().expect("utf-8 path"), "log", "verify"]);
    one_line_error(&out, 2, &["solver.mip_gapp", "0.1", "typo.toml"]);

    std::fs::write(&file, default.replace("la_code = 312", "la_code = 3120")).expect("write");
    let out = bridges(&data, &[("BRIDGES_CONFIG", file.to_str().expect("utf-8 path"))], &verify);
    one_line_error(&out, 2, &["la_code", "3120"]);

    for week in ["garbage", "2026-W99", "2026-W00", "", "2027-W53"] {
        let out = bridges(&data, &[], &["weekly", "--synthetic", "--week", week]);
        one_line_error(&out, 2, &["--week", &format!("{week:?}")]);
    }
    assert!(!data.exists(), "nothing refused opened the log");
}

#[test]
fn variables_that_are_not_configuration_are_accepted_and_the_environment_exits_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let env = [("BRIDGES_SLOW", "1"), ("BRIDGES_CRASH_SEED", "7"), ("BRIDGES_USER", "broker-1")];
    let register = [
        "school",
        "register",
        "100001",
        "--name",
        "Cherry Lane Primary",
        "--phase",
        "primary",
        "--easting",
        "507000",
        "--northing",
        "182000",
    ];
    let out = bridges(&data, &env, &register);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = bridges(&data, &env, &["log", "verify"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ok: "));

    // A data folder that is a file cannot be opened: the environment's fault.
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a folder").expect("write");
    let out = bridges(&file, &[], &["school", "list"]);
    one_line_error(&out, 1, &["a-file", "Not a directory"]);
    // `log` commands never create a log: a folder with none is the
    // argument's fault.
    let out = bridges(&file, &[], &["log", "export"]);
    one_line_error(&out, 2, &["a-file", "no event log"]);
}
