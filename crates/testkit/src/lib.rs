//! Test harness for backstage-backup's integration tests: real servers, no mocks.
//!
//! * [`TestDb`]: a throwaway PostgreSQL database (name prefix `bbtest_`) on the server named by
//!   [`admin_url`], dropped `WITH (FORCE)` when the value is dropped; empty, or a real
//!   Backstage catalog from `backstage-catalog-fixture` ([`TestDb::catalog`]).
//! * [`S3Server`]: a real SeaweedFS S3 server (`weed mini`) on loopback, on free ports, with a
//!   SigV4 identity. [`S3Server::shared`] gives one server per test binary; [`S3Server::start`]
//!   gives a private one (e.g. to [`S3Server::kill`] it mid-test).
//!
//! * [`RequestFaultProxy`] fails chosen requests (the third part of a multipart upload, say)
//!   and forwards the rest; [`FaultProxy`] fails the first N requests, whatever they are.
//!
//! No `weed` process outlives the test binary: each server runs under a tiny `sh` wrapper that
//! SIGKILLs `weed` as soon as its standard input (a pipe held by this process) reaches EOF,
//! which happens however this process ends.

mod pg;
mod proxy;
mod request_fault;
mod s3;
mod util;

pub use backstage_catalog_fixture::{FixtureSpec, FixtureSummary};
pub use pg::{admin_url, TestDb};
pub use proxy::FaultProxy;
pub use request_fault::{RequestFaultProxy, RequestMatcher};
pub use s3::{find_weed, S3Server};
