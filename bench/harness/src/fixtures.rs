//! The data the runs need: the catalog databases (made once, cached by name) and the S3
//! objects a round leaves behind.

use std::process::{Command, Stdio};
use std::time::Instant;

use crate::config::{env_var, Config};
use crate::log;

/// Creates the catalog database unless it exists with the right number of entities.
pub(crate) fn ensure_db(cfg: &Config, name: &str, entities: u64) -> Result<(), String> {
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

pub(crate) const EMPTY_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

pub(crate) fn curl_s3(cfg: &Config, method: &str, path_and_query: &str) -> Result<String, String> {
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

pub(crate) fn s3_delete_prefix(cfg: &Config, prefix: &str) -> Result<(), String> {
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
