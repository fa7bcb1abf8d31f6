//! The `bridges-worker` command line: `solve`, `serve` (the NATS service,
//! in `nats`), `generate` and `bench`.
//!
//! Exit codes: 0 a plan (or instance) was written; 2 the input was refused
//! (one line on stderr naming the field and the value, nothing written):
//! a malformed problem, or arguments that cannot work (`--out` onto the
//! problem or into a missing folder, `--gap` outside [0, 1), a negative
//! `--time-limit`), refused before anything is solved; 1 anything else went
//! wrong.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bridges_schemas::{Plan, Problem};
use clap::{Parser, Subcommand, ValueEnum};

use crate::common::{InvalidProblem, MAX_VALUE_CHARS, SolveError, SolveOptions, cut, sha256_hex};
use crate::tools::{brokerage_bench, brokerage_generate, triads_bench, triads_generate};

#[derive(Debug, Parser)]
#[command(
    name = "bridges-worker",
    version,
    about = "Bridges solver: brokerage matching and peer-review triads"
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

/// The time limit of `solve` when none is given, in seconds. (Measured:
/// LA-scale weeks are proven optimal in well under a second, but with
/// `single_practitioner` a 200-request, 80-practitioner problem is a
/// generalized assignment problem whose last tier HiGHS had not proven after
/// two minutes; at one minute, on four such problems, the plans had every
/// tier but the last proven and were 1 to 7 days short of the last tier's
/// bound. With `--gap 0.01`, three of them stopped within the gap in 1.6 to
/// 2.4 s.)
pub const DEFAULT_TIME_LIMIT: f64 = 60.0;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Solve a problem document and write its plan.
    Solve {
        /// The problem document (JSON).
        #[arg(long)]
        problem: PathBuf,
        /// Where to write the plan; stdout without it.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Wall-clock limit for the search, in seconds. When it stops the
        /// search, the plan is `feasible` and its `gap` says how far from
        /// optimal it may be.
        #[arg(long, default_value_t = DEFAULT_TIME_LIMIT, allow_negative_numbers = true)]
        time_limit: f64,
        /// Relative MIP gap at which the search may stop (0.005 = 0.5%), in [0, 1).
        #[arg(long, allow_negative_numbers = true)]
        gap: Option<f64>,
    },
    /// Serve run requests from NATS until SIGTERM (see `nats`): pull, solve,
    /// publish the plan, ack.
    #[command(
        after_help = "Example: bridges-worker serve --nats-url nats://127.0.0.1:4222 --name worker-1"
    )]
    Serve(ServeArgs),
    /// Generate a realistic problem document.
    Generate(GenerateArgs),
    /// Run a benchmark and print its table.
    Bench {
        #[arg(value_enum)]
        kind: Kind,
        /// A smaller, quicker run (for CI).
        #[arg(long)]
        quick: bool,
    },
}

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// The NATS server (or several, comma-separated).
    #[arg(long, env = "BRIDGES_NATS_URL", default_value = "nats://127.0.0.1:4222")]
    pub nats_url: String,
    /// Subject prefix (DESIGN.md section 2).
    #[arg(long, env = "BRIDGES_SUBJECT_PREFIX", default_value = "bridges")]
    pub prefix: String,
    /// This worker's name in logs and plans (default: bridges-worker-<pid>).
    #[arg(long)]
    pub name: Option<String>,
    /// Seconds a request may go unacknowledged before another worker gets it
    /// (in-progress acks go every third of it while solving).
    #[arg(long, default_value_t = 30.0)]
    pub ack_wait: f64,
    /// Seconds an in-flight solve may go on after SIGTERM before its
    /// request is handed back.
    #[arg(long, default_value_t = 30.0)]
    pub grace: f64,
    /// Duplicate window of the runs stream, seconds (when this worker creates it).
    #[arg(long, default_value_t = 120.0)]
    pub duplicate_window: f64,
    /// Replicas of the runs stream (when this worker creates it), 1 to 5.
    #[arg(long, default_value_t = 1)]
    pub replicas: usize,
    /// Log as JSON lines (default: text).
    #[arg(long)]
    pub log_json: bool,
    #[command(flatten)]
    pub credentials: CredentialArgs,
}

