//! A fault-injecting HTTP/1.1 proxy on loopback that sees requests, not just connections: it
//! answers chosen requests (say, the third UploadPart of a multipart upload) with an S3 error
//! and forwards the rest. One request per connection (it adds `Connection: close` both ways),
//! so it never has to frame a kept-alive stream.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Which requests fail: `(method, path and query) -> bool`.
pub type RequestMatcher = Arc<dyn Fn(&str, &str) -> bool + Send + Sync>;

#[derive(Debug)]
pub struct RequestFaultProxy {
    /// `http://127.0.0.1:PORT`, to use in place of the real server's endpoint.
    pub endpoint: String,
    failed: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

const HEAD_LIMIT: usize = 64 << 10;

struct Request {
    head: Vec<u8>,
    body: Vec<u8>,
    method: String,
    target: String,
}

fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

/// The head with `Connection: close` in place of any Connection (and Expect) header.
fn closing(head: &str) -> Vec<u8> {
    let mut lines = head.trim_end_matches("\r\n").split("\r\n");
    let mut out = String::new();
    out.push_str(lines.next().unwrap_or_default());
    out.push_str("\r\nConnection: close\r\n");
    for line in lines {
        let name = line.split(':').next().unwrap_or_default().trim();
        if !name.eq_ignore_ascii_case("connection") && !name.eq_ignore_ascii_case("expect") {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("\r\n");
    out.into_bytes()
}

/// Reads until the end of an HTTP head: the bytes read (the head and whatever followed it) and
/// where the head ends. `what` names the message in errors.
async fn read_head(stream: &mut TcpStream, what: &str) -> Result<(Vec<u8>, usize)> {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 << 10];
    loop {
        if let Some(end) = find_head_end(&buf) {
            return Ok((buf, end));
        }
        if buf.len() > HEAD_LIMIT {
            bail!("{what} head over {HEAD_LIMIT} bytes");
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            bail!("connection closed before a {what} head");
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn read_request(client: &mut TcpStream) -> Result<Request> {
    let (buf, end) = read_head(client, "request").await?;
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut words = head.split_whitespace();
    let method = words.next().unwrap_or_default().to_string();
    let target = words.next().unwrap_or_default().to_string();
    if header(&head, "transfer-encoding").is_some() {
        bail!("chunked request bodies are not supported by this proxy");
    }
    let length: usize = header(&head, "content-length")
        .map(str::parse)
        .transpose()
        .context("bad content-length")?
        .unwrap_or(0);
    if header(&head, "expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
        client.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
    }
    let mut body = buf[end..].to_vec();
    let mut chunk = vec![0u8; 64 << 10];
    while body.len() < length {
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            bail!("connection closed mid-body");
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(Request {
        head: closing(&head),
        body,
        method,
        target,
    })
}

/// An S3-style error answer (`SlowDown` for 503, else `InternalError`), closing the connection.
fn error_response(status: u16) -> Vec<u8> {
    let (reason, code) = match status {
        503 => ("Slow Down", "SlowDown"),
        _ => ("Internal Server Error", "InternalError"),
    };
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>injected fault</Message></Error>"
    );
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Sends the request upstream and streams the answer back (only its head is rewritten), so a
/// large GET is never held in memory.
async fn forward(request: Request, upstream: &str, client: &mut TcpStream) -> Result<()> {
    let mut server = TcpStream::connect(upstream).await?;
    server.write_all(&request.head).await?;
    server.write_all(&request.body).await?;
    let (buf, end) = read_head(&mut server, "response").await?;
    client
        .write_all(&closing(&String::from_utf8_lossy(&buf[..end])))
        .await?;
    client.write_all(&buf[end..]).await?;
    tokio::io::copy(&mut server, client).await?;
    Ok(())
}

impl RequestFaultProxy {
    /// Forwards to `upstream` (`http://host:port`); the first `budget` requests that `matches`
    /// are answered with `status` (500 or 503) instead. `usize::MAX` fails every one.
    pub async fn start(
        upstream: &str,
        status: u16,
        budget: usize,
        matches: RequestMatcher,
    ) -> Result<RequestFaultProxy> {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let failed = Arc::new(AtomicUsize::new(0));
        let counter = failed.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let counter = counter.clone();
                let matches = matches.clone();
                tokio::spawn(async move {
                    let Ok(request) = read_request(&mut client).await else {
                        return;
                    };
                    let fail = matches(&request.method, &request.target)
                        && counter
                            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                                (n < budget).then_some(n + 1)
                            })
                            .is_ok();
                    if fail {
                        let _ = client.write_all(&error_response(status)).await;
                    } else if forward(request, &upstream, &mut client).await.is_err() {
                        return;
                    }
                    let _ = client.shutdown().await;
                });
            }
        });
        Ok(RequestFaultProxy {
            endpoint,
            failed,
            task,
        })
    }

    /// Requests answered with the injected error so far.
    pub fn failures(&self) -> usize {
        self.failed.load(Ordering::SeqCst)
    }
}

impl Drop for RequestFaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
