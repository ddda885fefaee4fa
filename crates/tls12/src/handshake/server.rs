//! The server state machine (RFC 5246 §7.3): `expect_client_hello` → (full)
//! `expect_certificate`? → `expect_client_key_exchange` → `expect_certificate_verify`? →
//! `expect_change_cipher_spec` → `expect_finished` → `traffic`; or (resumed, after
//! sending ServerHello, ChangeCipherSpec, Finished) `expect_change_cipher_spec` →
//! `expect_finished` → `traffic`.

use crate::crypto::{CryptoError, Provider, Secret};
use crate::error::Error;
use crate::handshake::{
    finished, install_pending_ciphers, master_secret, message_name, read_finished, signed_params,
    ClientAuth, Context, Event, FinishedVerified, HandshakeSummary, Phase, Transcript,
};
use crate::msgs::enums::{
    AlertDescription, CipherSuite, ClientCertificateType, Compression, ECPointFormat,
    HandshakeType, NamedGroup, ProtocolVersion, ServerNameType, SignatureScheme,
};
use crate::msgs::{
    CertificateChain, CertificateDer, CertificateRequest, ClientExtension, ClientHello,
    ClientKeyExchange, DigitallySigned, EcdheParams, HandshakeMessage, HandshakePayload,
    KeyExchange, ProtocolName, Random, ServerExtension, ServerHello, ServerKeyExchange, SessionId,
};
use crate::psk::{premaster_secret, ServerPsk};
use crate::record::Incoming;
use crate::session::{Session, SessionCache};
use crate::suites::{Suite, ALL_SUITES, PSK_SUITES};

/// A plain function the server consults at a decision point. Configurations compare
/// hooks by address: two are equal when they name the same function.
pub struct Hook<T>(pub fn(&T) -> bool);

impl<T> Clone for Hook<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Hook<T> {}

impl<T> PartialEq for Hook<T> {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::fn_addr_eq(self.0, other.0)
    }
}

impl<T> Eq for Hook<T> {}

impl<T> std::hash::Hash for Hook<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (self.0 as usize).hash(state);
    }
}

impl<T> std::fmt::Debug for Hook<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hook({:#x})", self.0 as usize)
    }
}

/// May refuse a ClientHello (the real-world form of the spec's "the server ignores the
/// ClientHello"): `false` answers with handshake_failure.
pub type AcceptHook = Hook<ClientHello>;

/// Says whether the server is willing to resume a cached session.
pub type ResumeHook = Hook<Session>;

/// How a server behaves.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ServerConfig<P: Provider> {
    /// The server's certificate chain, end entity first; empty for a server without a
    /// certificate (pre-shared keys only).
    pub cert_chain: Vec<CertificateDer>,
    /// The key of the end-entity certificate; `None` without a certificate.
    pub signing_key: Option<P::SigningKey>,
    /// Pre-shared keys (RFC 4279, RFC 5489), for the PSK suites among `suites`.
    pub psk: Option<ServerPsk>,
    /// The suites the server will negotiate (in its order of preference, which rules
    /// only with [`ServerConfig::prefer_server_order`]).
    pub suites: Vec<Suite>,
    /// The ECDHE groups the server will use (its order rules likewise).
    pub groups: Vec<NamedGroup>,
    /// Choose suite and group by the server's order instead of the client's. Off by
    /// default: OpenSSL and rustls follow the client's order unless told otherwise
    /// (`SSL_OP_CIPHER_SERVER_PREFERENCE`, `ignore_client_order`).
    pub prefer_server_order: bool,
    /// Whether and how clients authenticate.
    pub client_auth: ClientAuth,
    /// The roots client certificates must chain to.
    pub client_roots: Option<P::Roots>,
    /// Whether the server gives sessions an ID and resumes them at all.
    pub resumption: bool,
    /// Seconds a cached session may be resumed.
    pub session_lifetime: u64,
    /// May refuse a ClientHello.
    pub accept: Option<AcceptHook>,
    /// May refuse to resume a session found in the cache.
    pub willing_to_resume: Option<ResumeHook>,
    /// Whether connections report their flights as [`Event::Flight`] (on by default;
    /// off saves a few strings per flight when nobody prints them).
    pub flight_trace: bool,
    /// Application protocols (RFC 7301) in the server's order of preference; empty
    /// means the server does not take part in ALPN.
    pub alpn: Vec<Vec<u8>>,
    /// Whether to issue and accept session tickets (RFC 5077), which the server does when
    /// its session cache also holds ticket keys ([`SessionCache::tickets`]).
    pub tickets: bool,
}

impl<P: Provider> ServerConfig<P> {
    /// A server with every suite and group, no client auth, resumption on for a day.
    pub fn new(cert_chain: Vec<CertificateDer>, signing_key: P::SigningKey) -> Self {
        Self::base(cert_chain, Some(signing_key))
    }

    fn base(cert_chain: Vec<CertificateDer>, signing_key: Option<P::SigningKey>) -> Self {
        Self {
            cert_chain,
            signing_key,
            psk: None,
            suites: ALL_SUITES.to_vec(),
            groups: vec![
                NamedGroup::X25519,
                NamedGroup::secp256r1,
                NamedGroup::secp384r1,
            ],
            prefer_server_order: false,
            client_auth: ClientAuth::None,
            client_roots: None,
            resumption: true,
            session_lifetime: 24 * 3600,
            accept: None,
            willing_to_resume: None,
            flight_trace: true,
            alpn: Vec::new(),
            tickets: true,
        }
    }

    /// A server without a certificate: only the PSK suites, keys from `psk`.
    pub fn psk_only(psk: ServerPsk) -> Self {
        Self {
            suites: PSK_SUITES.to_vec(),
            psk: Some(psk),
            ..Self::base(Vec::new(), None)
        }
    }

