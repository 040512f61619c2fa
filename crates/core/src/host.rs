//! What the store protocols need from the world besides a store: a clock, a pause, this
//! process's identity, whether another process runs, random tokens. One per process: natively
//! the operating system's; in the WebAssembly engine crates/wasm installs one over JS, because
//! wasm32 has no clock, timer or process of its own.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;

use crate::marker::Owner;

pub trait Host: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
    /// Resolves after `duration`.
    fn sleep(&self, duration: std::time::Duration) -> BoxFuture<'static, ()>;
    /// This process, as a backup's marker names it.
    fn this_process(&self) -> Owner;
    /// Whether `pid` runs in this process's PID namespace; unknown means alive.
    fn pid_alive(&self, pid: u32) -> bool;
    /// 128 random bits, hex.
    fn random_token(&self) -> String;
    /// An environment variable of this process.
    fn env_var(&self, name: &str) -> Option<String>;
    /// A small file read whole: regular files only (a FIFO would block, a device never ends),
    /// and never more than `max + 1` bytes, whatever its metadata says (/proc files say 0).
    fn read_small_file(&self, path: &std::path::Path, max: u64) -> std::io::Result<Vec<u8>>;
    /// Whether `path` is a regular file (following links).
    fn is_file(&self, path: &std::path::Path) -> bool;
    /// The names in a folder; none when it cannot be read.
    fn list_dir(&self, path: &std::path::Path) -> Vec<String>;
    /// What `program --version` prints, run without credentials in its environment; None when
    /// it does not run or fails.
    fn tool_version(&self, program: &std::path::Path) -> BoxFuture<'static, Option<String>>;
}

static INSTALLED: OnceLock<Box<dyn Host>> = OnceLock::new();

/// Sets this process's host; the first one installed stays. For hosts without an operating
/// system of their own (crates/wasm); native builds need not call it.
pub fn install(host: Box<dyn Host>) {
    let _ = INSTALLED.set(host);
}

/// This process's host: the installed one, else (native builds) the operating system's.
pub fn host() -> &'static dyn Host {
    #[cfg(feature = "runtime")]
    {
        INSTALLED
            .get_or_init(|| Box::new(native::NativeHost))
            .as_ref()
    }
    #[cfg(not(feature = "runtime"))]
    {
        INSTALLED
            .get()
            .expect("no host installed: crates/wasm installs one when its module starts")
            .as_ref()
    }
}

/// A token unique to this process and moment: `<pid>-<nanoseconds>`, as locks and holds use.
pub fn process_token() -> String {
    let host = host();
    format!(
        "{}-{}",
        host.this_process().pid,
        host.now().timestamp_nanos_opt().unwrap_or_default()
    )
}

#[cfg(feature = "runtime")]
pub use native::NativeHost;

#[cfg(feature = "runtime")]
mod native {
    use std::io::Read;

    use chrono::{DateTime, Utc};
    use futures::future::BoxFuture;

    use super::Host;
    use crate::marker::Owner;

    /// The operating system: the system clock, tokio's timer, /proc and kill(2).
    #[derive(Debug, Clone, Copy, Default)]
    pub struct NativeHost;

    fn read_trimmed(path: &str) -> Option<String> {
        let mut text = String::new();
        std::fs::File::open(path)
            .ok()?
            .take(256)
            .read_to_string(&mut text)
            .ok()?;
        let text = text.trim();
        (!text.is_empty() && text.len() <= 64).then(|| text.to_string())
    }

    impl Host for NativeHost {
        fn now(&self) -> DateTime<Utc> {
            Utc::now()
        }

        fn sleep(&self, duration: std::time::Duration) -> BoxFuture<'static, ()> {
            Box::pin(tokio::time::sleep(duration))
        }

        fn this_process(&self) -> Owner {
            Owner {
                host: rustix::system::uname()
                    .nodename()
                    .to_string_lossy()
                    .chars()
                    .take(255)
                    .collect(),
                boot_id: read_trimmed("/proc/sys/kernel/random/boot_id"),
                pid_namespace: std::fs::read_link("/proc/self/ns/pid")
                    .ok()
                    .and_then(|p| p.to_str().map(str::to_string))
                    .filter(|p| p.len() <= 64),
                pid: std::process::id(),
            }
        }

        fn pid_alive(&self, pid: u32) -> bool {
            let Some(pid) = i32::try_from(pid)
                .ok()
                .and_then(rustix::process::Pid::from_raw)
            else {
                return false;
            };
            // EPERM: it runs as another user.
            !matches!(
                rustix::process::test_kill_process(pid),
                Err(rustix::io::Errno::SRCH)
            )
        }

        fn random_token(&self) -> String {
            let mut bytes = [0u8; 16];
            if std::fs::File::open("/dev/urandom")
                .and_then(|mut f| f.read_exact(&mut bytes))
                .is_err()
            {
                // No urandom (odd sandboxes): time and pid still make it unique to this backup.
                let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
                bytes[..8].copy_from_slice(&nanos.to_le_bytes());
                bytes[8..12].copy_from_slice(&std::process::id().to_le_bytes());
            }
            hex::encode(bytes)
        }

        fn env_var(&self, name: &str) -> Option<String> {
            std::env::var(name).ok()
        }

        fn is_file(&self, path: &std::path::Path) -> bool {
            path.is_file()
        }

        fn list_dir(&self, path: &std::path::Path) -> Vec<String> {
            std::fs::read_dir(path)
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .collect()
        }

        fn tool_version(&self, program: &std::path::Path) -> BoxFuture<'static, Option<String>> {
            let mut command = tokio::process::Command::new(program);
            // A version probe needs no credentials: keep them out of its environment.
            command
                .arg("--version")
                .env_remove("PGPASSWORD")
                .env_remove("DATABASE_URL")
                .stdin(std::process::Stdio::null())
                .kill_on_drop(true);
            Box::pin(async move {
                let out = command.output().await.ok()?;
                out.status
                    .success()
                    .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
            })
        }

        fn read_small_file(&self, path: &std::path::Path, max: u64) -> std::io::Result<Vec<u8>> {
            if !std::fs::metadata(path)?.is_file() {
                return Err(std::io::Error::other("not a regular file"));
            }
            let mut bytes = Vec::new();
            std::fs::File::open(path)?
                .take(max + 1)
                .read_to_end(&mut bytes)?;
            Ok(bytes)
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn this_process_is_alive_and_a_reaped_child_is_not() {
            let host = NativeHost;
            let here = host.this_process();
            assert!(host.pid_alive(here.pid));
            let mut child = std::process::Command::new("true").spawn().unwrap();
            let pid = child.id();
            child.wait().unwrap();
            assert!(!host.pid_alive(pid));
            assert_eq!(host.random_token().len(), 32);
            assert_ne!(host.random_token(), host.random_token());
        }
    }
}
