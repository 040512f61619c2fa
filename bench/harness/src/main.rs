//! The harness behind `bench/run` (see the README's "Benchmarks" section).
//!
//! `bench/run` installs what is missing (pigz, GNU time, SeaweedFS), builds the CLI and the
//! catalog fixture, starts a SeaweedFS S3 server on loopback, and then runs this program, which:
//!
//! - creates the catalog databases once, cached by name (`catalog-fixture --if-missing`, and
//!   `--replace` when an interrupted run left one half-filled);
//! - runs every row once per round, interleaved (A B C … A B C …), rotating the order from round
//!   to round so that no row always runs first or last, for `--rounds` rounds;
//! - measures each run under GNU `/usr/bin/time` (wall, user+sys CPU of the whole child tree,
//!   max RSS of its largest process) and, for `backstage-backup` itself, samples the process's
//!   own `VmHWM` every 5 ms;
//! - prints one markdown table per database with the target ratios, and writes them to a file.
//!
//! Standard library only, so it builds offline in a few seconds.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

const MIB: f64 = 1024.0 * 1024.0;
const MB: f64 = 1_000_000.0;
const USAGE: &str = "\
usage: bench/run [--small-only] [--rounds N] [--out FILE]

  --small-only  only the 20,000-entity catalog (a quick run); default: 20k and 200k
  --rounds N    rounds of interleaved runs per database (default 3; at least 3 for a report)
  --out FILE    where to write the tables (default bench/results.md)";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("free-ports") {
        let n = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(5);
        return match free_ports(n) {
            Some(ports) => {
                println!(
                    "{}",
                    ports
                        .iter()
                        .map(u16::to_string)
                        .collect::<Vec<_>>()
                        .join(" ")
                );
                ExitCode::SUCCESS
            }
            None => {
                eprintln!("bench: no free ports found");
                ExitCode::from(1)
            }
        };
    }
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("bench: error: {e}");
            ExitCode::from(2)
        }
    }
}

/// `n` ports in 10000..20000 free on 127.0.0.1 whose +10000 twins (weed's gRPC ports) are free too.
fn free_ports(n: usize) -> Option<Vec<u16>> {
    let free = |p: u16| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok();
    let mut seed = std::process::id() as u64
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
    let mut out = Vec::new();
    for _ in 0..10_000 {
        if out.len() == n {
            return Some(out);
        }
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let p = 10_000 + (seed % 10_000) as u16;
        if !out.contains(&p) && free(p) && free(p + 10_000) {
            out.push(p);
        }
    }
    (out.len() == n).then_some(out)
}

// ---------------------------------------------------------------------------------------------
// Configuration

struct Config {
    bin: PathBuf,
    fixture: PathBuf,
    root: PathBuf,
    work: PathBuf,
    out: PathBuf,
    admin_url: String,
    rounds: usize,
    small_only: bool,
    s3_endpoint: String,
    s3_bucket: String,
    tag: String,
    cores: usize,
    command_line: String,
    /// PATH for every child, with the server's major version's PostgreSQL tools first.
    path: String,
    pg_bin: Option<PathBuf>,
}

fn env_var(name: &str) -> Result<String, String> {
    env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("{name} is not set (run bench/run, not the harness directly)"))
}

