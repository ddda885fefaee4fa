//! Floor 7: the handshake state machines of RFC 5246 §7.3 — [`server`] and [`client`].
//!
//! Each side is an explicit enum of states named after what it expects next, with one
//! function per state; every state has a printable name ("server expect_finished") and
//! maps onto the coarse [`Phase`] of the spec's table. What both sides share lives here:
//! the transcript, key derivation, Finished, and the proof token that only a verified
//! Finished can mint.

pub mod client;
pub mod server;

use std::collections::VecDeque;

use crate::crypto::{constant_time_eq, Provider, Secret, UnixTime};
use crate::error::Error;
use crate::keys;
use crate::msgs::enums::{AlertDescription, CipherSuite, NamedGroup, ProtocolVersion};
use crate::msgs::handshake::VERIFY_DATA_LEN;
use crate::msgs::{CertificateDer, HandshakeMessage, HandshakePayload, Random, SessionId};
use crate::record::{RecordCipher, RecordLayer};
use crate::session::Session;
use crate::suites::Suite;

/// The coarse state of the spec's server table, which the fine states refine: `Idle
/// --ClientHello--> Wait --client Finished--> AppData`. The client maps the same way:
/// Idle until its ClientHello is out, Wait until the handshake completes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// No handshake message exchanged yet.
    Idle,
    /// Mid-handshake.
    Wait,
    /// Both Finished verified: application data flows.
    AppData,
    /// Closed, by close_notify or a fatal alert.
    Closed,
}

/// The server's client-authentication policy (RFC 5246 §7.4.4, §7.4.6).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ClientAuth {
    /// No CertificateRequest.
    #[default]
    None,
    /// CertificateRequest; an empty client Certificate is accepted.
    Optional,
    /// CertificateRequest; an empty client Certificate is `handshake_failure`.
    Required,
}

/// What a completed handshake settled: both ends of one connection must agree on every
/// field (the model checks that they do).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HandshakeSummary {
    /// The version (always TLS 1.2).
    pub version: ProtocolVersion,
    /// The cipher suite.
    pub suite: CipherSuite,
    /// The ECDHE group of a full handshake; `None` when resumed.
    pub group: Option<NamedGroup>,
    /// Whether this was an abbreviated handshake.
    pub resumed: bool,
    /// Whether the master secret is an extended one (RFC 7627).
    pub extended_master_secret: bool,
    /// Whether both ends signalled secure renegotiation (RFC 5746: the client's SCSV or
    /// empty renegotiation_info, the server's empty renegotiation_info).
    pub secure_renegotiation: bool,
    /// The session ID (empty if the server will not cache the session).
    pub session_id: SessionId,
    /// The server name the client asked for.
    pub server_name: Option<String>,
    /// The application protocol both ends agreed on (RFC 7301), if any.
    pub alpn: Option<Vec<u8>>,
    /// The PSK identity of a PSK or ECDHE_PSK suite.
    pub psk_identity: Option<Vec<u8>>,
    /// The server's end-entity certificate.
    pub server_certificate: Option<CertificateDer>,
    /// The client's end-entity certificate, if it authenticated.
    pub client_certificate: Option<CertificateDer>,
    /// `ClientHello.random`, the key of the NSS key log.
    pub client_random: Random,
    /// The master secret (never printed).
    pub master_secret: Secret,
    /// The hash of every handshake message of the handshake, both Finished included:
    /// equal on both ends exactly when neither saw a message the other did not send.
    pub transcript_hash: crate::crypto::Digest,
}

impl HandshakeSummary {
    /// The NSS key log line (`CLIENT_RANDOM <random> <master secret>`) that lets
    /// Wireshark decrypt the connection.
    pub fn key_log_line(&self) -> String {
        use crate::msgs::base::hex;
        format!(
            "CLIENT_RANDOM {} {}",
            hex(&self.client_random.0),
            hex(self.master_secret.expose())
        )
    }

    /// The session to cache or store for resumption.
    pub fn session(&self, created: UnixTime) -> Session {
        Session {
            id: self.session_id,
            version: self.version,
            suite: self.suite,
            master_secret: self.master_secret.clone(),
            extended_master_secret: self.extended_master_secret,
            server_name: self.server_name.clone(),
            server_certificate: self.server_certificate.clone(),
            client_certificate: self.client_certificate.clone(),
            psk_identity: self.psk_identity.clone(),
            ticket: None,
            created,
        }
    }
}

