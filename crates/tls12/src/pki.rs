//! Certificates made at run time (cargo feature `pki`): a CA, a server certificate and a
//! client certificate, for tests, benches and the CLI's zero-setup server. Keys are ECDSA
//! P-256 or P-384, generated fresh, or RSA-2048 from a throwaway test key shipped in
//! `tests/data/certs/` (ring, rcgen's backend here, cannot generate RSA keys).

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::msgs::CertificateDer;

/// The key type of a generated certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// ECDSA over P-256 (signs with ecdsa_secp256r1_sha256).
    EcdsaP256,
    /// ECDSA over P-384 (signs with ecdsa_secp384r1_sha384).
    EcdsaP384,
    /// RSA-2048, from the committed test key.
    Rsa2048,
}

const RSA_TEST_KEY: &str = include_str!("../tests/data/certs/rsa2048.pkcs8.pem");

/// A certificate with its key.
#[derive(Clone, Debug)]
pub struct Identity {
    /// The chain, end entity first (the CA is not included).
    pub chain: Vec<CertificateDer>,
    /// The end-entity key, PKCS#8 DER.
    pub key_pkcs8: Vec<u8>,
    /// The end-entity certificate, PEM.
    pub cert_pem: String,
    /// The end-entity key, PEM.
    pub key_pem: String,
}

impl Identity {
    /// The key as rustls-pki-types sees it.
    pub fn private_key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_pkcs8.clone()))
    }
}

/// A CA and what it issued.
#[derive(Clone, Debug)]
pub struct TestPki {
    /// The CA certificate, DER.
    pub ca: CertificateDer,
    /// The CA certificate, PEM.
    pub ca_pem: String,
    /// A server certificate for the given names.
    pub server: Identity,
    /// A client certificate (client-auth extended key usage).
    pub client: Identity,
}

/// Why generation failed (a bug or an unsupported key kind, never a peer's doing).
#[derive(Debug)]
pub struct PkiError(pub String);

impl std::fmt::Display for PkiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "certificate generation failed: {}", self.0)
    }
}

impl std::error::Error for PkiError {}

fn err(e: impl std::fmt::Display) -> PkiError {
    PkiError(e.to_string())
}

fn key_pair(kind: KeyKind) -> Result<KeyPair, PkiError> {
    match kind {
        KeyKind::EcdsaP256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(err),
        KeyKind::EcdsaP384 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).map_err(err),
        KeyKind::Rsa2048 => {
            KeyPair::from_pem_and_sign_algo(RSA_TEST_KEY, &rcgen::PKCS_RSA_SHA256).map_err(err)
        }
    }
}

impl TestPki {
    /// A CA (ECDSA P-256), a server certificate of `server_kind` for `names` (DNS names or
    /// IP addresses), and an ECDSA P-256 client certificate.
    pub fn generate(server_kind: KeyKind, names: &[&str]) -> Result<Self, PkiError> {
        let ca_key = key_pair(KeyKind::EcdsaP256)?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        // A name of its own per CA: chains are matched to issuers by name first.
        let tag = crate::msgs::base::hex(&ca_key.public_key_raw()[1..7]);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, format!("tls12 test CA {tag}"));
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca_params.self_signed(&ca_key).map_err(err)?;
        let issuer = Issuer::new(ca_params, ca_key);

        let leaf = |kind: KeyKind, names: Vec<String>, eku: ExtendedKeyUsagePurpose, cn: &str| {
            let key = key_pair(kind)?;
            let mut params = CertificateParams::new(names).map_err(err)?;
            params.distinguished_name.push(DnType::CommonName, cn);
            params.extended_key_usages = vec![eku];
            let cert = params.signed_by(&key, &issuer).map_err(err)?;
            Ok::<_, PkiError>(Identity {
                chain: vec![CertificateDer(cert.der().to_vec())],
                key_pkcs8: key.serialize_der(),
                cert_pem: cert.pem(),
                key_pem: key.serialize_pem(),
            })
        };
        let names = names.iter().map(|n| n.to_string()).collect();
        let server = leaf(
            server_kind,
            names,
            ExtendedKeyUsagePurpose::ServerAuth,
            "tls12 test server",
        )?;
        let client = leaf(
            KeyKind::EcdsaP256,
            Vec::new(),
            ExtendedKeyUsagePurpose::ClientAuth,
            "tls12 test client",
        )?;
        Ok(Self {
            ca: CertificateDer(ca_cert.der().to_vec()),
            ca_pem: ca_cert.pem(),
            server,
            client,
        })
    }
}