    /// Adds pre-shared keys beside the certificate: the PSK suites come after the
    /// certificate suites in our order.
    pub fn with_psk(mut self, psk: ServerPsk) -> Self {
        for suite in PSK_SUITES {
            if !self.suites.contains(&suite) {
                self.suites.push(suite);
            }
        }
        self.psk = Some(psk);
        self
    }
}

/// The negotiated parameters and transcript of a server handshake in progress.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ServerHandshake<P: Provider> {
    suite: Suite,
    client_random: Random,
    server_random: Random,
    session_id: SessionId,
    extended_master_secret: bool,
    secure_renegotiation: bool,
    server_name: Option<String>,
    group: Option<NamedGroup>,
    alpn: Option<Vec<u8>>,
    /// The client's PSK identity, once its ClientKeyExchange named one.
    psk_identity: Option<Vec<u8>>,
    /// Whether a NewSessionTicket goes before our ChangeCipherSpec (RFC 5077 §3.3).
    issue_ticket: bool,
    transcript: Transcript<P>,
}

/// The server's states, each named after what it expects next.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ServerState<P: Provider> {
    /// Waiting for a ClientHello.
    ExpectClientHello,
    /// CertificateRequest sent: waiting for the client's Certificate.
    ExpectCertificate {
        /// The handshake so far.
        hs: Box<ServerHandshake<P>>,
        /// Our ECDHE private key (none for plain PSK).
        kx: Option<P::KxSecret>,
    },
    /// Waiting for ClientKeyExchange.
    ExpectClientKeyExchange {
        /// The handshake so far.
        hs: Box<ServerHandshake<P>>,
        /// Our ECDHE private key (none for plain PSK).
        kx: Option<P::KxSecret>,
        /// The client's verified chain, if it sent one.
        client_chain: Vec<CertificateDer>,
    },
    /// The client sent a certificate: waiting for its CertificateVerify.
    ExpectCertificateVerify {
        /// The handshake so far.
        hs: Box<ServerHandshake<P>>,
        /// The master secret.
        master: Secret,
        /// The client's verified chain.
        client_chain: Vec<CertificateDer>,
    },
    /// Waiting for the client's ChangeCipherSpec.
    ExpectChangeCipherSpec {
        /// The handshake so far.
        hs: Box<ServerHandshake<P>>,
        /// The master secret.
        master: Secret,
        /// The client's end-entity certificate, verified with its CertificateVerify.
        client_cert: Option<CertificateDer>,
        /// Whether this is an abbreviated handshake.
        resumed: bool,
    },
    /// Waiting for the client's Finished, under the new keys.
    ExpectFinished {
        /// The handshake so far.
        hs: Box<ServerHandshake<P>>,
        /// The master secret.
        master: Secret,
        /// The client's end-entity certificate.
        client_cert: Option<CertificateDer>,
        /// Whether this is an abbreviated handshake.
        resumed: bool,
    },
    /// Both Finished verified.
    Traffic {
        /// What the handshake settled.
        summary: Box<HandshakeSummary>,
        /// Proof that the client's Finished verified.
        proof: FinishedVerified,
    },
    /// Closed, by an alert or close_notify; keeps what a completed handshake settled
    /// (close_notify may arrive in the same read as the last Finished).
    Closed {
        /// The summary, if the handshake had completed.
        summary: Option<Box<HandshakeSummary>>,
    },
}

