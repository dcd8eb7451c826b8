//! Mutual TLS between pinned peers, without a certificate authority.
//!
//! Each node has a self-signed certificate. A peer is trusted when the
//! SHA-256 of the certificate it presents is pinned (from its card); the
//! handshake signatures are still checked by rustls (ring provider), so the
//! peer must hold the certificate's private key. The key exchange prefers
//! X25519MLKEM768. Names and validity dates
//! are irrelevant: the pin is the identity.

use std::path::Path;
use std::sync::Arc;

use liaison_core::PartyCode;
use liaison_log::Hash;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{
    CryptoProvider, WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature,
};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, DistinguishedName, Error as TlsError,
    ServerConfig, SignatureScheme,
};

use crate::NodeError;

/// The node's TLS certificate and key.
#[derive(Debug)]
pub struct TlsIdentity {
    pub certificate_pem: String,
    certificate: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
    /// Offer the hybrid post-quantum key exchange (`federation.post_quantum_kx`).
    pub post_quantum: bool,
}

impl TlsIdentity {
    pub fn load(cert_path: &Path, key_path: &Path) -> Result<TlsIdentity, NodeError> {
        let certificate_pem = std::fs::read_to_string(cert_path)
            .map_err(|e| NodeError::io(format!("cannot read {}", cert_path.display()), e))?;
        let certificate = CertificateDer::from_pem_slice(certificate_pem.as_bytes())
            .map_err(|e| NodeError::Tls(format!("{}: {e}", cert_path.display())))?;
        let key = PrivateKeyDer::from_pem_file(key_path)
            .map_err(|e| NodeError::Tls(format!("{}: {e}", key_path.display())))?;
        Ok(TlsIdentity {
            certificate_pem,
            certificate,
            key,
            post_quantum: true,
        })
    }

    pub fn fingerprint(&self) -> [u8; 32] {
        fingerprint(&self.certificate)
    }

    pub fn fingerprint_hex(&self) -> String {
        Hash(self.fingerprint()).to_hex()
    }
}

/// This node's TLS identities: the current one (on the card) and, while a
/// rotation's overlap lasts, the one it replaced, which the node still
/// presents so that peers that have not followed yet keep connecting.
#[derive(Debug)]
pub struct TlsKeys {
    set: std::sync::RwLock<TlsSet>,
}

#[derive(Clone, Debug)]
pub struct TlsSet {
    pub current: Arc<TlsIdentity>,
    /// The replaced identity, and the end of its overlap (Unix seconds).
    pub previous: Option<(Arc<TlsIdentity>, i64)>,
}

impl TlsKeys {
    pub fn new(current: TlsIdentity) -> TlsKeys {
        TlsKeys {
            set: std::sync::RwLock::new(TlsSet {
                current: Arc::new(current),
                previous: None,
            }),
        }
    }

    pub fn from_set(set: TlsSet) -> TlsKeys {
        TlsKeys {
            set: std::sync::RwLock::new(set),
        }
    }

