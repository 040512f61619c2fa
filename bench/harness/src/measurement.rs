//! Measuring: one run under GNU time with its memory sampled, and a database's rounds of
//! interleaved runs.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::config::{Config, Run, ALL_RUNS, GROUPS};
use crate::fixtures::s3_delete_prefix;
use crate::log;
use crate::report::{capture, MIB};

#[derive(Clone, Copy, Debug)]
pub(crate) struct Sample {
    pub(crate) wall: f64,
    pub(crate) cpu: f64,
    /// GNU time's %M: max RSS of the largest process of the tree.
    pub(crate) tree_rss_kib: u64,
    /// backstage-backup's own VmHWM.
    pub(crate) own_rss_kib: Option<u64>,
    /// CPU seconds the local PostgreSQL server's processes used meanwhile (all clients).
    pub(crate) server_cpu: Option<f64>,
    pub(crate) size: Option<u64>,
    /// Plain SQL bytes, from our backups' manifests.
    pub(crate) raw: Option<u64>,
}

#[derive(Default)]
pub(crate) struct Row {
    pub(crate) samples: Vec<Sample>,
    /// Failures that were not followed by a successful retry.
    pub(crate) errors: Vec<String>,
    /// Failures followed by a retry (successful or not).
    pub(crate) retried: Vec<String>,
}

pub(crate) struct DbResult {
    pub(crate) name: String,
    pub(crate) entities: u64,
    pub(crate) db_bytes: u64,
    pub(crate) rows: Vec<(Run, Row)>,
}

impl DbResult {
    pub(crate) fn row(&self, run: Run) -> &Row {
        &self
            .rows
            .iter()
            .find(|(r, _)| *r == run)
            .expect("every run has a row")
            .1
    }

    pub(crate) fn median(&self, run: Run, f: impl Fn(&Sample) -> Option<f64>) -> Option<f64> {
        let row = self.row(run);
        if !row.errors.is_empty() {
            return None;
        }
        median(row.samples.iter().filter_map(f).collect())
    }

    pub(crate) fn raw_bytes(&self) -> Option<f64> {
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
    pub(crate) fn our_backup_rss(&self) -> Option<(u64, Run)> {
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

pub(crate) fn median(mut v: Vec<f64>) -> Option<f64> {
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

pub(crate) struct Spec {
    pub(crate) argv: Vec<String>,
    pub(crate) cwd: PathBuf,
    pub(crate) envs: Vec<(String, String)>,
    pub(crate) stdout: Option<PathBuf>,
    pub(crate) own: bool,
}

pub(crate) fn bash(script: &str) -> Vec<String> {
    vec![
        "bash".into(),
        "-c".into(),
        format!("set -eo pipefail; {script}"),
    ]
}

/// Runs `spec` under GNU time; samples backstage-backup's own VmHWM when `spec.own`.
pub(crate) fn measure(
    cfg: &Config,
    spec: &Spec,
    tfile: &Path,
    errfile: &Path,
) -> Result<Sample, String> {
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
pub(crate) fn poll_own_hwm(time_pid: u32, stop: &AtomicBool) -> Option<u64> {
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
pub(crate) fn pg_server_ticks() -> Option<u64> {
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

pub(crate) fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| capture("getconf", &["CLK_TCK"]).parse().unwrap_or(100.0))
}

pub(crate) fn child_of(pid: u32) -> Option<u32> {
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

pub(crate) fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// `"key": {"bytes": N` in the manifest printed by `backup --json`.
pub(crate) fn manifest_bytes(json: &str, key: &str) -> Option<u64> {
    let at = json.find(&format!("\"{key}\""))?;
    let rest = &json[at..];
    let b = rest.find("\"bytes\"")?;
    let rest = rest[b + 7..].trim_start().strip_prefix(':')?.trim_start();
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

pub(crate) fn rotate(group: &[Run], by: usize) -> Vec<Run> {
    let n = group.len();
    (0..n).map(|i| group[(i + by) % n]).collect()
}

pub(crate) fn bench_db(
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
pub(crate) fn run_once(
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

pub(crate) fn spec_for(
    cfg: &Config,
    run: Run,
    url: &str,
    target: &str,
    rdir: &Path,
    s3_prefix: &str,
) -> Spec {
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

pub(crate) fn add_sizes(run: Run, rdir: &Path, s: &mut Sample) -> Result<(), String> {
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