impl<P: Provider> ServerState<P> {
    /// The printable name used in traces, errors and counterexamples.
    pub fn name(&self) -> &'static str {
        match self {
            Self::ExpectClientHello => "server expect_client_hello",
            Self::ExpectCertificate { .. } => "server expect_certificate",
            Self::ExpectClientKeyExchange { .. } => "server expect_client_key_exchange",
            Self::ExpectCertificateVerify { .. } => "server expect_certificate_verify",
            Self::ExpectChangeCipherSpec { .. } => "server expect_change_cipher_spec",
            Self::ExpectFinished { .. } => "server expect_finished",
            Self::Traffic { .. } => "server traffic",
            Self::Closed { .. } => "server closed",
        }
    }

    /// The coarse phase of the spec's table.
    pub fn phase(&self) -> Phase {
        match self {
            Self::ExpectClientHello => Phase::Idle,
            Self::Traffic { .. } => Phase::AppData,
            Self::Closed { .. } => Phase::Closed,
            _ => Phase::Wait,
        }
    }

    /// The same end, closed: a completed handshake's summary stays readable.
    pub fn close(self) -> Self {
        match self {
            Self::Traffic { summary, .. } => Self::Closed {
                summary: Some(summary),
            },
            Self::Closed { summary } => Self::Closed { summary },
            _ => Self::Closed { summary: None },
        }
    }

    /// What the handshake settled, once it completed.
    pub fn summary(&self) -> Option<&HandshakeSummary> {
        match self {
            Self::Traffic { summary, .. }
            | Self::Closed {
                summary: Some(summary),
            } => Some(summary),
            _ => None,
        }
    }

    /// The session ID this handshake is about, to invalidate on a fatal alert
    /// (RFC 5246 §7.2).
    pub fn session_id(&self) -> Option<SessionId> {
        match self {
            Self::ExpectCertificate { hs, .. }
            | Self::ExpectClientKeyExchange { hs, .. }
            | Self::ExpectCertificateVerify { hs, .. }
            | Self::ExpectChangeCipherSpec { hs, .. }
            | Self::ExpectFinished { hs, .. } => Some(hs.session_id),
            Self::Traffic { summary, .. } => Some(summary.session_id),
            Self::ExpectClientHello | Self::Closed { .. } => None,
        }
    }

    /// The key exchange of the suite chosen so far: the context in which a
    /// ClientKeyExchange decodes.
    fn key_exchange(&self) -> KeyExchange {
        match self {
            Self::ExpectCertificate { hs, .. } | Self::ExpectClientKeyExchange { hs, .. } => {
                hs.suite.kx
            }
            _ => KeyExchange::Ecdhe,
        }
    }

    /// Whether a handshake message of type `typ` is what this state waits for. Anything
    /// else is `unexpected_message` before its body is even decoded (RFC 5246 §7.3: the
    /// messages come in the order shown; a malformed message of the wrong type is still
    /// the wrong message, as OpenSSL, NSS and GnuTLS answer it).
    pub fn expects(&self, typ: HandshakeType) -> bool {
        match self {
            Self::ExpectClientHello => typ == HandshakeType::ClientHello,
            Self::ExpectCertificate { .. } => typ == HandshakeType::Certificate,
            Self::ExpectClientKeyExchange { .. } => typ == HandshakeType::ClientKeyExchange,
            Self::ExpectCertificateVerify { .. } => typ == HandshakeType::CertificateVerify,
            Self::ExpectFinished { .. } => typ == HandshakeType::Finished,
            // A ClientHello in traffic asks to renegotiate: declined with a warning.
            Self::Traffic { .. } => typ == HandshakeType::ClientHello,
            Self::ExpectChangeCipherSpec { .. } | Self::Closed { .. } => false,
        }
    }

    /// Handles one handshake message or ChangeCipherSpec.
    pub fn handle(
        self,
        config: &ServerConfig<P>,
        cx: &mut Context<'_, P>,
        cache: &mut dyn SessionCache,
        input: Incoming,
    ) -> Result<Self, Error> {
        let name = self.name();
        match (self, input) {
            (
                Self::ExpectChangeCipherSpec {
                    hs,
                    master,
                    client_cert,
                    resumed,
                },
                Incoming::ChangeCipherSpec,
            ) => {
                cx.records.activate_read()?;
                Ok(Self::ExpectFinished {
                    hs,
                    master,
                    client_cert,
                    resumed,
                })
            }
            (_, Incoming::ChangeCipherSpec) => Err(Error::unexpected(name, "ChangeCipherSpec")),
            (state, Incoming::Handshake(raw)) => {
                let typ = HandshakeType::from(raw.first().copied().unwrap_or_default());
                if !state.expects(typ) {
                    return Err(Error::unexpected(name, typ));
                }
                let msg = HandshakeMessage::read_bytes(&raw, state.key_exchange())?;
                state.handle_message(config, cx, cache, msg, &raw)
            }
            (_, other) => Err(Error::unexpected(name, other)),
        }
    }

    fn handle_message(
        self,
        config: &ServerConfig<P>,
        cx: &mut Context<'_, P>,
        cache: &mut dyn SessionCache,
        msg: HandshakeMessage,
        raw: &[u8],
    ) -> Result<Self, Error> {
        let name = self.name();
        match (self, msg.payload) {
            (Self::ExpectClientHello, HandshakePayload::ClientHello(ch)) => {
                process_client_hello(config, cx, cache, &ch, raw)
            }
            (Self::ExpectCertificate { mut hs, kx }, HandshakePayload::Certificate(chain)) => {
                let client_chain = read_client_certificate(config, cx, chain)?;
                hs.transcript.add(cx.provider, raw);
                Ok(Self::ExpectClientKeyExchange {
                    hs,
                    kx,
                    client_chain,
                })
            }
            (
                Self::ExpectClientKeyExchange {
                    mut hs,
                    kx,
                    client_chain,
                },
                HandshakePayload::ClientKeyExchange(cke),
            ) => {
                let (pre_master, identity) =
                    read_client_key_exchange(config, cx.provider, kx, cke)?;
                hs.psk_identity = identity;
                hs.transcript.add(cx.provider, raw);
                let master = master_secret(
                    cx.provider,
                    &hs.suite,
                    &pre_master,
                    hs.extended_master_secret,
                    &hs.transcript,
                    &hs.client_random,
                    &hs.server_random,
                );
                install_pending_ciphers(
                    cx,
                    &hs.suite,
                    &master,
                    &hs.client_random,
                    &hs.server_random,
                    false,
                )?;
                match client_chain.is_empty() {
                    true => Ok(Self::ExpectChangeCipherSpec {
                        hs,
                        master,
                        client_cert: None,
                        resumed: false,
                    }),
                    false => Ok(Self::ExpectCertificateVerify {
                        hs,
                        master,
                        client_chain,
                    }),
                }
            }
            (
                Self::ExpectCertificateVerify {
                    mut hs,
                    master,
                    mut client_chain,
                },
                HandshakePayload::CertificateVerify(signed),
            ) => {
                read_certificate_verify(cx.provider, &hs.transcript, &client_chain[0], &signed)?;
                hs.transcript.add(cx.provider, raw);
                let client_cert = Some(client_chain.swap_remove(0));
                Ok(Self::ExpectChangeCipherSpec {
                    hs,
                    master,
                    client_cert,
                    resumed: false,
                })
            }
            (
                Self::ExpectFinished {
                    mut hs,
                    master,
                    client_cert,
                    resumed,
                },
                HandshakePayload::Finished(verify_data),
            ) => {
                let proof = read_finished(
                    cx.provider,
                    &hs.suite,
                    &master,
                    true,
                    &hs.transcript,
                    &verify_data,
                )?;
                hs.transcript.add(cx.provider, raw);
                if !resumed {
                    if hs.issue_ticket {
                        let session =
                            summarize(cx.provider, &hs, master.clone(), client_cert.clone(), false)
                                .session(cx.now);
                        send_ticket(config, cx, cache, &mut hs, &session)?;
                    }
                    send_finished(cx, &mut hs, &master)?;
                }
                let summary = summarize(cx.provider, &hs, master, client_cert.clone(), resumed);
                if !resumed {
                    // Both Finished are now verified (ours by construction): only now may
                    // the session be resumed by anyone.
                    if !hs.session_id.is_empty() {
                        cache.put(summary.session(cx.now), cx.now);
                    }
                }
                cx.events
                    .push_back(Event::HandshakeComplete(Box::new(summary.clone())));
                Ok(Self::Traffic {
                    summary: Box::new(summary),
                    proof,
                })
            }
            (Self::Traffic { summary, proof }, HandshakePayload::ClientHello(_)) => {
                // RFC 5746 §4.4 / RFC 5246 §7.4.1.2: we never renegotiate.
                refuse_renegotiation(cx)?;
                Ok(Self::Traffic { summary, proof })
            }
            (_, payload) => Err(Error::unexpected(
                name,
                message_name(&HandshakeMessage { payload }),
            )),
        }
    }
}

