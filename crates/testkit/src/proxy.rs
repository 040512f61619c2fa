//! A fault-injecting proxy on loopback, in front of a real server: it answers the first
//! `fail_first` requests with an HTTP error (as an overloaded S3 does), then forwards. The
//! request-level proxy with a matcher that takes every request.

use std::sync::Arc;

use anyhow::Result;

use crate::request_fault::RequestFaultProxy;

pub struct FaultProxy;

impl FaultProxy {
    /// Forwards to `upstream` (`http://host:port`); the first `fail_first` requests get
    /// `status` (e.g. 503) instead. `usize::MAX` fails every request.
    pub async fn start(
        upstream: &str,
        fail_first: usize,
        status: u16,
    ) -> Result<RequestFaultProxy> {
        RequestFaultProxy::start(
            upstream,
            status,
            fail_first,
            Arc::new(|_: &str, _: &str| true),
        )
        .await
    }
}