impl Config {
    fn load(args: &[String]) -> Result<Config, String> {
        let root = PathBuf::from(env_var("BENCH_ROOT")?);
        let mut rounds = 3usize;
        let mut small_only = false;
        let mut out = root.join("bench/results.md");
        let mut it = args.iter();
        while let Some(a) = it.next() {
            match a.as_str() {
                "--small-only" => small_only = true,
                "--rounds" => {
                    rounds = it
                        .next()
                        .and_then(|n| n.parse().ok())
                        .filter(|n| *n >= 1)
                        .ok_or("--rounds needs a number ≥ 1")?
                }
                "--out" => out = PathBuf::from(it.next().ok_or("--out needs a file")?),
                "-h" | "--help" => {
                    println!("{USAGE}");
                    std::process::exit(0);
                }
                other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
            }
        }
        let cores = thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let mut cfg = Config {
            bin: PathBuf::from(env_var("BENCH_BIN")?),
            fixture: PathBuf::from(env_var("BENCH_FIXTURE")?),
            root,
            work: PathBuf::from(env_var("BENCH_WORK")?),
            out,
            admin_url: env::var("BENCH_ADMIN_URL")
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "postgresql://postgres@127.0.0.1:5432/postgres".into()),
            rounds,
            small_only,
            s3_endpoint: env_var("BENCH_S3_ENDPOINT")?,
            s3_bucket: env_var("BENCH_S3_BUCKET")?,
            tag: env_var("BENCH_TAG")?,
            cores,
            command_line: env::var("BENCH_COMMAND").unwrap_or_else(|_| "bench/run".into()),
            path: env::var("PATH").unwrap_or_default(),
            pg_bin: None,
        };
        // The PostgreSQL tools of the server's major version (Debian installs them side by side
        // under /usr/lib/postgresql/N/bin; /usr/bin/pg_dump is a Perl wrapper that picks one).
        let num = cfg.psql(&cfg.admin_url, "SHOW server_version_num")?;
        let major = num
            .trim()
            .parse::<u32>()
            .map_err(|e| format!("server_version_num {num:?}: {e}"))?
            / 10_000;
        let dir = PathBuf::from(format!("/usr/lib/postgresql/{major}/bin"));
        if dir.join("pg_dump").is_file() {
            cfg.path = format!("{}:{}", dir.display(), cfg.path);
            cfg.pg_bin = Some(dir);
        }
        Ok(cfg)
    }

    fn tool(&self, name: &str) -> String {
        match &self.pg_bin {
            Some(dir) if dir.join(name).is_file() => dir.join(name).display().to_string(),
            _ => name.to_string(),
        }
    }

    /// Runs one SQL statement with psql and returns its unaligned output.
    fn psql(&self, url: &str, sql: &str) -> Result<String, String> {
        let out = Command::new(self.tool("psql"))
            .args([
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                url,
                "-c",
                sql,
            ])
            .env("PATH", &self.path)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("running psql: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "psql {sql:?}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    fn db_url(&self, name: &str) -> String {
        let (base, query) = match self.admin_url.split_once('?') {
            Some((b, q)) => (b, format!("?{q}")),
            None => (self.admin_url.as_str(), String::new()),
        };
        let base = match base.rfind('/') {
            Some(i) if i > base.find("//").map(|j| j + 1).unwrap_or(0) => &base[..i],
            _ => base,
        };
        format!("{base}/{name}{query}")
    }

    fn s3_url(&self, prefix: &str) -> String {
        format!(
            "s3://{}/{prefix}?endpoint={}&region=us-east-1&path_style=true",
            self.s3_bucket, self.s3_endpoint
        )
    }

    fn node_built(&self) -> bool {
        self.root.join("pkg").exists()
    }
}

// ---------------------------------------------------------------------------------------------
// The rows

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Run {
    DumpNull,
    Runbook,
    Pigz,
    Ours,
    OursS3,
    OursL1,
    VerifyOurs,
    VerifyRunbook,
    RestoreOurs,
    RestoreRunbook,
}

const ALL_RUNS: [Run; 10] = [
    Run::DumpNull,
    Run::Runbook,
    Run::Pigz,
    Run::Ours,
    Run::OursS3,
    Run::OursL1,
    Run::VerifyOurs,
    Run::VerifyRunbook,
    Run::RestoreOurs,
    Run::RestoreRunbook,
];
/// Each round runs the groups in this order (verify and restore need the round's backups); the
/// order inside a group rotates from round to round.
const GROUPS: [&[Run]; 3] = [
    &[
        Run::DumpNull,
        Run::Runbook,
        Run::Pigz,
        Run::Ours,
        Run::OursS3,
        Run::OursL1,
    ],
    &[Run::VerifyOurs, Run::VerifyRunbook],
    &[Run::RestoreOurs, Run::RestoreRunbook],
];

impl Run {
    fn number(self) -> u8 {
        match self {
            Run::DumpNull => 1,
            Run::Runbook => 2,
            Run::Pigz => 3,
            Run::Ours | Run::OursS3 => 4,
            Run::OursL1 => 5,
            Run::VerifyOurs | Run::VerifyRunbook => 6,
            Run::RestoreOurs | Run::RestoreRunbook => 7,
        }
    }

    fn slug(self) -> &'static str {
        match self {
            Run::DumpNull => "dump-null",
            Run::Runbook => "runbook",
            Run::Pigz => "pigz",
            Run::Ours => "ours",
            Run::OursS3 => "ours-s3",
            Run::OursL1 => "ours-l1",
            Run::VerifyOurs => "verify-ours",
            Run::VerifyRunbook => "verify-runbook",
            Run::RestoreOurs => "restore-ours",
            Run::RestoreRunbook => "restore-runbook",
        }
    }

    fn label(self, cores: usize) -> String {
        match self {
            Run::DumpNull => "`pg_dump URL > /dev/null`".into(),
            Run::Runbook => "runbook: `pg_dump URL \\| gzip > f && sha256sum f > f.sha256`".into(),
            Run::Pigz => format!("`pg_dump URL \\| pigz -p {cores} > f`"),
            Run::Ours => "`backstage-backup backup` → folder (defaults)".into(),
            Run::OursS3 => "`backstage-backup backup` → S3 (SeaweedFS, loopback)".into(),
            Run::OursL1 => "`backstage-backup backup --level 1` → folder".into(),
            Run::VerifyOurs => "`backstage-backup verify latest` (folder)".into(),
            Run::VerifyRunbook => "runbook: `gunzip -t f && sha256sum -c f.sha256`".into(),
            Run::RestoreOurs => "`backstage-backup restore latest --yes` → empty database".into(),
            Run::RestoreRunbook => {
                "runbook: `gunzip -c f \\| psql --single-transaction -q -v ON_ERROR_STOP=1` → empty database".into()
            }
        }
    }

    /// Whether the first process is backstage-backup (whose own peak RSS is sampled).
    fn ours(self) -> bool {
        matches!(
            self,
            Run::Ours | Run::OursS3 | Run::OursL1 | Run::VerifyOurs | Run::RestoreOurs
        )
    }

    fn makes_output(self) -> bool {
        matches!(
            self,
            Run::Runbook | Run::Pigz | Run::Ours | Run::OursS3 | Run::OursL1
        )
    }

    fn restores(self) -> bool {
        matches!(self, Run::RestoreOurs | Run::RestoreRunbook)
    }
}

