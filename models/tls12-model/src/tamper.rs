//! The attacker's field edits: it rewrites one field of a plaintext hello, key exchange
//! or certificate request in flight (it computes no secret), and the receiving end must
//! answer as the RFCs say — at once, not only when Finished fails to verify.
//!
//! Each edit names the message it applies to and what the receiver must do with it:
//! refuse it on arrival with a given alert, choose within what the edited hello offers,
//! or (a certificate request for a type the client has no certificate of) answer
//! without a certificate.

use serde::Serialize;
use tls12::msgs::enums::{
    AlertDescription, CipherSuite, ClientCertificateType, Compression, ECPointFormat,
    HandshakeType, NamedGroup, ProtocolVersion, ServerNameType, SignatureScheme,
};
use tls12::msgs::{
    ClientExtension, HandshakeMessage, HandshakePayload, KeyExchange, ProtocolName,
    ServerExtension, ServerKeyExchange, ServerName,
};

/// One field edit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Tamper {
    /// ClientHello offers TLS 1.1 at most.
    ClientVersion,
    /// ClientHello's ec_point_formats lacks uncompressed.
    ClientPointFormats,
    /// ClientHello asks for `server.example.` (a trailing dot is not a host_name).
    TrailingDotName,
    /// ClientHello asks for no name (the model's server accepts only hellos that do).
    NoServerName,
    /// A full-handshake ClientHello offers X25519 only: the server's ECDSA certificate
    /// (P-256 or P-384) cannot be used (RFC 8422 §5.1.1).
    GroupsWithoutCertificateCurve,
    /// A full-handshake ClientHello accepts RSA-PSS signatures only: the server's ECDSA
    /// key cannot sign for it.
    SchemesWithoutEcdsa,
    /// A full-handshake ClientHello offers secp256r1 and secp384r1 only: the server
    /// must key-exchange in secp256r1 although it prefers X25519.
    NistGroupsOnly,
    /// ServerHello picks TLS 1.1.
    ServerVersion,
    /// ServerHello picks a suite the client did not offer.
    ServerSuite,
    /// ServerHello picks deflate compression.
    ServerCompression,
    /// ServerHello's renegotiation_info is not empty on an initial handshake.
    ServerRenegotiationInfo,
    /// ServerHello's ec_point_formats lacks uncompressed.
    ServerPointFormats,
    /// ServerHello carries ALPN, which the client did not offer.
    ServerAlpn,
    /// ServerKeyExchange in secp521r1, which the client did not offer.
    KeyExchangeGroup,
    /// ServerKeyExchange signed with RSA PKCS#1 under an ECDSA suite.
    KeyExchangeScheme,
    /// CertificateRequest asks for RSA certificates only (the client's is ECDSA).
    RequestRsaOnly,
}

/// What the receiver of an edited message must do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Fail on that record, sending this alert.
    Refuse(AlertDescription),
    /// Go on, with its ServerKeyExchange in this group.
    Group(NamedGroup),
    /// Go on, answering with an empty Certificate.
    NoCertificate,
}

impl Tamper {
    /// Every edit.
    pub const ALL: [Tamper; 16] = [
        Tamper::ClientVersion,
        Tamper::ClientPointFormats,
        Tamper::TrailingDotName,
        Tamper::NoServerName,
        Tamper::GroupsWithoutCertificateCurve,
        Tamper::SchemesWithoutEcdsa,
        Tamper::NistGroupsOnly,
        Tamper::ServerVersion,
        Tamper::ServerSuite,
        Tamper::ServerCompression,
        Tamper::ServerRenegotiationInfo,
        Tamper::ServerPointFormats,
        Tamper::ServerAlpn,
        Tamper::KeyExchangeGroup,
        Tamper::KeyExchangeScheme,
        Tamper::RequestRsaOnly,
    ];

    /// The message the edit applies to.
    pub fn target(self) -> HandshakeType {
        use Tamper::*;
        match self {
            ClientVersion
            | ClientPointFormats
            | TrailingDotName
            | NoServerName
            | GroupsWithoutCertificateCurve
            | SchemesWithoutEcdsa
            | NistGroupsOnly => HandshakeType::ClientHello,
            ServerVersion
            | ServerSuite
            | ServerCompression
            | ServerRenegotiationInfo
            | ServerPointFormats
            | ServerAlpn => HandshakeType::ServerHello,
            KeyExchangeGroup | KeyExchangeScheme => HandshakeType::ServerKeyExchange,
            RequestRsaOnly => HandshakeType::CertificateRequest,
        }
    }

    /// What the receiver must do (RFC 5246 §7.4.1.2-§7.4.4, RFC 8422 §5.1, RFC 6066 §3,
    /// RFC 5746 §3.4, RFC 7301 §3.1).
    pub fn expect(self) -> Expect {
        use AlertDescription as A;
        use Tamper::*;
        match self {
            ClientVersion | ServerVersion => Expect::Refuse(A::ProtocolVersion),
            ClientPointFormats | TrailingDotName | ServerSuite | ServerCompression
            | ServerPointFormats | KeyExchangeGroup | KeyExchangeScheme => {
                Expect::Refuse(A::IllegalParameter)
            }
            NoServerName
            | GroupsWithoutCertificateCurve
            | SchemesWithoutEcdsa
            | ServerRenegotiationInfo => Expect::Refuse(A::HandshakeFailure),
            ServerAlpn => Expect::Refuse(A::UnsupportedExtension),
            NistGroupsOnly => Expect::Group(NamedGroup::secp256r1),
            RequestRsaOnly => Expect::NoCertificate,
        }
    }

