//! The crypto floor of a full ECDHE handshake: the public-key operations that neither
//! side can avoid, done with ring directly on the scenario's own keys and certificates.
//!
//! - two X25519 key generations (each side's ephemeral key and its public encoding),
//! - two agreements,
//! - one signature (the server's ServerKeyExchange),
//! - the verification of the CA-signed chain (one signature: the CA's over the server
//!   certificate; rcgen's CA signs with ECDSA P-256 and SHA-256),
//! - the verification of ServerKeyExchange's signature.
//!
//! Hashing, the PRF, record protection, parsing and allocation are left out: they are
//! what an implementation adds on top, and what the ratio to the floor measures.

use ring::rand::SystemRandom;
use ring::signature::{self, KeyPair};
use ring::{agreement, signature::UnparsedPublicKey};
use tls12::pki::KeyKind;

use crate::fixture::Fixture;

/// The server's signing key, as ring loads it.
enum Signer {
    Ecdsa(signature::EcdsaKeyPair),
    Rsa(signature::RsaKeyPair),
}

/// The floor's inputs, prepared once.
pub struct Floor {
    rng: SystemRandom,
    signer: Signer,
    /// The verification algorithm of the server's ServerKeyExchange signature.
    ske_alg: &'static dyn signature::VerificationAlgorithm,
    server_public: Vec<u8>,
    /// The CA's public key (an uncompressed P-256 point).
    ca_public: Vec<u8>,
    /// The server certificate's `tbsCertificate` and the CA's signature over it.
    tbs: Vec<u8>,
    cert_signature: Vec<u8>,
    /// What ServerKeyExchange signs: both randoms and the ECDHE parameters (RFC 8422
    /// §5.4): 32 + 32 + 1 + 2 + 1 + 32 bytes for X25519.
    params: Vec<u8>,
}

impl std::fmt::Debug for Floor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Floor").finish_non_exhaustive()
    }
}

impl Floor {
    /// The floor of a full handshake with `fixture`'s certificate. RSA keys sign with
    /// RSA-PSS-SHA512 (rsa_pss_rsae_sha512), the scheme both tls12 and rustls pick first.
    pub fn new(fixture: &Fixture) -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = &fixture.pki.server.key_pkcs8;
        let (signer, ske_alg, server_public): (
            _,
            &'static dyn signature::VerificationAlgorithm,
            _,
        ) = match fixture.kind {
            KeyKind::Rsa2048 => {
                let key = signature::RsaKeyPair::from_pkcs8(pkcs8).expect("RSA key");
                let public = key.public().as_ref().to_vec();
                (
                    Signer::Rsa(key),
                    &signature::RSA_PSS_2048_8192_SHA512,
                    public,
                )
            }
            KeyKind::EcdsaP256 => {
                let alg = &signature::ECDSA_P256_SHA256_ASN1_SIGNING;
                let key = signature::EcdsaKeyPair::from_pkcs8(alg, pkcs8, &rng).expect("key");
                let public = key.public_key().as_ref().to_vec();
                (
                    Signer::Ecdsa(key),
                    &signature::ECDSA_P256_SHA256_ASN1,
                    public,
                )
            }
            KeyKind::EcdsaP384 => {
                let alg = &signature::ECDSA_P384_SHA384_ASN1_SIGNING;
                let key = signature::EcdsaKeyPair::from_pkcs8(alg, pkcs8, &rng).expect("key");
                let public = key.public_key().as_ref().to_vec();
                (
                    Signer::Ecdsa(key),
                    &signature::ECDSA_P384_SHA384_ASN1,
                    public,
                )
            }
        };
        let cert = der::Certificate::parse(&fixture.pki.server.chain[0].0).expect("server cert");
        let ca = der::Certificate::parse(&fixture.pki.ca.0).expect("CA cert");
        let floor = Self {
            rng,
            signer,
            ske_alg,
            server_public,
            ca_public: ca.public_key.to_vec(),
            tbs: cert.tbs.to_vec(),
            cert_signature: cert.signature.to_vec(),
            params: vec![0x42; 32 + 32 + 4 + 32],
        };
        floor.run();
        floor
    }

    /// One handshake's worth of unavoidable public-key operations.
    pub fn run(&self) {
        let x25519 = &agreement::X25519;
        let client = agreement::EphemeralPrivateKey::generate(x25519, &self.rng).expect("kx");
        let client_public = client.compute_public_key().expect("public key");
        let server = agreement::EphemeralPrivateKey::generate(x25519, &self.rng).expect("kx");
        let server_public = server.compute_public_key().expect("public key");
        let signature = self.sign();
        // The client: chain, ServerKeyExchange, then its agreement.
        UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_ASN1, &self.ca_public)
            .verify(&self.tbs, &self.cert_signature)
            .expect("the CA signed the certificate");
        UnparsedPublicKey::new(self.ske_alg, &self.server_public)
            .verify(&self.params, &signature)
            .expect("ServerKeyExchange verifies");
        let peer = agreement::UnparsedPublicKey::new(x25519, server_public.as_ref());
        let a = agreement::agree_ephemeral(client, &peer, |k| k[0]).expect("agreement");
        // The server's agreement.
        let peer = agreement::UnparsedPublicKey::new(x25519, client_public.as_ref());
        let b = agreement::agree_ephemeral(server, &peer, |k| k[0]).expect("agreement");
        assert_eq!(a, b);
    }

    fn sign(&self) -> Vec<u8> {
        match &self.signer {
            Signer::Ecdsa(key) => key
                .sign(&self.rng, &self.params)
                .expect("sign")
                .as_ref()
                .to_vec(),
            Signer::Rsa(key) => {
                let mut sig = vec![0; key.public().modulus_len()];
                key.sign(
                    &signature::RSA_PSS_SHA512,
                    &self.rng,
                    &self.params,
                    &mut sig,
                )
                .expect("sign");
                sig
            }
        }
    }
}

