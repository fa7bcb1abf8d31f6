//! Credentials and permissions, on a nats-server running the users and
//! permission blocks of config/nats-server.example.conf as they are (the
//! part between its BEGIN and END lines; the test defines the secrets the
//! file reads from the environment, and adds one unrestricted `admin` user
//! of its own to send commands and look at the streams):
//! - LA 312's engine (user and password, from `BRIDGES_NATS__*`) and a
//!   worker (an nkey seed file) complete a run: a command in, a plan
//!   recorded;
//! - the read-only user gets events and plans, and the server refuses it
//!   publishing a command or a run request, deleting a stream and taking
//!   the engine's plans consumer; nothing is written;
//! - a wrong password ends `bridges serve` within seconds with one line
//!   naming the user, never the password; a worker with an unknown nkey
//!   likewise;
//! - LA 313's engine user cannot publish into LA 312's subjects, nor
//!   delete or update its streams.

use std::path::Path;
use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull};
use bridges_tests::nats::{NatsServer, Service};
use bridges_tests::services::{
    AT, Lab, eventually, register_school, request, stream_count, stream_messages,
};
use bridges_tests::workspace_root;
use futures::StreamExt;
use serde_json::json;
use tokio::sync::mpsc;

const EVENTS: &str = "BRIDGES_312_EVENTS";
const PLANS: &str = "BRIDGES_312_PLANS";
const RUNS: &str = "BRIDGES_RUNS";

const ENGINE_PASSWORD: &str = "engine-pw-Zq81";
const READONLY_PASSWORD: &str = "readonly-pw-Kx42";
const ADMIN_PASSWORD: &str = "admin-pw-Vb07";

/// The example's users, the secrets they read, and the test's admin.
struct Users {
    /// The server configuration to append (`NatsServer::start_with`).
    config: String,
    worker_seed: String,
    engine_313_seed: String,
}

/// The part of the example between its BEGIN and END lines.
fn example_users() -> String {
    let path = workspace_root().join("config/nats-server.example.conf");
    let text = std::fs::read_to_string(&path).expect("the example server configuration");
    let begin = text.find("# BEGIN bridges users").expect("a BEGIN line");
    let end = text.find("# END bridges users").expect("an END line");
    text[begin..end].to_owned()
}

fn users() -> Users {
    let worker = nkeys::KeyPair::new_user();
    let engine_313 = nkeys::KeyPair::new_user();
    let block = example_users();
    let users = "users: [\n";
    assert_eq!(block.matches(users).count(), 1, "one users list in the example");
    // The test's own observer: every right, to send commands and read streams.
    let block = block.replacen(
        users,
        &format!("{users}      {{ user: admin, password: \"{ADMIN_PASSWORD}\" }}\n"),
        1,
    );
    let config = format!(
        "ENGINE_312_PASSWORD: \"{ENGINE_PASSWORD}\"\nREADONLY_PASSWORD: \"{READONLY_PASSWORD}\"\n\
         WORKER_NKEY: \"{}\"\nENGINE_313_NKEY: \"{}\"\n{block}",
        worker.public_key(),
        engine_313.public_key()
    );
    Users {
        config,
        worker_seed: worker.seed().expect("a seed"),
        engine_313_seed: engine_313.seed().expect("a seed"),
    }
}

/// A client and the errors the server sent it (permission violations).
struct Observed {
    client: async_nats::Client,
    errors: mpsc::UnboundedReceiver<String>,
}

async fn connect(url: &str, options: async_nats::ConnectOptions) -> Observed {
    let (tx, errors) = mpsc::unbounded_channel();
    let client = options
        .event_callback(move |event| {
            let tx = tx.clone();
            async move {
                if let async_nats::Event::ServerError(e) = event {
                    let _ = tx.send(e.to_string());
                }
            }
        })
        .connect(url)
        .await
        .expect("the test's client connects");
    Observed { client, errors }
}

async fn as_user(url: &str, user: &str, password: &str) -> Observed {
    connect(url, async_nats::ConnectOptions::with_user_and_password(user.into(), password.into()))
        .await
}

