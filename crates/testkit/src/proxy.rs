//! A fault-injecting TCP proxy on loopback, in front of a real server: it answers the first
//! `fail_first` connections with an HTTP error (as an overloaded S3 does), then forwards.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use anyhow::Result;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug)]
pub struct FaultProxy {
    /// `http://127.0.0.1:PORT`, to use in place of the real server's endpoint.
    pub endpoint: String,
    failed: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// Forwards to `upstream` (`http://host:port`); the first `fail_first` connections get
    /// `status` (e.g. 503) instead. `usize::MAX` fails every connection.
    pub async fn start(upstream: &str, fail_first: usize, status: u16) -> Result<FaultProxy> {
        let target = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let failed = Arc::new(AtomicUsize::new(0));
        let counter = failed.clone();
        let task = tokio::spawn(async move {
            let mut seen = 0usize;
            while let Ok((mut client, _)) = listener.accept().await {
                seen += 1;
                if seen <= fail_first {
                    counter.fetch_add(1, Ordering::SeqCst);
                    tokio::spawn(async move {
                        // Read the request head so the client sees an answer, not a reset.
                        let mut head = vec![0u8; 64 << 10];
                        let _ = client.read(&mut head).await;
                        let response = crate::request_fault::error_response(status);
                        let _ = client.write_all(&response).await;
                        let _ = client.shutdown().await;
                    });
                    continue;
                }
                let target = target.clone();
                tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Ok(FaultProxy {
            endpoint,
            failed,
            task,
        })
    }

    /// Connections answered with the injected error so far.
    pub fn failures(&self) -> usize {
        self.failed.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