/// Just enough DER to take a certificate apart (RFC 5280 §4.1).
pub mod der {
    /// One TLV and what follows it.
    struct Tlv<'a> {
        tag: u8,
        /// The whole encoding: tag, length and contents.
        whole: &'a [u8],
        contents: &'a [u8],
        rest: &'a [u8],
    }

    fn tlv(input: &[u8]) -> Option<Tlv<'_>> {
        let (&tag, rest) = input.split_first()?;
        let (&first, rest) = rest.split_first()?;
        let (len, rest) = match first {
            n if n < 0x80 => (n as usize, rest),
            0x81..=0x83 => {
                let k = (first & 0x7f) as usize;
                let (bytes, rest) = (rest.get(..k)?, rest.get(k..)?);
                (
                    bytes.iter().fold(0usize, |acc, b| acc << 8 | *b as usize),
                    rest,
                )
            }
            _ => return None,
        };
        let header = input.len() - rest.len();
        Some(Tlv {
            tag,
            whole: input.get(..header + len)?,
            contents: rest.get(..len)?,
            rest: rest.get(len..)?,
        })
    }

    /// The TLV at the start of `input` if it has `tag`.
    fn expect(input: &[u8], tag: u8) -> Option<Tlv<'_>> {
        tlv(input).filter(|t| t.tag == tag)
    }

    /// The parts of a certificate the floor needs.
    #[derive(Debug)]
    pub struct Certificate<'a> {
        /// `tbsCertificate`, its whole encoding: what the issuer signed.
        pub tbs: &'a [u8],
        /// The issuer's signature (the BIT STRING's bytes).
        pub signature: &'a [u8],
        /// The subject's public key (the subjectPublicKey BIT STRING's bytes).
        pub public_key: &'a [u8],
    }

    impl<'a> Certificate<'a> {
        /// Takes `der` apart; `None` if it is not a certificate.
        pub fn parse(der: &'a [u8]) -> Option<Self> {
            const SEQUENCE: u8 = 0x30;
            const BIT_STRING: u8 = 0x03;
            let cert = expect(der, SEQUENCE)?.contents;
            let tbs = expect(cert, SEQUENCE)?;
            let algorithm = tlv(tbs.rest)?;
            let signature = expect(algorithm.rest, BIT_STRING)?.contents;
            // version [0], serialNumber, signature, issuer, validity, subject, then
            // subjectPublicKeyInfo.
            let mut fields = tbs.contents;
            if fields.first() == Some(&0xa0) {
                fields = tlv(fields)?.rest;
            }
            for _ in 0..5 {
                fields = tlv(fields)?.rest;
            }
            let spki = expect(fields, SEQUENCE)?.contents;
            let public_key = expect(tlv(spki)?.rest, BIT_STRING)?.contents;
            // A BIT STRING's first byte counts unused bits: zero for keys and signatures.
            Some(Self {
                tbs: tbs.whole,
                signature: signature.get(1..)?,
                public_key: public_key.get(1..)?,
            })
        }
    }
}
