//! The command line beside a serving engine, on a nats-server of its own:
//! while `bridges serve` holds the data folder, `bridges` on the same
//! folder sends its commands to `<la>.cmd`, has the engine run its views
//! (`<la>.cli`), and takes an online backup with `bridges log export`
//! (`<la>.query.export`) with the key store copied beside it; the backup
//! restores into a new folder that reads as the original, names included.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use bridges_tests::services::{Lab, client, eventually, stream_messages};
use bridges_tests::{binary, run};

const EVENTS: &str = "BRIDGES_312_EVENTS";
/// The moment the practitioner is shown as of, in both folders.
const SHOWN_AT: &str = "2026-11-23T12:00:00Z";

/// `bridges --data DATA --config CONFIG ARGS`.
fn bridges(data: &Path, config: &Path, args: &[&str]) -> Output {
    run(Command::new(binary("bridges"))
        .arg("--data")
        .arg(data)
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("BRIDGES_USER"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Exit code, stdout and stderr.
fn outcome(out: &Output) -> (Option<i32>, String, String) {
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

/// The number of key files in `dir`.
fn keys_in(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|e| {
            e.filter(|f| f.as_ref().is_ok_and(|f| f.path().extension() == Some("key".as_ref())))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn the_cli_goes_through_the_serving_engine_and_backs_it_up_online() {
    let lab = Lab::new("", 20, 8, 12);
    let (data, config) = (lab.data.clone(), lab.config.clone());
    let mut engine = lab.engine("engine", &[]);
    engine.wait_for_log("engine serving", Duration::from_secs(30));
    let marker = lab.dir.path().join("data-serving.json");
    assert!(marker.exists(), "the service marks the folder it holds");

    // A command goes to <la>.cmd and is recorded by the engine.
    let register = [
        "--as",
        "broker-1",
        "--at",
        "2026-11-23T10:00:00Z",
        "--id",
        "cli-register-1",
        "school",
        "register",
        "199001",
        "--name",
        "Brook Lane Primary",
        "--phase",
        "primary",
        "--easting",
        "507100",
        "--northing",
        "182300",
    ];
    let (code, stdout, stderr) = outcome(&bridges(&data, &config, &register));
    assert_eq!(code, Some(0), "register through the engine: {stderr}");
    assert!(stdout.starts_with("applied cli-register-1: 1 event"), "{stdout}");
    // The same command id again is a duplicate, told as at home.
    let (code, stdout, _) = outcome(&bridges(&data, &config, &register));
    assert_eq!(code, Some(0));
    assert!(stdout.starts_with("duplicate cli-register-1"), "{stdout}");
    // A rejection: one line naming the field, exit 2.
    let withdraw = ["request", "withdraw", "no-such-request", "--reason", "found support"];
    let (code, _, stderr) = outcome(&bridges(&data, &config, &withdraw));
    assert_eq!(code, Some(2));
    assert!(stderr.starts_with("rejected: request = no-such-request"), "{stderr}");

    // Views are run by the engine on its own state.
    let (code, stdout, stderr) = outcome(&bridges(&data, &config, &["school", "show", "199001"]));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("Brook Lane Primary"), "{stdout}");
    let (code, _, stderr) = outcome(&bridges(&data, &config, &["request", "show", "no-such"]));
    assert_eq!(code, Some(2));
    assert!(stderr.starts_with("rejected: request = no-such"), "{stderr}");
    let (code, list, stderr) = outcome(&bridges(&data, &config, &["practitioner", "list"]));
    assert_eq!(code, Some(0), "{stderr}");
    let practitioner = list
        .lines()
        .nth(1)
        .and_then(|l| l.split_whitespace().next())
        .expect("a practitioner listed")
        .to_owned();
    let (code, shown, stderr) = outcome(&bridges(
        &data,
        &config,
        &["--at", SHOWN_AT, "practitioner", "show", &practitioner],
    ));
    assert_eq!(code, Some(0), "{stderr}");
    // The engine writes no file for the command line.
    let sar = lab.dir.path().join("sar.json");
    let sar_arg = sar.to_str().expect("utf-8");
    let (code, _, stderr) = outcome(&bridges(
        &data,
        &config,
        &["practitioner", "sar", &practitioner, "--out", sar_arg],
    ));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--out"), "{stderr}");
    assert!(!sar.exists());

    // The command went through the serving engine: its relay published it.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let js = async_nats::jetstream::new(client(&lab.nats.url()).await);
        eventually(Duration::from_secs(20), "the registration on the events stream", || {
            let js = js.clone();
            async move {
                stream_messages(&js, EVENTS).await.iter().any(|m| {
                    m.payload["type"] == "SchoolRegistered" && m.payload["payload"]["urn"] == 199001
                })
            }
        })
        .await;
    });

    // An online backup while serving, the keys beside it.
    let backup = lab.dir.path().join("backup.ndjson");
    let backup_arg = backup.to_str().expect("utf-8");
    let (code, _, stderr) =
        outcome(&bridges(&data, &config, &["log", "export", "--out", backup_arg]));
    assert_eq!(code, Some(0), "online export: {stderr}");
    assert!(stderr.contains("online from the engine of LA 312"), "{stderr}");
    let keys_backup = lab.dir.path().join("backup.ndjson-keys");
    let keys = lab.dir.path().join("data-keys");
    assert!(keys_in(&keys) > 0, "the seeded LA has keys");
    assert_eq!(keys_in(&keys_backup), keys_in(&keys), "every key backed up");
    let online = std::fs::read_to_string(&backup).expect("the backup");
    let events = online.lines().count() - 1;

    assert!(engine.terminate(Duration::from_secs(30)), "the engine stops on SIGTERM");
    assert!(!marker.exists(), "the marker goes with the service");

    // The online backup is the log as it was: byte for byte the offline
    // export through the same position.
    let offline = lab.dir.path().join("offline.ndjson");
    let through = events.to_string();
    let out = bridges(
        &data,
        &config,
        &["log", "export", "--through", &through, "--out", offline.to_str().expect("utf-8")],
    );
    assert!(out.status.success(), "offline export: {}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&offline).expect("offline"), online);

    // Restored into a new folder with its keys, it reads as the original.
    let restored = lab.dir.path().join("restored");
    let (code, stdout, stderr) =
        outcome(&bridges(&restored, &config, &["log", "import", backup_arg]));
    assert_eq!(code, Some(0), "import: {stderr}");
    assert!(stdout.contains(&format!("restored {} keys", keys_in(&keys_backup))), "{stdout}");
    let (code, stdout, _) = outcome(&bridges(&restored, &config, &["log", "verify"]));
    assert_eq!(code, Some(0), "{stdout}");
    let (_, again, stderr) = outcome(&bridges(
        &restored,
        &config,
        &["--at", SHOWN_AT, "practitioner", "show", &practitioner],
    ));
    assert_eq!(again, shown, "the practitioner reads the same, name opened: {stderr}");
    assert!(!again.contains("(erased)"), "{again}");
}

#[test]
fn a_folder_locked_without_a_service_is_still_refused() {
    let lab = Lab::new("", 10, 4, 4);
    let (data, config) = (lab.data.clone(), lab.config.clone());
    // Held by a command line (an append loop), not by `bridges serve`.
    let mut holder = bridges_tests::nats::Service::spawn(
        "holder",
        {
            let mut c = Command::new(binary("bridges"));
            c.arg("--data").arg(&data).args(["log", "append-loop", "--tasks", "1"]);
            c
        },
        lab.dir.path().join("holder.log"),
    );
    holder.wait_for_log("ack", Duration::from_secs(30));
    let (code, _, stderr) = outcome(&bridges(&data, &config, &["school", "list"]));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("another bridges process is using the data folder"), "{stderr}");
    holder.kill();
}

/// `bridges serve --web`: the broker's desk on the serving engine. A
/// request raised on the page is the engine's (the CLI, through NATS, shows
/// it, and it is on the events stream), and the page stops with the service.
#[test]
fn the_serving_engine_also_serves_the_page() {
    let lab = Lab::new("", 20, 8, 12);
    let (data, config) = (lab.data.clone(), lab.config.clone());
    let secret = bridges_tests::web::add_user(&data, "broker-1", "broker", "a long pass phrase");
    let port = bridges_tests::nats::free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut engine = lab.engine("engine", &["--web", &listen, "--now", "2026-12-03T10:00:00Z"]);
    engine.wait_for_log("engine serving", Duration::from_secs(30));
    engine.wait_for_log("web serving", Duration::from_secs(30));
    let login = bridges_tests::web::Login {
        user: "broker-1".into(),
        password: "a long pass phrase".into(),
        secret,
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let id = rt.block_on(async {
        let mut http = bridges_tests::web::Http::new(&format!("http://{listen}"));
        assert_eq!(http.sign_in(&login).await.status, 303, "signed in");
        let form = http.get("/requests/new").await;
        assert_eq!(form.status, 200);
        let token = bridges_tests::web::csrf(&form.body);
        // Any open request's school and need fit: raise one more like it.
        let list = outcome(&bridges(&data, &config, &["request", "list"])).1;
        let row = list
            .lines()
            .find(|l| l.starts_with("2026-"))
            .unwrap_or_else(|| panic!("a request:\n{list}"))
            .to_owned();
        // The list's columns: request 20, URN 7, school 28, need 12.
        let (urn, need) = (row[21..28].trim(), row[58..70].trim());
        let period = form
            .body
            .split("name=\"days-")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .expect("a half-term field")
            .to_owned();
        let days = format!("days-{period}");
        let fields = [
            ("csrf", token.as_str()),
            ("request", "web-serve-1"),
            ("urn", urn),
            ("need", need),
            ("designations", "SLE"),
            ("designations", "LLE"),
            ("tier", "follow"),
            (days.as_str(), "1"),
            ("funding", "la_core"),
        ];
        let raised = http.post("/requests", &fields).await;
        assert_eq!(raised.status, 303, "raised on the page: {}", raised.body);
        "web-serve-1".to_owned()
    });
    let (code, stdout, stderr) = outcome(&bridges(&data, &config, &["request", "show", &id]));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("raised by broker-1") || stdout.contains("broker-1"), "{stdout}");
    assert!(engine.terminate(Duration::from_secs(30)), "{}", engine.log());
    let raised =
        lab.log_events().into_iter().filter(|e| e.stream == format!("request-{id}")).count();
    assert_eq!(raised, 1, "the page's request is in the log once");
}