fn refuse_renegotiation<P: Provider>(cx: &mut Context<'_, P>) -> Result<(), Error> {
    let alert = crate::msgs::AlertMessage::warning(AlertDescription::NoRenegotiation);
    cx.records.send_alert(cx.provider, alert)
}

fn summarize<P: Provider>(
    provider: &P,
    hs: &ServerHandshake<P>,
    master: Secret,
    client_cert: Option<CertificateDer>,
    resumed: bool,
) -> HandshakeSummary {
    HandshakeSummary {
        transcript_hash: hs.transcript.hash(provider, &hs.suite),
        version: ProtocolVersion::TLSv1_2,
        suite: hs.suite.suite,
        group: hs.group,
        resumed,
        extended_master_secret: hs.extended_master_secret,
        secure_renegotiation: hs.secure_renegotiation,
        session_id: hs.session_id,
        server_name: hs.server_name.clone(),
        alpn: hs.alpn.clone(),
        psk_identity: hs.psk_identity.clone(),
        server_certificate: None,
        client_certificate: client_cert,
        client_random: hs.client_random,
        master_secret: master,
    }
}

/// What the server learned from the ClientHello's extensions.
struct Offer<'a> {
    server_name: Option<String>,
    groups: Option<&'a [NamedGroup]>,
    signature_schemes: Option<&'a [SignatureScheme]>,
    extended_master_secret: bool,
    secure_renegotiation: bool,
    /// Whether the client sent ec_point_formats, which alone lets us send ours.
    point_formats: bool,
    /// The application protocols the client offers (RFC 7301).
    alpn: Option<&'a [ProtocolName]>,
    /// The client's session_ticket extension: empty to ask for a ticket, or a ticket to
    /// resume (RFC 5077 §3.2).
    ticket: Option<&'a [u8]>,
}

fn read_offer(ch: &ClientHello) -> Result<Offer<'_>, Error> {
    let mut offer = Offer {
        server_name: None,
        groups: None,
        signature_schemes: None,
        extended_master_secret: false,
        // RFC 5746 §3.6: the SCSV counts as an empty renegotiation_info.
        secure_renegotiation: ch
            .cipher_suites
            .contains(&CipherSuite::TLS_EMPTY_RENEGOTIATION_INFO_SCSV),
        point_formats: false,
        alpn: None,
        ticket: None,
    };
    for ext in ch.extensions() {
        match ext {
            ClientExtension::ServerName(names) => {
                let host = names.iter().find(|n| n.typ == ServerNameType::HostName);
                if let Some(host) = host {
                    offer.server_name = Some(host_name(&host.name)?);
                }
            }
            ClientExtension::SupportedGroups(groups) => offer.groups = Some(groups),
            // RFC 8422 §5.1.2: uncompressed is the one format everyone must support.
            ClientExtension::EcPointFormats(formats)
                if !formats.contains(&ECPointFormat::Uncompressed) =>
            {
                return Err(Error::misbehaved(
                    AlertDescription::IllegalParameter,
                    "ec_point_formats without uncompressed",
                ));
            }
            ClientExtension::EcPointFormats(_) => offer.point_formats = true,
            ClientExtension::Alpn(names) => offer.alpn = Some(names),
            ClientExtension::SessionTicket(ticket) => offer.ticket = Some(ticket),
            ClientExtension::SignatureAlgorithms(schemes) => {
                offer.signature_schemes = Some(schemes)
            }
            ClientExtension::ExtendedMasterSecret => offer.extended_master_secret = true,
            ClientExtension::RenegotiationInfo(info) => {
                // RFC 5746 §3.6: on an initial handshake it must be empty.
                if !info.is_empty() {
                    return Err(Error::misbehaved(
                        AlertDescription::HandshakeFailure,
                        "renegotiation_info not empty on an initial handshake",
                    ));
                }
                offer.secure_renegotiation = true;
            }
            _ => {}
        }
    }
    Ok(offer)
}

/// RFC 7301 §3.2: the first of our protocols the client offers. A server without
/// protocols, or a client that offers none, leaves ALPN out; a server with protocols of
/// which the client offers none answers no_application_protocol.
fn choose_alpn<P: Provider>(
    config: &ServerConfig<P>,
    offer: &Offer<'_>,
) -> Result<Option<Vec<u8>>, Error> {
    let Some(offered) = offer.alpn.filter(|_| !config.alpn.is_empty()) else {
        return Ok(None);
    };
    config
        .alpn
        .iter()
        .find(|ours| offered.iter().any(|theirs| theirs.0 == **ours))
        .cloned()
        .map(Some)
        .ok_or(Error::misbehaved(
            AlertDescription::NoApplicationProtocol,
            "no application protocol in common",
        ))
}

