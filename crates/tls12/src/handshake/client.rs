//! The client state machine (RFC 5246 §7.3): after sending ClientHello,
//! `expect_server_hello` → (full) `expect_certificate` → `expect_server_key_exchange` →
//! `expect_certificate_request_or_done` → [`expect_server_hello_done`] → (sends
//! Certificate*, ClientKeyExchange, CertificateVerify*, ChangeCipherSpec, Finished)
//! `expect_change_cipher_spec` → `expect_finished` → `traffic`; or (resumed)
//! `expect_change_cipher_spec` → `expect_finished` → (sends ChangeCipherSpec, Finished)
//! `traffic`.

use crate::crypto::{CryptoError, Provider, Secret, UnixTime};
use crate::error::Error;
use crate::handshake::{
    finished, install_pending_ciphers, master_secret, message_name, read_finished, signed_params,
    Context, Event, FinishedVerified, HandshakeSummary, Phase, Transcript,
};
use crate::msgs::enums::{
    AlertDescription, ClientCertificateType, Compression, ECPointFormat, HandshakeType, NamedGroup,
    ProtocolVersion, ServerNameType, SignatureScheme,
};
use crate::msgs::extensions::Extension;
use crate::msgs::{
    CertificateChain, CertificateDer, CertificateRequest, ClientExtension, ClientHello,
    ClientKeyExchange, DigitallySigned, EcdheParams, HandshakeMessage, HandshakePayload,
    KeyExchange, ProtocolName, Random, ServerExtension, ServerHello, ServerKeyExchange, ServerName,
    SessionId,
};
use crate::psk::{pick_by_hint, premaster_secret, ClientPsk};
use crate::record::Incoming;
use crate::session::Session;
use crate::suites::{SignatureKind, Suite, ALL_SUITES, PSK_SUITES};

/// A client certificate and its key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClientIdentity<P: Provider> {
    /// The chain, end entity first.
    pub chain: Vec<CertificateDer>,
    /// The key of the end-entity certificate.
    pub key: P::SigningKey,
}

/// How a client behaves.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClientConfig<P: Provider> {
    /// The roots the server's chain must lead to.
    pub roots: P::Roots,
    /// Suites in our order of preference.
    pub suites: Vec<Suite>,
    /// ECDHE groups in our order of preference.
    pub groups: Vec<NamedGroup>,
    /// The certificate to present when asked.
    pub identity: Option<ClientIdentity<P>>,
    /// Offer extended master secret (RFC 7627). On by default.
    pub extended_master_secret: bool,
    /// Seconds a handshake may take before the client gives up.
    pub handshake_timeout: u64,
    /// Whether connections report their flights as [`Event::Flight`] (on by default;
    /// off saves a few strings per flight when nobody prints them).
    pub flight_trace: bool,
    /// Application protocols to offer (RFC 7301), most preferred first; empty offers
    /// none.
    pub alpn: Vec<Vec<u8>>,
    /// Pre-shared keys (RFC 4279): the PSK suites among `suites` are offered only with
    /// at least one.
    pub psk: Vec<ClientPsk>,
    /// Ask for session tickets and resume with them (RFC 5077). Off by default.
    pub tickets: bool,
}

impl<P: Provider> ClientConfig<P> {
    /// A client trusting `roots`, offering every suite and group.
    pub fn new(roots: P::Roots) -> Self {
        Self {
            roots,
            suites: ALL_SUITES.to_vec(),
            groups: vec![
                NamedGroup::X25519,
                NamedGroup::secp256r1,
                NamedGroup::secp384r1,
            ],
            identity: None,
            extended_master_secret: true,
            handshake_timeout: 30,
            flight_trace: true,
            alpn: Vec::new(),
            psk: Vec::new(),
            tickets: false,
        }
    }

    /// Adds pre-shared keys: the PSK suites are offered after the certificate suites.
    pub fn with_psk(mut self, keys: Vec<ClientPsk>) -> Self {
        for suite in PSK_SUITES {
            if !self.suites.contains(&suite) {
                self.suites.push(suite);
            }
        }
        self.psk = keys;
        self
    }
}

/// The negotiated parameters and transcript of a client handshake after ServerHello.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClientHandshake<P: Provider> {
    suite: Suite,
    client_random: Random,
    server_random: Random,
    session_id: SessionId,
    extended_master_secret: bool,
    secure_renegotiation: bool,
    server_name: Option<String>,
    alpn: Option<Vec<u8>>,
    /// The PSK identity we sent (or resumed with).
    psk_identity: Option<Vec<u8>>,
    /// Whether the server promised a NewSessionTicket (RFC 5077 §3.2).
    ticket_expected: bool,
    /// The ticket it sent, once it did (possibly empty: "no ticket after all").
    new_ticket: Option<Vec<u8>>,
    transcript: Transcript<P>,
}

