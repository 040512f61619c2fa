use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::ExitCode;

use backstage_backup_core::signing::Key;
use backstage_backup_core::{Error, Result};
use serde::Serialize;

use crate::args::KeygenArgs;
use crate::output::finish;

#[derive(Serialize)]
struct KeygenReport {
    key_id: String,
    private_key: String,
    public_key: String,
}

pub fn run(args: KeygenArgs) -> ExitCode {
    finish(execute(&args), args.output.json, describe, |_| 0)
}

fn describe(report: &KeygenReport) -> String {
    format!(
        "Made signing key {}\n  private  {} (sign backups: --signing-key {}; keep it secret)\n  public   {} (check backups on restore, drill and verify hosts)\n",
        report.key_id, report.private_key, report.private_key, report.public_key
    )
}

/// Creates `path` with `mode`, never over an existing file or through a planted link.
fn write_new(path: &Path, mode: u32, text: &str) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|e| {
            let fix = if e.kind() == std::io::ErrorKind::AlreadyExists {
                "it exists already; choose another --out (a key is never overwritten)".to_string()
            } else {
                e.to_string()
            };
            Error::invalid(format!("cannot create {}: {fix}", path.display()))
        })?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

fn execute(args: &KeygenArgs) -> Result<KeygenReport> {
    let mut seed = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut seed))
        .map_err(|e| Error::internal(format!("reading /dev/urandom: {e}")))?;
    let (private, public) = Key::generate(seed)?;
    let key_id = Key::from_pem(&public, "the new key")?.key_id();
    let mut public_path = args.out.clone().into_os_string();
    public_path.push(".pub");
    let public_path = std::path::PathBuf::from(public_path);
    // The public file first: if the private one cannot be made, nothing secret was written.
    write_new(&public_path, 0o644, &public)?;
    if let Err(err) = write_new(&args.out, 0o600, &private) {
        let _ = std::fs::remove_file(&public_path);
        return Err(err);
    }
    Ok(KeygenReport {
        key_id,
        private_key: args.out.display().to_string(),
        public_key: public_path.display().to_string(),
    })
}