/// A `host_name` (RFC 6066 §3): ASCII letters, digits, '-' and '.', no trailing dot.
fn host_name(name: &[u8]) -> Result<String, Error> {
    let valid = name
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        && name.last() != Some(&b'.');
    match (valid, std::str::from_utf8(name)) {
        (true, Ok(name)) => Ok(name.to_ascii_lowercase()),
        _ => Err(Error::misbehaved(
            AlertDescription::IllegalParameter,
            "server_name is not a host name",
        )),
    }
}

/// RFC 5246 §7.4.1.2 and §7.4.1.3: settle version, compression and suite, then resume
/// or run a full handshake.
fn process_client_hello<P: Provider>(
    config: &ServerConfig<P>,
    cx: &mut Context<'_, P>,
    cache: &mut dyn SessionCache,
    ch: &ClientHello,
    raw: &[u8],
) -> Result<ServerState<P>, Error> {
    // RFC 5246 Appendix E.1: a client below TLS 1.2 gets protocol_version.
    if ch.client_version.get() < ProtocolVersion::TLSv1_2.get() {
        return Err(Error::local(
            AlertDescription::ProtocolVersion,
            crate::error::Reason::Refused("client offers nothing at or above TLS 1.2"),
        ));
    }
    // RFC 5246 §7.4.1.2: null compression must be offered; we speak nothing else.
    if !ch.compression_methods.contains(&Compression::Null) {
        return Err(Error::misbehaved(
            AlertDescription::IllegalParameter,
            "no null compression",
        ));
    }
    let offer = read_offer(ch)?;
    if let Some(accept) = config.accept {
        if !(accept.0)(ch) {
            return Err(Error::refused("ClientHello refused by the acceptance hook"));
        }
    }
    let mut transcript = Transcript::default();
    transcript.add(cx.provider, raw);
    match check_for_resumption(config, cx.provider, cache, ch, &offer, cx.now)? {
        Some(found) => resume(config, cx, cache, ch, &offer, found, transcript),
        None => {
            // RFC 5077 §3.3: a ticket for a client that asks for one; the session then
            // needs no ID (OpenSSL does the same), so it is not cached either.
            let issue_ticket = config.resumption
                && config.tickets
                && offer.ticket.is_some()
                && cache.with_ticket_keys(&mut |_| {});
            full_handshake(config, cx, ch, offer, transcript, issue_ticket)
        }
    }
}

/// A session the server may resume, and where it came from.
struct Found {
    session: Session,
    /// From a ticket sealed under the previous ticket key: resume, and renew the ticket.
    renew_ticket: bool,
    /// From a ticket at all (else from the session cache).
    from_ticket: bool,
}

/// RFC 5246 §7.4.1.2: the session the client offers, if cached and safe to resume.
/// Cannot-resume is not an error: it is a full handshake with a fresh session ID. Two
/// offers of a live cached session are errors, because the client broke a MUST:
/// dropping extended master secret (RFC 7627 §5.3: abort, handshake_failure) and not
/// offering the session's suite (RFC 5246 §7.4.1.2; illegal_parameter, as OpenSSL and
/// GnuTLS answer it).
fn check_for_resumption<P: Provider>(
    config: &ServerConfig<P>,
    provider: &P,
    cache: &mut dyn SessionCache,
    ch: &ClientHello,
    offer: &Offer<'_>,
    now: crate::crypto::UnixTime,
) -> Result<Option<Found>, Error> {
    if !config.resumption {
        return Ok(None);
    }
    // RFC 5077 §3.4: a ticket first. One that does not open is no error: the server
    // falls back to the session ID, then to a full handshake.
    let mut from_ticket = None;
    if let Some(ticket) = offer.ticket.filter(|t| !t.is_empty() && config.tickets) {
        cache.with_ticket_keys(&mut |keys| from_ticket = keys.open(provider, ticket, now));
    }
    let (session, renew_ticket, ticketed) = match from_ticket {
        Some(opened) => (opened.session, opened.stale, true),
        None if ch.session_id.is_empty() => return Ok(None),
        None => match cache.get(&ch.session_id, now) {
            Some(session) => (session, false, false),
            None => return Ok(None),
        },
    };
    if session.version != ProtocolVersion::TLSv1_2 || session.expired(now, config.session_lifetime)
    {
        return Ok(None);
    }
    // RFC 7627 §5.3: "If the original session used the extension but the new
    // ClientHello does not contain it, the server MUST abort the abbreviated handshake."
    if session.extended_master_secret && !offer.extended_master_secret {
        return Err(Error::misbehaved(
            AlertDescription::HandshakeFailure,
            "resumption offered without the extended master secret its session used",
        ));
    }
    // RFC 5246 §7.4.1.2: the cipher_suites "MUST include the cipher suite from that
    // session".
    if !ch.cipher_suites.contains(&session.suite) {
        return Err(Error::misbehaved(
            AlertDescription::IllegalParameter,
            "resumption offered without its session's cipher suite",
        ));
    }
    let compatible = config.suites.iter().any(|s| s.suite == session.suite)
        // RFC 7627 §5.3: a session made without extended master secret is not resumed
        // by a client that now offers it: a full handshake instead.
        && session.extended_master_secret == offer.extended_master_secret
        // RFC 6066 §3: a session is for the name it was made for.
        && session.server_name == offer.server_name
        && match config.client_auth {
            ClientAuth::Required => {
                session.client_certificate.is_some() || session.psk_identity.is_some()
            }
            ClientAuth::None | ClientAuth::Optional => true,
        }
        // A PSK session resumes only while its identity still has a key.
        && session.psk_identity.as_ref().is_none_or(|identity| {
            config.psk.as_ref().is_some_and(|psk| psk.store.key(identity).is_some())
        });
    let willing = config
        .willing_to_resume
        .is_none_or(|willing| (willing.0)(&session));
    Ok((compatible && willing).then_some(Found {
        session,
        renew_ticket,
        from_ticket: ticketed,
    }))
}