/// How `serve` authenticates to NATS (README "Credentials"): a user and
/// password, an nkey seed file or a `.creds` file, at most one; TLS with
/// a CA. Each flag reads the engine's `BRIDGES_NATS__*` variable too.
#[derive(Clone, Default, clap::Args)]
pub struct CredentialArgs {
    /// NATS user (with --nats-password).
    #[arg(long, env = "BRIDGES_NATS__USER")]
    pub nats_user: Option<String>,
    /// The user's password (prefer the variable: a flag shows in `ps`).
    #[arg(long, env = "BRIDGES_NATS__PASSWORD", hide_env_values = true)]
    pub nats_password: Option<String>,
    /// A file holding the user nkey's seed (SU...).
    #[arg(long, env = "BRIDGES_NATS__NKEY_SEED_FILE")]
    pub nats_nkey_file: Option<PathBuf>,
    /// A .creds file (JWT and seed), for a server in operator mode.
    #[arg(long, env = "BRIDGES_NATS__CREDS_FILE")]
    pub nats_creds: Option<PathBuf>,
    /// The CA of the server's certificate; given, TLS is required.
    #[arg(long, env = "BRIDGES_NATS__TLS_CA_FILE")]
    pub nats_tls_ca: Option<PathBuf>,
    /// A client certificate (with --nats-tls-key), when the server asks for one.
    #[arg(long, env = "BRIDGES_NATS__TLS_CERT_FILE")]
    pub nats_tls_cert: Option<PathBuf>,
    #[arg(long, env = "BRIDGES_NATS__TLS_KEY_FILE")]
    pub nats_tls_key: Option<PathBuf>,
}

impl std::fmt::Debug for CredentialArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.credentials())
    }
}

impl CredentialArgs {
    /// The credentials the flags give (checked by `Credentials::check`).
    pub fn credentials(&self) -> crate::credentials::Credentials {
        crate::credentials::Credentials {
            user: self.nats_user.clone(),
            password: self.nats_password.clone(),
            nkey_seed: None,
            nkey_seed_file: self.nats_nkey_file.clone(),
            creds_file: self.nats_creds.clone(),
            tls_ca_file: self.nats_tls_ca.clone(),
            tls_cert_file: self.nats_tls_cert.clone(),
            tls_key_file: self.nats_tls_key.clone(),
        }
    }