    fn read(&self) -> TlsSet {
        // A poisoned lock only means a panic while swapping in the set.
        self.set
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub fn set(&self, set: TlsSet) {
        *self
            .set
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = set;
    }

    /// The identity on the card.
    pub fn current(&self) -> Arc<TlsIdentity> {
        self.read().current
    }

    /// The identity this node presents now: the replaced one while the
    /// overlap lasts, else the current one.
    pub fn presented(&self) -> Arc<TlsIdentity> {
        let set = self.read();
        match set.previous {
            Some((previous, until)) if jiff::Timestamp::now().as_second() <= until => previous,
            _ => set.current,
        }
    }
}

/// Presents [`TlsKeys::presented`] at every handshake of the federation
/// listener (a rotation takes effect without restarting it).
#[derive(Debug)]
struct Presented {
    keys: Arc<TlsKeys>,
    provider: Arc<CryptoProvider>,
}

impl rustls::server::ResolvesServerCert for Presented {
    fn resolve(
        &self,
        _hello: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        let identity = self.keys.presented();
        let key = self
            .provider
            .key_provider
            .load_private_key(identity.key.clone_key())
            .ok()?;
        Some(Arc::new(rustls::sign::CertifiedKey::new(
            vec![identity.certificate.clone()],
            key,
        )))
    }
}

pub fn fingerprint(cert: &CertificateDer<'_>) -> [u8; 32] {
    liaison_core::card::fingerprint(cert.as_ref())
}

/// A fresh ECDSA P-256 key and self-signed certificate: `(cert PEM, key PEM)`.
pub fn generate_self_signed(party: &PartyCode, name: &str) -> Result<(String, String), NodeError> {
    let err = |e: rcgen::Error| NodeError::Tls(format!("cannot create the TLS certificate: {e}"));
    let key = rcgen::KeyPair::generate().map_err(err)?;
    let mut params =
        rcgen::CertificateParams::new(vec![format!("{party}.liaison.invalid")]).map_err(err)?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params.distinguished_name.push(
        rcgen::DnType::OrganizationalUnitName,
        format!("liaison party {party}"),
    );
    let cert = params.self_signed(&key).map_err(err)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// ring for everything but the key exchange, which prefers the hybrid
/// post-quantum X25519MLKEM768 (draft-ietf-tls-ecdhe-mlkem; rustls's
/// implementation on aws-lc, the only one the TLS stack offers) and falls
/// back to X25519 and the NIST curves for peers that lack it: a recorded
/// session cannot be decrypted later by a quantum computer.
pub fn provider(post_quantum: bool) -> Arc<CryptoProvider> {
    let mut provider = rustls::crypto::ring::default_provider();
    if post_quantum {
        provider
            .kx_groups
            .insert(0, rustls::crypto::aws_lc_rs::kx_group::X25519MLKEM768);
    }
    Arc::new(provider)
}

/// Answers whether a certificate fingerprint belongs to a pinned peer.
/// Consulted at every handshake, so pins added while serving apply at once.
pub trait PinSource: Send + Sync + std::fmt::Debug {
    fn is_pinned(&self, fingerprint: &[u8; 32]) -> bool;
}

#[derive(Debug)]
struct PinnedClients {
    pins: Arc<dyn PinSource>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for PinnedClients {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, TlsError> {
        if self.pins.is_pinned(&fingerprint(end_entity)) {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(TlsError::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[derive(Debug)]
struct PinnedServer {
    /// The peer's pinned certificate, and one it rotated away from while
    /// the overlap lasts.
    fingerprints: Vec<[u8; 32]>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        if self.fingerprints.contains(&fingerprint(end_entity)) {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(TlsError::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Server side of the federation listener: TLS 1.3, client certificate
/// required and pinned.
pub fn server_config(
    keys: Arc<TlsKeys>,
    pins: Arc<dyn PinSource>,
) -> Result<ServerConfig, NodeError> {
    let current = keys.current();
    let provider = provider(current.post_quantum);
    // The key must load now, not at a peer's first handshake.
    provider
        .key_provider
        .load_private_key(current.key.clone_key())
        .map_err(|e| NodeError::Tls(format!("the TLS key cannot be used: {e}")))?;
    let verifier = Arc::new(PinnedClients {
        pins,
        algorithms: provider.signature_verification_algorithms,
    });
    let resolver = Arc::new(Presented {
        keys,
        provider: provider.clone(),
    });
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| NodeError::Tls(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Client side towards one peer: presents our certificate, accepts only the
/// peer's pinned one.
pub fn client_config(
    identity: &TlsIdentity,
    peer_fingerprints: &[[u8; 32]],
) -> Result<ClientConfig, NodeError> {
    let provider = provider(identity.post_quantum);
    let verifier = Arc::new(PinnedServer {
        fingerprints: peer_fingerprints.to_vec(),
        algorithms: provider.signature_verification_algorithms,
    });
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| NodeError::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_auth_cert(vec![identity.certificate.clone()], identity.key.clone_key())
        .map_err(|e| NodeError::Tls(format!("the TLS key does not fit the certificate: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// An HTTPS client that talks to exactly one pinned peer.
pub fn peer_http_client(
    identity: &TlsIdentity,
    peer_fingerprint: [u8; 32],
) -> Result<reqwest::Client, NodeError> {
    peer_http_client_any(identity, &[peer_fingerprint])
}

/// An HTTPS client that talks to one peer presenting any of these
/// certificates (its pinned one and, during a rotation's overlap, the one
/// it replaced).
pub fn peer_http_client_any(
    identity: &TlsIdentity,
    peer_fingerprints: &[[u8; 32]],
) -> Result<reqwest::Client, NodeError> {
    reqwest::Client::builder()
        .tls_backend_preconfigured(client_config(identity, peer_fingerprints)?)
        .connect_timeout(std::time::Duration::from_secs(10))
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .map_err(|e| NodeError::Tls(format!("cannot build the HTTPS client: {e}")))
}

/// Why a peer's answer was not read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The connection failed while reading.
    Transport(String),
    /// It was larger than the bound.
    TooLarge(usize),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Transport(e) => write!(f, "{e}"),
            ReadError::TooLarge(max) => write!(f, "answered more than {max} bytes"),
        }
    }
}

/// A peer's answer read whole, but never more than `max` bytes of it: a
/// peer cannot make this node buffer more.
pub(crate) async fn read_bounded(
    mut response: reqwest::Response,
    max: usize,
) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| ReadError::Transport(e.to_string()))?
    {
        if body.len() + chunk.len() > max {
            return Err(ReadError::TooLarge(max));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