/// The abbreviated handshake (RFC 5246 §7.3): ServerHello, ChangeCipherSpec, Finished.
fn resume<P: Provider>(
    config: &ServerConfig<P>,
    cx: &mut Context<'_, P>,
    cache: &mut dyn SessionCache,
    ch: &ClientHello,
    offer: &Offer<'_>,
    found: Found,
    transcript: Transcript<P>,
) -> Result<ServerState<P>, Error> {
    let Found {
        session,
        renew_ticket,
        from_ticket,
    } = found;
    let suite = Suite::lookup(session.suite).ok_or(Error::refused("cached suite unsupported"))?;
    let alpn = choose_alpn(config, offer)?;
    // No CertificateVerify in an abbreviated handshake: the hash alone will do.
    let mut transcript = transcript;
    transcript.start_hash(cx.provider, &suite, false);
    let mut hs = Box::new(ServerHandshake {
        suite,
        client_random: ch.random,
        server_random: cx.random()?,
        // RFC 5077 §3.4: a ticket resumption echoes the client's session ID.
        session_id: match from_ticket {
            true => ch.session_id,
            false => session.id,
        },
        extended_master_secret: session.extended_master_secret,
        secure_renegotiation: offer.secure_renegotiation,
        server_name: session.server_name.clone(),
        group: None,
        alpn,
        psk_identity: session.psk_identity.clone(),
        issue_ticket: renew_ticket,
        transcript,
    });
    let extensions = server_hello_extensions(offer, &hs, false);
    send_server_hello(cx, &mut hs, extensions);
    if hs.issue_ticket {
        // RFC 5077 §3.2: a renewed ticket for the same session, before ChangeCipherSpec.
        send_ticket(config, cx, cache, &mut hs, &session)?;
    }
    // The session was looked up for this handshake: its secret moves, it is not copied.
    let master = session.master_secret;
    install_pending_ciphers(
        cx,
        &hs.suite,
        &master,
        &hs.client_random,
        &hs.server_random,
        false,
    )?;
    let finished = finished(cx.provider, &hs.suite, &master, false, &hs.transcript);
    cx.records.send_change_cipher_spec(cx.provider)?;
    cx.send(&mut hs.transcript, finished);
    cx.records.flush(cx.provider)?;
    Ok(ServerState::ExpectChangeCipherSpec {
        hs,
        master,
        client_cert: session.client_certificate,
        resumed: true,
    })
}

/// RFC 5246 §7.4.1.4: an extension type appears in ServerHello only if the ClientHello
/// had it, with one exception: RFC 5746 §3.6 answers the SCSV with an empty
/// renegotiation_info.
fn server_hello_extensions<P: Provider>(
    offer: &Offer<'_>,
    hs: &ServerHandshake<P>,
    full: bool,
) -> Vec<ServerExtension> {
    let mut extensions = Vec::new();
    if offer.secure_renegotiation {
        extensions.push(ServerExtension::RenegotiationInfo(Vec::new()));
    }
    // RFC 6066 §3: acknowledge the name in a full handshake, never when resuming.
    if full && offer.server_name.is_some() {
        extensions.push(ServerExtension::ServerNameAck);
    }
    // RFC 8422 §5.2: ec_point_formats only in answer to the client's.
    if full && offer.point_formats {
        extensions.push(ServerExtension::EcPointFormats(vec![
            ECPointFormat::Uncompressed,
        ]));
    }
    if hs.extended_master_secret {
        extensions.push(ServerExtension::ExtendedMasterSecret);
    }
    // RFC 5077 §3.2: an empty session_ticket says a NewSessionTicket will follow.
    if hs.issue_ticket {
        extensions.push(ServerExtension::SessionTicketAck);
    }
    // RFC 7301 §3.1: exactly one protocol, one the client offered.
    if let Some(protocol) = &hs.alpn {
        extensions.push(ServerExtension::Alpn(ProtocolName(protocol.clone())));
    }
    extensions
}

fn send_server_hello<P: Provider>(
    cx: &mut Context<'_, P>,
    hs: &mut ServerHandshake<P>,
    extensions: Vec<ServerExtension>,
) {
    let hello = ServerHello {
        server_version: ProtocolVersion::TLSv1_2,
        random: hs.server_random,
        session_id: hs.session_id,
        cipher_suite: hs.suite.suite,
        compression_method: Compression::Null,
        extensions: Some(extensions),
    };
    cx.send(
        &mut hs.transcript,
        HandshakePayload::ServerHello(hello).into(),
    );
}