    /// The flag of a `Credentials` field, for errors.
    pub fn flag(field: &str) -> &'static str {
        match field {
            "user" => "--nats-user",
            "password" => "--nats-password",
            "nkey_seed" | "nkey_seed_file" => "--nats-nkey-file",
            "creds_file" => "--nats-creds",
            "tls_ca_file" => "--nats-tls-ca",
            "tls_cert_file" => "--nats-tls-cert",
            _ => "--nats-tls-key",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    Brokerage,
    Triads,
}

#[derive(Debug, Clone, clap::Args)]
pub struct GenerateArgs {
    #[arg(long, value_enum)]
    pub kind: Kind,
    /// Number of schools (drawn from the GIAS file when `--gias` is given).
    #[arg(long, default_value_t = 100)]
    pub schools: usize,
    #[arg(long, default_value_t = 40)]
    pub practitioners: usize,
    #[arg(long, default_value_t = 80)]
    pub requests: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Take schools from a GIAS-format CSV (real schools and locations).
    #[arg(long)]
    pub gias: Option<PathBuf>,
    /// Keep only schools of this LA code (for example 312 for Hillingdon).
    #[arg(long)]
    pub la: Option<u16>,
    /// Require one practitioner per request.
    #[arg(long)]
    pub single_practitioner: bool,
    /// Where to write the problem; stdout without it.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Runs the command line; returns the process exit code.
pub fn run(args: Args) -> ExitCode {
    match args.command {
        Command::Solve { problem, out, time_limit, gap } => {
            let options = SolveOptions { time_limit: Some(time_limit), mip_gap: gap };
            if let Err(e) = check_solve_args(&problem, out.as_deref(), &options) {
                return fail(
                    2,
                    &format!("invalid argument: {} = {}: {}", e.field, e.value, e.reason),
                );
            }
            match solve_file(&problem, &options) {
                Ok(plan) => match write_json(out.as_deref(), &plan) {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => fail(
                        1,
                        &format!(
                            "cannot write plan to {}: {e}",
                            out.as_deref()
                                .map_or_else(|| "stdout".to_owned(), |p| p.display().to_string())
                        ),
                    ),
                },
                Err(CliError::Invalid(e)) => fail(2, &e.to_string()),
                Err(CliError::Other(e)) => fail(1, &e),
            }
        }
        Command::Serve(a) => serve(a),
        Command::Generate(g) => {
            let problem = match g.kind {
                Kind::Brokerage => {
                    let spec = brokerage_generate::Spec {
                        schools: g.schools,
                        practitioners: g.practitioners,
                        requests: g.requests,
                        seed: g.seed,
                        gias: g.gias.clone(),
                        la: g.la,
                        single_practitioner: g.single_practitioner,
                    };
                    brokerage_generate::generate(&spec).map(Problem::Brokerage)
                }
                Kind::Triads => {
                    triads_generate::generate(g.schools, g.seed, g.gias.as_deref(), g.la)
                        .map(Problem::Triads)
                }
            };
            match problem
                .and_then(|p| write_json(g.out.as_deref(), &p).map_err(anyhow::Error::from))
            {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(1, &format!("{e:#}")),
            }
        }
        Command::Bench { kind, quick } => {
            let result = match kind {
                Kind::Brokerage => brokerage_bench::run(quick),
                Kind::Triads => triads_bench::run(quick),
            };
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(1, &format!("{e:#}")),
            }
        }
    }
}

/// `serve`: the NATS service until SIGTERM or SIGINT.
fn serve(a: ServeArgs) -> ExitCode {
    let seconds = |field: &str, v: f64| {
        if v.is_finite() && v > 0.0 {
            Ok(std::time::Duration::from_secs_f64(v))
        } else {
            Err(format!("invalid argument: {field} = {v}: must be a number of seconds > 0"))
        }
    };
    let options = (|| {
        Ok::<_, String>(crate::nats::ServeOptions {
            name: a
                .name
                .clone()
                .unwrap_or_else(|| format!("bridges-worker-{}", std::process::id())),
            nats_url: a.nats_url.clone(),
            prefix: a.prefix.clone(),
            ack_wait: seconds("--ack-wait", a.ack_wait)?,
            grace: seconds("--grace", a.grace)?,
            duplicate_window: seconds("--duplicate-window", a.duplicate_window)?,
            replicas: if (1..=5).contains(&a.replicas) {
                a.replicas
            } else {
                return Err(format!(
                    "invalid argument: --replicas = {}: must be 1 to 5",
                    a.replicas
                ));
            },
            credentials: {
                let credentials = a.credentials.credentials();
                credentials.check().map_err(|e| {
                    format!("invalid argument: {}: {}", CredentialArgs::flag(e.field), e.reason)
                })?;
                credentials
            },
        })
    })();
    let options = match options {
        Ok(o) => o,
        Err(e) => return fail(2, &e),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => return fail(1, &format!("starting the runtime: {e}")),
    };
    let result = runtime.block_on(async {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            shutdown_signal().await;
            let _ = stop.send(true);
        });
        crate::nats::serve(options, stopped).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(crate::nats::ServeError::Credentials(e)) => fail(
            2,
            &format!(
                "bridges-worker: invalid argument: {}: {}",
                CredentialArgs::flag(e.field),
                e.reason
            ),
        ),
        Err(e) => fail(1, &format!("bridges-worker: {e}")),
    }
}

/// SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
    tracing::info!("shutdown signal");
}

