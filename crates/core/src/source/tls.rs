//! TLS for the tool's own PostgreSQL connection, with libpq's `sslmode` meanings: `disable`
//! plain; `allow`/`prefer` (the default) encrypt when the server offers it; `require` encrypt
//! without checking the certificate (as libpq does without a root certificate); `verify-ca` and
//! `verify-full` check the chain against `sslrootcert` (or the system's roots) and the host name.
//! pg_dump and psql get the same settings through PGSSLMODE/PGSSLROOTCERT.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use tokio_postgres::config::SslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::conn::ConnectionInfo;
use crate::error::{Error, Result};

/// How to connect: tokio-postgres's mode and the connector that does the TLS.
pub fn connector(conn: &ConnectionInfo) -> Result<(SslMode, MakeRustlsConnect)> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mode = conn
        .params
        .get("sslmode")
        .map(String::as_str)
        .unwrap_or("prefer");
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::internal(format!("TLS setup: {e}")))?;
    let (ssl_mode, config) = match mode {
        "disable" => (SslMode::Disable, no_verification(builder, provider)),
        "allow" | "prefer" => (SslMode::Prefer, no_verification(builder, provider)),
        "require" if !conn.params.contains_key("sslrootcert") => {
            (SslMode::Require, no_verification(builder, provider))
        }
        "require" | "verify-ca" | "verify-full" => {
            let roots = roots(conn.params.get("sslrootcert").map(String::as_str))?;
            (
                SslMode::Require,
                builder.with_root_certificates(roots).with_no_client_auth(),
            )
        }
        other => {
            return Err(Error::invalid(format!(
                "sslmode '{}' is unknown: use disable, allow, prefer, require, verify-ca or verify-full",
                crate::naming::printable(other)
            )))
        }
    };
    Ok((ssl_mode, MakeRustlsConnect::new(config)))
}

fn no_verification(
    builder: rustls::ConfigBuilder<ClientConfig, rustls::WantsVerifier>,
    provider: Arc<CryptoProvider>,
) -> ClientConfig {
    builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
        .with_no_client_auth()
}

fn roots(root_file: Option<&str>) -> Result<RootCertStore> {
    let mut store = RootCertStore::empty();
    match root_file {
        Some(path) => {
            for cert in CertificateDer::pem_file_iter(path)
                .map_err(|e| Error::invalid(format!("cannot read sslrootcert {path}: {e}")))?
            {
                let cert = cert.map_err(|e| Error::invalid(format!("sslrootcert {path}: {e}")))?;
                store
                    .add(cert)
                    .map_err(|e| Error::invalid(format!("sslrootcert {path}: {e}")))?;
            }
        }
        None => {
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = store.add(cert);
            }
        }
    }
    if store.is_empty() {
        return Err(Error::invalid(match root_file {
            Some(path) => format!("sslrootcert {path} holds no PEM certificate"),
            None => "no system root certificates to verify the server with: set sslrootcert=/path/to/ca.pem".into(),
        }));
    }
    Ok(store)
}

/// libpq's `require`: encrypted, certificate not checked (signatures still are).
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