#[derive(Clone, Copy, Debug)]
struct Sample {
    wall: f64,
    cpu: f64,
    /// GNU time's %M: max RSS of the largest process of the tree.
    tree_rss_kib: u64,
    /// backstage-backup's own VmHWM.
    own_rss_kib: Option<u64>,
    /// CPU seconds the local PostgreSQL server's processes used meanwhile (all clients).
    server_cpu: Option<f64>,
    size: Option<u64>,
    /// Plain SQL bytes, from our backups' manifests.
    raw: Option<u64>,
}

#[derive(Default)]
struct Row {
    samples: Vec<Sample>,
    /// Failures that were not followed by a successful retry.
    errors: Vec<String>,
    /// Failures followed by a retry (successful or not).
    retried: Vec<String>,
}

struct DbResult {
    name: String,
    entities: u64,
    db_bytes: u64,
    rows: Vec<(Run, Row)>,
}

impl DbResult {
    fn row(&self, run: Run) -> &Row {
        &self
            .rows
            .iter()
            .find(|(r, _)| *r == run)
            .expect("every run has a row")
            .1
    }

    fn median(&self, run: Run, f: impl Fn(&Sample) -> Option<f64>) -> Option<f64> {
        let row = self.row(run);
        if !row.errors.is_empty() {
            return None;
        }
        median(row.samples.iter().filter_map(f).collect())
    }

    fn raw_bytes(&self) -> Option<f64> {
        median(
            [Run::Ours, Run::OursS3, Run::OursL1]
                .iter()
                .flat_map(|r| {
                    self.row(*r)
                        .samples
                        .iter()
                        .filter_map(|s| s.raw.map(|b| b as f64))
                })
                .collect(),
        )
    }

    /// Largest own peak RSS of our backup rows, in KiB, and the row it came from.
    fn our_backup_rss(&self) -> Option<(u64, Run)> {
        [Run::Ours, Run::OursS3, Run::OursL1]
            .iter()
            .flat_map(|r| {
                self.row(*r)
                    .samples
                    .iter()
                    .filter_map(move |s| s.own_rss_kib.map(|k| (k, *r)))
            })
            .max_by_key(|(k, _)| *k)
    }
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

// ---------------------------------------------------------------------------------------------
// Measuring one run

struct Spec {
    argv: Vec<String>,
    cwd: PathBuf,
    envs: Vec<(String, String)>,
    stdout: Option<PathBuf>,
    own: bool,
}

fn bash(script: &str) -> Vec<String> {
    vec![
        "bash".into(),
        "-c".into(),
        format!("set -eo pipefail; {script}"),
    ]
}

/// Runs `spec` under GNU time; samples backstage-backup's own VmHWM when `spec.own`.
fn measure(cfg: &Config, spec: &Spec, tfile: &Path, errfile: &Path) -> Result<Sample, String> {
    let stdout = match &spec.stdout {
        Some(p) => Stdio::from(fs::File::create(p).map_err(|e| format!("{}: {e}", p.display()))?),
        None => Stdio::null(),
    };
    let stderr = fs::File::create(errfile).map_err(|e| format!("{}: {e}", errfile.display()))?;
    let _ = fs::remove_file(tfile);
    let server_before = pg_server_ticks();
    let started = Instant::now();
    let mut child = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%e %U %S %M")
        .arg("-o")
        .arg(tfile)
        .args(&spec.argv)
        .current_dir(&spec.cwd)
        .env("PATH", &cfg.path)
        .envs(spec.envs.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("starting /usr/bin/time: {e}"))?;
    let stop = Arc::new(AtomicBool::new(false));
    let poller = spec.own.then(|| {
        let stop = stop.clone();
        let time_pid = child.id();
        thread::spawn(move || poll_own_hwm(time_pid, &stop))
    });
    let status = child
        .wait()
        .map_err(|e| format!("waiting for /usr/bin/time: {e}"))?;
    let wall = started.elapsed().as_secs_f64();
    let server_after = pg_server_ticks();
    stop.store(true, Ordering::Relaxed);
    let own = poller.and_then(|p| p.join().ok()).flatten();
    let timing = fs::read_to_string(tfile).unwrap_or_default();
    if !status.success() {
        let mut err = fs::read_to_string(errfile).unwrap_or_default();
        if err.trim().is_empty() {
            // `--json` commands print their error on stdout.
            if let Some(out) = &spec.stdout {
                err = fs::read_to_string(out).unwrap_or_default();
            }
        }
        let tail: Vec<&str> = err.lines().rev().take(6).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "{}: {}",
            timing.lines().next().unwrap_or("failed"),
            tail.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ")
        ));
    }
    let last = timing
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let f: Vec<&str> = last.split_whitespace().collect();
    let num = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok());
    let (Some(_), Some(user), Some(sys), Some(rss)) = (num(0), num(1), num(2), num(3)) else {
        return Err(format!("cannot read GNU time's output {last:?}"));
    };
    Ok(Sample {
        wall,
        cpu: user + sys,
        tree_rss_kib: rss as u64,
        own_rss_kib: own,
        server_cpu: match (server_before, server_after) {
            (Some(a), Some(b)) if b >= a => Some((b - a) as f64 / clock_ticks()),
            _ => None,
        },
        size: None,
        raw: None,
    })
}