/// Refuses arguments of `solve` that cannot give a plan, before anything
/// is read or solved: `--gap` outside [0, 1) (as the engine's config),
/// a negative or non-number `--time-limit`, `--out` onto the problem file
/// (the plan would overwrite it) or into a folder that does not exist.
pub fn check_solve_args(
    problem: &Path,
    out: Option<&Path>,
    options: &SolveOptions,
) -> Result<(), InvalidProblem> {
    if let Some(gap) = options.mip_gap
        && !(0.0..1.0).contains(&gap)
    {
        return Err(InvalidProblem::new("--gap", gap, "must be in [0, 1)"));
    }
    if let Some(limit) = options.time_limit
        && (limit.is_nan() || limit < 0.0)
    {
        return Err(InvalidProblem::new("--time-limit", limit, "must be a number of seconds >= 0"));
    }
    let Some(out) = out else { return Ok(()) };
    if same_file(problem, out) {
        return Err(InvalidProblem::new(
            "--out",
            out.display(),
            format!("is the problem file {}; the plan would overwrite it", problem.display()),
        ));
    }
    let folder = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !folder.is_dir() {
        return Err(InvalidProblem::new(
            "--out",
            out.display(),
            format!("folder {} does not exist", folder.display()),
        ));
    }
    Ok(())
}

/// Whether two paths name one existing file (through `.`, `..`, symbolic
/// links, and on Unix hard links too).
fn same_file(a: &Path, b: &Path) -> bool {
    let (Ok(ma), Ok(mb)) = (std::fs::metadata(a), std::fs::metadata(b)) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        ma.dev() == mb.dev() && ma.ino() == mb.ino()
    }
    #[cfg(not(unix))]
    {
        let _ = (ma, mb);
        matches!((std::fs::canonicalize(a), std::fs::canonicalize(b)), (Ok(x), Ok(y)) if x == y)
    }
}

/// Why a solve produced no plan.
#[derive(Debug)]
pub enum CliError {
    /// The input was refused: exit 2.
    Invalid(InvalidProblem),
    Other(String),
}

/// Reads, hashes, parses and solves one problem file.
pub fn solve_file(path: &Path, options: &SolveOptions) -> Result<Plan, CliError> {
    let bytes = std::fs::read(path).map_err(|e| {
        CliError::Invalid(InvalidProblem::new(
            "--problem",
            path.display(),
            format!("cannot read: {e}"),
        ))
    })?;
    solve_bytes(&bytes, options)
}

/// Hashes, parses and solves one problem document given as bytes.
pub fn solve_bytes(bytes: &[u8], options: &SolveOptions) -> Result<Plan, CliError> {
    let sha = sha256_hex(bytes);
    let problem = parse_problem(bytes).map_err(CliError::Invalid)?;
    let result = match &problem {
        Problem::Brokerage(p) => crate::brokerage::solve(p, &sha, options).map(Plan::Brokerage),
        Problem::Triads(p) => crate::triads::solve(p, &sha, options).map(Plan::Triads),
    };
    result.map_err(|e| match e {
        SolveError::Invalid(i) => CliError::Invalid(i),
        SolveError::Solver(s) => CliError::Other(s),
    })
}

/// Parses a problem document, naming the JSON path of the first bad field
/// and the value found there.
///
/// The document is read into a `serde_json::Value` first and the `kind`
/// dispatched by hand: serde's internally tagged enums buffer their content
/// and would lose the path of an error inside it. The document is then read
/// strictly as that kind (unknown fields refused, policy fields required),
/// so a brokerage document whose `kind` says triads is refused naming a
/// field triads does not define, not solved as triads.
pub fn parse_problem(bytes: &[u8]) -> Result<Problem, InvalidProblem> {
    let mut value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        InvalidProblem::new(
            "(document)",
            format!("line {} column {}", e.line(), e.column()),
            format!("not JSON: {e}"),
        )
    })?;
    let Some(document) = value.as_object_mut() else {
        return Err(InvalidProblem::new("(document)", &value, "a problem is a JSON object"));
    };
    let kind = document.remove("kind");
    match kind.as_ref().map(|k| (k, k.as_str())) {
        Some((_, Some("brokerage"))) => typed(&value, "brokerage").map(Problem::Brokerage),
        Some((_, Some("triads"))) => typed(&value, "triads").map(Problem::Triads),
        Some((k, _)) => Err(InvalidProblem::new("kind", k, "expected \"brokerage\" or \"triads\"")),
        None => {
            Err(InvalidProblem::new("kind", "(missing)", "expected \"brokerage\" or \"triads\""))
        }
    }
}

