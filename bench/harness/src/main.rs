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

mod config;
mod fixtures;
mod measurement;
mod report;

use std::env;
use std::process::ExitCode;

use config::Config;
use fixtures::ensure_db;
use measurement::bench_db;
use report::{header, render, write_doc, Check, NOTES};

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

pub(crate) fn log(msg: &str) {
    eprintln!("bench: {msg}");
}

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