/// Samples VmHWM (peak resident set) of /usr/bin/time's child every 5 ms until told to stop.
/// VmHWM only grows, so the last sample before exit misses at most the last 5 ms.
fn poll_own_hwm(time_pid: u32, stop: &AtomicBool) -> Option<u64> {
    let mut target: Option<u32> = None;
    let mut max: Option<u64> = None;
    while !stop.load(Ordering::Relaxed) {
        if target.is_none() {
            target = child_of(time_pid);
        }
        if let Some(pid) = target {
            if let Some(kib) = vm_hwm_kib(pid) {
                max = Some(max.map_or(kib, |m: u64| m.max(kib)));
            }
        }
        thread::sleep(Duration::from_millis(5));
    }
    max
}

/// utime+stime+cutime+cstime summed over the processes named `postgres` (the postmaster's
/// cutime/cstime hold the CPU of backends that already exited), in clock ticks; None when no
/// PostgreSQL server runs on this machine.
fn pg_server_ticks() -> Option<u64> {
    let mut total = 0u64;
    let mut seen = false;
    for entry in fs::read_dir("/proc").ok()?.flatten() {
        let Some(p) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        if &stat[open + 1..close] != "postgres" {
            continue;
        }
        let f: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        // Fields 14–17 of proc_pid_stat(5); f[0] is field 3.
        let ticks: u64 = (11..=14)
            .filter_map(|i| f.get(i)?.parse::<u64>().ok())
            .sum();
        total += ticks;
        seen = true;
    }
    seen.then_some(total)
}

fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| capture("getconf", &["CLK_TCK"]).parse().unwrap_or(100.0))
}

fn child_of(pid: u32) -> Option<u32> {
    if let Ok(s) = fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")) {
        return s.split_whitespace().next().and_then(|p| p.parse().ok());
    }
    for entry in fs::read_dir("/proc").ok()?.flatten() {
        let Some(p) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u32>().ok());
        if ppid == Some(pid) {
            return Some(p);
        }
    }
    None
}

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// `"key": {"bytes": N` in the manifest printed by `backup --json`.
fn manifest_bytes(json: &str, key: &str) -> Option<u64> {
    let at = json.find(&format!("\"{key}\""))?;
    let rest = &json[at..];
    let b = rest.find("\"bytes\"")?;
    let rest = rest[b + 7..].trim_start().strip_prefix(':')?.trim_start();
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

// ---------------------------------------------------------------------------------------------
// A database's benchmark

fn log(msg: &str) {
    eprintln!("bench: {msg}");
}

/// Creates the catalog database unless it exists with the right number of entities.
fn ensure_db(cfg: &Config, name: &str, entities: u64) -> Result<(), String> {
    let url = cfg.db_url(name);
    let count = || {
        cfg.psql(
            &url,
            "SELECT count(*) FROM final_entities WHERE final_entity IS NOT NULL",
        )
        .ok()
        .and_then(|c| c.parse::<u64>().ok())
    };
    let exists = cfg.psql(
        &cfg.admin_url,
        &format!("SELECT count(*) FROM pg_database WHERE datname = '{name}'"),
    )? == "1";
    let mode = if !exists {
        log(&format!(
            "creating {name} ({entities} entities; about 7 s per 20,000 on 2 cores) …"
        ));
        "--if-missing"
    } else if count() == Some(entities) {
        log(&format!("{name} exists with {entities} entities (cached)"));
        return Ok(());
    } else {
        log(&format!(
            "{name} exists but is not a complete {entities}-entity catalog: recreating it …"
        ));
        "--replace"
    };
    let started = Instant::now();
    let status = Command::new(&cfg.fixture)
        .args(["--admin-url", &cfg.admin_url, "--database", name])
        .args(["--entities", &entities.to_string(), mode])
        .env("PATH", &cfg.path)
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("running {}: {e}", cfg.fixture.display()))?;
    if !status.success() {
        return Err(format!("catalog-fixture failed for {name} ({status})"));
    }
    match count() {
        Some(n) if n == entities => {
            log(&format!(
                "{name} created in {:.0} s",
                started.elapsed().as_secs_f64()
            ));
            Ok(())
        }
        other => Err(format!(
            "{name}: expected {entities} entities, found {other:?}"
        )),
    }
}

fn rotate(group: &[Run], by: usize) -> Vec<Run> {
    let n = group.len();
    (0..n).map(|i| group[(i + by) % n]).collect()
}