/// Reads `value` as a problem of `kind`. serde names a missing or unknown
/// field in its message with the path of the object around it; the error
/// names the field's own path instead (`policy.max_distance_km`).
fn typed<T: serde::de::DeserializeOwned>(
    value: &serde_json::Value,
    kind: &str,
) -> Result<T, InvalidProblem> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let at = if path == "." { String::new() } else { path };
        let found = value_at(value, e.path());
        let message = e.into_inner().to_string();
        let within =
            |name: &str| if at.is_empty() { name.to_owned() } else { format!("{at}.{name}") };
        // An inspection outcome is an internally tagged enum, read from a
        // buffer that loses the path inside it: its errors name the outcome
        // and leave the area to the message.
        let buffered = found.is_some_and(|v| v.get("framework").is_some());
        if let Some(name) = quoted_after(&message, "missing field `").filter(|_| !buffered) {
            return InvalidProblem::new(
                within(name),
                "(missing)",
                format!("required in a {kind} problem"),
            );
        }
        if let Some(name) = quoted_after(&message, "unknown field `") {
            // serde_path_to_error may point at the field or at its object.
            let field = if at.ends_with(name) || buffered { at.clone() } else { within(name) };
            let shown = value_at_key(found, name)
                .map_or_else(|| "(present)".to_owned(), ToString::to_string);
            return InvalidProblem::new(
                field,
                shown,
                format!("not a field of a {kind} problem ({})", cut_quoted(&message)),
            );
        }
        let shown = found.map_or_else(|| "(missing)".to_owned(), ToString::to_string);
        let field = if at.is_empty() { "(document)".to_owned() } else { at };
        InvalidProblem::new(field, shown, cut_quoted(&message))
    })
}

/// The value of an unknown field: `found` itself when the path already
/// points at it, else its member `name`.
fn value_at_key<'a>(
    found: Option<&'a serde_json::Value>,
    name: &str,
) -> Option<&'a serde_json::Value> {
    let found = found?;
    Some(found.get(name).unwrap_or(found))
}

/// The text between `prefix` and the next backtick in `message`.
fn quoted_after<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    let rest = &message[message.find(prefix)? + prefix.len()..];
    rest.find('`').map(|end| &rest[..end])
}

/// A parser's message with every quoted value (between backticks or double
/// quotes) cut to [`MAX_VALUE_CHARS`]: serde quotes the bad value whole.
fn cut_quoted(message: &str) -> String {
    let mut out = String::new();
    let mut rest = message;
    while let Some(start) = rest.find(['`', '"']) {
        let quote = rest[start..].chars().next().unwrap_or('`');
        let inner = &rest[start + 1..];
        let Some(end) = inner.find(quote) else { break };
        out.push_str(&rest[..=start]);
        out.push_str(&cut(&inner[..end], MAX_VALUE_CHARS));
        out.push(quote);
        rest = &inner[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The value at a serde path inside a JSON document, if it is there.
fn value_at<'a>(
    root: &'a serde_json::Value,
    path: &serde_path_to_error::Path,
) -> Option<&'a serde_json::Value> {
    use serde_path_to_error::Segment;
    path.iter().try_fold(root, |v, segment| match segment {
        Segment::Seq { index } => v.get(*index),
        Segment::Map { key } => v.get(key.as_str()),
        Segment::Enum { .. } => Some(v),
        Segment::Unknown => None,
    })
}

fn write_json<T: serde::Serialize>(out: Option<&Path>, value: &T) -> std::io::Result<()> {
    let mut text = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    text.push('\n');
    match out {
        Some(path) => std::fs::write(path, text),
        None => std::io::stdout().lock().write_all(text.as_bytes()),
    }
}

fn fail(code: u8, message: &str) -> ExitCode {
    // One line: the contract checks stderr line by line.
    eprintln!("{}", message.replace('\n', " "));
    ExitCode::from(code)
}