/// What the server has shown of itself in a full handshake.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ServerAuth {
    /// The verified chain.
    chain: Vec<CertificateDer>,
    /// The verified ECDHE parameters.
    params: EcdheParams,
}

/// The client's states, each named after what it expects next.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ClientState<P: Provider> {
    /// ClientHello sent: waiting for ServerHello.
    ExpectServerHello {
        /// `ClientHello.random`.
        client_random: Random,
        /// The ClientHello's bytes: the transcript so far, kept as bytes until
        /// ServerHello picks its hash (and small: a running hash is ~200 bytes).
        transcript: Vec<u8>,
        /// The name we asked for.
        server_name: Option<String>,
        /// The session we offered.
        offered: Option<Box<Session>>,
        /// The ClientHello, to check ServerHello against.
        hello: Box<ClientHello>,
    },
    /// Full handshake: waiting for the server's Certificate.
    ExpectCertificate {
        /// The handshake so far.
        hs: Box<ClientHandshake<P>>,
    },
    /// Waiting for ServerKeyExchange.
    ExpectServerKeyExchange {
        /// The handshake so far.
        hs: Box<ClientHandshake<P>>,
        /// The server's verified chain.
        chain: Vec<CertificateDer>,
    },
    /// Waiting for CertificateRequest or ServerHelloDone.
    ExpectCertificateRequestOrDone {
        /// The handshake so far.
        hs: Box<ClientHandshake<P>>,
        /// The server's verified chain and key share.
        server: Box<ServerAuth>,
    },
    /// CertificateRequest received: waiting for ServerHelloDone.
    ExpectServerHelloDone {
        /// The handshake so far.
        hs: Box<ClientHandshake<P>>,
        /// The server's verified chain and key share.
        server: Box<ServerAuth>,
        /// What the server asked for.
        request: Box<CertificateRequest>,
    },
    /// PSK or ECDHE_PSK suite, no certificate: waiting for ServerKeyExchange (or, for
    /// plain PSK without a hint, ServerHelloDone).
    ExpectPskKeyExchange {
        /// The handshake so far.
        hs: Box<ClientHandshake<P>>,
    },
    /// PSK ServerKeyExchange received: waiting for ServerHelloDone.
    ExpectPskServerHelloDone {
        /// The handshake so far.
        hs: Box<ClientHandshake<P>>,
        /// The server's identity hint.
        hint: Vec<u8>,
        /// The server's ECDHE parameters (ECDHE_PSK).
        params: Option<EcdheParams>,
    },
    /// Waiting for the server's ChangeCipherSpec.
    ExpectChangeCipherSpec {
        /// The handshake so far.
        hs: Box<ClientHandshake<P>>,
        /// The master secret.
        master: Secret,
        /// The server's end-entity certificate.
        server_cert: Option<CertificateDer>,
        /// The certificate we authenticated with.
        client_cert: Option<CertificateDer>,
        /// The group of a full ECDHE handshake.
        group: Option<NamedGroup>,
        /// Whether this is an abbreviated handshake.
        resumed: bool,
    },
    /// Waiting for the server's Finished, under the new keys.
    ExpectFinished {
        /// The handshake so far.
        hs: Box<ClientHandshake<P>>,
        /// The master secret.
        master: Secret,
        /// The server's end-entity certificate.
        server_cert: Option<CertificateDer>,
        /// The certificate we authenticated with.
        client_cert: Option<CertificateDer>,
        /// The group of a full ECDHE handshake.
        group: Option<NamedGroup>,
        /// Whether this is an abbreviated handshake.
        resumed: bool,
    },
    /// Both Finished verified.
    Traffic {
        /// What the handshake settled.
        summary: Box<HandshakeSummary>,
        /// Proof that the server's Finished verified.
        proof: FinishedVerified,
    },
    /// Closed, by an alert or close_notify; keeps what a completed handshake settled
    /// (close_notify may arrive in the same read as the last Finished).
    Closed {
        /// The summary, if the handshake had completed.
        summary: Option<Box<HandshakeSummary>>,
    },
}