async fn as_nkey(url: &str, seed: &str) -> Observed {
    connect(url, async_nats::ConnectOptions::with_nkey(seed.to_owned())).await
}

/// Sends `body` to `subject` as a request; the server must refuse the
/// publish (a permissions violation naming the subject, within 5 s) and
/// nobody must answer.
async fn assert_refused(who: &mut Observed, subject: &str, body: Vec<u8>) {
    let expected = format!("Permissions Violation for Publish to \"{subject}\"");
    let sent = who.client.request(subject.to_owned(), body.into());
    let refusal = async {
        loop {
            match who.errors.recv().await {
                Some(e) if e.contains(&expected) => return,
                Some(_) => continue,
                None => std::future::pending::<()>().await,
            }
        }
    };
    tokio::select! {
        reply = sent => match reply {
            Ok(m) => panic!("{subject} was answered: {}", String::from_utf8_lossy(&m.payload)),
            Err(e) => panic!("{subject}: {e}, and no permissions violation came first"),
        },
        _ = refusal => {}
        _ = tokio::time::sleep(Duration::from_secs(5)) => {
            panic!("no permissions violation for {subject} within 5 s")
        }
    }
}

/// A stream's last sequence (counts what was ever written, even to a work queue).
async fn last_sequence(js: &jetstream::Context, stream: &str) -> u64 {
    let mut s = js.get_stream(stream).await.unwrap_or_else(|e| panic!("stream {stream}: {e}"));
    s.info().await.expect("stream info").state.last_sequence
}

fn write_seed(dir: &Path, name: &str, seed: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, format!("{seed}\n")).expect("write the seed file");
    path.display().to_string()
}

#[test]
fn given_the_example_users_then_the_services_run_and_the_read_only_user_only_reads() {
    let users = users();
    let lab = Lab::new(&users.config, 30, 12, 20);
    let (engine, worker) = services(&lab, &users);
    let url = lab.nats.url();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let admin = as_user(&url, "admin", ADMIN_PASSWORD).await.client;
        let js = jetstream::new(admin.clone());
        let mut readonly = as_user(&url, "readonly", READONLY_PASSWORD).await;
        let ro_js = jetstream::new(readonly.client.clone());
        let mut live = readonly.client.subscribe("bridges.312.events.>").await.expect("subscribe");
        readonly.client.flush().await.expect("flush");

        // A command in: the read-only user sees its event live.
        let applied = request(&admin, "bridges.312.cmd", register_school("sec-c1", 199_001)).await;
        assert_eq!(applied["outcome"], "applied", "{applied}");
        let event = tokio::time::timeout(Duration::from_secs(10), live.next())
            .await
            .expect("an event reaches the read-only user within 10 s")
            .expect("the subscription is open");
        assert!(event.subject.starts_with("bridges.312.events."), "{}", event.subject);

        // A run through the worker (nkey), its plan recorded by the engine.
        let start = json!({"run": "sec-run-1", "actor": "broker-1", "at": AT}).to_string();
        let started = request(&admin, "bridges.312.runs.start", start.into_bytes()).await;
        assert_eq!(started["requested"], true, "{started}");
        eventually(Duration::from_secs(60), "a worker publishes the plan", || {
            let js = js.clone();
            async move { stream_count(&js, PLANS).await == 1 }
        })
        .await;
        recorded(&js, "sec-run-1", &engine, &lab).await;

        // The read-only user reads the plan through a consumer of its own.
        let plans =
            ro_js.get_stream(PLANS).await.expect("the read-only user sees the plans stream");
        let consumer = plans
            .create_consumer(pull::Config::default())
            .await
            .expect("the read-only user creates a consumer on the plans");
        let mut batch = consumer.fetch().max_messages(1).messages().await.expect("fetch");
        let plan = tokio::time::timeout(Duration::from_secs(10), batch.next())
            .await
            .expect("a plan within 10 s")
            .expect("one message")
            .expect("a plan message");
        assert_eq!(plan.subject.as_str(), "bridges.312.plans.sec-run-1");

        // What it may not do: nothing written, nothing deleted.
        let events_before = last_sequence(&js, EVENTS).await;
        let runs_before = last_sequence(&js, RUNS).await;
        assert_refused(&mut readonly, "bridges.312.cmd", register_school("sec-c2", 199_002)).await;
        let run = json!({"run": "sec-run-2"}).to_string().into_bytes();
        assert_refused(&mut readonly, "bridges.312.runs.requested", run).await;
        assert_refused(&mut readonly, "bridges.312.runs.start", b"{}".to_vec()).await;
        assert_refused(&mut readonly, &format!("$JS.API.STREAM.DELETE.{EVENTS}"), Vec::new()).await;
        assert_refused(&mut readonly, &format!("$JS.API.STREAM.PURGE.{PLANS}"), Vec::new()).await;
        assert_refused(
            &mut readonly,
            "$JS.API.CONSUMER.MSG.NEXT.BRIDGES_312_PLANS.engine",
            b"1".to_vec(),
        )
        .await;
        // A command the admin sends afterwards is the next write: the
        // refused one never reached the engine.
        let after = request(&admin, "bridges.312.cmd", register_school("sec-c3", 199_003)).await;
        assert_eq!(after["outcome"], "applied", "{after}");
        eventually(Duration::from_secs(10), "the relay publishes the admin's command", || {
            let js = js.clone();
            async move { last_sequence(&js, EVENTS).await > events_before }
        })
        .await;
        let written: Vec<_> = stream_messages(&js, EVENTS)
            .await
            .into_iter()
            .filter(|m| m.sequence > events_before)
            .collect();
        assert!(!written.is_empty());
        assert!(
            written.iter().all(|m| !m.payload.to_string().contains("199002")),
            "the refused command was not applied"
        );
        assert_eq!(last_sequence(&js, RUNS).await, runs_before, "no run request was written");
        assert!(js.get_stream(EVENTS).await.is_ok(), "the events stream still exists");
    });
    stop_needing_no_more_rights(&lab, &users, engine, worker);
    // The server logs each refusal (so the check above can see one).
    assert!(lab.nats.log().contains("Violation - User \"readonly\""), "{}", lab.nats.log());
}

