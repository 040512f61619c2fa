//! No `weed` process outlives its test binary, whether the binary exits normally (with
//! `S3Server::shared()`'s static never dropped) or is SIGKILLed.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use backstage_backup_testkit::S3Server;

const HELPER_ENV: &str = "BBTEST_TESTKIT_ORPHAN_HELPER";

/// Run by the `no_weed_survives_*` tests in a child copy of this test binary: starts
/// servers, prints their weed pids, then either returns when the parent says so (the process
/// exits with the shared server's static never dropped) or sleeps until the parent SIGKILLs it.
#[test]
#[ignore = "helper, run by the no_weed_survives_* tests"]
fn orphan_helper() -> Result<()> {
    let Ok(mode) = std::env::var(HELPER_ENV) else {
        return Ok(());
    };
    let rt = tokio::runtime::Runtime::new()?;
    let shared = rt.block_on(S3Server::shared())?;
    println!("WEED_PID={}", shared.weed_pid().context("no pid")?);
    if mode == "exit" {
        println!("READY");
        // Wait for the parent to have seen weed running: returning at once raced its check.
        let mut go = String::new();
        std::io::stdin().read_line(&mut go)?;
        return Ok(());
    }
    let owned = rt.block_on(S3Server::start())?;
    println!("WEED_PID={}", owned.weed_pid().context("no pid")?);
    println!("READY");
    std::thread::sleep(Duration::from_secs(120));
    drop(owned);
    Ok(())
}

/// Whether `pid` is gone (or a zombie, which no longer runs or holds ports).
fn process_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.trim_start().starts_with('Z'))
            .unwrap_or(false),
    }
}

fn run_helper(mode: &str) -> Result<()> {
    let mut child = Command::new(std::env::current_exe()?)
        .args([
            "orphan_helper",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(HELPER_ENV, mode)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let mut pids = Vec::new();
    let mut stdout = BufReader::new(child.stdout.take().context("no stdout")?);
    let mut line = String::new();
    while stdout.read_line(&mut line)? > 0 {
        // The harness prints "test orphan_helper ... " before the test's own output.
        if let Some((_, pid)) = line.split_once("WEED_PID=") {
            pids.push(pid.trim().parse::<u32>()?);
        }
        if line.trim() == "READY" {
            break;
        }
        line.clear();
    }
    // Keep draining, or the helper dies of a broken pipe when it prints its result.
    let drain = std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let expected = if mode == "exit" { 1 } else { 2 };
    if pids.len() != expected {
        let _ = child.kill();
        bail!(
            "helper ({mode}) printed {} weed pids, expected {expected}",
            pids.len()
        );
    }
    for &pid in &pids {
        assert!(
            !process_gone(pid),
            "weed {pid} not running while its owner runs"
        );
    }
    if mode == "kill" {
        child.kill()?; // SIGKILL: no destructor, no atexit, nothing runs in the child
    } else {
        // Lets the helper return now that its weed was seen running.
        child.stdin.take().context("no stdin")?.write_all(b"go\n")?;
    }
    let status = child.wait()?;
    let _ = drain.join();
    if mode == "exit" {
        assert!(status.success(), "helper failed: {status}");
    }
    let t0 = Instant::now();
    for &pid in &pids {
        while !process_gone(pid) {
            if t0.elapsed() > Duration::from_secs(10) {
                bail!("weed {pid} survived its test binary ({mode}) by 10 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    eprintln!(
        "helper ({mode}): weed {pids:?} gone {:?} after the test binary ended",
        t0.elapsed()
    );
    Ok(())
}

#[test]
fn no_weed_survives_a_normal_exit() -> Result<()> {
    run_helper("exit")
}

#[test]
fn no_weed_survives_a_sigkill() -> Result<()> {
    run_helper("kill")
}