fn bench_db(
    cfg: &Config,
    name: &str,
    entities: u64,
    scratch_n: &mut usize,
) -> Result<DbResult, String> {
    let url = cfg.db_url(name);
    let db_bytes = cfg
        .psql(
            &cfg.admin_url,
            &format!("SELECT pg_database_size('{name}')"),
        )?
        .parse()
        .unwrap_or(0);
    let dir = cfg.work.join(name);
    fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;

    // Untimed warm-up: the database into the page cache, and pg_dump's binaries.
    log(&format!("{name}: warm-up pg_dump > /dev/null (untimed) …"));
    let warm = Command::new(cfg.tool("pg_dump"))
        .arg(&url)
        .env("PATH", &cfg.path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("pg_dump: {e}"))?;
    if !warm.success() {
        return Err(format!("pg_dump {url} failed ({warm})"));
    }

    let mut rows: Vec<(Run, Row)> = ALL_RUNS.iter().map(|r| (*r, Row::default())).collect();
    for round in 0..cfg.rounds {
        let rdir = dir.join(format!("r{}", round + 1));
        fs::create_dir_all(&rdir).map_err(|e| format!("{}: {e}", rdir.display()))?;
        let s3_prefix = format!("bench/{name}/r{}", round + 1);
        let order: Vec<Run> = GROUPS.iter().flat_map(|g| rotate(g, round)).collect();
        for run in order {
            let row = &mut rows.iter_mut().find(|(r, _)| *r == run).expect("row").1;
            // A run that fails is retried once (this PostgreSQL server is shared: other
            // sessions' tests have been seen terminating connections); the retry is reported.
            let mut result = run_once(cfg, run, &url, &rdir, &s3_prefix, scratch_n);
            if let Err(e) = &result {
                log(&format!(
                    "{name} round {}: {} failed, retrying once: {e}",
                    round + 1,
                    run.slug()
                ));
                row.retried.push(e.clone());
                result = run_once(cfg, run, &url, &rdir, &s3_prefix, scratch_n);
            }
            match result {
                Ok(s) => {
                    log(&format!(
                        "{name} round {}/{}: {:<16} {:>8.2} s wall, {:>7.2} s CPU, {:>6.1} MiB{}",
                        round + 1,
                        cfg.rounds,
                        run.slug(),
                        s.wall,
                        s.cpu,
                        s.own_rss_kib.unwrap_or(s.tree_rss_kib) as f64 / 1024.0,
                        s.size
                            .map(|b| format!(", {:.1} MiB out", b as f64 / MIB))
                            .unwrap_or_default()
                    ));
                    row.samples.push(s);
                }
                Err(e) => {
                    log(&format!(
                        "{name} round {}: {} FAILED: {e}",
                        round + 1,
                        run.slug()
                    ));
                    row.errors.push(e);
                }
            }
        }
        // This round's outputs go before the next round: the 200k ones are ~190 MB each.
        let _ = fs::remove_dir_all(&rdir);
        if let Err(e) = s3_delete_prefix(cfg, &s3_prefix) {
            log(&format!(
                "warning: could not delete s3://{}/{s3_prefix}: {e}",
                cfg.s3_bucket
            ));
        }
    }
    let _ = fs::remove_dir_all(&dir);
    Ok(DbResult {
        name: name.to_string(),
        entities,
        db_bytes,
        rows,
    })
}

/// One timed run, with its scratch database created before and dropped after (untimed).
fn run_once(
    cfg: &Config,
    run: Run,
    url: &str,
    rdir: &Path,
    s3_prefix: &str,
    scratch_n: &mut usize,
) -> Result<Sample, String> {
    let scratch = run.restores().then(|| {
        *scratch_n += 1;
        format!("bbbench_scratch_{}_{}", cfg.tag, *scratch_n)
    });
    if let Some(db) = &scratch {
        cfg.psql(&cfg.admin_url, &format!("CREATE DATABASE \"{db}\""))?;
    }
    let target_url = scratch
        .as_deref()
        .map(|db| cfg.db_url(db))
        .unwrap_or_else(|| url.to_string());
    let spec = spec_for(cfg, run, url, &target_url, rdir, s3_prefix);
    let result = measure(
        cfg,
        &spec,
        &rdir.join(format!("{}.time", run.slug())),
        &rdir.join(format!("{}.stderr", run.slug())),
    )
    .and_then(|mut s| {
        add_sizes(run, rdir, &mut s)?;
        Ok(s)
    });
    if let Some(db) = &scratch {
        // Outside the timed part: drop the scratch database and flush what the restore wrote,
        // so the next run does not pay for this one's checkpoint.
        cfg.psql(
            &cfg.admin_url,
            &format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"),
        )?;
        cfg.psql(&cfg.admin_url, "CHECKPOINT")?;
    }
    result
}

fn spec_for(cfg: &Config, run: Run, url: &str, target: &str, rdir: &Path, s3_prefix: &str) -> Spec {
    let bin = cfg.bin.display().to_string();
    let folder = rdir.join("store-default").display().to_string();
    let mut envs = vec![("DB".to_string(), url.to_string())];
    let mut stdout = None;
    let argv: Vec<String> = match run {
        Run::DumpNull => vec![cfg.tool("pg_dump"), url.into()],
        Run::Runbook => bash(
            "pg_dump \"$DB\" | gzip > runbook.sql.gz && sha256sum runbook.sql.gz > runbook.sql.gz.sha256",
        ),
        Run::Pigz => bash(&format!("pg_dump \"$DB\" | pigz -p {} > pigz.sql.gz", cfg.cores)),
        Run::Ours | Run::OursS3 | Run::OursL1 => {
            stdout = Some(rdir.join(format!("{}.json", run.slug())));
            let store = match run {
                Run::Ours => folder,
                Run::OursS3 => cfg.s3_url(s3_prefix),
                _ => rdir.join("store-l1").display().to_string(),
            };
            let mut a = vec![bin, "backup".into(), "--database-url".into(), url.into()];
            a.extend(["--store".into(), store]);
            if run == Run::OursL1 {
                a.extend(["--level".into(), "1".into()]);
            }
            a.push("--json".into());
            a
        }
        Run::VerifyOurs => {
            stdout = Some(rdir.join("verify-ours.json"));
            vec![bin, "verify".into(), "latest".into(), "--store".into(), folder, "--json".into()]
        }
        Run::VerifyRunbook => bash("gunzip -t runbook.sql.gz && sha256sum -c runbook.sql.gz.sha256 > /dev/null"),
        Run::RestoreOurs => {
            stdout = Some(rdir.join("restore-ours.json"));
            vec![
                bin,
                "restore".into(),
                "latest".into(),
                "--yes".into(),
                "--database-url".into(),
                target.into(),
                "--store".into(),
                folder,
                "--json".into(),
            ]
        }
        Run::RestoreRunbook => {
            envs.push(("TARGET".into(), target.into()));
            bash("gunzip -c runbook.sql.gz | psql --single-transaction -q -v ON_ERROR_STOP=1 \"$TARGET\" > /dev/null")
        }
    };
    Spec {
        argv,
        cwd: rdir.to_path_buf(),
        envs,
        stdout,
        own: run.ours(),
    }
}