/// What the connection reports to its owner.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Event {
    /// The handshake completed; application data may flow.
    HandshakeComplete(Box<HandshakeSummary>),
    /// A client's new session, to store for resumption (only when the server gave it an
    /// ID).
    NewSession(Box<Session>),
    /// A flight was sent or received, in the spec's notation (`-> ClientHello`,
    /// `<- ServerHello, Certificate, ...`), from this end's point of view.
    Flight(String),
    /// The peer sent close_notify.
    PeerClosed,
    /// The peer sent a warning alert that we ignored (e.g. no_renegotiation).
    Warning(AlertDescription),
}

/// What a state handler may touch besides its own state.
pub struct Context<'a, P: Provider> {
    /// The crypto provider.
    pub provider: &'a mut P,
    /// The record layer: where flights go, where read keys wait for ChangeCipherSpec.
    pub records: &'a mut RecordLayer<P>,
    /// The time of this input.
    pub now: UnixTime,
    /// Events for the owner.
    pub events: &'a mut VecDeque<Event>,
}

impl<P: Provider> Context<'_, P> {
    /// Queues `msg` in the current flight and adds it to `transcript`.
    pub(crate) fn send(&mut self, transcript: &mut Transcript<P>, msg: HandshakeMessage) {
        self.send_ref(transcript, &msg);
    }

    /// The same, for a message the caller keeps.
    pub(crate) fn send_ref(&mut self, transcript: &mut Transcript<P>, msg: &HandshakeMessage) {
        let bytes = self.records.queue_message(msg);
        transcript.add(self.provider, bytes);
    }

    /// A fresh random value.
    pub(crate) fn random(&mut self) -> Result<Random, Error> {
        let mut random = [0u8; 32];
        self.provider.fill_random(&mut random)?;
        Ok(Random(random))
    }
}

/// The handshake messages so far, as sent (RFC 5246 §7.4.9 `handshake_messages`).
///
/// Until the suite is chosen the hash is unknown (SHA-256 or SHA-384), so the messages
/// are buffered; from then on they feed a running hash of the provider
/// ([`Transcript::start_hash`]), so that each use hashes no more than the messages added
/// since the last. The messages themselves are kept on only where a CertificateVerify
/// may be signed over them: a TLS 1.2 CertificateVerify uses the scheme's own hash,
/// which the suite's hash cannot stand in for (RFC 5246 §7.4.8).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Transcript<P: Provider> {
    /// The messages, while they may still be needed.
    messages: Option<Vec<u8>>,
    /// The running hash under the suite's PRF hash, once the suite is known.
    running: Option<P::TranscriptHash>,
}

impl<P: Provider> Default for Transcript<P> {
    fn default() -> Self {
        Self {
            messages: Some(Vec::new()),
            running: None,
        }
    }
}

impl<P: Provider> Transcript<P> {
    /// A transcript of `messages` so far, its hash not yet started.
    pub fn from_messages(messages: Vec<u8>) -> Self {
        Self {
            messages: Some(messages),
            running: None,
        }
    }

    /// The messages so far. Before [`Transcript::start_hash`] that is all of them; after
    /// it, whatever was kept (nothing unless `keep_messages`).
    pub fn into_messages(self) -> Vec<u8> {
        self.messages.unwrap_or_default()
    }

    /// Adds one message's bytes.
    pub fn add(&mut self, provider: &P, bytes: &[u8]) {
        if let Some(messages) = &mut self.messages {
            messages.extend_from_slice(bytes);
        }
        if let Some(running) = &mut self.running {
            provider.transcript_update(running, bytes);
        }
    }

    /// Starts hashing under `suite`'s PRF hash, once the suite is known; keeps the
    /// messages only if `keep_messages` (a CertificateVerify may be signed or checked).
    pub fn start_hash(&mut self, provider: &P, suite: &Suite, keep_messages: bool) {
        let mut running = provider.transcript_start(suite.hash);
        if let Some(messages) = &self.messages {
            provider.transcript_update(&mut running, messages);
        }
        self.running = Some(running);
        if !keep_messages {
            self.messages = None;
        }
    }

    /// The messages so far, if they were kept.
    pub fn bytes(&self) -> Option<&[u8]> {
        self.messages.as_deref()
    }