/// RFC 5246 §7.4.1.3: the suite, group and signature scheme, among what the client
/// offers and what our key can sign for, by the client's order of preference (or ours,
/// with [`ServerConfig::prefer_server_order`]). Each of the client's lists is walked a
/// bounded number of times, so a ClientHello of 32,767 suites or schemes costs time in
/// proportion to its length.
fn pick_parameters<P: Provider>(
    config: &ServerConfig<P>,
    provider: &P,
    ch: &ClientHello,
    offer: &Offer<'_>,
) -> Result<Chosen, Error> {
    // RFC 5246 §7.4.1.4.1: without signature_algorithms the client only speaks SHA-1,
    // which we do not sign with.
    let their_schemes = offer.signature_schemes.unwrap_or_default();
    // RFC 8422 §4: a client without supported_groups accepts secp256r1.
    let their_groups = offer.groups.unwrap_or(&[NamedGroup::secp256r1]);
    let ours = |g: &NamedGroup| config.groups.contains(g) && provider.supports_group(*g);
    let group = match config.prefer_server_order {
        true => config
            .groups
            .iter()
            .find(|g| their_groups.contains(g) && provider.supports_group(**g)),
        false => their_groups.iter().find(|g| ours(g)),
    }
    .copied();
    // RFC 8422 §5.1.1 (and §2.1): a client's supported_groups also bounds the curve of
    // an ECDSA certificate, so a P-256 key may only sign for a client that lists
    // secp256r1, whichever hash it signs with.
    let key = config
        .signing_key
        .as_ref()
        .filter(|_| !config.cert_chain.is_empty());
    let curve_ok = key
        .and_then(|key| provider.signing_curve(key))
        .is_none_or(|curve| offer.groups.is_none_or(|groups| groups.contains(&curve)));
    // The schemes our key signs with that the client accepts, in our order.
    let usable: Vec<SignatureScheme> = key
        .filter(|_| curve_ok)
        .map(|key| provider.signing_schemes(key))
        .unwrap_or_default()
        .into_iter()
        .filter(|s| their_schemes.contains(s))
        .collect();
    let acceptable = |suite: &Suite| -> Option<Chosen> {
        let scheme = match suite.uses_certificate() {
            true => Some(usable.iter().copied().find(|s| suite.sig.allows(*s))?),
            false => None,
        };
        if suite.uses_psk() && config.psk.is_none() {
            return None;
        }
        let group = match suite.uses_ecdhe() {
            true => Some(group?),
            false => None,
        };
        Some(Chosen {
            suite: *suite,
            group,
            scheme,
        })
    };
    let chosen = match config.prefer_server_order {
        true => config
            .suites
            .iter()
            .filter(|suite| ch.cipher_suites.contains(&suite.suite))
            .find_map(acceptable),
        false => ch.cipher_suites.iter().find_map(|offered| {
            let suite = config.suites.iter().find(|s| s.suite == *offered)?;
            acceptable(suite)
        }),
    };
    chosen.ok_or(match group {
        None => Error::refused("no common ECDHE group"),
        Some(_) => Error::refused("no common cipher suite"),
    })
}

/// What [`pick_parameters`] settled.
struct Chosen {
    suite: Suite,
    /// The ECDHE group, for the suites that use one.
    group: Option<NamedGroup>,
    /// The signature scheme, for the certificate suites.
    scheme: Option<SignatureScheme>,
}

/// The full handshake's first flight: ServerHello, Certificate*, ServerKeyExchange*,
/// CertificateRequest*, ServerHelloDone. A certificate suite sends Certificate and a
/// signed ServerKeyExchange; ECDHE_PSK sends no Certificate and an unsigned
/// ServerKeyExchange with the hint (RFC 5489 §2); plain PSK sends a ServerKeyExchange only
/// to carry a hint (RFC 4279 §2). Never a CertificateRequest with a PSK suite: the key
/// authenticates the client.
fn full_handshake<P: Provider>(
    config: &ServerConfig<P>,
    cx: &mut Context<'_, P>,
    ch: &ClientHello,
    offer: Offer<'_>,
    transcript: Transcript<P>,
    issue_ticket: bool,
) -> Result<ServerState<P>, Error> {
    let Chosen {
        suite,
        group,
        scheme,
    } = pick_parameters(config, cx.provider, ch, &offer)?;
    let alpn = choose_alpn(config, &offer)?;
    // The messages are kept only for a client's CertificateVerify.
    let mut transcript = transcript;
    let request = config.client_auth != ClientAuth::None && suite.uses_certificate();
    transcript.start_hash(cx.provider, &suite, request);
    let session_id = match config.resumption && !issue_ticket {
        true => {
            let mut id = [0u8; 32];
            cx.provider.fill_random(&mut id)?;
            SessionId::new(&id).unwrap_or(SessionId::EMPTY)
        }
        false => SessionId::EMPTY,
    };
    let mut hs = Box::new(ServerHandshake {
        suite,
        client_random: ch.random,
        server_random: cx.random()?,
        session_id,
        extended_master_secret: offer.extended_master_secret,
        secure_renegotiation: offer.secure_renegotiation,
        server_name: offer.server_name.clone(),
        group,
        alpn,
        psk_identity: None,
        issue_ticket,
        transcript,
    });
    let extensions = server_hello_extensions(&offer, &hs, true);
    send_server_hello(cx, &mut hs, extensions);

    let hint = config
        .psk
        .as_ref()
        .and_then(|psk| psk.hint.clone())
        .unwrap_or_default();
    let mut kx = None;
    let ske = match (suite.kx, group) {
        (KeyExchange::Ecdhe, Some(group)) => {
            let chain = CertificateChain(config.cert_chain.clone());
            cx.send(
                &mut hs.transcript,
                HandshakePayload::Certificate(chain).into(),
            );
            let (secret, public) = cx.provider.kx_start(group)?;
            kx = Some(secret);
            let params = EcdheParams { group, public };
            let message = signed_params(&hs.client_random, &hs.server_random, &params);
            let (key, scheme) = config
                .signing_key
                .as_ref()
                .zip(scheme)
                .ok_or(CryptoError::Internal)?;
            let signature = cx.provider.sign(key, scheme, &message)?;
            let signed = DigitallySigned { scheme, signature };
            Some(ServerKeyExchange::Ecdhe { params, signed })
        }
        (KeyExchange::EcdhePsk, Some(group)) => {
            let (secret, public) = cx.provider.kx_start(group)?;
            kx = Some(secret);
            let params = EcdheParams { group, public };
            Some(ServerKeyExchange::EcdhePsk { hint, params })
        }
        (KeyExchange::Psk, _) => (!hint.is_empty()).then_some(ServerKeyExchange::Psk { hint }),
        // pick_parameters gives every ECDHE suite a group.
        (_, None) => return Err(CryptoError::Internal.into()),
    };
    if let Some(ske) = ske {
        cx.send(
            &mut hs.transcript,
            HandshakePayload::ServerKeyExchange(ske).into(),
        );
    }

    if request {
        let request = CertificateRequest {
            certificate_types: vec![
                ClientCertificateType::ECDSASign,
                ClientCertificateType::RSASign,
            ],
            signature_schemes: cx.provider.verify_schemes(),
            authorities: Vec::new(),
        };
        cx.send(
            &mut hs.transcript,
            HandshakePayload::CertificateRequest(request).into(),
        );
    }
    cx.send(&mut hs.transcript, HandshakePayload::ServerHelloDone.into());
    cx.records.flush(cx.provider)?;
    match request {
        true => Ok(ServerState::ExpectCertificate { hs, kx }),
        false => Ok(ServerState::ExpectClientKeyExchange {
            hs,
            kx,
            client_chain: Vec::new(),
        }),
    }
}