fn add_sizes(run: Run, rdir: &Path, s: &mut Sample) -> Result<(), String> {
    if !run.makes_output() {
        return Ok(());
    }
    match run {
        Run::Runbook | Run::Pigz => {
            let f = rdir.join(if run == Run::Runbook {
                "runbook.sql.gz"
            } else {
                "pigz.sql.gz"
            });
            s.size = Some(
                fs::metadata(&f)
                    .map_err(|e| format!("{}: {e}", f.display()))?
                    .len(),
            );
        }
        _ => {
            let f = rdir.join(format!("{}.json", run.slug()));
            let json = fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
            s.size = manifest_bytes(&json, "compressed");
            s.raw = manifest_bytes(&json, "raw");
            if s.size.is_none() {
                return Err(format!(
                    "no compressed.bytes in the manifest printed: {json:.200}"
                ));
            }
        }
    }
    Ok(())
}

const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn curl_s3(cfg: &Config, method: &str, path_and_query: &str) -> Result<String, String> {
    let key = env_var("AWS_ACCESS_KEY_ID")?;
    let secret = env_var("AWS_SECRET_ACCESS_KEY")?;
    let out = Command::new("curl")
        .args([
            "-sS",
            "--fail",
            "-X",
            method,
            "--aws-sigv4",
            "aws:amz:us-east-1:s3",
        ])
        .arg("--user")
        .arg(format!("{key}:{secret}"))
        .arg("-H")
        .arg(format!("x-amz-content-sha256: {EMPTY_SHA256}"))
        .arg(format!(
            "{}/{}{path_and_query}",
            cfg.s3_endpoint, cfg.s3_bucket
        ))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("curl: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn s3_delete_prefix(cfg: &Config, prefix: &str) -> Result<(), String> {
    // curl 7.88 signs the query as given: keep it sorted and percent-encoded.
    let listing = curl_s3(
        cfg,
        "GET",
        &format!("?list-type=2&prefix={}", prefix.replace('/', "%2F")),
    )?;
    for part in listing.split("<Key>").skip(1) {
        let key = part.split("</Key>").next().unwrap_or("");
        if !key.is_empty() {
            curl_s3(cfg, "DELETE", &format!("/{key}"))?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Reporting

fn secs(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn thousands(n: u64) -> String {
    let digits: Vec<char> = n.to_string().chars().rev().collect();
    let groups: Vec<String> = digits.chunks(3).map(|g| g.iter().rev().collect()).collect();
    groups.into_iter().rev().collect::<Vec<_>>().join(",")
}

struct Check {
    what: String,
    value: Option<f64>,
    target: f64,
    detail: String,
}

impl Check {
    fn line(&self) -> String {
        match self.value {
            None => format!("- **n/a** {}: not measured ({})", self.what, self.detail),
            Some(v) if v <= self.target => format!(
                "- **PASS** {}: {} (target ≤ {}){}",
                self.what,
                fmt_ratio(v),
                self.target,
                self.detail
            ),
            Some(v) => format!(
                "- **FAIL** {}: {} (target ≤ {}; {:.0}% over){}",
                self.what,
                fmt_ratio(v),
                self.target,
                (v / self.target - 1.0) * 100.0,
                self.detail
            ),
        }
    }

    fn passed(&self) -> Option<bool> {
        self.value.map(|v| v <= self.target)
    }
}

fn fmt_ratio(v: f64) -> String {
    if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

fn render(cfg: &Config, r: &DbResult, checks_out: &mut Vec<Check>) -> String {
    let mut s = String::new();
    let raw = r.raw_bytes();
    let _ = writeln!(
        s,
        "### `{}`: {} entities\n\nDatabase {:.0} MB on disk, plain dump {}; {} round{}, interleaved; \
         each cell is the median, with (min–max) for wall time.\n",
        r.name,
        thousands(r.entities),
        r.db_bytes as f64 / MB,
        raw.map(|b| format!("{:.0} MB", b / MB)).unwrap_or_else(|| "size unknown".into()),
        cfg.rounds,
        if cfg.rounds == 1 { "" } else { "s" }
    );
    s.push_str("| # | run | wall s | CPU s (user+sys) | PostgreSQL CPU s | plain SQL MB/s | peak RSS MiB | output MiB |\n");
    s.push_str("|--:|---|--:|--:|--:|--:|--:|--:|\n");
    for (run, row) in &r.rows {
        let label = run.label(cfg.cores);
        if !row.errors.is_empty() {
            let _ = writeln!(
                s,
                "| {} | {label} | FAILED in {} of {} rounds: {} | | | | | |",
                run.number(),
                row.errors.len(),
                row.errors.len() + row.samples.len(),
                row.errors[0].replace('|', "\\|").replace('\n', " ")
            );
            continue;
        }
        let walls: Vec<f64> = row.samples.iter().map(|s| s.wall).collect();
        let wall = median(walls.clone()).unwrap_or(f64::NAN);
        let min = walls.iter().cloned().fold(f64::INFINITY, f64::min);
        let max = walls.iter().cloned().fold(0.0, f64::max);
        let cpu = median(row.samples.iter().map(|s| s.cpu).collect()).unwrap_or(f64::NAN);
        let server = median(row.samples.iter().filter_map(|s| s.server_cpu).collect())
            .map(secs)
            .unwrap_or_else(|| "—".into());
        let tree = row
            .samples
            .iter()
            .map(|s| s.tree_rss_kib)
            .max()
            .unwrap_or(0) as f64
            / 1024.0;
        let own = row.samples.iter().filter_map(|s| s.own_rss_kib).max();
        let rss = match own {
            Some(k) => format!("{:.1} (tree {tree:.1})", k as f64 / 1024.0),
            None => format!("{tree:.1}"),
        };
        let rate = raw
            .map(|b| format!("{:.0}", b / MB / wall))
            .unwrap_or_else(|| "—".into());
        let size = median(
            row.samples
                .iter()
                .filter_map(|s| s.size.map(|b| b as f64))
                .collect(),
        )
        .map(|b| format!("{:.2}", b / MIB))
        .unwrap_or_else(|| "—".into());
        let _ = writeln!(
            s,
            "| {} | {label} | {} ({}–{}) | {} | {server} | {rate} | {rss} | {size} |",
            run.number(),
            secs(wall),
            secs(min),
            secs(max),
            secs(cpu),
        );
    }
    let node = if std::env::var("BENCH_NODE_ROWS").is_ok_and(|v| !v.is_empty()) {
        "measured by `bench/node/run.js` in the same run: see \"Row 8\" below"
    } else if cfg.node_built() {
        "not measured: `node` is not installed"
    } else {
        "not measured: the Node engine (issue 4) is not built yet"
    };
    let _ = writeln!(
        s,
        "| 8 | Node engine (native, wasm) against Node's `zlib` + `crypto` | {node} | | | | | |"
    );

    let wall = |run| r.median(run, |s| Some(s.wall));
    let size = |run| r.median(run, |s| s.size.map(|b| b as f64));
    let rss = r.our_backup_rss();
    let checks = vec![
        Check {
            what: "default backup wall / runbook wall".into(),
            value: ratio(wall(Run::Ours), wall(Run::Runbook)),
            target: 0.5,
            detail: String::new(),
        },
        Check {
            what: "our output size / `gzip -6` output size".into(),
            value: ratio(size(Run::Ours), size(Run::Runbook)),
            target: 1.02,
            detail: String::new(),
        },
        Check {
            what: "backup to S3 wall / backup to folder wall".into(),
            value: ratio(wall(Run::OursS3), wall(Run::Ours)),
            target: 1.1,
            detail: String::new(),
        },
        Check {
            what: "`--level 1` wall / `pg_dump > /dev/null` wall".into(),
            value: ratio(wall(Run::OursL1), wall(Run::DumpNull)),
            target: 1.5,
            detail: String::new(),
        },
        Check {
            what: "peak RSS of our backup, MiB".into(),
            value: rss.map(|(k, _)| k as f64 / 1024.0),
            target: 64.0,
            detail: rss
                .map(|(_, run)| {
                    format!(
                        " — backstage-backup's own VmHWM, the largest of rows 4–5 ({})",
                        run.slug()
                    )
                })
                .unwrap_or_else(|| "no sample".into()),
        },
        Check {
            what: "verify wall / (`gunzip -t` + `sha256sum -c`) wall".into(),
            value: ratio(wall(Run::VerifyOurs), wall(Run::VerifyRunbook)),
            target: 0.6,
            detail: String::new(),
        },
        Check {
            what: "restore wall / runbook restore wall".into(),
            value: ratio(wall(Run::RestoreOurs), wall(Run::RestoreRunbook)),
            target: 1.0,
            detail: String::new(),
        },
    ];
    let retried: Vec<String> = r
        .rows
        .iter()
        .filter(|(_, row)| !row.retried.is_empty())
        .map(|(run, row)| {
            format!(
                "- `{}`: {} run(s) failed and were run again; first error: {}\n",
                run.slug(),
                row.retried.len(),
                row.retried[0].replace('\n', " ")
            )
        })
        .collect();
    if !retried.is_empty() {
        s.push_str(
            "\nRetried (a failed run is run once more; the table holds only successful runs):\n\n",
        );
        s.push_str(&retried.concat());
    }
    s.push_str("\nTargets (ratios of the medians above):\n\n");
    for c in &checks {
        s.push_str(&c.line());
        s.push('\n');
    }
    checks_out.extend(checks);
    s
}

fn capture(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn header(cfg: &Config) -> String {
    let date = capture("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let mem = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kib| format!("{:.0} GiB RAM", kib / 1024.0 / 1024.0))
        .unwrap_or_default();
    let load = fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    let server = cfg
        .psql(&cfg.admin_url, "SHOW server_version")
        .unwrap_or_default();
    let pg_dump = capture(&cfg.tool("pg_dump"), &["--version"]);
    let gzip = capture("gzip", &["--version"])
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    let pigz = capture("pigz", &["--version"]);
    let ours = capture(&cfg.bin.display().to_string(), &["--version"]);
    let root = cfg.root.display().to_string();
    let commit = capture("git", &["-C", &root, "rev-parse", "--short", "HEAD"]);
    let dirty = capture(
        "git",
        &[
            "-C",
            &root,
            "status",
            "--porcelain",
            "--",
            "crates",
            "Cargo.lock",
        ],
    );
    let commit = if commit.is_empty() {
        "not a git checkout".to_string()
    } else if dirty.is_empty() {
        format!("git {commit}")
    } else {
        format!("git {commit} with uncommitted changes in crates/")
    };
    format!(
        "Command: `{}`, {date}.\n\nMachine: {} cores ({cpu}), {mem}, load average {load} at the start \
         (shared with other work: absolute times are noisy, the ratios are measured side by side). \
         PostgreSQL {server} on 127.0.0.1; {pg_dump}; {gzip}; {pigz}; {ours} ({commit}), release build.\n",
        cfg.command_line, cfg.cores
    )
}

const NOTES: &str = "\
Notes:
- Wall time is measured by the harness around `/usr/bin/time`; CPU is GNU time's user+sys of the \
whole child tree (pg_dump, gzip, psql…). The SeaweedFS server is not a child and not counted. The \
PostgreSQL server's work (its backend producing pg_dump's COPY data, and loading the rows and \
building the indexes on restore) is in the separate PostgreSQL CPU column: the CPU of all \
`postgres` processes of this machine meanwhile, so it also holds other clients' work.
- Peak RSS is GNU time's `%M`: the largest single process of the tree, not a sum (for the \
pipelines that is whichever of pg_dump, gzip, pigz, psql peaked highest). For backstage-backup \
the first number is its own `VmHWM`, sampled every 5 ms, and `tree` is `%M` (which includes the \
pg_dump or psql it runs).
- plain SQL MB/s is the median plain-dump size (from our manifests) over the median wall time.
- Restores go into a freshly created empty database each time; creating, dropping and the \
CHECKPOINT after are outside the timed part. Our restore reads the round's default backup from \
the folder store; the runbook's reads its own `gzip -6` file.
";

fn run(args: &[String]) -> Result<bool, String> {
    let cfg = Config::load(args)?;
    let dbs: Vec<(&str, u64)> = if cfg.small_only {
        vec![("bbbench_20k", 20_000)]
    } else {
        vec![("bbbench_20k", 20_000), ("bbbench_200k", 200_000)]
    };
    if cfg.rounds < 3 {
        log(&format!(
            "warning: --rounds {} (fewer than 3: medians mean little)",
            cfg.rounds
        ));
    }
    for (name, n) in &dbs {
        ensure_db(&cfg, name, *n)?;
    }
    let mut doc = format!("# Benchmark results\n\n{}\n", header(&cfg));
    let mut results = Vec::new();
    let mut all_checks = Vec::new();
    let mut ok = true;
    let mut scratch_n = 0usize;
    for (name, n) in &dbs {
        let r = bench_db(&cfg, name, *n, &mut scratch_n)?;
        ok &= r.rows.iter().all(|(_, row)| row.errors.is_empty());
        let table = render(&cfg, &r, &mut all_checks);
        println!("\n{table}");
        doc.push_str(&table);
        doc.push('\n');
        write_doc(&cfg, &doc)?;
        results.push(r);
    }
    if results.len() == 2 {
        let a = results[0].our_backup_rss();
        let b = results[1].our_backup_rss();
        let c = Check {
            what: format!(
                "peak RSS of our backup, `{}` against `{}`: |large − small| / small",
                results[1].name, results[0].name
            ),
            value: match (a, b) {
                (Some((s, _)), Some((l, _))) if s > 0 => {
                    Some((l as f64 - s as f64).abs() / s as f64)
                }
                _ => None,
            },
            target: 0.1,
            detail: match (a, b) {
                (Some((s, _)), Some((l, _))) => {
                    format!(
                        " — {:.1} MiB against {:.1} MiB",
                        l as f64 / 1024.0,
                        s as f64 / 1024.0
                    )
                }
                _ => "no sample".into(),
            },
        };
        let line = format!("### Both databases\n\n{}\n", c.line());
        println!("\n{line}");
        doc.push_str(&line);
        doc.push('\n');
        all_checks.push(c);
    }
    doc.push_str(NOTES);
    write_doc(&cfg, &doc)?;
    let passed = all_checks
        .iter()
        .filter(|c| c.passed() == Some(true))
        .count();
    let failed = all_checks
        .iter()
        .filter(|c| c.passed() == Some(false))
        .count();
    println!("{NOTES}");
    log(&format!(
        "targets: {passed} passed, {failed} failed, {} not measured; tables written to {}",
        all_checks.len() - passed - failed,
        cfg.out.display()
    ));
    Ok(ok)
}

fn write_doc(cfg: &Config, doc: &str) -> Result<(), String> {
    let tmp = cfg.out.with_extension("md.tmp");
    fs::write(&tmp, doc).map_err(|e| format!("{}: {e}", tmp.display()))?;
    fs::rename(&tmp, &cfg.out).map_err(|e| format!("{}: {e}", cfg.out.display()))
}
