//! The marker a backup writes before anything else. Created only if absent, it reserves the
//! backup's name: two backups that pick the same one-second name cannot both own it. It carries
//! a random token (clean-up deletes a marker only when the token is its own) and the writer's
//! process identity, so clean-up can tell a backup still running from one whose process is gone.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// A marker is a few hundred bytes; anything longer was not written by this tool.
pub const MAX_MARKER_BYTES: usize = 4096;

/// Unfinished backups younger than this, whose process cannot be seen, may still be running.
pub const DEFAULT_GRACE_HOURS: i64 = 24;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marker {
    pub started_at: DateTime<Utc>,
    pub tool_version: String,
    /// Random, per backup: whoever holds it wrote the marker.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Owner>,
}

/// Which process wrote a marker. A process can only be judged gone by one that shares its host,
/// boot and PID namespace; every other reader waits out the grace period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    pub host: String,
    /// `/proc/sys/kernel/random/boot_id`: a different one means the host rebooted since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_id: Option<String>,
    /// `/proc/self/ns/pid`: containers on one host share the boot id but not their PIDs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid_namespace: Option<String>,
    pub pid: u32,
}

impl Marker {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a marker always serializes")
    }

    /// The marker in `bytes`, or `None` when it is not one (too long, not JSON, other fields).
    pub fn parse(bytes: &[u8]) -> Option<Marker> {
        if bytes.len() > MAX_MARKER_BYTES {
            return None;
        }
        let marker: Marker = serde_json::from_slice(bytes).ok()?;
        // Names and ids are short; a planted marker with huge strings is not one of ours.
        let owner_ok = marker.owner.as_ref().is_none_or(|o| {
            o.host.len() <= 255
                && o.boot_id.as_ref().is_none_or(|b| b.len() <= 64)
                && o.pid_namespace.as_ref().is_none_or(|n| n.len() <= 64)
        });
        (marker.token.len() <= 64 && marker.tool_version.len() <= 64 && owner_ok).then_some(marker)
    }

    /// Whether this marker's process is known to be gone, seen from process `here`:
    /// same host, boot and PID namespace, and the PID is not running; or the host rebooted.
    /// Unknown means alive: a running backup must never be cleared.
    pub fn owner_gone(&self, here: &Owner, alive: impl Fn(u32) -> bool) -> bool {
        let Some(owner) = &self.owner else {
            return false;
        };
        if owner.host != here.host || owner.host.is_empty() {
            return false;
        }
        let (Some(boot), Some(here_boot)) = (&owner.boot_id, &here.boot_id) else {
            return false;
        };
        if boot != here_boot {
            return true;
        }
        match (&owner.pid_namespace, &here.pid_namespace) {
            (Some(ns), Some(here_ns)) if ns == here_ns => {
                owner.pid != here.pid && !alive(owner.pid)
            }
            _ => false,
        }
    }
}

/// Whether an unfinished backup is abandoned: older than `grace` (by its name's time, or its
/// upload's start when later), or its marker's process is known gone.
pub fn abandoned(
    taken_at: DateTime<Utc>,
    marker: Option<&Marker>,
    grace: Duration,
    now: DateTime<Utc>,
    here: Option<&Owner>,
    alive: impl Fn(u32) -> bool,
) -> bool {
    if taken_at <= now - grace {
        return true;
    }
    match (marker, here) {
        (Some(marker), Some(here)) => marker.owner_gone(here, alive),
        _ => false,
    }
}

#[cfg(feature = "ops")]
impl Owner {
    /// This process, as a marker names it (from this process's `Host`).
    pub fn this_process() -> Owner {
        crate::host::host().this_process()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(host: &str, boot: &str, ns: &str, pid: u32) -> Owner {
        Owner {
            host: host.into(),
            boot_id: Some(boot.into()),
            pid_namespace: Some(ns.into()),
            pid,
        }
    }

    fn marker(owner: Option<Owner>) -> Marker {
        Marker {
            started_at: Utc::now(),
            tool_version: "0".into(),
            token: "t".into(),
            owner,
        }
    }

    #[test]
    fn a_process_is_judged_gone_only_from_its_own_host_boot_and_namespace() {
        let here = owner("h", "b", "pid:[1]", 10);
        let dead = |_| false;
        assert!(marker(Some(owner("h", "b", "pid:[1]", 20))).owner_gone(&here, dead));
        // Running, or unknowable: alive.
        assert!(!marker(Some(owner("h", "b", "pid:[1]", 20))).owner_gone(&here, |_| true));
        assert!(!marker(Some(owner("other", "b", "pid:[1]", 20))).owner_gone(&here, dead));
        assert!(!marker(Some(owner("h", "b", "pid:[2]", 20))).owner_gone(&here, dead));
        assert!(!marker(None).owner_gone(&here, dead));
        let mut no_ns = owner("h", "b", "x", 20);
        no_ns.pid_namespace = None;
        assert!(!marker(Some(no_ns)).owner_gone(&here, dead));
        // Its own pid is never gone; another boot of the same host always is.
        assert!(!marker(Some(owner("h", "b", "pid:[1]", 10))).owner_gone(&here, dead));
        assert!(marker(Some(owner("h", "b0", "pid:[2]", 20))).owner_gone(&here, |_| true));
    }

    #[test]
    fn young_backups_are_abandoned_only_when_their_process_is_gone() {
        let now = Utc::now();
        let grace = Duration::hours(24);
        let here = owner("h", "b", "n", 1);
        let running = marker(Some(owner("h", "b", "n", 2)));
        assert!(!abandoned(
            now,
            Some(&running),
            grace,
            now,
            Some(&here),
            |_| true
        ));
        assert!(abandoned(
            now,
            Some(&running),
            grace,
            now,
            Some(&here),
            |_| false
        ));
        assert!(!abandoned(now, None, grace, now, Some(&here), |_| false));
        assert!(abandoned(now - grace, None, grace, now, None, |_| true));
    }

    #[test]
    fn planted_markers_are_not_markers() {
        assert!(Marker::parse(b"not json").is_none());
        assert!(Marker::parse(&vec![b' '; MAX_MARKER_BYTES + 1]).is_none());
        let long = format!(
            r#"{{"started_at":"2026-01-01T00:00:00Z","tool_version":"0","owner":{{"host":"{}","pid":1}}}}"#,
            "h".repeat(300)
        );
        assert!(Marker::parse(long.as_bytes()).is_none());
        let written = marker(Some(owner("h", "b", "n", 3)));
        assert_eq!(Marker::parse(written.to_json().as_bytes()), Some(written));
    }
}