    /// Applies the edit to an encoded handshake message; `None` when it does not apply.
    pub fn apply(self, encoded: &[u8]) -> Option<Vec<u8>> {
        use Tamper::*;
        if HandshakeType::from(*encoded.first()?) != self.target() {
            return None;
        }
        let mut msg = HandshakeMessage::read_bytes(encoded, KeyExchange::Ecdhe).ok()?;
        match (self, &mut msg.payload) {
            (ClientVersion, HandshakePayload::ClientHello(ch)) => {
                ch.client_version = ProtocolVersion::TLSv1_1
            }
            (ClientPointFormats, HandshakePayload::ClientHello(ch)) => replace(
                ch.extensions.as_mut()?,
                |e| matches!(e, ClientExtension::EcPointFormats(_)),
                ClientExtension::EcPointFormats(vec![ECPointFormat::ANSIX962CompressedPrime]),
            )?,
            (TrailingDotName, HandshakePayload::ClientHello(ch)) => replace(
                ch.extensions.as_mut()?,
                |e| matches!(e, ClientExtension::ServerName(_)),
                ClientExtension::ServerName(vec![ServerName {
                    typ: ServerNameType::HostName,
                    name: b"server.example.".to_vec(),
                }]),
            )?,
            (NoServerName, HandshakePayload::ClientHello(ch)) => {
                let exts = ch.extensions.as_mut()?;
                let before = exts.len();
                exts.retain(|e| !matches!(e, ClientExtension::ServerName(_)));
                if exts.len() == before {
                    return None;
                }
            }
            // The next three change what a full handshake negotiates; a resumption
            // needs no group or signature.
            (GroupsWithoutCertificateCurve | NistGroupsOnly, HandshakePayload::ClientHello(ch))
                if ch.session_id.is_empty() =>
            {
                let groups = match self {
                    NistGroupsOnly => vec![NamedGroup::secp256r1, NamedGroup::secp384r1],
                    _ => vec![NamedGroup::X25519],
                };
                replace(
                    ch.extensions.as_mut()?,
                    |e| matches!(e, ClientExtension::SupportedGroups(_)),
                    ClientExtension::SupportedGroups(groups),
                )?
            }
            (SchemesWithoutEcdsa, HandshakePayload::ClientHello(ch))
                if ch.session_id.is_empty() =>
            {
                replace(
                    ch.extensions.as_mut()?,
                    |e| matches!(e, ClientExtension::SignatureAlgorithms(_)),
                    ClientExtension::SignatureAlgorithms(vec![SignatureScheme::RSA_PSS_SHA256]),
                )?
            }
            (ServerVersion, HandshakePayload::ServerHello(sh)) => {
                sh.server_version = ProtocolVersion::TLSv1_1
            }
            (ServerSuite, HandshakePayload::ServerHello(sh)) => {
                sh.cipher_suite = CipherSuite::TLS_RSA_WITH_AES_128_GCM_SHA256
            }
            (ServerCompression, HandshakePayload::ServerHello(sh)) => {
                sh.compression_method = Compression::Deflate
            }
            (ServerRenegotiationInfo, HandshakePayload::ServerHello(sh)) => replace(
                sh.extensions.as_mut()?,
                |e| matches!(e, ServerExtension::RenegotiationInfo(_)),
                ServerExtension::RenegotiationInfo(vec![0; 12]),
            )?,
            (ServerPointFormats, HandshakePayload::ServerHello(sh)) => {
                let exts = sh.extensions.get_or_insert_with(Vec::new);
                exts.retain(|e| !matches!(e, ServerExtension::EcPointFormats(_)));
                exts.push(ServerExtension::EcPointFormats(vec![
                    ECPointFormat::ANSIX962CompressedPrime,
                ]));
            }
            // Only where the client offered no ALPN (else the server already chose).
            (ServerAlpn, HandshakePayload::ServerHello(sh)) => {
                let exts = sh.extensions.get_or_insert_with(Vec::new);
                if exts.iter().any(|e| matches!(e, ServerExtension::Alpn(_))) {
                    return None;
                }
                exts.push(ServerExtension::Alpn(ProtocolName(b"h2".to_vec())))
            }
            (
                KeyExchangeGroup,
                HandshakePayload::ServerKeyExchange(ServerKeyExchange::Ecdhe { params, .. }),
            ) => params.group = NamedGroup::secp521r1,
            (
                KeyExchangeScheme,
                HandshakePayload::ServerKeyExchange(ServerKeyExchange::Ecdhe { signed, .. }),
            ) => signed.scheme = SignatureScheme::RSA_PKCS1_SHA256,
            (RequestRsaOnly, HandshakePayload::CertificateRequest(cr)) => {
                cr.certificate_types = vec![ClientCertificateType::RSASign]
            }
            _ => return None,
        }
        Some(msg.get_encoding())
    }
}

/// Puts `with` in place of the first extension `which` picks; `None` when there is none.
fn replace<E>(exts: &mut [E], which: impl Fn(&E) -> bool, with: E) -> Option<()> {
    let slot = exts.iter_mut().find(|e| which(e))?;
    *slot = with;
    Some(())
}
