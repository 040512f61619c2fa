//! What to run: the command line, the environment bench/run sets, the PostgreSQL tools, and
//! the rows (the commands compared).

use std::env;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::thread;

pub(crate) const USAGE: &str = "\
usage: bench/run [--small-only] [--rounds N] [--out FILE]

  --small-only  only the 20,000-entity catalog (a quick run); default: 20k and 200k
  --rounds N    rounds of interleaved runs per database (default 3; at least 3 for a report)
  --out FILE    where to write the tables (default bench/results.md)";

pub(crate) struct Config {
    pub(crate) bin: PathBuf,
    pub(crate) fixture: PathBuf,
    pub(crate) root: PathBuf,
    pub(crate) work: PathBuf,
    pub(crate) out: PathBuf,
    pub(crate) admin_url: String,
    pub(crate) rounds: usize,
    pub(crate) small_only: bool,
    pub(crate) s3_endpoint: String,
    pub(crate) s3_bucket: String,
    pub(crate) tag: String,
    pub(crate) cores: usize,
    pub(crate) command_line: String,
    /// PATH for every child, with the server's major version's PostgreSQL tools first.
    pub(crate) path: String,
    pub(crate) pg_bin: Option<PathBuf>,
}

pub(crate) fn env_var(name: &str) -> Result<String, String> {
    env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("{name} is not set (run bench/run, not the harness directly)"))
}

impl Config {
    pub(crate) fn load(args: &[String]) -> Result<Config, String> {
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

    pub(crate) fn tool(&self, name: &str) -> String {
        match &self.pg_bin {
            Some(dir) if dir.join(name).is_file() => dir.join(name).display().to_string(),
            _ => name.to_string(),
        }
    }

    /// Runs one SQL statement with psql and returns its unaligned output.
    pub(crate) fn psql(&self, url: &str, sql: &str) -> Result<String, String> {
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

    pub(crate) fn db_url(&self, name: &str) -> String {
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

    pub(crate) fn s3_url(&self, prefix: &str) -> String {
        format!(
            "s3://{}/{prefix}?endpoint={}&region=us-east-1&path_style=true",
            self.s3_bucket, self.s3_endpoint
        )
    }

    pub(crate) fn node_built(&self) -> bool {
        self.root.join("pkg").exists()
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Run {
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

pub(crate) const ALL_RUNS: [Run; 10] = [
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
pub(crate) const GROUPS: [&[Run]; 3] = [
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
    pub(crate) fn number(self) -> u8 {
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

    pub(crate) fn slug(self) -> &'static str {
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

    pub(crate) fn label(self, cores: usize) -> String {
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
    pub(crate) fn ours(self) -> bool {
        matches!(
            self,
            Run::Ours | Run::OursS3 | Run::OursL1 | Run::VerifyOurs | Run::RestoreOurs
        )
    }

    pub(crate) fn makes_output(self) -> bool {
        matches!(
            self,
            Run::Runbook | Run::Pigz | Run::Ours | Run::OursS3 | Run::OursL1
        )
    }

    pub(crate) fn restores(self) -> bool {
        matches!(self, Run::RestoreOurs | Run::RestoreRunbook)
    }
}
