//! Printing the figures: the markdown tables, the target checks and the header naming the
//! machine and versions.

use std::fmt::Write as _;
use std::fs;
use std::process::{Command, Stdio};

use crate::config::{Config, Run};
use crate::measurement::{median, DbResult};

pub(crate) const MIB: f64 = 1024.0 * 1024.0;
pub(crate) const MB: f64 = 1_000_000.0;

pub(crate) fn secs(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

pub(crate) fn thousands(n: u64) -> String {
    let digits: Vec<char> = n.to_string().chars().rev().collect();
    let groups: Vec<String> = digits.chunks(3).map(|g| g.iter().rev().collect()).collect();
    groups.into_iter().rev().collect::<Vec<_>>().join(",")
}

pub(crate) struct Check {
    pub(crate) what: String,
    pub(crate) value: Option<f64>,
    pub(crate) target: f64,
    pub(crate) detail: String,
}

impl Check {
    pub(crate) fn line(&self) -> String {
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

    pub(crate) fn passed(&self) -> Option<bool> {
        self.value.map(|v| v <= self.target)
    }
}

pub(crate) fn fmt_ratio(v: f64) -> String {
    if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

pub(crate) fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

pub(crate) fn render(cfg: &Config, r: &DbResult, checks_out: &mut Vec<Check>) -> String {
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

pub(crate) fn capture(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

pub(crate) fn header(cfg: &Config) -> String {
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

pub(crate) const NOTES: &str = "\
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

pub(crate) fn write_doc(cfg: &Config, doc: &str) -> Result<(), String> {
    let tmp = cfg.out.with_extension("md.tmp");
    fs::write(&tmp, doc).map_err(|e| format!("{}: {e}", tmp.display()))?;
    fs::rename(&tmp, &cfg.out).map_err(|e| format!("{}: {e}", cfg.out.display()))
}