#[test]
fn given_the_example_users_then_documents_over_max_payload_go_through_the_buckets() {
    let users = users();
    // A 16 KiB max_payload: the problem and the plan are several times that.
    let lab = Lab::new(&format!("max_payload: 16384\n{}", users.config), 100, 40, 80);
    let (engine, worker) = services(&lab, &users);
    let url = lab.nats.url();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let admin = as_user(&url, "admin", ADMIN_PASSWORD).await.client;
        let js = jetstream::new(admin.clone());
        let start = json!({"run": "sec-big-1", "actor": "broker-1", "at": AT}).to_string();
        let sent = admin.request("bridges.312.runs.start", start.into());
        let started = match tokio::time::timeout(Duration::from_secs(30), sent).await {
            Ok(Ok(reply)) => serde_json::from_slice::<serde_json::Value>(&reply.payload)
                .expect("the reply is JSON"),
            other => {
                panic!("runs.start: {other:?}\n{}\n{}", engine.log(), violations(&lab.nats.log()))
            }
        };
        assert_eq!(started["requested"], true, "{started}");
        recorded(&js, "sec-big-1", &engine, &lab).await;
        let plans = stream_messages(&js, PLANS).await;
        assert!(plans[0].payload["plan"]["object"].is_object(), "the plan went by the bucket");
        let store = js.get_object_store("BRIDGES_312_DOCUMENTS").await.expect("the bucket");
        assert!(store.info("problems/sec-big-1.json").await.is_ok(), "so did the problem");
    });
    stop_needing_no_more_rights(&lab, &users, engine, worker);
}

