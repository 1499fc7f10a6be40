//! TLS for PostgreSQL connections, with libpq's meaning of each [`SslMode`]: `disable` never
//! encrypts, `prefer` (the default) encrypts when the server offers it, `require` insists on
//! encryption; these three do not verify the server's certificate chain, as libpq without a
//! root certificate (hosted PostgreSQL services commonly use certificates of their own CA with
//! `sslmode=require`), though the handshake signature still is checked. `verify-full` insists
//! on encryption, verifies the chain against `database.ssl_root_cert` (or the Mozilla roots
//! built in) and checks the host name of `database.url` against the certificate.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::config::{DatabaseTls, SslMode};

/// The connector every PostgreSQL connection of the daemon uses.
pub type Tls = MakeRustlsConnect;

/// Why the root certificates of `verify-full` cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RootCertError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a PEM file of certificates: {reason}", path.display())]
    NotPem { path: PathBuf, reason: String },
    #[error("{} holds no usable certificate (expected PEM blocks \"BEGIN CERTIFICATE\")", path.display())]
    Empty { path: PathBuf },
}

/// The certificates of a PEM file, each one a root `verify-full` trusts. The config checks
/// call it, so that a bad file is an error naming `database.ssl_root_cert`.
pub fn read_root_certs(path: &Path) -> Result<RootCertStore, RootCertError> {
    // Read first: the PEM reader's error for a missing file does not say which.
    let pem = std::fs::read(path).map_err(|source| RootCertError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| RootCertError::NotPem {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    let mut roots = RootCertStore::empty();
    let (added, _unparsable) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(RootCertError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(roots)
}

/// Trusts any certificate chain (`prefer`, `require`): encryption without authentication.
#[derive(Debug)]
struct EncryptOnly(Arc<CryptoProvider>);

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
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
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
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

/// The connector for `tls`, and the driver's own TLS mode to go with it (`verify-full` is
/// `require` to the driver: the connector does the verifying).
pub fn connector(tls: &DatabaseTls) -> Result<Tls, RootCertError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions");
    let config = if tls.mode == SslMode::VerifyFull {
        let roots = match &tls.root_cert {
            Some(path) => read_root_certs(path)?,
            None => RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        };
        builder.with_root_certificates(roots).with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(EncryptOnly(provider)))
            .with_no_client_auth()
    };
    Ok(MakeRustlsConnect::new(config))
}

/// The driver's TLS mode for `mode`.
pub fn driver_mode(mode: SslMode) -> tokio_postgres::config::SslMode {
    use tokio_postgres::config::SslMode as Driver;
    match mode {
        SslMode::Disable => Driver::Disable,
        SslMode::Prefer => Driver::Prefer,
        SslMode::Require | SslMode::VerifyFull => Driver::Require,
    }
}

/// rustls's reason when the server's certificate did not verify (an unknown issuer, another
/// host name, expired …); `None` for any other failure. Such a failure is not transient:
/// retrying does not help.
pub fn certificate_rejection(e: &tokio_postgres::Error) -> Option<String> {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let tls = s.downcast_ref::<rustls::Error>().or_else(|| {
            s.downcast_ref::<std::io::Error>()?
                .get_ref()?
                .downcast_ref()
        });
        if let Some(rustls::Error::InvalidCertificate(reason)) = tls {
            return Some(match reason {
                rustls::CertificateError::UnknownIssuer => {
                    "no trusted root signed its chain (UnknownIssuer)".to_string()
                }
                other => other.to_string(),
            });
        }
        source = s.source();
    }
    None
}