impl<P: Provider> ClientState<P> {
    /// The printable name used in traces, errors and counterexamples.
    pub fn name(&self) -> &'static str {
        match self {
            Self::ExpectServerHello { .. } => "client expect_server_hello",
            Self::ExpectCertificate { .. } => "client expect_certificate",
            Self::ExpectServerKeyExchange { .. } => "client expect_server_key_exchange",
            Self::ExpectCertificateRequestOrDone { .. } => {
                "client expect_certificate_request_or_done"
            }
            Self::ExpectServerHelloDone { .. } => "client expect_server_hello_done",
            Self::ExpectPskKeyExchange { .. } => "client expect_psk_key_exchange",
            Self::ExpectPskServerHelloDone { .. } => "client expect_psk_server_hello_done",
            Self::ExpectChangeCipherSpec { .. } => "client expect_change_cipher_spec",
            Self::ExpectFinished { .. } => "client expect_finished",
            Self::Traffic { .. } => "client traffic",
            Self::Closed { .. } => "client closed",
        }
    }

    /// The coarse phase: the client is in `Wait` from its ClientHello on.
    pub fn phase(&self) -> Phase {
        match self {
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

    /// Sends the ClientHello (RFC 5246 §7.4.1.2), offering `session` if given.
    pub fn start(
        config: &ClientConfig<P>,
        cx: &mut Context<'_, P>,
        server_name: Option<String>,
        session: Option<Session>,
    ) -> Result<Self, Error> {
        // Offer a session only when it can be resumed as it is (RFC 7627 §5.3, RFC 6066
        // §3, RFC 5246 §7.4.1.2): same name, a suite we still offer, and the same
        // extended-master-secret state (a server must abort an offer that drops it, and
        // must not resume one that adds it).
        let session = session.filter(|s| {
            s.server_name == server_name
                && s.version == ProtocolVersion::TLSv1_2
                && s.extended_master_secret == config.extended_master_secret
                && config.suites.iter().any(|suite| suite.suite == s.suite)
                && (!s.id.is_empty() || (config.tickets && s.ticket.is_some()))
        });
        let client_random = cx.random()?;
        // Room for every extension below: no regrowth.
        let mut extensions = Vec::with_capacity(9);
        // RFC 6066 §3: literal IP addresses are not sent as names.
        if let Some(name) = server_name
            .as_deref()
            .filter(|n| n.parse::<std::net::IpAddr>().is_err())
        {
            let name = ServerName {
                typ: ServerNameType::HostName,
                name: name.as_bytes().to_vec(),
            };
            extensions.push(ClientExtension::ServerName(vec![name]));
        }
        extensions.push(ClientExtension::SupportedGroups(config.groups.clone()));
        extensions.push(ClientExtension::EcPointFormats(vec![
            ECPointFormat::Uncompressed,
        ]));
        extensions.push(ClientExtension::SignatureAlgorithms(
            cx.provider.verify_schemes(),
        ));
        if config.extended_master_secret {
            extensions.push(ClientExtension::ExtendedMasterSecret);
        }
        // RFC 5746 §3.4: an empty renegotiation_info on the initial handshake.
        extensions.push(ClientExtension::RenegotiationInfo(Vec::new()));
        // RFC 7301 §3.1: empty names are not allowed, so none are offered.
        let protocols: Vec<ProtocolName> = config
            .alpn
            .iter()
            .filter(|p| !p.is_empty() && p.len() <= 255)
            .map(|p| ProtocolName(p.clone()))
            .collect();
        if !protocols.is_empty() {
            extensions.push(ClientExtension::Alpn(protocols));
        }
        // RFC 5077 §3.2: an empty session_ticket asks for a ticket; a ticket offers to
        // resume, with a fresh session ID that the server echoes when it accepts.
        let ticket = session
            .as_ref()
            .and_then(|s| s.ticket.clone())
            .filter(|_| config.tickets);
        if config.tickets {
            extensions.push(ClientExtension::SessionTicket(
                ticket.clone().unwrap_or_default(),
            ));
        }
        let session_id = match (&ticket, &session) {
            (Some(_), _) => {
                let mut id = [0u8; 32];
                cx.provider.fill_random(&mut id)?;
                SessionId::new(&id).unwrap_or(SessionId::EMPTY)
            }
            (None, Some(s)) => s.id,
            (None, None) => SessionId::EMPTY,
        };
        let hello = ClientHello {
            client_version: ProtocolVersion::TLSv1_2,
            random: client_random,
            session_id,
            cipher_suites: config
                .suites
                .iter()
                .filter(|s| !s.uses_psk() || !config.psk.is_empty())
                .map(|s| s.suite)
                .collect(),
            compression_methods: vec![Compression::Null],
            extensions: Some(extensions),
        };
        let mut transcript = Transcript::default();
        // Sent from the message and taken back out of it: the state keeps the hello, and
        // a clone would copy every list in it.
        let msg = HandshakeMessage::from(HandshakePayload::ClientHello(hello));
        cx.send_ref(&mut transcript, &msg);
        let HandshakePayload::ClientHello(hello) = msg.payload else {
            return Err(Error::misbehaved(
                AlertDescription::InternalError,
                "a ClientHello that is not one",
            ));
        };
        cx.records.flush(cx.provider)?;
        Ok(Self::ExpectServerHello {
            client_random,
            transcript: transcript.into_messages(),
            server_name,
            offered: session.map(Box::new),
            hello: Box::new(hello),
        })
    }

    /// Whether a handshake message of type `typ` is what this state waits for; anything
    /// else is `unexpected_message` before its body is decoded (RFC 5246 §7.3). A
    /// HelloRequest is always acceptable while the connection is open: mid-handshake it
    /// is ignored (RFC 5246 §7.4.1.1), in traffic it is declined.
    pub fn expects(&self, typ: HandshakeType) -> bool {
        if typ == HandshakeType::HelloRequest {
            return !matches!(self, Self::Closed { .. });
        }
        match self {
            Self::ExpectServerHello { .. } => typ == HandshakeType::ServerHello,
            Self::ExpectCertificate { .. } => typ == HandshakeType::Certificate,
            Self::ExpectServerKeyExchange { .. } => typ == HandshakeType::ServerKeyExchange,
            Self::ExpectCertificateRequestOrDone { .. } => matches!(
                typ,
                HandshakeType::CertificateRequest | HandshakeType::ServerHelloDone
            ),
            Self::ExpectServerHelloDone { .. } | Self::ExpectPskServerHelloDone { .. } => {
                typ == HandshakeType::ServerHelloDone
            }
            // RFC 5489 §2: ECDHE_PSK always sends ServerKeyExchange; RFC 4279 §2: PSK
            // only with a hint. A Certificate or CertificateRequest is never expected.
            Self::ExpectPskKeyExchange { hs } => {
                typ == HandshakeType::ServerKeyExchange
                    || (typ == HandshakeType::ServerHelloDone && hs.suite.kx == KeyExchange::Psk)
            }
            Self::ExpectFinished { .. } => typ == HandshakeType::Finished,
            // RFC 5077 §3.3: a promised NewSessionTicket comes right before the server's
            // ChangeCipherSpec.
            Self::ExpectChangeCipherSpec { hs, .. } => {
                typ == HandshakeType::NewSessionTicket
                    && hs.ticket_expected
                    && hs.new_ticket.is_none()
            }
            Self::Traffic { .. } | Self::Closed { .. } => false,
        }
    }

    /// The key exchange of the suite chosen so far: the context in which a
    /// ServerKeyExchange decodes.
    fn key_exchange(&self) -> KeyExchange {
        match self {
            Self::ExpectPskKeyExchange { hs } => hs.suite.kx,
            _ => KeyExchange::Ecdhe,
        }
    }

    /// Handles one handshake message or ChangeCipherSpec.
    pub fn handle(
        self,
        config: &ClientConfig<P>,
        cx: &mut Context<'_, P>,
        input: Incoming,
    ) -> Result<Self, Error> {
        let name = self.name();
        match (self, input) {
            (
                Self::ExpectChangeCipherSpec {
                    hs,
                    master,
                    server_cert,
                    client_cert,
                    group,
                    resumed,
                },
                Incoming::ChangeCipherSpec,
            ) => {
                if hs.ticket_expected && hs.new_ticket.is_none() {
                    return Err(Error::unexpected(name, "ChangeCipherSpec"));
                }
                cx.records.activate_read()?;
                Ok(Self::ExpectFinished {
                    hs,
                    master,
                    server_cert,
                    client_cert,
                    group,
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
                // RFC 5246 §7.4.1.1: a HelloRequest while negotiating is ignored, and never
                // enters the transcript.
                let negotiating = !matches!(state, Self::Traffic { .. });
                if negotiating && matches!(msg.payload, HandshakePayload::HelloRequest) {
                    return Ok(state);
                }
                state.handle_message(config, cx, msg, &raw)
            }
            (_, other) => Err(Error::unexpected(name, other)),
        }
    }

    fn handle_message(
        self,
        config: &ClientConfig<P>,
        cx: &mut Context<'_, P>,
        msg: HandshakeMessage,
        raw: &[u8],
    ) -> Result<Self, Error> {
        let name = self.name();
        match (self, msg.payload) {
            (
                Self::ExpectServerHello {
                    client_random,
                    transcript,
                    server_name,
                    offered,
                    hello,
                },
                HandshakePayload::ServerHello(sh),
            ) => {
                let agreed = read_server_hello(&hello, &sh)?;
                let mut transcript = Transcript::from_messages(transcript);
                transcript.add(cx.provider, raw);
                let suite = Suite::lookup(sh.cipher_suite).ok_or(Error::misbehaved(
                    AlertDescription::IllegalParameter,
                    "ServerHello chose a suite we did not offer",
                ))?;
                // The suite fixes the transcript hash. Only an identity of ours can be
                // asked to sign the messages themselves (CertificateVerify).
                transcript.start_hash(cx.provider, &suite, config.identity.is_some());
                let hs = Box::new(ClientHandshake {
                    suite,
                    client_random,
                    server_random: sh.random,
                    session_id: sh.session_id,
                    extended_master_secret: agreed.extended_master_secret,
                    secure_renegotiation: agreed.secure_renegotiation,
                    server_name,
                    alpn: agreed.alpn,
                    psk_identity: None,
                    ticket_expected: agreed.ticket_expected,
                    new_ticket: None,
                    transcript,
                });
                // Resumed when the server echoes the ID we sent: the session's own, or the
                // fresh one beside a ticket (RFC 5077 §3.4).
                let echoed = !sh.session_id.is_empty() && sh.session_id == hello.session_id;
                match offered.filter(|_| echoed) {
                    Some(session) => resume(cx, hs, *session),
                    None if hs.suite.uses_certificate() => Ok(Self::ExpectCertificate { hs }),
                    None => Ok(Self::ExpectPskKeyExchange { hs }),
                }
            }
            (Self::ExpectCertificate { mut hs }, HandshakePayload::Certificate(chain)) => {
                if chain.0.is_empty() {
                    return Err(Error::misbehaved(
                        AlertDescription::DecodeError,
                        "server sent no certificate",
                    ));
                }
                let name = hs.server_name.as_deref().unwrap_or_default();
                cx.provider
                    .verify_chain(&config.roots, &chain.0, Some(name), cx.now)?;
                hs.transcript.add(cx.provider, raw);
                Ok(Self::ExpectServerKeyExchange { hs, chain: chain.0 })
            }
            (
                Self::ExpectServerKeyExchange { mut hs, chain },
                HandshakePayload::ServerKeyExchange(ServerKeyExchange::Ecdhe { params, signed }),
            ) => {
                read_server_key_exchange(config, cx.provider, &hs, &chain[0], &params, &signed)?;
                hs.transcript.add(cx.provider, raw);
                Ok(Self::ExpectCertificateRequestOrDone {
                    hs,
                    server: Box::new(ServerAuth { chain, params }),
                })
            }
            (
                Self::ExpectCertificateRequestOrDone { mut hs, server },
                HandshakePayload::CertificateRequest(request),
            ) => {
                hs.transcript.add(cx.provider, raw);
                Ok(Self::ExpectServerHelloDone {
                    hs,
                    server,
                    request: Box::new(request),
                })
            }
            (
                Self::ExpectCertificateRequestOrDone { mut hs, server },
                HandshakePayload::ServerHelloDone,
            ) => {
                hs.transcript.add(cx.provider, raw);
                send_client_flight(config, cx, hs, *server, None)
            }
            (
                Self::ExpectServerHelloDone {
                    mut hs,
                    server,
                    request,
                },
                HandshakePayload::ServerHelloDone,
            ) => {
                hs.transcript.add(cx.provider, raw);
                send_client_flight(config, cx, hs, *server, Some(*request))
            }
            (
                Self::ExpectChangeCipherSpec {
                    mut hs,
                    master,
                    server_cert,
                    client_cert,
                    group,
                    resumed,
                },
                HandshakePayload::NewSessionTicket(ticket),
            ) => {
                hs.transcript.add(cx.provider, raw);
                hs.new_ticket = Some(ticket.ticket);
                Ok(Self::ExpectChangeCipherSpec {
                    hs,
                    master,
                    server_cert,
                    client_cert,
                    group,
                    resumed,
                })
            }
            (Self::ExpectPskKeyExchange { mut hs }, HandshakePayload::ServerKeyExchange(ske)) => {
                let (hint, params) = match ske {
                    ServerKeyExchange::Psk { hint } => (hint, None),
                    ServerKeyExchange::EcdhePsk { hint, params } => {
                        // RFC 8422 §5.4: a group we offered.
                        if !config.groups.contains(&params.group) {
                            return Err(Error::misbehaved(
                                AlertDescription::IllegalParameter,
                                "ServerKeyExchange in a group we did not offer",
                            ));
                        }
                        (hint, Some(params))
                    }
                    // The suite's context decodes no other form.
                    ServerKeyExchange::Ecdhe { .. } => {
                        return Err(Error::unexpected(name, "ServerKeyExchange"))
                    }
                };
                hs.transcript.add(cx.provider, raw);
                Ok(Self::ExpectPskServerHelloDone { hs, hint, params })
            }
            (Self::ExpectPskKeyExchange { mut hs }, HandshakePayload::ServerHelloDone) => {
                hs.transcript.add(cx.provider, raw);
                send_psk_client_flight(config, cx, hs, &[], None)
            }
            (
                Self::ExpectPskServerHelloDone {
                    mut hs,
                    hint,
                    params,
                },
                HandshakePayload::ServerHelloDone,
            ) => {
                hs.transcript.add(cx.provider, raw);
                send_psk_client_flight(config, cx, hs, &hint, params)
            }
            (
                Self::ExpectFinished {
                    mut hs,
                    master,
                    server_cert,
                    client_cert,
                    group,
                    resumed,
                },
                HandshakePayload::Finished(verify_data),
            ) => {
                let proof = read_finished(
                    cx.provider,
                    &hs.suite,
                    &master,
                    false,
                    &hs.transcript,
                    &verify_data,
                )?;
                hs.transcript.add(cx.provider, raw);
                if resumed {
                    let finished = finished(cx.provider, &hs.suite, &master, true, &hs.transcript);
                    cx.records.send_change_cipher_spec(cx.provider)?;
                    cx.send(&mut hs.transcript, finished);
                    cx.records.flush(cx.provider)?;
                }
                let summary = HandshakeSummary {
                    transcript_hash: hs.transcript.hash(cx.provider, &hs.suite),
                    version: ProtocolVersion::TLSv1_2,
                    suite: hs.suite.suite,
                    group,
                    resumed,
                    extended_master_secret: hs.extended_master_secret,
                    secure_renegotiation: hs.secure_renegotiation,
                    session_id: hs.session_id,
                    server_name: hs.server_name.clone(),
                    alpn: hs.alpn.clone(),
                    psk_identity: hs.psk_identity.clone(),
                    server_certificate: server_cert.clone(),
                    client_certificate: client_cert,
                    client_random: hs.client_random,
                    master_secret: master,
                };
                cx.events
                    .push_back(Event::HandshakeComplete(Box::new(summary.clone())));
                // A session to keep: after a full handshake that gave an ID or a ticket,
                // or after a resumption that renewed the ticket (RFC 5077 §3.3).
                let ticket = hs.new_ticket.take().filter(|t| !t.is_empty());
                let keep = match resumed {
                    false => !hs.session_id.is_empty() || ticket.is_some(),
                    true => ticket.is_some(),
                };
                if keep {
                    let mut session = summary.session(cx.now);
                    if ticket.is_some() {
                        // A ticket is the session's handle; the ID beside it was ours.
                        session.id = match resumed {
                            true => SessionId::EMPTY,
                            false => session.id,
                        };
                        session.ticket = ticket;
                    }
                    cx.events.push_back(Event::NewSession(Box::new(session)));
                }
                Ok(Self::Traffic {
                    summary: Box::new(summary),
                    proof,
                })
            }
            (Self::Traffic { summary, proof }, HandshakePayload::HelloRequest) => {
                // RFC 5746 §4.2 / RFC 5246 §7.4.1.1: we never renegotiate; say so.
                let alert = crate::msgs::AlertMessage::warning(AlertDescription::NoRenegotiation);
                cx.records.send_alert(cx.provider, alert)?;
                Ok(Self::Traffic { summary, proof })
            }
            (_, payload) => Err(Error::unexpected(
                name,
                message_name(&HandshakeMessage { payload }),
            )),
        }
    }

    /// Gives up on a handshake that has not completed by `now` (the spec's client timer:
    /// a server that ignores the ClientHello is fatal for the client).
    pub fn check_timeout(
        &self,
        config: &ClientConfig<P>,
        started: UnixTime,
        now: UnixTime,
    ) -> Result<(), Error> {
        let waiting = !matches!(self, Self::Traffic { .. } | Self::Closed { .. });
        match waiting && now.0.saturating_sub(started.0) >= config.handshake_timeout {
            true => Err(Error::local(
                AlertDescription::HandshakeFailure,
                crate::error::Reason::Refused("handshake timed out"),
            )),
            false => Ok(()),
        }
    }
}

/// What a ServerHello settled besides version, suite and session.
struct Agreed {
    extended_master_secret: bool,
    secure_renegotiation: bool,
    alpn: Option<Vec<u8>>,
    ticket_expected: bool,
}

/// RFC 5246 §7.4.1.3 and §7.4.1.4: version, suite, compression and extensions must be
/// ones we offered.
fn read_server_hello(hello: &ClientHello, sh: &ServerHello) -> Result<Agreed, Error> {
    if sh.server_version != ProtocolVersion::TLSv1_2 {
        return Err(Error::misbehaved(
            AlertDescription::ProtocolVersion,
            "server chose a version other than TLS 1.2",
        ));
    }
    if !hello.cipher_suites.contains(&sh.cipher_suite) {
        return Err(Error::misbehaved(
            AlertDescription::IllegalParameter,
            "ServerHello chose a suite we did not offer",
        ));
    }
    if sh.compression_method != Compression::Null {
        return Err(Error::misbehaved(
            AlertDescription::IllegalParameter,
            "ServerHello chose compression",
        ));
    }
    let mut agreed = Agreed {
        extended_master_secret: false,
        secure_renegotiation: false,
        alpn: None,
        ticket_expected: false,
    };
    for ext in sh.extensions() {
        if !hello
            .extensions()
            .iter()
            .any(|c| c.ext_type() == ext.ext_type())
        {
            return Err(Error::misbehaved(
                AlertDescription::UnsupportedExtension,
                "ServerHello extension we did not offer",
            ));
        }
        match ext {
            // RFC 5746 §3.4: on the initial handshake it must be empty.
            ServerExtension::RenegotiationInfo(info) if !info.is_empty() => {
                return Err(Error::misbehaved(
                    AlertDescription::HandshakeFailure,
                    "renegotiation_info not empty",
                ));
            }
            ServerExtension::RenegotiationInfo(_) => agreed.secure_renegotiation = true,
            ServerExtension::ExtendedMasterSecret => agreed.extended_master_secret = true,
            ServerExtension::SessionTicketAck => agreed.ticket_expected = true,
            // RFC 7301 §3.2: the server selects one of the protocols the client offered.
            ServerExtension::Alpn(chosen) => {
                let offered = hello.extensions().iter().any(|c| match c {
                    ClientExtension::Alpn(names) => names.contains(chosen),
                    _ => false,
                });
                if !offered {
                    return Err(Error::misbehaved(
                        AlertDescription::IllegalParameter,
                        "ServerHello selected a protocol we did not offer",
                    ));
                }
                agreed.alpn = Some(chosen.0.clone());
            }
            ServerExtension::EcPointFormats(formats)
                if !formats.contains(&ECPointFormat::Uncompressed) =>
            {
                return Err(Error::misbehaved(
                    AlertDescription::IllegalParameter,
                    "ec_point_formats without uncompressed",
                ));
            }
            _ => {}
        }
    }
    Ok(agreed)
}

/// The server resumed our session: check it kept its parameters (RFC 5246 §7.4.1.3;
/// RFC 7627 §5.3) and wait for its ChangeCipherSpec and Finished.
fn resume<P: Provider>(
    cx: &mut Context<'_, P>,
    mut hs: Box<ClientHandshake<P>>,
    session: Session,
) -> Result<ClientState<P>, Error> {
    if hs.suite.suite != session.suite {
        return Err(Error::misbehaved(
            AlertDescription::IllegalParameter,
            "resumed with another suite",
        ));
    }
    if hs.extended_master_secret != session.extended_master_secret {
        return Err(Error::misbehaved(
            AlertDescription::HandshakeFailure,
            "resumed across a change of extended master secret",
        ));
    }
    // The offered session is ours to take apart: nothing in it is copied.
    hs.server_name = session.server_name;
    hs.psk_identity = session.psk_identity;
    let master = session.master_secret;
    install_pending_ciphers(
        cx,
        &hs.suite,
        &master,
        &hs.client_random,
        &hs.server_random,
        true,
    )?;
    Ok(ClientState::ExpectChangeCipherSpec {
        hs,
        master,
        server_cert: session.server_certificate,
        client_cert: session.client_certificate,
        group: None,
        resumed: true,
    })
}

/// RFC 8422 §5.4: a group we offered, a scheme we offered that fits the suite, and a
/// signature by the certificate's key over both randoms and the parameters.
fn read_server_key_exchange<P: Provider>(
    config: &ClientConfig<P>,
    provider: &P,
    hs: &ClientHandshake<P>,
    end_entity: &CertificateDer,
    params: &EcdheParams,
    signed: &DigitallySigned,
) -> Result<(), Error> {
    if !config.groups.contains(&params.group) {
        return Err(Error::misbehaved(
            AlertDescription::IllegalParameter,
            "ServerKeyExchange in a group we did not offer",
        ));
    }
    if !hs.suite.sig.allows(signed.scheme) || !provider.verify_schemes().contains(&signed.scheme) {
        return Err(Error::misbehaved(
            AlertDescription::IllegalParameter,
            "ServerKeyExchange signed with a scheme we did not offer",
        ));
    }
    let message = signed_params(&hs.client_random, &hs.server_random, params);
    provider.verify_signature(end_entity, signed.scheme, &message, &signed.signature)?;
    Ok(())
}

/// Our identity if it fits the request: a certificate type and a scheme it asked for.
fn pick_identity<'a, P: Provider>(
    config: &'a ClientConfig<P>,
    provider: &P,
    request: &CertificateRequest,
) -> Option<(&'a ClientIdentity<P>, SignatureScheme)> {
    let identity = config.identity.as_ref()?;
    provider
        .signing_schemes(&identity.key)
        .into_iter()
        .find_map(|scheme| {
            let wanted_type = match SignatureKind::Ecdsa.allows(scheme) {
                true => ClientCertificateType::ECDSASign,
                false => ClientCertificateType::RSASign,
            };
            let kind_asked = request.certificate_types.contains(&wanted_type);
            (kind_asked && request.signature_schemes.contains(&scheme))
                .then_some((identity, scheme))
        })
}

/// The client's second flight of a full handshake: Certificate*, ClientKeyExchange,
/// CertificateVerify*, ChangeCipherSpec, Finished (RFC 5246 §7.3).
fn send_client_flight<P: Provider>(
    config: &ClientConfig<P>,
    cx: &mut Context<'_, P>,
    mut hs: Box<ClientHandshake<P>>,
    server: ServerAuth,
    request: Option<CertificateRequest>,
) -> Result<ClientState<P>, Error> {
    let identity = request
        .as_ref()
        .and_then(|r| pick_identity(config, cx.provider, r));
    if request.is_some() {
        // RFC 5246 §7.4.6: with nothing suitable, an empty Certificate.
        let chain = identity.map(|(id, _)| id.chain.clone()).unwrap_or_default();
        cx.send(
            &mut hs.transcript,
            HandshakePayload::Certificate(CertificateChain(chain)).into(),
        );
    }
    let ServerAuth { mut chain, params } = server;
    let (kx, public) = cx.provider.kx_start(params.group)?;
    let pre_master = cx.provider.kx_complete(kx, &params.public)?;
    let cke = ClientKeyExchange::Ecdhe { public };
    cx.send(
        &mut hs.transcript,
        HandshakePayload::ClientKeyExchange(cke).into(),
    );
    let master = master_secret(
        cx.provider,
        &hs.suite,
        &pre_master,
        hs.extended_master_secret,
        &hs.transcript,
        &hs.client_random,
        &hs.server_random,
    );
    let client_cert = match identity {
        Some((identity, scheme)) => {
            // RFC 5246 §7.4.8: signed over every handshake message so far.
            // Kept since ServerHello because we have an identity (internal_error if not).
            let messages = hs.transcript.bytes().ok_or(CryptoError::Internal)?;
            let signature = cx.provider.sign(&identity.key, scheme, messages)?;
            let verify = DigitallySigned { scheme, signature };
            cx.send(
                &mut hs.transcript,
                HandshakePayload::CertificateVerify(verify).into(),
            );
            identity.chain.first().cloned()
        }
        None => None,
    };
    install_pending_ciphers(
        cx,
        &hs.suite,
        &master,
        &hs.client_random,
        &hs.server_random,
        true,
    )?;
    let finished = finished(cx.provider, &hs.suite, &master, true, &hs.transcript);
    cx.records.send_change_cipher_spec(cx.provider)?;
    cx.send(&mut hs.transcript, finished);
    cx.records.flush(cx.provider)?;
    Ok(ClientState::ExpectChangeCipherSpec {
        hs,
        master,
        server_cert: Some(chain.swap_remove(0)),
        client_cert,
        group: Some(params.group),
        resumed: false,
    })
}

/// The client's second flight under a PSK suite: ClientKeyExchange with the identity
/// picked by the server's hint (and, for ECDHE_PSK, our key share), ChangeCipherSpec,
/// Finished (RFC 4279 §2, RFC 5489 §2).
fn send_psk_client_flight<P: Provider>(
    config: &ClientConfig<P>,
    cx: &mut Context<'_, P>,
    mut hs: Box<ClientHandshake<P>>,
    hint: &[u8],
    params: Option<EcdheParams>,
) -> Result<ClientState<P>, Error> {
    let psk = pick_by_hint(&config.psk, hint)
        .ok_or(Error::refused("no pre-shared key for the server's hint"))?;
    let identity = psk.identity.clone();
    let (cke, pre_master, group) = match params {
        Some(params) => {
            let (kx, public) = cx.provider.kx_start(params.group)?;
            let shared = cx.provider.kx_complete(kx, &params.public)?;
            let pre_master = premaster_secret(Some(shared.expose()), psk.key.expose());
            let cke = ClientKeyExchange::EcdhePsk {
                identity: identity.clone(),
                public,
            };
            (cke, pre_master, Some(params.group))
        }
        None => {
            let pre_master = premaster_secret(None, psk.key.expose());
            let cke = ClientKeyExchange::Psk {
                identity: identity.clone(),
            };
            (cke, pre_master, None)
        }
    };
    cx.send(
        &mut hs.transcript,
        HandshakePayload::ClientKeyExchange(cke).into(),
    );
    hs.psk_identity = Some(identity);
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
        true,
    )?;
    let finished = finished(cx.provider, &hs.suite, &master, true, &hs.transcript);
    cx.records.send_change_cipher_spec(cx.provider)?;
    cx.send(&mut hs.transcript, finished);
    cx.records.flush(cx.provider)?;
    Ok(ClientState::ExpectChangeCipherSpec {
        hs,
        master,
        server_cert: None,
        client_cert: None,
        group,
        resumed: false,
    })
}
