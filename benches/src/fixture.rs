//! Certificates and the configurations of both libraries for one scenario: the same
//! certificate chain and key, one cipher suite, one key-exchange group (X25519),
//! resumption by session ID only (no tickets), a session cache of [`CACHE_SIZE`] on
//! each server.

use std::sync::Arc;

use rustls::client::Resumption;
use rustls::crypto::CryptoProvider;
use rustls::server::ServerSessionMemoryCache;
use rustls_pki_types::CertificateDer;
use tls12::crypto::ring::{RingProvider, RingRoots, RingSigningKey};
use tls12::handshake::client::ClientConfig;
use tls12::handshake::server::ServerConfig;
use tls12::msgs::enums::{CipherSuite, NamedGroup};
use tls12::pki::{KeyKind, TestPki};
use tls12::suites::Suite;

use crate::CACHE_SIZE;

/// A test PKI: a CA (ECDSA P-256) and a server certificate of `kind` for `localhost`.
#[derive(Clone, Debug)]
pub struct Fixture {
    /// The server key's type.
    pub kind: KeyKind,
    /// The CA and what it issued.
    pub pki: TestPki,
}

impl Fixture {
    /// A fresh CA and server certificate.
    pub fn new(kind: KeyKind) -> Self {
        let pki = TestPki::generate(kind, &[crate::SERVER_NAME]).expect("test PKI");
        Self { kind, pki }
    }

    /// The suite a full handshake with this key uses for `aead`.
    pub fn suite(&self, aead: Aead) -> CipherSuite {
        use CipherSuite::*;
        match (self.kind, aead) {
            (KeyKind::Rsa2048, Aead::Aes128Gcm) => TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            (KeyKind::Rsa2048, Aead::ChaCha20Poly1305) => {
                TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
            }
            (_, Aead::Aes128Gcm) => TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            (_, Aead::ChaCha20Poly1305) => TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        }
    }

    /// Our server: `suite` only, X25519 only, sessions cached.
    pub fn tls12_server(&self, suite: CipherSuite) -> ServerConfig<RingProvider> {
        let key =
            RingSigningKey::from_der(&self.pki.server.private_key()).expect("server key loads");
        let mut config = ServerConfig::new(self.pki.server.chain.clone(), key);
        config.suites = vec![Suite::lookup(suite).expect("suite we support")];
        config.groups = vec![NamedGroup::X25519];
        config.resumption = true;
        // Like rustls, which has no flight trace: an application that prints none.
        config.flight_trace = false;
        config
    }

    /// Our client: `suite` only. It offers X25519 and also lists secp256r1, which RFC 8422
    /// §5.1.1 requires for a P-256 server certificate; the server picks X25519.
    pub fn tls12_client(&self, suite: CipherSuite) -> ClientConfig<RingProvider> {
        let roots = RingRoots::from_der_certs(std::slice::from_ref(&self.pki.ca)).expect("CA");
        let mut config = ClientConfig::new(roots);
        config.suites = vec![Suite::lookup(suite).expect("suite we support")];
        config.groups = vec![NamedGroup::X25519, NamedGroup::secp256r1];
        config.flight_trace = false;
        config
    }

    /// rustls' server: TLS 1.2 only, `suite` and X25519 only, session-ID cache of
    /// [`CACHE_SIZE`], no ticketer (the builder's default never produces tickets).
    pub fn rustls_server(&self, suite: CipherSuite) -> rustls::ServerConfig {
        let chain = self
            .pki
            .server
            .chain
            .iter()
            .map(|c| CertificateDer::from(c.0.clone()))
            .collect();
        let mut config = rustls::ServerConfig::builder_with_provider(rustls_provider(suite))
            .with_protocol_versions(&[&rustls::version::TLS12])
            .expect("TLS 1.2 with this provider")
            .with_no_client_auth()
            .with_single_cert(chain, self.pki.server.private_key())
            .expect("rustls takes the certificate");
        config.session_storage = ServerSessionMemoryCache::new(CACHE_SIZE);
        config
    }

    /// rustls' client: TLS 1.2 only, `suite` and X25519 only; with `resume`, an
    /// in-memory session store that resumes by session ID only, else no resumption.
    pub fn rustls_client(&self, suite: CipherSuite, resume: bool) -> rustls::ClientConfig {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from(self.pki.ca.0.clone()))
            .expect("CA certificate");
        let mut config = rustls::ClientConfig::builder_with_provider(rustls_provider(suite))
            .with_protocol_versions(&[&rustls::version::TLS12])
            .expect("TLS 1.2 with this provider")
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.resumption = match resume {
            true => Resumption::in_memory_sessions(CACHE_SIZE)
                .tls12_resumption(rustls::client::Tls12Resumption::SessionIdOnly),
            false => Resumption::disabled(),
        };
        config
    }
}

/// The AEAD of a scenario's suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aead {
    /// AES-128-GCM.
    Aes128Gcm,
    /// ChaCha20-Poly1305.
    ChaCha20Poly1305,
}

/// rustls' ring provider cut down to `suite` and X25519.
fn rustls_provider(suite: CipherSuite) -> Arc<CryptoProvider> {
    let mut provider = rustls::crypto::ring::default_provider();
    provider
        .cipher_suites
        .retain(|s| u16::from(s.suite()) == suite.get());
    assert_eq!(provider.cipher_suites.len(), 1, "rustls lacks {suite:?}");
    provider.kx_groups = vec![rustls::crypto::ring::kx_group::X25519];
    Arc::new(provider)
}

/// The server name rustls' client connects to.
pub fn rustls_server_name() -> rustls_pki_types::ServerName<'static> {
    rustls_pki_types::ServerName::try_from(crate::SERVER_NAME).expect("a DNS name")
}