/// LA 312's engine (user and password from `BRIDGES_NATS__*`) and a
/// worker (an nkey seed file), serving.
fn services(lab: &Lab, users: &Users) -> (Service, Service) {
    let seed_file = write_seed(lab.dir.path(), "worker.nk", &users.worker_seed);
    let mut engine = lab.engine_env(
        "engine",
        &["--ack-wait", "5"],
        &[("BRIDGES_NATS__USER", "engine-312"), ("BRIDGES_NATS__PASSWORD", ENGINE_PASSWORD)],
    );
    let mut worker = lab.worker("worker-1", &["--ack-wait", "5", "--nats-nkey-file", &seed_file]);
    engine.wait_for_log("engine serving", Duration::from_secs(30));
    worker.wait_for_log("worker serving", Duration::from_secs(30));
    (engine, worker)
}

/// Waits (30 s) until the events stream holds `run`'s MatchingRunCompleted.
async fn recorded(js: &jetstream::Context, run: &str, engine: &Service, lab: &Lab) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !stream_messages(js, EVENTS)
        .await
        .iter()
        .any(|m| m.payload["type"] == "MatchingRunCompleted" && m.payload.to_string().contains(run))
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the engine did not record {run} within 30 s:\n{}\n{}",
            engine.log(),
            violations(&lab.nats.log())
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Stops both services (cleanly), and checks that neither logged a secret
/// nor was refused anything: the example gives them every right they use.
fn stop_needing_no_more_rights(lab: &Lab, users: &Users, mut engine: Service, mut worker: Service) {
    assert!(worker.terminate(Duration::from_secs(30)), "the worker stops cleanly");
    assert!(engine.terminate(Duration::from_secs(30)), "the engine stops cleanly");
    for (name, log) in [("engine", engine.log()), ("worker", worker.log())] {
        assert!(!log.contains(ENGINE_PASSWORD), "{name} logs no password");
        assert!(!log.contains(&users.worker_seed), "{name} logs no seed");
        assert!(!log.contains("Permissions Violation"), "{name} needs no more rights:\n{log}");
    }
    let server = lab.nats.log();
    for user in ["engine-312".to_owned(), nkey_of(&users.worker_seed)] {
        assert!(
            !server.contains(&format!("Violation - User \"{user}\"")),
            "{user} needs no more rights than the example gives:\n{}",
            violations(&server)
        );
    }
}

/// The server log's permission violations.
fn violations(log: &str) -> String {
    log.lines().filter(|l| l.contains("Violation")).collect::<Vec<_>>().join("\n")
}

fn nkey_of(seed: &str) -> String {
    nkeys::KeyPair::from_seed(seed).expect("a seed").public_key()
}

#[test]
fn given_wrong_credentials_then_the_service_ends_with_one_line_naming_the_user() {
    let users = users();
    let nats = NatsServer::start_with(&users.config);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = bridges_tests::services::write_config(dir.path(), 30, 12, 20);
    let wrong = "not-the-pw-Qr93";
    let mut cmd = std::process::Command::new(bridges_tests::binary("bridges"));
    cmd.arg("--data").arg(dir.path().join("data")).arg("--config").arg(&config);
    cmd.args(["serve", "--nats-url", &nats.url()]);
    cmd.envs([("BRIDGES_NATS__USER", "engine-312"), ("BRIDGES_NATS__PASSWORD", wrong)]);
    let mut engine =
        bridges_tests::nats::Service::spawn("engine", cmd, dir.path().join("engine.log"));
    let status = engine.wait_for_exit(Duration::from_secs(10));
    let log = engine.log();
    assert!(status.is_some_and(|s| s.code() == Some(1)), "exit 1 within 10 s ({status:?}):\n{log}");
    let refused: Vec<&str> = log.lines().filter(|l| l.contains("refused")).collect();
    assert_eq!(refused.len(), 1, "one line says so:\n{log}");
    assert!(
        refused[0].contains("NATS refused the credentials of user \"engine-312\""),
        "it names the user:\n{log}"
    );
    assert!(refused[0].contains("authorization violation"), "{log}");
    assert!(!log.contains(wrong), "the password is never shown:\n{log}");

    // A worker with an nkey the server does not know.
    let stranger = nkeys::KeyPair::new_user();
    let seed_file = write_seed(dir.path(), "stranger.nk", &stranger.seed().expect("a seed"));
    let mut cmd = std::process::Command::new(bridges_tests::binary("bridges-worker"));
    cmd.args(["serve", "--nats-url", &nats.url(), "--nats-nkey-file", &seed_file]);
    let mut worker =
        bridges_tests::nats::Service::spawn("worker", cmd, dir.path().join("worker.log"));
    let status = worker.wait_for_exit(Duration::from_secs(10));
    let log = worker.log();
    assert!(status.is_some_and(|s| s.code() == Some(1)), "exit 1 within 10 s ({status:?}):\n{log}");
    let refused: Vec<&str> = log.lines().filter(|l| l.contains("refused")).collect();
    assert_eq!(refused.len(), 1, "one line says so:\n{log}");
    assert!(
        refused[0]
            .contains(&format!("NATS refused the credentials of nkey {}", stranger.public_key())),
        "it names the nkey:\n{log}"
    );
    assert!(!log.contains(&stranger.seed().expect("a seed")), "the seed is never shown:\n{log}");
}