/// RFC 4279 §2 / RFC 5489 §2: the key the client's identity names. An unknown identity
/// is unknown_psk_identity, as OpenSSL answers it (the RFC also allows hiding it behind a
/// decrypt_error; an identity is no secret worth that here).
fn psk_for<P: Provider>(config: &ServerConfig<P>, identity: &[u8]) -> Result<Secret, Error> {
    config
        .psk
        .as_ref()
        .and_then(|psk| psk.store.key(identity))
        .ok_or(Error::misbehaved(
            AlertDescription::UnknownPskIdentity,
            "unknown PSK identity",
        ))
}

/// The premaster secret from the client's ClientKeyExchange, in the suite's key exchange;
/// the PSK identity it named, if any.
fn read_client_key_exchange<P: Provider>(
    config: &ServerConfig<P>,
    provider: &mut P,
    kx: Option<P::KxSecret>,
    cke: ClientKeyExchange,
) -> Result<(Secret, Option<Vec<u8>>), Error> {
    let kx = || kx.ok_or(Error::from(CryptoError::Internal));
    match cke {
        ClientKeyExchange::Ecdhe { public } => Ok((provider.kx_complete(kx()?, &public)?, None)),
        ClientKeyExchange::Psk { identity } => {
            let psk = psk_for(config, &identity)?;
            Ok((premaster_secret(None, psk.expose()), Some(identity)))
        }
        ClientKeyExchange::EcdhePsk { identity, public } => {
            let psk = psk_for(config, &identity)?;
            let shared = provider.kx_complete(kx()?, &public)?;
            let pre_master = premaster_secret(Some(shared.expose()), psk.expose());
            Ok((pre_master, Some(identity)))
        }
    }
}

/// RFC 5246 §7.4.6: an empty list is "no certificate", which only a `Required` policy
/// refuses; anything else must chain to the configured client roots.
fn read_client_certificate<P: Provider>(
    config: &ServerConfig<P>,
    cx: &mut Context<'_, P>,
    chain: CertificateChain,
) -> Result<Vec<CertificateDer>, Error> {
    if chain.0.is_empty() {
        return match config.client_auth {
            ClientAuth::Required => Err(Error::refused("client certificate required")),
            ClientAuth::None | ClientAuth::Optional => Ok(Vec::new()),
        };
    }
    let roots = config
        .client_roots
        .as_ref()
        .ok_or(Error::refused("no client roots configured"))?;
    cx.provider.verify_chain(roots, &chain.0, None, cx.now)?;
    Ok(chain.0)
}

/// RFC 5246 §7.4.8: the signature covers every handshake message before it, with a scheme
/// we offered in CertificateRequest.
fn read_certificate_verify<P: Provider>(
    provider: &P,
    transcript: &Transcript<P>,
    client_cert: &CertificateDer,
    signed: &DigitallySigned,
) -> Result<(), Error> {
    if !provider.verify_schemes().contains(&signed.scheme) {
        return Err(Error::misbehaved(
            AlertDescription::IllegalParameter,
            "CertificateVerify with a scheme we did not offer",
        ));
    }
    // Kept since ClientHello because we asked for a certificate (internal_error if not).
    let messages = transcript.bytes().ok_or(CryptoError::Internal)?;
    provider.verify_signature(client_cert, signed.scheme, messages, &signed.signature)?;
    Ok(())
}

/// RFC 5077 §3.3: NewSessionTicket with `session` sealed under the current ticket key,
/// valid for the session lifetime. A ticket that cannot be sealed goes out empty, which
/// the RFC allows ("it sends a zero-length ticket") once the extension promised one.
fn send_ticket<P: Provider>(
    config: &ServerConfig<P>,
    cx: &mut Context<'_, P>,
    cache: &mut dyn SessionCache,
    hs: &mut ServerHandshake<P>,
    session: &Session,
) -> Result<(), Error> {
    let (provider, now) = (&mut *cx.provider, cx.now);
    let mut sealed = Ok(Vec::new());
    cache.with_ticket_keys(&mut |keys| sealed = keys.seal(provider, session, now));
    let ticket = sealed?;
    let lifetime_hint = u32::try_from(config.session_lifetime).unwrap_or(u32::MAX);
    let message = crate::msgs::NewSessionTicket {
        lifetime_hint,
        ticket,
    };
    cx.send(
        &mut hs.transcript,
        HandshakePayload::NewSessionTicket(message).into(),
    );
    Ok(())
}

/// The server's ChangeCipherSpec and Finished of a full handshake, under the write keys
/// installed at ClientKeyExchange.
fn send_finished<P: Provider>(
    cx: &mut Context<'_, P>,
    hs: &mut ServerHandshake<P>,
    master: &Secret,
) -> Result<(), Error> {
    let finished = finished(cx.provider, &hs.suite, master, false, &hs.transcript);
    cx.records.send_change_cipher_spec(cx.provider)?;
    cx.send(&mut hs.transcript, finished);
    cx.records.flush(cx.provider)
}