    /// Their hash under the suite's PRF hash.
    pub fn hash(&self, provider: &P, suite: &Suite) -> crate::crypto::Digest {
        match &self.running {
            Some(running) => provider.transcript_digest(running),
            // Before `start_hash` nothing has been dropped.
            None => Provider::hash(
                provider,
                suite.hash,
                self.messages.as_deref().unwrap_or_default(),
            ),
        }
    }
}

/// Proof that the peer's Finished verified. Only [`read_finished`] makes one, after a
/// constant-time comparison, and only a holder can enter the traffic state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FinishedVerified(());

/// The master secret: extended (RFC 7627 §4, over the session hash of the transcript
/// through ClientKeyExchange) when both ends negotiated it, else RFC 5246 §8.1.
pub(crate) fn master_secret<P: Provider>(
    provider: &P,
    suite: &Suite,
    pre_master: &Secret,
    extended: bool,
    transcript: &Transcript<P>,
    client_random: &Random,
    server_random: &Random,
) -> Secret {
    match extended {
        true => {
            let session_hash = transcript.hash(provider, suite);
            keys::extended_master_secret(provider, suite.hash, pre_master, session_hash.as_ref())
        }
        false => keys::master_secret(
            provider,
            suite.hash,
            pre_master,
            &client_random.0,
            &server_random.0,
        ),
    }
}

/// Derives the key block once (RFC 5246 §6.3) and installs both directions as the
/// record layer's pending states, oriented for the client or the server.
pub(crate) fn install_pending_ciphers<P: Provider>(
    cx: &mut Context<'_, P>,
    suite: &Suite,
    master: &Secret,
    client_random: &Random,
    server_random: &Random,
    we_are_client: bool,
) -> Result<(), Error> {
    let provider: &P = cx.provider;
    // Cut on the stack: the block never reaches the heap.
    let (client, server) = keys::with_key_block(
        provider,
        suite.hash,
        master,
        &client_random.0,
        &server_random.0,
        suite.aead.key_len(),
        suite.fixed_iv_len(),
        |[client_key, server_key, client_iv, server_iv]| {
            Ok::<_, Error>((
                RecordCipher::new(provider, suite, client_key, client_iv)?,
                RecordCipher::new(provider, suite, server_key, server_iv)?,
            ))
        },
    )?;
    match we_are_client {
        true => cx.records.set_pending(server, client),
        false => cx.records.set_pending(client, server),
    }
    Ok(())
}

/// The Finished message one side sends over the transcript so far (RFC 5246 §7.4.9).
pub(crate) fn finished<P: Provider>(
    provider: &P,
    suite: &Suite,
    master: &Secret,
    from_client: bool,
    transcript: &Transcript<P>,
) -> HandshakeMessage {
    let hash = transcript.hash(provider, suite);
    let verify_data = keys::verify_data(provider, suite.hash, master, from_client, hash.as_ref());
    HandshakePayload::Finished(verify_data).into()
}

/// Checks the peer's Finished against the transcript before it: `decrypt_error` when it
/// does not match (RFC 5246 §7.4.9).
pub(crate) fn read_finished<P: Provider>(
    provider: &P,
    suite: &Suite,
    master: &Secret,
    from_client: bool,
    transcript: &Transcript<P>,
    received: &[u8; VERIFY_DATA_LEN],
) -> Result<FinishedVerified, Error> {
    let hash = transcript.hash(provider, suite);
    let expected = keys::verify_data(provider, suite.hash, master, from_client, hash.as_ref());
    match constant_time_eq(&expected, received) {
        true => Ok(FinishedVerified(())),
        false => Err(Error::misbehaved(
            AlertDescription::DecryptError,
            "Finished does not verify",
        )),
    }
}

/// The bytes an ECDHE ServerKeyExchange signs: `client_random + server_random +
/// ServerECDHParams` (RFC 8422 §5.4).
pub(crate) fn signed_params(
    client_random: &Random,
    server_random: &Random,
    params: &crate::msgs::EcdheParams,
) -> Vec<u8> {
    use crate::codec::Codec;
    let mut message = Vec::with_capacity(64 + 4 + params.public.len());
    message.extend_from_slice(&client_random.0);
    message.extend_from_slice(&server_random.0);
    params.encode(&mut message);
    message
}

/// The short name of a handshake message for flights and errors.
pub(crate) fn message_name(msg: &HandshakeMessage) -> String {
    format!("{:?}", msg.typ())
}