#[test]
fn given_la_313_then_its_engine_user_cannot_touch_la_312() {
    let users = users();
    let nats = NatsServer::start_with(&users.config);
    let url = nats.url();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let admin = as_user(&url, "admin", ADMIN_PASSWORD).await.client;
        let js = jetstream::new(admin.clone());
        bridges_engine::nats::ensure_streams(&js, "bridges", 312, Duration::from_secs(60), 1)
            .await
            .expect("LA 312's streams");
        let mut engine_313 = as_nkey(&url, &users.engine_313_seed).await;
        // Its own streams it may create (the control: the user works).
        let own = jetstream::new(engine_313.client.clone());
        bridges_engine::nats::ensure_streams(&own, "bridges", 313, Duration::from_secs(60), 1)
            .await
            .expect("LA 313's engine creates its own streams");
        let before = last_sequence(&js, EVENTS).await;
        for subject in
            ["bridges.312.cmd", "bridges.312.events.school.x", "bridges.312.runs.requested"]
        {
            assert_refused(&mut engine_313, subject, b"{}".to_vec()).await;
        }
        assert_refused(&mut engine_313, &format!("$JS.API.STREAM.DELETE.{EVENTS}"), Vec::new())
            .await;
        let update = json!({"name": EVENTS, "subjects": ["bridges.313.stolen.>"]}).to_string();
        assert_refused(
            &mut engine_313,
            &format!("$JS.API.STREAM.UPDATE.{EVENTS}"),
            update.into_bytes(),
        )
        .await;
        assert_refused(&mut engine_313, &format!("$JS.API.STREAM.PURGE.{EVENTS}"), Vec::new())
            .await;
        let mut events = js.get_stream(EVENTS).await.expect("the events stream still exists");
        let info = events.info().await.expect("info");
        assert_eq!(info.config.subjects, vec!["bridges.312.events.>".to_owned()], "unchanged");
        assert_eq!(info.state.last_sequence, before, "nothing was written");
    });
}

#[test]
fn given_the_example_then_la_313s_lines_are_la_312s_with_the_code_changed() {
    let block = example_users();
    let section = |name: &str| {
        let start = block.find(&format!("{name} = {{")).unwrap_or_else(|| panic!("{name}"));
        let end = start + block[start..].find("\n}\n").expect("the block ends");
        block[start + name.len()..end].to_owned()
    };
    assert_eq!(section("ENGINE_313"), section("ENGINE_312").replace("312", "313"));
    let worker = section("WORKER");
    let lines_312: Vec<&str> = worker.lines().filter(|l| l.contains("_312_")).collect();
    let lines_313: Vec<String> =
        worker.lines().filter(|l| l.contains("_313_")).map(str::to_owned).collect();
    assert!(!lines_312.is_empty());
    assert_eq!(lines_313, lines_312.iter().map(|l| l.replace("312", "313")).collect::<Vec<_>>());
}
