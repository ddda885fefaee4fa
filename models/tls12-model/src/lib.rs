//! The model-checked specification of tls12.
//!
//! **What is modelled.** Several clients, each opening its connections one after the
//! other, and one server with a bounded session cache, all running the *real*
//! [`ClientConnection`] and [`ServerConnection`] of the `tls12` crate and exchanging the
//! real record bytes over per-connection ordered channels (TCP). The checker explores every
//! interleaving of those channels; a client's later connection offering the session of an
//! earlier one (so the cache both hits and misses, and evicts); the server willing or not
//! to resume a session it found; the server answering or ignoring a ClientHello (the
//! client's timer then fires: fatal); and an attacker with a small budget who drops,
//! duplicates, reorders, replays from another connection, skips a handshake message,
//! injects a plaintext ChangeCipherSpec, Finished or application data record, strips
//! extended_master_secret, or edits one field of a plaintext hello, key exchange or
//! certificate request ([`Tamper`]). Options add clients that change name or suites
//! between connections, close, or renegotiate, and a P-384 server certificate.
//!
//! **What is abstracted.** Only cryptography and randomness: the connections use the
//! `symbolic` provider of `tls12` (deterministic randoms from per-endpoint seeds; a shared
//! secret only from one of the two private keys; a signature only under the signer's key;
//! a chain only from a configured root; deterministic PRF and AEAD). The attacker never
//! computes a secret. There is no second copy of the protocol logic here: the model only
//! moves bytes and observes what the connections report.
//!
//! **What is checked.** The `always` properties of [`properties`] (agreement, no early
//! application data, resumption only from the cache, fresh IDs on a miss, caching only
//! after Finished, fatal alerts are dead ends, the coarse phase table, client
//! authentication, no completion on a tampered transcript); a `sometimes` for each case
//! so none of them holds vacuously; and, on acyclic configurations without attacker or
//! ignores, that every connection `eventually` reaches application data.
//!
//! Transition properties (the phase table, "a closed connection accepts nothing", "no
//! completion on a tampered transcript") are checked as each step is taken and recorded
//! in the state's [`Violations`], a history variable the `always` properties read.

use std::collections::VecDeque;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use serde::Serialize;

pub mod check;
pub mod partition;
pub mod search;
pub mod svg;
pub mod tamper;
use stateright::{Model, Property};
pub use tamper::{Expect, Tamper};
use tls12::crypto::symbolic::{SymbolicPki, SymbolicProvider};
use tls12::crypto::UnixTime;
use tls12::handshake::client::{ClientConfig, ClientIdentity};
use tls12::handshake::server::{Hook, ServerConfig};
use tls12::handshake::{ClientAuth, Event, HandshakeSummary, Phase};
use tls12::msgs::enums::{AlertDescription, ContentType, HandshakeType, ProtocolVersion};
use tls12::msgs::{CertificateDer, SessionId};
use tls12::record::{Deframer, HandshakeJoiner, OpaqueRecord};
use tls12::session::{InMemoryCache, Session, SessionCache};
use tls12::{ClientConnection, ServerConnection};

// ---------------------------------------------------------------------------------------
// Messages, states and choices
// ---------------------------------------------------------------------------------------

/// The symbolic provider every endpoint runs on.
pub type Sym = SymbolicProvider;

/// The time of every input; the client's timer fires at `NOW + timeout`.
const NOW: UnixTime = UnixTime(1_000);

/// The server name every client asks for (and the server's certificate is for).
const SERVER_NAME: &str = "server.example";

/// The name a client asks for after [`Change::OtherName`].
const OTHER_NAME: &str = "other.example";

/// How a client's later connection differs from the one that made its stored session
/// (with `Config::vary`): the session must then not be offered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Change {
    /// It asks for another server name (RFC 6066 §3: a session is for its name).
    OtherName,
    /// It no longer offers the session's suite.
    FewerSuites,
}

/// One record in flight, as bytes.
pub type Record = Vec<u8>;

/// Which end of a connection receives a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Side {
    /// The client → server channel.
    ToServer,
    /// The server → client channel.
    ToClient,
}

/// Why a server that found the offered session in its cache does not resume it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Unwilling {
    /// Its `willing_to_resume` hook says no.
    Hook,
    /// Resumption is switched off in its configuration.
    ResumptionOff,
    /// It was reconfigured without the session's suite.
    SuiteRemoved,
}

impl Unwilling {
    /// Every reason.
    pub const ALL: [Unwilling; 3] = [
        Unwilling::Hook,
        Unwilling::ResumptionOff,
        Unwilling::SuiteRemoved,
    ];
}

/// An attacker's move on one channel (SMACK-style).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Move {
    /// Drop the next record.
    Drop,
    /// Deliver the next record twice.
    Duplicate,
    /// Swap the next two records.
    Reorder,
    /// Put a record sent on another connection (same direction) in front.
    Replay,
    /// Remove one handshake message from the next (plaintext, coalesced) record.
    Skip,
    /// Put a plaintext ChangeCipherSpec in front.
    InjectCcs,
    /// Put a plaintext Finished (zero verify_data) in front.
    InjectFinished,
    /// Put a plaintext application-data record in front.
    InjectAppData,
    /// Downgrade a plaintext ClientHello or ServerHello in flight: strip its
    /// extended_master_secret extension (the triple-handshake precondition).
    Downgrade,
    /// Edit one field of a plaintext hello, key exchange or certificate request (see
    /// [`Tamper`]); the receiver must answer as the RFCs say, at once.
    Tamper,
    /// Flip a bit of the session ticket a ClientHello offers (RFC 5077): the server must
    /// not resume from it. Explored with `tickets` and an attacker, beside the moves of
    /// [`Move::ALL`].
    ForgeTicket,
}

impl Move {
    /// Every move.
    pub const ALL: [Move; 10] = [
        Move::Drop,
        Move::Duplicate,
        Move::Reorder,
        Move::Replay,
        Move::Skip,
        Move::InjectCcs,
        Move::InjectFinished,
        Move::InjectAppData,
        Move::Downgrade,
        Move::Tamper,
    ];
}

/// The model's configuration: what the checker explores.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Config {
    /// Number of clients.
    pub clients: usize,
    /// Connections each client opens, one after the other.
    pub conns: usize,
    /// Server session-cache capacity (oldest evicted first).
    pub cache: usize,
    /// Whether the server may be unwilling to resume a session it found (for each
    /// [`Unwilling`] reason).
    pub unwilling: bool,
    /// Whether the server may ignore a ClientHello.
    pub ignore: bool,
    /// The server's client-authentication policy.
    #[serde(serialize_with = "serialize_debug")]
    pub client_auth: ClientAuth,
    /// Whether clients have a certificate to present.
    pub client_cert: bool,
    /// Whether clients are impostors: they present the honest client's certificate but
    /// hold another key (a stolen certificate).
    pub impostor: bool,
    /// How many attacker moves in total.
    pub attacker: u8,
    /// Which moves the attacker has.
    pub moves: Vec<Move>,
    /// Whether a client's later connection may ask for another name or offer fewer
    /// suites than the one that made its stored session.
    pub vary: bool,
    /// Whether a client may close a completed connection (close_notify both ways).
    pub close: bool,
    /// Whether the server's certificate key is ECDSA P-384 (else P-256).
    pub p384: bool,
    /// Whether a client may ask to renegotiate a completed connection (the model plays a
    /// client implementation that renegotiates: it seals a ClientHello under the
    /// connection's client keys).
    pub renegotiate: bool,
    /// A server without a certificate, on pre-shared keys only (RFC 4279, RFC 5489):
    /// clients prefer ECDHE_PSK on even connections and plain PSK (no hint, so no
    /// ServerKeyExchange) on odd ones, so both branches of the seed are explored.
    #[serde(default)]
    pub psk: bool,
    /// Session tickets (RFC 5077): clients ask for and offer tickets, the server issues
    /// them; the server may rotate its ticket key once (keeping or dropping the previous
    /// one), and with an attacker the attacker may forge a ticket.
    #[serde(default)]
    pub tickets: bool,
    /// ALPN (RFC 7301): clients offer h2 then http/1.1, the server prefers http/1.1.
    #[serde(default)]
    pub alpn: bool,
    /// The server chooses by its own order of suites (`prefer_server_order`), which is
    /// the reverse of the clients' (else the clients' order rules).
    #[serde(default)]
    pub server_order: bool,
}

fn serialize_debug<T: fmt::Debug, S: serde::Serializer>(
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&format_args!("{value:?}"))
}

impl Config {
    /// `clients` clients of 2 connections each, cache capacity 1, and nothing else
    /// explored: no declined resumptions, no ignores, no client authentication, no
    /// attacker, no options. The base that the default, the tests and the CI sweep vary.
    pub fn plain(clients: usize) -> Self {
        Self {
            clients,
            conns: 2,
            cache: 1,
            unwilling: false,
            ignore: false,
            client_auth: ClientAuth::None,
            client_cert: false,
            impostor: false,
            attacker: 0,
            moves: Vec::new(),
            vary: false,
            close: false,
            p384: false,
            renegotiate: false,
            psk: false,
            tickets: false,
            alpn: false,
            server_order: false,
        }
    }
}

impl Default for Config {
    /// The default configuration: 2 clients × 2 connections, cache capacity 1, ignores
    /// and unwilling resumption on, attacker budget 1 with every move.
    fn default() -> Self {
        Self {
            unwilling: true,
            ignore: true,
            attacker: 1,
            moves: Move::ALL.to_vec(),
            ..Self::plain(2)
        }
    }
}

/// A one-directional channel of one connection.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Channel {
    /// Every record the honest sender sent, in order.
    pub sent: Vec<Record>,
    /// The records in flight, as the attacker left them.
    pub queue: VecDeque<Record>,
    /// How many records were delivered.
    pub delivered: usize,
    /// Whether what was delivered is exactly a prefix of what was sent.
    pub faithful: bool,
}

/// One connection: its two ends and its two channels.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Conn {
    /// The client end, once started.
    pub client: Option<ClientConnection<Sym>>,
    /// The server end, once a ClientHello reached it.
    pub server: Option<ServerConnection<Sym>>,
    /// Client → server.
    pub to_server: Channel,
    /// Server → client.
    pub to_client: Channel,
    /// The session the client offered.
    pub offered: Option<Session>,
    /// Whether the offered session was in the cache when the ClientHello arrived.
    pub cache_hit: Option<bool>,
    /// Why the server was unwilling to resume, if it was.
    pub unwilling: Option<Unwilling>,
    /// Whether the server ignored the ClientHello.
    pub ignored: bool,
    /// The attacker's move on this connection, if any.
    pub attacked: Option<Move>,
    /// Whether the client's timer fired.
    pub timed_out: bool,
    /// Whether each end (client, server) ever reached AppData.
    pub completed: (bool, bool),
    /// The first record the server end received (its ClientHello, unless tampered).
    pub hello: Option<Record>,
    /// A field edit waiting at the head of a channel, until it is delivered.
    pub tampered: Option<(Side, Tamper)>,
    /// How the client's configuration changed since its stored session was made.
    pub change: Option<Change>,
    /// Whether the client closed the connection (sent close_notify).
    pub closing: bool,
    /// The renegotiating ClientHello the client sent, if it asked to renegotiate.
    pub renegotiation: Option<Record>,
    /// Whether the server declined the renegotiation and stayed in AppData.
    pub renegotiation_declined: bool,
    /// Under which of the server's ticket keys the ClientHello's ticket was sealed, as
    /// the server's keys stood when it arrived.
    pub ticket_key: Option<TicketKeyUse>,
}

/// Which key sealed an offered ticket, as the server's keys stand when it arrives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum TicketKeyUse {
    /// The key that seals now.
    Current,
    /// The previous key, still kept to open.
    Previous,
    /// No key the server has (rotated out, dropped, or never its own).
    Unknown,
}

impl Conn {
    fn new() -> Self {
        Self {
            client: None,
            server: None,
            to_server: Channel {
                faithful: true,
                ..Channel::default()
            },
            to_client: Channel {
                faithful: true,
                ..Channel::default()
            },
            offered: None,
            cache_hit: None,
            unwilling: None,
            ignored: false,
            attacked: None,
            timed_out: false,
            completed: (false, false),
            hello: None,
            tampered: None,
            change: None,
            closing: false,
            renegotiation: None,
            renegotiation_declined: false,
            ticket_key: None,
        }
    }

    fn channel(&self, side: Side) -> &Channel {
        match side {
            Side::ToServer => &self.to_server,
            Side::ToClient => &self.to_client,
        }
    }

    fn channel_mut(&mut self, side: Side) -> &mut Channel {
        match side {
            Side::ToServer => &mut self.to_server,
            Side::ToClient => &mut self.to_client,
        }
    }

    /// The client's coarse phase (`Idle` before it starts).
    pub fn client_phase(&self) -> Phase {
        self.client.as_ref().map_or(Phase::Idle, |c| c.phase())
    }

    /// The server's coarse phase (`Idle` before a ClientHello reaches it).
    pub fn server_phase(&self) -> Phase {
        self.server.as_ref().map_or(Phase::Idle, |s| s.phase())
    }

    fn client_summary(&self) -> Option<&HandshakeSummary> {
        self.client.as_ref().and_then(|c| c.summary())
    }

    fn server_summary(&self) -> Option<&HandshakeSummary> {
        self.server.as_ref().and_then(|s| s.summary())
    }

    /// Whether either end failed.
    pub fn failed(&self) -> bool {
        self.client.as_ref().is_some_and(|c| c.error().is_some())
            || self.server.as_ref().is_some_and(|s| s.error().is_some())
    }

    /// Whether this connection is over for its client: a later one may start.
    fn client_done(&self) -> bool {
        matches!(self.client_phase(), Phase::AppData | Phase::Closed) && self.client.is_some()
    }
}

/// A connection as the state holds it: shared between a state and its successors until a
/// step changes it (a step touches one connection, so cloning a state copies no
/// connection), and hashed once per change (a state's fingerprint hashes each
/// connection's stored hash instead of its contents). Reads go through `Deref`; a change
/// goes through [`Shared::edit`], whose guard rehashes when dropped.
#[derive(Clone, Debug)]
pub struct Shared {
    hash: u64,
    conn: Arc<Conn>,
}

impl Shared {
    fn new(conn: Conn) -> Self {
        Self {
            hash: content_hash(&conn),
            conn: Arc::new(conn),
        }
    }

    /// The connection, for changing: rehashed when the guard drops.
    pub fn edit(&mut self) -> Edit<'_> {
        Edit(self)
    }
}

/// A connection's hash: ahash with fixed seeds (as stateright's fingerprints), so it is
/// the same in every run and on every thread.
fn content_hash(conn: &Conn) -> u64 {
    ahash::RandomState::with_seeds(0x0071_1512, 0x006d_6f64, 1, 2).hash_one(conn)
}

impl std::ops::Deref for Shared {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        &self.conn
    }
}

impl PartialEq for Shared {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && (Arc::ptr_eq(&self.conn, &other.conn) || self.conn == other.conn)
    }
}

impl Eq for Shared {}

impl Hash for Shared {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

/// A connection being changed (see [`Shared`]).
pub struct Edit<'a>(&'a mut Shared);

impl std::ops::Deref for Edit<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        &self.0.conn
    }
}

impl std::ops::DerefMut for Edit<'_> {
    fn deref_mut(&mut self) -> &mut Conn {
        Arc::make_mut(&mut self.0.conn)
    }
}

impl Drop for Edit<'_> {
    fn drop(&mut self) {
        self.0.hash = content_hash(&self.0.conn);
    }
}

/// Faults observed while taking a step: the history the transition properties read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Violations {
    /// An end accepted application data before its peer's Finished verified.
    pub early_data: bool,
    /// A closed end accepted a record, or changed.
    pub accepted_after_fatal: bool,
    /// A coarse phase moved against the spec's table.
    pub phase_table: bool,
    /// An end reached AppData although what it received was not what its peer sent.
    pub tampered_completion: bool,
    /// An end answered an edited message otherwise than the RFCs say.
    pub tamper_answered: bool,
    /// A client announced a new session after resuming one.
    pub new_session_on_resumption: bool,
    /// A completed client's handshake timer would close it.
    pub timer_after_completion: bool,
    /// A server in AppData answered a renegotiating ClientHello otherwise than with a
    /// no_renegotiation warning, or left AppData.
    pub renegotiation_answered: bool,
    /// A client offered a session not made for the name or a suite it asks for.
    pub unfit_offer: bool,
    /// A completing server's ServerHello acknowledged the name when resuming, or did
    /// not in a full handshake.
    pub name_ack: bool,
    /// A ServerHello carried an extension type the ClientHello it answers did not.
    pub unsolicited_extension: bool,
    /// A server did not refuse, with handshake_failure, a ClientHello offering a cached
    /// session made with extended master secret without offering it.
    pub ems_offer_answered: bool,
    /// A server sent Certificate or CertificateRequest under a PSK suite.
    pub psk_certificate: bool,
    /// A server resumed from a ticket whose key it no longer keeps, or from a forged one.
    pub ticket_resumed_wrongly: bool,
}

/// The whole system.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct State {
    /// Connection `client * conns + j` is client `client`'s `j`th.
    pub conns: Vec<Shared>,
    /// The server's session cache.
    pub cache: InMemoryCache,
    /// Each client's stored session.
    pub sessions: Vec<Option<Session>>,
    /// Attacker moves left.
    pub budget: u8,
    /// Whether the server has rotated its ticket key.
    pub rotated: bool,
    /// Faults seen on the way here.
    pub violations: Violations,
}

/// A step the checker may take.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Action {
    /// Client `client` opens its next connection.
    Connect {
        /// The client.
        client: usize,
    },
    /// Client `client` opens its next connection, changed since its stored session.
    Reconnect {
        /// The client.
        client: usize,
        /// What changed.
        change: Change,
    },
    /// The next record of a channel reaches its end.
    Deliver {
        /// The connection.
        conn: usize,
        /// The direction.
        side: Side,
    },
    /// The ClientHello reaches a server unwilling to resume the session it offers.
    DeliverUnwilling {
        /// The connection.
        conn: usize,
        /// Why.
        why: Unwilling,
    },
    /// The server ignores the ClientHello.
    Ignore {
        /// The connection.
        conn: usize,
    },
    /// The server rotates its ticket key (once per run), keeping the previous key to
    /// open old tickets or dropping it.
    RotateTicketKey {
        /// Whether the previous key is dropped at once.
        drop_previous: bool,
    },
    /// The client asks to renegotiate a completed connection.
    Renegotiate {
        /// The connection.
        conn: usize,
    },
    /// The client closes a completed connection.
    Close {
        /// The connection.
        conn: usize,
    },
    /// The client's handshake timer fires.
    Timeout {
        /// The connection.
        conn: usize,
    },
    /// The attacker moves.
    Attack {
        /// The connection.
        conn: usize,
        /// The channel.
        side: Side,
        /// The move.
        mv: Move,
        /// Which record or message (replay: the source record; skip: the message).
        arg: usize,
    },
}

// ---------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------

/// The model: a configuration and the endpoint configurations it implies.
pub struct Tls12Model {
    /// What is explored.
    pub cfg: Config,
    server: Arc<ServerConfig<Sym>>,
    unwilling_server: Arc<ServerConfig<Sym>>,
    no_resumption_server: Arc<ServerConfig<Sym>>,
    client: Arc<ClientConfig<Sym>>,
    /// With `psk`, the client configuration of odd connections (plain PSK first).
    odd_client: Arc<ClientConfig<Sym>>,
    /// The server's certificate, `None` for a PSK-only server.
    server_cert: Option<CertificateDer>,
}

/// The key the model's PSK server and clients share.
const PSK_IDENTITY: &[u8] = b"client.example";

/// The protocols the model's clients offer with `alpn`, and the server's preference.
const CLIENT_ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];
const SERVER_ALPN: [&[u8]; 2] = [b"http/1.1", b"h2"];

impl Tls12Model {
    /// The model of `cfg`.
    pub fn new(cfg: Config) -> Self {
        let server_kind = match cfg.p384 {
            true => tls12::crypto::symbolic::SymbolicKeyKind::EcdsaP384,
            false => tls12::crypto::symbolic::SymbolicKeyKind::Ecdsa,
        };
        let pki = SymbolicPki::with(SERVER_NAME, server_kind, 1);
        let mut server = match cfg.psk {
            false => ServerConfig::new(pki.server_chain.clone(), pki.server_key.clone()),
            true => {
                use tls12::msgs::enums::CipherSuite::*;
                let mut store = tls12::psk::InMemoryPskStore::new();
                store.insert(PSK_IDENTITY, tls12::crypto::Secret::new(vec![0x70; 32]));
                let psk = tls12::psk::ServerPsk::new(Arc::new(store), None);
                let mut server = ServerConfig::psk_only(psk);
                server.suites.retain(|s| {
                    [
                        TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256,
                        TLS_PSK_WITH_AES_128_GCM_SHA256,
                    ]
                    .contains(&s.suite)
                });
                server
            }
        };
        if cfg.alpn {
            server.alpn = SERVER_ALPN.iter().map(|p| p.to_vec()).collect();
        }
        if cfg.server_order {
            server.prefer_server_order = true;
            server.suites.reverse();
        }
        server.client_auth = cfg.client_auth;
        server.client_roots = Some(pki.roots.clone());
        // The model's server serves named clients only (an acceptance hook).
        server.accept = Some(Hook(|hello| {
            hello
                .extensions()
                .iter()
                .any(|e| matches!(e, tls12::msgs::ClientExtension::ServerName(_)))
        }));
        let mut unwilling_server = server.clone();
        unwilling_server.willing_to_resume = Some(Hook(|_| false));
        let mut no_resumption_server = server.clone();
        no_resumption_server.resumption = false;
        let mut client = ClientConfig::new(pki.roots.clone());
        client.tickets = cfg.tickets;
        if cfg.alpn {
            client.alpn = CLIENT_ALPN.iter().map(|p| p.to_vec()).collect();
        }
        let mut odd_client = client.clone();
        if cfg.psk {
            let key = tls12::psk::ClientPsk {
                identity: PSK_IDENTITY.to_vec(),
                key: tls12::crypto::Secret::new(vec![0x70; 32]),
                hint: None,
            };
            client.psk = vec![key.clone()];
            odd_client.psk = vec![key];
            client.suites = server.suites.clone();
            odd_client.suites = server.suites.iter().rev().copied().collect();
        }
        if cfg.client_cert || cfg.impostor {
            let key = match cfg.impostor {
                true => tls12::crypto::symbolic::SymbolicSigningKey::ecdsa(0x1e57),
                false => pki.client_key.clone(),
            };
            let identity = ClientIdentity {
                chain: pki.client_chain.clone(),
                key,
            };
            client.identity = Some(identity.clone());
            odd_client.identity = Some(identity);
        }
        Self {
            server_cert: (!cfg.psk).then(|| pki.server_chain[0].clone()),
            odd_client: Arc::new(odd_client),
            server: Arc::new(server),
            unwilling_server: Arc::new(unwilling_server),
            no_resumption_server: Arc::new(no_resumption_server),
            client: Arc::new(client),
            cfg,
        }
    }

    fn conn_index(&self, client: usize, j: usize) -> usize {
        client * self.cfg.conns + j
    }

    /// The next connection of `client` that may start, if any.
    fn next_conn(&self, state: &State, client: usize) -> Option<usize> {
        for j in 0..self.cfg.conns {
            let conn = &state.conns[self.conn_index(client, j)];
            if conn.client.is_none() {
                return Some(self.conn_index(client, j));
            }
            if !conn.client_done() {
                return None;
            }
        }
        None
    }

    fn client_of(&self, conn: usize) -> usize {
        conn / self.cfg.conns
    }

    /// Whether the head record to the server is the ClientHello of a connection whose
    /// server end does not exist yet.
    fn hello_pending(&self, conn: &Conn) -> bool {
        conn.server.is_none() && !conn.ignored && !conn.to_server.queue.is_empty()
    }
}

/// Splits bytes an end wrote into records and appends them to a channel.
fn transmit(channel: &mut Channel, bytes: Vec<u8>) {
    if bytes.is_empty() {
        return;
    }
    let mut deframer = Deframer::new();
    deframer.push(&bytes);
    while let Ok(Some(record)) = deframer.pop() {
        let mut out = Vec::new();
        record.encode(&mut out);
        channel.sent.push(out.clone());
        channel.queue.push_back(out);
    }
}

fn parse(record: &[u8]) -> Option<OpaqueRecord> {
    let mut deframer = Deframer::new();
    deframer.push(record);
    deframer.pop().ok().flatten()
}

fn plaintext(typ: ContentType, payload: &[u8]) -> Record {
    let mut out = Vec::new();
    OpaqueRecord {
        typ,
        version: ProtocolVersion::TLSv1_2,
        payload: payload.to_vec(),
    }
    .encode(&mut out);
    out
}

/// The handshake messages of a plaintext handshake record.
fn messages(record: &[u8]) -> Vec<Vec<u8>> {
    let Some(record) = parse(record).filter(|r| r.typ == ContentType::Handshake) else {
        return Vec::new();
    };
    let mut joiner = HandshakeJoiner::new();
    if joiner.push(&record.payload).is_err() {
        return Vec::new();
    }
    let msgs: Vec<Vec<u8>> = std::iter::from_fn(|| joiner.pop()).collect();
    match joiner.is_empty() {
        true => msgs,
        false => Vec::new(),
    }
}

/// A plaintext hello record without its extended_master_secret extension, if it had one.
fn downgrade(record: &[u8]) -> Option<Record> {
    use tls12::msgs::{
        ClientExtension, HandshakeMessage, HandshakePayload, KeyExchange, ServerExtension,
    };
    let mut msgs = messages(record);
    let first = msgs.first_mut()?;
    let mut msg = HandshakeMessage::read_bytes(first, KeyExchange::Ecdhe).ok()?;
    let stripped = match &mut msg.payload {
        HandshakePayload::ClientHello(ch) => {
            let exts = ch.extensions.as_mut()?;
            let before = exts.len();
            exts.retain(|e| *e != ClientExtension::ExtendedMasterSecret);
            exts.len() < before
        }
        HandshakePayload::ServerHello(sh) => {
            let exts = sh.extensions.as_mut()?;
            let before = exts.len();
            exts.retain(|e| *e != ServerExtension::ExtendedMasterSecret);
            exts.len() < before
        }
        _ => false,
    };
    if !stripped {
        return None;
    }
    *first = msg.get_encoding();
    Some(plaintext(ContentType::Handshake, &msgs.concat()))
}

/// A plaintext handshake record with one of its messages edited, if the edit applies.
fn tamper(record: &[u8], edit: Tamper) -> Option<Record> {
    let mut msgs = messages(record);
    let (slot, edited) = msgs
        .iter()
        .enumerate()
        .find_map(|(k, m)| Some((k, edit.apply(m)?)))?;
    msgs[slot] = edited;
    Some(plaintext(ContentType::Handshake, &msgs.concat()))
}

/// What a renegotiating client implementation sends on a completed connection: its
/// ClientHello again, sealed under the connection's client write keys (derived from the
/// client's summary and the ServerHello's random) after its Finished and its one
/// application-data record.
fn renegotiation_hello(conn: &Conn) -> Option<Record> {
    use tls12::record::RecordCipher;
    let summary = conn.client_summary()?;
    let suite = tls12::suites::ALL_SUITES
        .iter()
        .find(|s| s.suite == summary.suite)?;
    let sh = server_hello(conn)?;
    let hello = messages(conn.to_server.sent.first()?).into_iter().next()?;
    let provider = SymbolicProvider::new(0);
    let block = tls12::keys::key_block(
        &provider,
        suite.hash,
        &summary.master_secret,
        &summary.client_random.0,
        &sh.random.0,
        suite.aead.key_len(),
        suite.fixed_iv_len(),
    );
    let mut cipher = RecordCipher::new(
        &provider,
        suite,
        block.client_write_key.expose(),
        block.client_write_iv.expose(),
    )
    .ok()?;
    // Sequence numbers 0 and 1 went to the client's Finished and its "ping".
    let mut out = Vec::new();
    for _ in 0..2 {
        cipher
            .seal(
                &provider,
                ContentType::ApplicationData,
                b"",
                &mut Vec::new(),
            )
            .ok()?;
    }
    cipher
        .seal(&provider, ContentType::Handshake, &hello, &mut out)
        .ok()?;
    Some(out)
}

/// The plaintext handshake messages of a flight (records as an end wrote them).
fn flight_messages(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut deframer = Deframer::new();
    deframer.push(bytes);
    let mut out = Vec::new();
    while let Ok(Some(record)) = deframer.pop() {
        let mut encoded = Vec::new();
        record.encode(&mut encoded);
        out.extend(messages(&encoded));
    }
    out
}

/// Whether an end answered an edited message as [`Tamper::expect`] says: `failed` is the
/// alert it sent, if any; `out` what it wrote. When the end would have refused the
/// original record as well (another message in it was unacceptable: a certificate for
/// another name, say), refusing is all that is asked.
fn answered_as_expected(
    edit: Tamper,
    original_accepted: Option<bool>,
    failed: Option<AlertDescription>,
    out: &[u8],
) -> bool {
    use tls12::msgs::{HandshakeMessage, HandshakePayload, KeyExchange, ServerKeyExchange};
    if original_accepted == Some(false) {
        return failed.is_some();
    }
    match edit.expect() {
        Expect::Refuse(alert) => failed == Some(alert),
        Expect::Group(group) => {
            failed.is_none() && flight_messages(out).iter().any(|m| {
                matches!(
                    HandshakeMessage::read_bytes(m, KeyExchange::Ecdhe).map(|m| m.payload),
                    Ok(HandshakePayload::ServerKeyExchange(ServerKeyExchange::Ecdhe { params, .. }))
                        if params.group == group
                )
            })
        }
        // An empty Certificate: type, length 3, an empty certificate_list.
        Expect::NoCertificate => {
            failed.is_none()
                && flight_messages(out).first().map(Vec::as_slice) == Some(&[11, 0, 0, 3, 0, 0, 0])
        }
    }
}

/// The first handshake message of a plaintext record, decoded.
fn first_message(record: &[u8]) -> Option<tls12::msgs::HandshakePayload> {
    use tls12::msgs::{HandshakeMessage, KeyExchange};
    let first = messages(record).into_iter().next()?;
    Some(
        HandshakeMessage::read_bytes(&first, KeyExchange::Ecdhe)
            .ok()?
            .payload,
    )
}

/// A plaintext ClientHello record with one bit of its offered ticket flipped (the last
/// byte: inside the AEAD tag); `None` when it offers no ticket.
fn forge_ticket(record: &[u8]) -> Option<Record> {
    use tls12::msgs::{ClientExtension, HandshakeMessage, HandshakePayload, KeyExchange};
    let msgs = messages(record);
    let mut msg = HandshakeMessage::read_bytes(msgs.first()?, KeyExchange::Ecdhe).ok()?;
    let HandshakePayload::ClientHello(ch) = &mut msg.payload else {
        return None;
    };
    let ticket = ch.extensions.as_mut()?.iter_mut().find_map(|e| match e {
        ClientExtension::SessionTicket(t) if !t.is_empty() => Some(t),
        _ => None,
    })?;
    *ticket.last_mut()? ^= 1;
    let mut msgs = msgs;
    msgs[0] = msg.get_encoding();
    Some(plaintext(ContentType::Handshake, &msgs.concat()))
}

/// Whether a server's first flight chose a PSK suite and still carries Certificate or
/// CertificateRequest.
fn psk_flight_has_certificate(out: &[u8]) -> bool {
    use tls12::msgs::{HandshakeMessage, HandshakePayload, KeyExchange};
    let msgs = flight_messages(out);
    let psk = msgs.first().is_some_and(|m| {
        matches!(
            HandshakeMessage::read_bytes(m, KeyExchange::Ecdhe).map(|m| m.payload),
            Ok(HandshakePayload::ServerHello(sh))
                if tls12::suites::Suite::lookup(sh.cipher_suite).is_some_and(|s| s.uses_psk())
        )
    });
    psk && msgs.iter().any(|m| {
        matches!(
            HandshakeType::from(m[0]),
            HandshakeType::Certificate | HandshakeType::CertificateRequest
        )
    })
}

/// The ticket a plaintext ClientHello record offers, if any.
fn offered_ticket(record: &[u8]) -> Option<Vec<u8>> {
    client_hello(record)?
        .extensions()
        .iter()
        .find_map(|e| match e {
            tls12::msgs::ClientExtension::SessionTicket(t) if !t.is_empty() => Some(t.clone()),
            _ => None,
        })
}

/// The ClientHello of a plaintext record.
fn client_hello(record: &[u8]) -> Option<tls12::msgs::ClientHello> {
    match first_message(record)? {
        tls12::msgs::HandshakePayload::ClientHello(ch) => Some(ch),
        _ => None,
    }
}

/// The ServerHello a server sent first on a connection.
fn server_hello(conn: &Conn) -> Option<tls12::msgs::ServerHello> {
    match first_message(conn.to_client.sent.first()?)? {
        tls12::msgs::HandshakePayload::ServerHello(sh) => Some(sh),
        _ => None,
    }
}

/// Whether the server's ServerHello on this connection echoed `id`: it resumed that
/// session.
fn server_echoed(conn: &Conn, id: &SessionId) -> bool {
    !id.is_empty() && server_hello(conn).is_some_and(|sh| sh.session_id == *id)
}

/// Whether the server resumed on this connection: its ServerHello echoed the non-empty
/// session ID of the ClientHello it received (the session's own, or the fresh one a
/// client sends beside a ticket, RFC 5077 §3.4).
fn server_resumed(conn: &Conn) -> bool {
    let hello = conn.hello.as_deref().and_then(client_hello);
    hello.is_some_and(|ch| server_echoed(conn, &ch.session_id))
}

/// Whether the ServerHello the server sent on this connection acknowledged a name.
fn server_acked_name(conn: &Conn) -> Option<bool> {
    server_hello(conn).map(|sh| {
        sh.extensions()
            .contains(&tls12::msgs::ServerExtension::ServerNameAck)
    })
}

/// RFC 5246 §7.4.1.4: whether every extension type of the ServerHello that opens
/// `out` appeared in the ClientHello of `hello` (RFC 5746 §3.6: an empty
/// renegotiation_info may answer the SCSV instead). True when `out` holds no ServerHello.
fn extensions_solicited(hello: &[u8], out: &[u8]) -> bool {
    use tls12::msgs::enums::{CipherSuite, ExtensionType};
    use tls12::msgs::extensions::Extension;
    let Some(tls12::msgs::HandshakePayload::ServerHello(sh)) = first_message(out) else {
        return true;
    };
    let Some(ch) = client_hello(hello) else {
        return false;
    };
    let scsv = ch
        .cipher_suites
        .contains(&CipherSuite::TLS_EMPTY_RENEGOTIATION_INFO_SCSV);
    sh.extensions().iter().all(|ext| {
        let typ = ext.ext_type();
        ch.extensions().iter().any(|c| c.ext_type() == typ)
            || (scsv && typ == ExtensionType::RenegotiationInfo)
    })
}

/// Whether a plaintext ClientHello offers a session that `cache` holds, made with
/// extended master secret, without offering extended master secret itself.
fn drops_cached_ems(record: &[u8], cache: &mut InMemoryCache) -> bool {
    if hello_offers_ems(record) != Some(false) {
        return false;
    }
    // A ticket the server can open, else the session ID.
    if let Some(ticket) = offered_ticket(record) {
        let provider = SymbolicProvider::new(0);
        let opened = cache
            .ticket_keys()
            .and_then(|keys| keys.open(&provider, &ticket, NOW));
        return opened.is_some_and(|o| o.session.extended_master_secret);
    }
    offered_id(record).is_some_and(|id| {
        cache
            .get(&id, NOW)
            .is_some_and(|cached| cached.extended_master_secret)
    })
}

/// Whether a plaintext ClientHello record offers extended master secret.
fn hello_offers_ems(record: &[u8]) -> Option<bool> {
    client_hello(record).map(|ch| {
        ch.extensions()
            .contains(&tls12::msgs::ClientExtension::ExtendedMasterSecret)
    })
}

/// The host name a ClientHello asks for.
fn asked_name(hello: &tls12::msgs::ClientHello) -> Option<&str> {
    hello.extensions().iter().find_map(|e| match e {
        tls12::msgs::ClientExtension::ServerName(names) => names
            .iter()
            .find(|n| n.typ == tls12::msgs::enums::ServerNameType::HostName)
            .and_then(|n| std::str::from_utf8(&n.name).ok()),
        _ => None,
    })
}

/// Whether the ClientHello a client sent offers a session only as RFC 6066 §3 allows:
/// the stored one, for the name and a suite the hello asks for now.
fn offer_fits(conn: &Conn) -> bool {
    let Some(hello) = conn.to_server.sent.first().and_then(|r| client_hello(r)) else {
        return true;
    };
    let ticket = hello.extensions().iter().find_map(|e| match e {
        tls12::msgs::ClientExtension::SessionTicket(t) if !t.is_empty() => Some(t),
        _ => None,
    });
    (hello.session_id.is_empty() && ticket.is_none())
        || conn.offered.as_ref().is_some_and(|o| {
            let this_session = match ticket {
                Some(ticket) => o.ticket.as_ref() == Some(ticket),
                None => o.id == hello.session_id,
            };
            this_session
                && o.server_name.as_deref() == asked_name(&hello)
                && hello.cipher_suites.contains(&o.suite)
        })
}

/// Whether a record is a plaintext ClientHello.
fn is_client_hello(record: &[u8]) -> bool {
    messages(record)
        .first()
        .is_some_and(|m| HandshakeType::from(m[0]) == HandshakeType::ClientHello)
}

/// The session ID a plaintext ClientHello offers.
fn offered_id(record: &[u8]) -> Option<SessionId> {
    client_hello(record)
        .map(|ch| ch.session_id)
        .filter(|id| !id.is_empty())
}

impl Model for Tls12Model {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        vec![State {
            conns: (0..self.cfg.clients * self.cfg.conns)
                .map(|_| Shared::new(Conn::new()))
                .collect(),
            cache: match self.cfg.tickets {
                false => InMemoryCache::new(self.cfg.cache, 3600),
                true => InMemoryCache::new(self.cfg.cache, 3600)
                    .with_tickets(tls12::session::TicketKeys::new(3600)),
            },
            sessions: vec![None; self.cfg.clients],
            budget: self.cfg.attacker,
            rotated: false,
            violations: Violations::default(),
        }]
    }

    fn actions(&self, state: &State, actions: &mut Vec<Action>) {
        // A rotation matters once a ticket exists to outlive it.
        let ticket_out = state.sessions.iter().flatten().any(|s| s.ticket.is_some());
        if self.cfg.tickets && !state.rotated && ticket_out {
            for drop_previous in [false, true] {
                actions.push(Action::RotateTicketKey { drop_previous });
            }
        }
        for client in 0..self.cfg.clients {
            if self.next_conn(state, client).is_some() {
                actions.push(Action::Connect { client });
                if self.cfg.vary && state.sessions[client].is_some() {
                    for change in [Change::OtherName, Change::FewerSuites] {
                        actions.push(Action::Reconnect { client, change });
                    }
                }
            }
        }
        for (i, conn) in state.conns.iter().enumerate() {
            if conn.client.is_none() {
                continue;
            }
            if self.hello_pending(conn) {
                actions.push(Action::Deliver {
                    conn: i,
                    side: Side::ToServer,
                });
                let head = &conn.to_server.queue[0];
                let findable = match offered_ticket(head) {
                    Some(_) => true,
                    None => offered_id(head)
                        .is_some_and(|id| state.cache.clone().get(&id, NOW).is_some()),
                };
                if self.cfg.unwilling && findable {
                    for why in Unwilling::ALL {
                        actions.push(Action::DeliverUnwilling { conn: i, why });
                    }
                }
                if self.cfg.ignore && is_client_hello(head) {
                    actions.push(Action::Ignore { conn: i });
                }
            } else if conn.server.is_some() && !conn.to_server.queue.is_empty() {
                actions.push(Action::Deliver {
                    conn: i,
                    side: Side::ToServer,
                });
            }
            if !conn.to_client.queue.is_empty() {
                actions.push(Action::Deliver {
                    conn: i,
                    side: Side::ToClient,
                });
            }
            let quiet = conn.to_server.queue.is_empty() && conn.to_client.queue.is_empty();
            if quiet && conn.client_phase() == Phase::Wait {
                actions.push(Action::Timeout { conn: i });
            }
            if self.cfg.close && !conn.closing && conn.client_phase() == Phase::AppData {
                actions.push(Action::Close { conn: i });
            }
            if self.cfg.renegotiate
                && conn.renegotiation.is_none()
                && !conn.closing
                && conn.client_phase() == Phase::AppData
            {
                actions.push(Action::Renegotiate { conn: i });
            }
            if state.budget > 0 {
                self.attacks(state, i, conn, actions);
            }
        }
    }

    fn next_state(&self, last: &State, action: Action) -> Option<State> {
        let mut state = last.clone();
        match action {
            Action::Connect { client } => self.connect(&mut state, client, None)?,
            Action::Reconnect { client, change } => {
                self.connect(&mut state, client, Some(change))?
            }
            Action::Deliver { conn, side } => self.deliver(&mut state, conn, side, None)?,
            Action::DeliverUnwilling { conn, why } => {
                self.deliver(&mut state, conn, Side::ToServer, Some(why))?
            }
            Action::Ignore { conn } => {
                let mut guard = state.conns[conn].edit();
                let c = &mut *guard;
                c.to_server.queue.pop_front()?;
                c.to_server.delivered += 1;
                c.ignored = true;
            }
            Action::RotateTicketKey { drop_previous } => {
                let keys = state.cache.ticket_keys_mut()?;
                // The server's own randomness for its keys (a seed no connection uses).
                let mut provider = SymbolicProvider::new(u64::from(u32::MAX));
                keys.rotate(&mut provider, NOW).ok()?;
                if drop_previous {
                    keys.drop_previous();
                }
                state.rotated = true;
            }
            Action::Renegotiate { conn } => {
                let mut guard = state.conns[conn].edit();
                let c = &mut *guard;
                let record = renegotiation_hello(c)?;
                c.to_server.sent.push(record.clone());
                c.to_server.queue.push_back(record.clone());
                c.renegotiation = Some(record);
            }
            Action::Close { conn } => {
                let mut guard = state.conns[conn].edit();
                let c = &mut *guard;
                let client = c.client.as_mut()?;
                client.close();
                let out = client.take_output();
                transmit(&mut c.to_server, out);
                c.closing = true;
            }
            Action::Timeout { conn } => {
                let mut guard = state.conns[conn].edit();
                let c = &mut *guard;
                let client = c.client.as_mut()?;
                let timeout = UnixTime(NOW.0 + 3600);
                if client.tick(timeout).is_ok() {
                    return None;
                }
                c.timed_out = true;
                let out = client.take_output();
                transmit(&mut c.to_server, out);
            }
            Action::Attack {
                conn,
                side,
                mv,
                arg,
            } => {
                let replayed = (mv == Move::Replay)
                    .then(|| self.replay_source(last, conn, side, arg))
                    .flatten();
                let mut guard = state.conns[conn].edit();
                let c = &mut *guard;
                let queue = &mut c.channel_mut(side).queue;
                match mv {
                    Move::Drop => {
                        queue.pop_front()?;
                    }
                    Move::Duplicate => {
                        let head = queue.front()?.clone();
                        queue.push_front(head);
                    }
                    Move::Reorder => {
                        if queue.len() < 2 {
                            return None;
                        }
                        queue.swap(0, 1);
                    }
                    Move::Replay => queue.push_front(replayed?),
                    Move::Skip => {
                        let mut msgs = messages(queue.front()?);
                        if arg >= msgs.len() || msgs.len() < 2 {
                            return None;
                        }
                        msgs.remove(arg);
                        queue[0] = plaintext(ContentType::Handshake, &msgs.concat());
                    }
                    Move::InjectCcs => {
                        queue.push_front(plaintext(ContentType::ChangeCipherSpec, &[1]))
                    }
                    Move::InjectFinished => {
                        let mut finished = vec![20, 0, 0, 12];
                        finished.extend_from_slice(&[0; 12]);
                        queue.push_front(plaintext(ContentType::Handshake, &finished));
                    }
                    Move::InjectAppData => {
                        queue.push_front(plaintext(ContentType::ApplicationData, b"forged"))
                    }
                    Move::Downgrade => queue[0] = downgrade(queue.front()?)?,
                    Move::ForgeTicket => queue[0] = forge_ticket(queue.front()?)?,
                    Move::Tamper => {
                        let edit = *Tamper::ALL.get(arg)?;
                        queue[0] = tamper(queue.front()?, edit)?;
                        c.tampered = Some((side, edit));
                    }
                }
                c.attacked = Some(mv);
                state.budget -= 1;
            }
        }
        Some(state)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        properties(&self.cfg)
    }

    /// The path as a message sequence chart (see [`svg`]).
    fn as_svg(&self, path: stateright::Path<State, Action>) -> Option<String> {
        Some(svg::sequence_chart(self, &path.into_vec()))
    }
}

impl Tls12Model {
    /// Client `client` opens its next connection, offering its stored session.
    fn connect(&self, state: &mut State, client: usize, change: Option<Change>) -> Option<()> {
        let i = self.next_conn(state, client)?;
        let offered = state.sessions[client].clone();
        let base = match i % self.cfg.conns % 2 {
            1 if self.cfg.psk => self.odd_client.clone(),
            _ => self.client.clone(),
        };
        let (config, name) = match change {
            None => (base, SERVER_NAME),
            Some(Change::OtherName) => (base, OTHER_NAME),
            Some(Change::FewerSuites) => {
                let mut config = (*base).clone();
                let used = offered.as_ref()?.suite;
                config.suites.retain(|s| s.suite != used);
                (Arc::new(config), SERVER_NAME)
            }
        };
        // Per-endpoint seeds: every connection end draws its own randoms.
        let provider = SymbolicProvider::new(2 * i as u64 + 1);
        let mut conn =
            ClientConnection::new(config, provider, Some(name.into()), offered.clone(), NOW)
                .ok()?;
        // Application data queued before the handshake: sent after Finished.
        conn.send(b"ping").ok()?;
        let mut guard = state.conns[i].edit();
        let c = &mut *guard;
        transmit(&mut c.to_server, conn.take_output());
        c.client = Some(conn);
        c.offered = offered;
        c.change = change;
        state.violations.unfit_offer |= !offer_fits(c);
        Some(())
    }

    /// The attacker's moves on connection `i`.
    fn attacks(&self, state: &State, i: usize, conn: &Conn, actions: &mut Vec<Action>) {
        for side in [Side::ToServer, Side::ToClient] {
            let queue = &conn.channel(side).queue;
            for &mv in &self.cfg.moves {
                match mv {
                    Move::Drop | Move::Duplicate if !queue.is_empty() => {
                        actions.push(Action::Attack {
                            conn: i,
                            side,
                            mv,
                            arg: 0,
                        });
                    }
                    Move::Reorder if queue.len() >= 2 => {
                        actions.push(Action::Attack {
                            conn: i,
                            side,
                            mv,
                            arg: 0,
                        });
                    }
                    Move::Replay => {
                        let sources = self.replay_sources(state, i, side);
                        for arg in 0..sources {
                            actions.push(Action::Attack {
                                conn: i,
                                side,
                                mv,
                                arg,
                            });
                        }
                    }
                    Move::Skip => {
                        let count = queue.front().map_or(0, |r| messages(r).len());
                        if count >= 2 {
                            for arg in 0..count {
                                actions.push(Action::Attack {
                                    conn: i,
                                    side,
                                    mv,
                                    arg,
                                });
                            }
                        }
                    }
                    Move::Downgrade if queue.front().is_some_and(|r| downgrade(r).is_some()) => {
                        actions.push(Action::Attack {
                            conn: i,
                            side,
                            mv,
                            arg: 0,
                        });
                    }
                    Move::Tamper => {
                        for (arg, &edit) in Tamper::ALL.iter().enumerate() {
                            // These expect a certificate server (its curve, its signature).
                            let certificate_bound = matches!(
                                edit,
                                Tamper::GroupsWithoutCertificateCurve
                                    | Tamper::SchemesWithoutEcdsa
                                    | Tamper::NistGroupsOnly
                            );
                            if self.cfg.psk && certificate_bound {
                                continue;
                            }
                            if queue.front().is_some_and(|r| tamper(r, edit).is_some()) {
                                actions.push(Action::Attack {
                                    conn: i,
                                    side,
                                    mv,
                                    arg,
                                });
                            }
                        }
                    }
                    Move::InjectCcs | Move::InjectFinished | Move::InjectAppData => {
                        actions.push(Action::Attack {
                            conn: i,
                            side,
                            mv,
                            arg: 0,
                        });
                    }
                    _ => {}
                }
            }
            if self.cfg.tickets && queue.front().is_some_and(|r| forge_ticket(r).is_some()) {
                actions.push(Action::Attack {
                    conn: i,
                    side,
                    mv: Move::ForgeTicket,
                    arg: 0,
                });
            }
        }
    }

    /// Records other connections sent in the same direction, in a fixed order.
    fn replay_candidates<'a>(&self, state: &'a State, conn: usize, side: Side) -> Vec<&'a Record> {
        let mut out: Vec<&Record> = Vec::new();
        for (j, other) in state.conns.iter().enumerate() {
            if j == conn {
                continue;
            }
            for record in &other.channel(side).sent {
                if !out.contains(&record) {
                    out.push(record);
                }
            }
        }
        out
    }

    fn replay_sources(&self, state: &State, conn: usize, side: Side) -> usize {
        self.replay_candidates(state, conn, side).len()
    }

    fn replay_source(&self, state: &State, conn: usize, side: Side, arg: usize) -> Option<Record> {
        self.replay_candidates(state, conn, side)
            .get(arg)
            .map(|r| (*r).clone())
    }

    /// Delivers the next record of a channel, recording what the step reveals.
    fn deliver(
        &self,
        state: &mut State,
        i: usize,
        side: Side,
        unwilling: Option<Unwilling>,
    ) -> Option<()> {
        let client_index = self.client_of(i);
        let State {
            conns,
            cache,
            sessions,
            violations,
            ..
        } = state;
        let mut guard = conns[i].edit();
        let c = &mut *guard;
        let record = c.channel_mut(side).queue.pop_front()?;
        // Only what an end receives while it is still handshaking is in a transcript.
        let handshaking = match side {
            Side::ToServer => c.server_phase() != Phase::AppData,
            Side::ToClient => c.client_phase() != Phase::AppData,
        };
        // What the honest sender sent in this place (an edit's original).
        let original = c.channel(side).sent.get(c.channel(side).delivered).cloned();
        {
            let channel = c.channel_mut(side);
            channel.faithful &= !handshaking || original.as_ref() == Some(&record);
            channel.delivered += 1;
        }
        // An end's transcript is what it sent (honest) and what it received while
        // handshaking: tampered with when the latter differs from what its peer sent.
        let faithful = c.channel(side).faithful;
        let content = parse(&record).map(|r| r.typ);
        let edit = match c.tampered {
            Some((edited, edit)) if edited == side => {
                c.tampered = None;
                Some(edit)
            }
            _ => None,
        };
        match side {
            Side::ToServer => {
                if c.server.is_none() {
                    let offered = offered_id(&record);
                    // A ticket offer's session ID is the client's fresh one, no cache key.
                    c.cache_hit = offered
                        .filter(|_| offered_ticket(&record).is_none())
                        .map(|id| cache.get(&id, NOW).is_some());
                    c.unwilling = unwilling;
                    let config = match unwilling {
                        None => self.server.clone(),
                        Some(Unwilling::Hook) => self.unwilling_server.clone(),
                        Some(Unwilling::ResumptionOff) => self.no_resumption_server.clone(),
                        Some(Unwilling::SuiteRemoved) => {
                            // The suite of the session offered, by ID or by ticket.
                            let suite = match offered_ticket(&record) {
                                Some(_) => c.offered.as_ref()?.suite,
                                None => cache.get(&offered?, NOW)?.suite,
                            };
                            let mut config = (*self.server).clone();
                            config.suites.retain(|s| s.suite != suite);
                            Arc::new(config)
                        }
                    };
                    let fresh =
                        ServerConnection::new(config, SymbolicProvider::new(2 * i as u64 + 2));
                    c.hello = Some(record.clone());
                    // The spec's table starts every server in Idle.
                    violations.phase_table |= fresh.phase() != Phase::Idle;
                    c.server = Some(fresh);
                }
                if c.server.as_ref().is_some_and(|x| x.phase() == Phase::Idle) {
                    c.ticket_key = offered_ticket(&record).map(|ticket| {
                        let name = tls12::session::TicketKeys::name_of(&ticket);
                        let keys = cache.ticket_keys();
                        match name {
                            n if n.is_some() && n == keys.and_then(|k| k.current_name()) => {
                                TicketKeyUse::Current
                            }
                            n if n.is_some() && n == keys.and_then(|k| k.previous_name()) => {
                                TicketKeyUse::Previous
                            }
                            _ => TicketKeyUse::Unknown,
                        }
                    });
                }
                // RFC 7627 §5.3, decided before the server looks: an offer of a cached
                // session made with extended master secret must offer it again.
                let must_abort = c.server.as_ref().is_some_and(|x| x.phase() == Phase::Idle)
                    && c.unwilling != Some(Unwilling::ResumptionOff)
                    && drops_cached_ems(&record, cache);
                let server = c.server.as_mut()?;
                let before = server.phase();
                let was_dead = server.error().cloned();
                let snapshot = was_dead.is_some().then(|| server.clone());
                // For an edited record: would the server have accepted the original?
                let original_accepted = edit.zip(original.as_ref()).map(|(_, original)| {
                    let mut twin = server.clone();
                    twin.receive(original, NOW, &mut cache.clone()).is_ok()
                });
                let result = server.receive(&record, NOW, cache);
                let after = server.phase();
                if let Some(dead) = was_dead {
                    let unchanged = snapshot.as_ref() == Some(&*server);
                    violations.accepted_after_fatal |= result != Err(dead) || !unchanged;
                }
                violations.phase_table |=
                    !phase_step_allowed(before, after, content, &record, true);
                violations.tampered_completion |=
                    before != Phase::AppData && after == Phase::AppData && !faithful;
                c.completed.1 |= after == Phase::AppData;
                let received = server.take_received();
                violations.early_data |= !received.is_empty() && after != Phase::AppData;
                let out = server.take_output();
                let alert = server.error().and_then(|e| e.alert_sent());
                if let Some(edit) = edit {
                    violations.tamper_answered |=
                        !answered_as_expected(edit, original_accepted, alert, &out);
                }
                if before == Phase::Idle {
                    // RFC 4279 §2: a PSK suite has no Certificate, no CertificateRequest.
                    violations.psk_certificate |= psk_flight_has_certificate(&out);
                    // RFC 5077: only a genuine ticket under a kept key resumes.
                    let resumed_by_ticket = c.ticket_key.is_some()
                        && first_message(&out).is_some_and(|m| match m {
                            tls12::msgs::HandshakePayload::ServerHello(sh) => {
                                !sh.session_id.is_empty()
                                    && client_hello(&record)
                                        .is_some_and(|ch| ch.session_id == sh.session_id)
                            }
                            _ => false,
                        });
                    violations.ticket_resumed_wrongly |= resumed_by_ticket
                        && (c.ticket_key == Some(TicketKeyUse::Unknown)
                            || c.attacked == Some(Move::ForgeTicket));
                    violations.unsolicited_extension |= !extensions_solicited(&record, &out);
                    violations.ems_offer_answered |=
                        must_abort && alert != Some(AlertDescription::HandshakeFailure);
                }
                if c.renegotiation.as_ref() == Some(&record)
                    && before == Phase::AppData
                    && c.attacked.is_none()
                {
                    // RFC 5746 §4.4, RFC 5246 §7.4.1.1: a server that does not
                    // renegotiate says so with a warning and carries on (on a connection
                    // the attacker left alone: one it touched may rightly fail).
                    let declined = after == Phase::AppData
                        && server.error().is_none()
                        && parse(&out).is_some_and(|r| r.typ == ContentType::Alert);
                    violations.renegotiation_answered |= !declined;
                    c.renegotiation_declined |= declined;
                }
                transmit(&mut c.to_client, out);
                if before != Phase::AppData && after == Phase::AppData {
                    // RFC 6066 §3: the name is acknowledged in a full handshake, never
                    // when resuming.
                    let resumed = c.server_summary().map(|x| x.resumed);
                    violations.name_ack |=
                        resumed.is_some_and(|r| server_acked_name(c) != Some(!r));
                }
            }
            Side::ToClient => {
                let client = c.client.as_mut()?;
                let before = client.phase();
                let was_dead = client.error().cloned();
                let snapshot = was_dead.is_some().then(|| client.clone());
                let original_accepted = edit
                    .zip(original.as_ref())
                    .map(|(_, original)| client.clone().receive(original, NOW).is_ok());
                let result = client.receive(&record, NOW);
                let after = client.phase();
                if let Some(dead) = was_dead {
                    let unchanged = snapshot.as_ref() == Some(&*client);
                    violations.accepted_after_fatal |= result != Err(dead) || !unchanged;
                }
                violations.phase_table |=
                    !phase_step_allowed(before, after, content, &record, false);
                violations.tampered_completion |=
                    before != Phase::AppData && after == Phase::AppData && !faithful;
                c.completed.0 |= after == Phase::AppData;
                let received = client.take_received();
                violations.early_data |= !received.is_empty() && after != Phase::AppData;
                if before != Phase::AppData && after == Phase::AppData {
                    // The handshake timer is for handshakes: it never closes a completed
                    // connection.
                    let late = UnixTime(NOW.0 + 3600);
                    violations.timer_after_completion |= client.clone().tick(late).is_err();
                }
                while let Some(event) = client.next_event() {
                    if let Event::NewSession(session) = event {
                        violations.new_session_on_resumption |= client
                            .summary()
                            .is_some_and(|x| x.resumed && session.ticket.is_none());
                        sessions[client_index] = Some(*session);
                    }
                }
                let out = client.take_output();
                if let Some(edit) = edit {
                    let alert = client.error().and_then(|e| e.alert_sent());
                    violations.tamper_answered |=
                        !answered_as_expected(edit, original_accepted, alert, &out);
                }
                transmit(&mut c.to_server, out);
            }
        }
        Some(())
    }
}

/// The spec's table: `Idle --ClientHello--> Wait --Finished--> AppData`, and any phase
/// may close. A step that receives a record may move a phase only along it.
fn phase_step_allowed(
    before: Phase,
    after: Phase,
    content: Option<ContentType>,
    record: &[u8],
    server: bool,
) -> bool {
    match (before, after) {
        (a, b) if a == b => true,
        (_, Phase::Closed) => true,
        (Phase::Idle, Phase::Wait) => server && is_client_hello(record),
        // The Finished that completes a handshake is a (protected) handshake record.
        (Phase::Wait, Phase::AppData) => content == Some(ContentType::Handshake),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------

fn both_in_traffic(conn: &Conn) -> Option<(&HandshakeSummary, &HandshakeSummary)> {
    Some((conn.client_summary()?, conn.server_summary()?))
}

/// Every property of a configuration, with its prose name. Sometimes-properties whose
/// case the configuration cannot reach are left out, so that each one listed must be
/// discovered.
pub fn properties(cfg: &Config) -> Vec<Property<Tls12Model>> {
    let mut props = vec![
        Property::always(
            "both ends that reach AppData agree on every parameter and the transcript",
            |m: &Tls12Model, s: &State| {
                s.conns.iter().filter_map(|c| both_in_traffic(c)).all(|(c, sv)| {
                    c.version == sv.version
                        && c.suite == sv.suite
                        && c.session_id == sv.session_id
                        && c.master_secret == sv.master_secret
                        && c.extended_master_secret == sv.extended_master_secret
                        && c.resumed == sv.resumed
                        && c.transcript_hash == sv.transcript_hash
                    && c.server_name == sv.server_name
                    && c.secure_renegotiation == sv.secure_renegotiation
                        && c.client_certificate == sv.client_certificate
                        && c.server_certificate == m.server_cert
                        && c.alpn == sv.alpn
                        && c.psk_identity == sv.psk_identity
                })
            },
        ),
        Property::always(
            "no application data is accepted before the peer's Finished verified",
            |_: &Tls12Model, s: &State| !s.violations.early_data,
        ),
        Property::always(
            "a resumed session has the parameters and master secret of the cached one",
            |_: &Tls12Model, s: &State| {
                s.conns.iter().all(|conn| {
                    let resumed = [conn.client_summary(), conn.server_summary()]
                        .into_iter()
                        .flatten()
                        .filter(|x| x.resumed);
                    resumed.into_iter().all(|x| {
                        conn.offered.as_ref().is_some_and(|o| {
                            (o.id == x.session_id || o.ticket.is_some())
                                && o.master_secret == x.master_secret
                                && o.suite == x.suite
                                && o.extended_master_secret == x.extended_master_secret
                        })
                    })
                })
            },
        ),
        Property::always(
            "a cache miss or an unwilling server yields a fresh session ID and a full handshake",
            |_: &Tls12Model, s: &State| {
                s.conns
                    .iter()
                    .filter(|c| c.cache_hit == Some(false) || c.unwilling.is_some())
                    .all(|conn| {
                        conn.server_summary().is_none_or(|x| {
                            !x.resumed
                                && conn
                                    .offered
                                    .as_ref()
                                    .is_none_or(|o| o.id.is_empty() || o.id != x.session_id)
                        })
                    })
            },
        ),
        Property::always(
            "a session is cached only after both Finished messages verified",
            |_: &Tls12Model, s: &State| {
                s.cache.sessions().all(|cached| {
                    s.conns.iter().any(|c| {
                        c.server_summary()
                            .is_some_and(|x| x.session_id == cached.id && !x.resumed)
                    })
                })
            },
        ),
        Property::always(
            "after a fatal alert the connection accepts nothing",
            |_: &Tls12Model, s: &State| !s.violations.accepted_after_fatal,
        ),
        Property::always(
            "each side's coarse phase follows the spec's table",
            |_: &Tls12Model, s: &State| !s.violations.phase_table,
        ),
        Property::always(
            "no end reaches AppData on a tampered transcript",
            |_: &Tls12Model, s: &State| !s.violations.tampered_completion,
        ),
        Property::always(
            "an edited hello field is answered as the RFCs say, at once",
            |_: &Tls12Model, s: &State| !s.violations.tamper_answered,
        ),
        Property::always(
            "a client offers a stored session only for the name and a suite it asks for now",
            |_: &Tls12Model, s: &State| !s.violations.unfit_offer,
        ),
        Property::always(
            "a server in AppData declines renegotiation with a warning and carries on",
            |_: &Tls12Model, s: &State| !s.violations.renegotiation_answered,
        ),
        Property::always(
            "a client announces a new session only after a full handshake or with a renewed ticket",
            |_: &Tls12Model, s: &State| !s.violations.new_session_on_resumption,
        ),
        Property::always(
            "the handshake timer never closes a completed connection",
            |_: &Tls12Model, s: &State| !s.violations.timer_after_completion,
        ),
        Property::always(
            "the server acknowledges the name in a full handshake and never when resuming",
            |_: &Tls12Model, s: &State| !s.violations.name_ack,
        ),
        Property::always(
            "a completed handshake uses extended master secret and secure renegotiation, for the name asked",
            |_: &Tls12Model, s: &State| {
                s.conns.iter().filter_map(|c| both_in_traffic(c)).all(|(c, _)| {
                    c.extended_master_secret
                        && c.secure_renegotiation
                        && c.server_name.as_deref() == Some(SERVER_NAME)
                })
            },
        ),
        Property::always("a fatal alert invalidates the session it happened on", |_: &Tls12Model, s: &State| {
            s.conns.iter().filter(|c| c.server.as_ref().is_some_and(|x| x.error().is_some())).all(|c| {
                let resuming = c.offered.as_ref().map(|o| o.id).filter(|id| server_echoed(c, id));
                let id = c.server_summary().map(|x| x.session_id).or(resuming);
                id.is_none_or(|id| s.cache.sessions().all(|cached| cached.id != id))
            })
        }),
        Property::always("a completed handshake's outcome survives close", |_: &Tls12Model, s: &State| {
            s.conns.iter().all(|c| {
                (!c.completed.0 || c.client_summary().is_some()) && (!c.completed.1 || c.server_summary().is_some())
            })
        }),
        Property::always(
            "the server never resumes a session across a change of extended master secret",
            |_: &Tls12Model, s: &State| {
                s.conns.iter().all(|c| match (&c.offered, &c.hello) {
                    (Some(offered), Some(hello)) if server_resumed(c) => {
                        hello_offers_ems(hello) == Some(offered.extended_master_secret)
                    }
                    _ => true,
                })
            },
        ),
        Property::always(
            "a ServerHello carries only extension types its ClientHello offered",
            |_: &Tls12Model, s: &State| !s.violations.unsolicited_extension,
        ),
        Property::always(
            "the server refuses a resumption offer that drops its session's extended master secret",
            |_: &Tls12Model, s: &State| !s.violations.ems_offer_answered,
        ),
        Property::always(
            "a PSK handshake never carries Certificate or CertificateRequest",
            |_: &Tls12Model, s: &State| !s.violations.psk_certificate,
        ),
        Property::always(
            "a ticket resumes only the session sealed in it, under a key the server keeps, and never when forged",
            |_: &Tls12Model, s: &State| {
                !s.violations.ticket_resumed_wrongly
                    && s.conns.iter().all(|c| {
                        let resumed = c.server_summary().filter(|x| x.resumed);
                        match (resumed, &c.offered, c.ticket_key) {
                            (Some(x), Some(o), Some(_)) if o.ticket.is_some() => {
                                o.master_secret == x.master_secret && o.suite == x.suite
                            }
                            _ => true,
                        }
                    })
            },
        ),
        Property::always("every state has a printable name", |_: &Tls12Model, s: &State| {
            s.conns.iter().all(|c| {
                c.client.as_ref().is_none_or(|x| x.state_name().len() > "client ".len() && x.state_name().starts_with("client "))
                    && c.server.as_ref().is_none_or(|x| x.state_name().len() > "server ".len() && x.state_name().starts_with("server "))
            })
        }),
    ];
    // By design nothing completes for an impostor asked for a certificate, nor for a
    // client without one when the server requires it.
    // A pre-shared key authenticates the client: no certificate is asked for.
    let completes = cfg.psk
        || match cfg.client_auth {
            ClientAuth::None => true,
            ClientAuth::Optional => !cfg.impostor,
            ClientAuth::Required => cfg.client_cert && !cfg.impostor,
        };
    if cfg.client_auth == ClientAuth::Required && !cfg.client_cert && !cfg.impostor && !cfg.psk {
        props.push(Property::sometimes(
            "with client auth required, a client without a certificate is refused",
            |_: &Tls12Model, s: &State| {
                s.conns.iter().any(|c| {
                    c.server
                        .as_ref()
                        .and_then(|x| x.error())
                        .and_then(|e| e.alert_sent())
                        == Some(AlertDescription::HandshakeFailure)
                })
            },
        ));
    }
    if completes {
        props.push(Property::sometimes(
            "a full handshake completes",
            |_: &Tls12Model, s: &State| {
                s.conns
                    .iter()
                    .filter_map(|c| both_in_traffic(c))
                    .any(|(c, _)| !c.resumed)
            },
        ));
    }
    if cfg.client_auth == ClientAuth::Required {
        props.push(Property::always(
            "with client auth required, the server never reaches AppData without a verified CertificateVerify or a pre-shared key",
            |_: &Tls12Model, s: &State| {
                s.conns
                    .iter()
                    .filter_map(|c| c.server_summary())
                    .all(|x| x.client_certificate.is_some() || x.psk_identity.is_some())
            },
        ));
    }
    if completes
        && cfg.conns > 1
        && cfg.cache > 0
        && (cfg.client_auth != ClientAuth::Required || cfg.client_cert || cfg.psk)
    {
        props.push(Property::sometimes(
            "a resumed handshake completes",
            |_: &Tls12Model, s: &State| {
                s.conns
                    .iter()
                    .filter_map(|c| both_in_traffic(c))
                    .any(|(c, _)| c.resumed)
            },
        ));
        if cfg.clients > 1 && cfg.cache < cfg.clients {
            props.push(Property::sometimes(
                "a cache miss falls back to a full handshake",
                |_: &Tls12Model, s: &State| {
                    s.conns.iter().any(|c| {
                        c.cache_hit == Some(false)
                            && both_in_traffic(c).is_some_and(|(x, _)| !x.resumed)
                    })
                },
            ));
        }
        if cfg.unwilling {
            props.push(Property::sometimes(
                "an unwilling server falls back to a full handshake",
                |_: &Tls12Model, s: &State| {
                    s.conns.iter().any(|c| {
                        c.unwilling.is_some() && both_in_traffic(c).is_some_and(|(x, _)| !x.resumed)
                    })
                },
            ));
        }
    }
    if cfg.vary && cfg.conns > 1 && cfg.cache > 0 {
        props.push(Property::sometimes(
            "a client keeps a stored session made for another name or suite to itself",
            |_: &Tls12Model, s: &State| {
                s.conns.iter().any(|c| {
                    c.change.is_some()
                        && c.offered.is_some()
                        && c.to_server
                            .sent
                            .first()
                            .and_then(|r| client_hello(r))
                            .is_some_and(|h| h.session_id.is_empty())
                })
            },
        ));
    }
    if cfg.renegotiate && completes {
        props.push(Property::sometimes(
            "a client asks to renegotiate and the server declines",
            |_: &Tls12Model, s: &State| s.conns.iter().any(|c| c.renegotiation_declined),
        ));
    }
    if cfg.close && completes {
        props.push(Property::sometimes(
            "a client closes and both ends keep the outcome",
            |_: &Tls12Model, s: &State| {
                s.conns.iter().any(|c| {
                    c.closing
                        && c.client_phase() == Phase::Closed
                        && c.server_phase() == Phase::Closed
                        && both_in_traffic(c).is_some()
                })
            },
        ));
    }
    if cfg.ignore {
        props.push(Property::sometimes(
            "a fatal ignore closes the client",
            |_: &Tls12Model, s: &State| {
                s.conns
                    .iter()
                    .any(|c| c.ignored && c.timed_out && c.client_phase() == Phase::Closed)
            },
        ));
    }
    if cfg.impostor {
        props.push(Property::always(
            "the server never accepts a client certificate whose key did not sign CertificateVerify",
            |_: &Tls12Model, s: &State| {
                s.conns.iter().filter_map(|c| c.server_summary()).all(|x| x.client_certificate.is_none())
            },
        ));
        if cfg.client_auth != ClientAuth::None {
            props.push(Property::sometimes(
                "an impostor's CertificateVerify is refused",
                |_: &Tls12Model, s: &State| {
                    s.conns.iter().any(|c| {
                        c.server
                            .as_ref()
                            .and_then(|x| x.error())
                            .and_then(|e| e.alert_sent())
                            == Some(tls12::msgs::enums::AlertDescription::DecryptError)
                    })
                },
            ));
        }
    }
    if cfg.client_auth != ClientAuth::None && cfg.client_cert && !cfg.impostor {
        props.push(Property::sometimes(
            "client authentication completes",
            |_: &Tls12Model, s: &State| {
                s.conns
                    .iter()
                    .filter_map(|c| both_in_traffic(c))
                    .any(|(_, x)| x.client_certificate.is_some())
            },
        ));
    }
    if cfg.attacker > 0 && cfg.moves.contains(&Move::Downgrade) {
        props.push(Property::sometimes(
            "a server answers a ClientHello stripped of extended_master_secret without it",
            |_: &Tls12Model, s: &State| {
                s.conns.iter().any(|c| {
                    c.attacked == Some(Move::Downgrade)
                        && c.hello.as_deref().and_then(hello_offers_ems) == Some(false)
                        && server_hello(c).is_some()
                })
            },
        ));
        if cfg.conns >= 2 && cfg.cache > 0 && completes {
            props.push(Property::sometimes(
                "a resumption offer stripped of extended_master_secret is refused",
                |_: &Tls12Model, s: &State| {
                    s.conns.iter().any(|c| {
                        c.attacked == Some(Move::Downgrade)
                            && (c.cache_hit == Some(true)
                                || matches!(
                                    c.ticket_key,
                                    Some(TicketKeyUse::Current | TicketKeyUse::Previous)
                                ))
                            && c.hello.as_deref().and_then(hello_offers_ems) == Some(false)
                            && c.server
                                .as_ref()
                                .and_then(|x| x.error())
                                .and_then(|e| e.alert_sent())
                                == Some(AlertDescription::HandshakeFailure)
                    })
                },
            ));
        }
    }
    if cfg.psk && completes {
        props.push(Property::sometimes(
            "an ECDHE_PSK handshake completes without a certificate",
            |_: &Tls12Model, s: &State| completed_with(s, tls12::suites::KeyExchange::EcdhePsk),
        ));
        props.push(Property::sometimes(
            "a plain PSK handshake completes without ServerKeyExchange",
            |_: &Tls12Model, s: &State| {
                completed_with(s, tls12::suites::KeyExchange::Psk)
                    && s.conns.iter().any(|c| {
                        flight_messages(c.to_client.sent.first().map_or(&[][..], |r| r))
                            .iter()
                            .map(|m| HandshakeType::from(m[0]))
                            .eq([HandshakeType::ServerHello, HandshakeType::ServerHelloDone])
                    })
            },
        ));
    }
    if cfg.tickets && completes && cfg.conns >= 2 {
        props.push(Property::sometimes(
            "a ticket resumes",
            |_: &Tls12Model, s: &State| ticket_outcome(s, TicketKeyUse::Current, true),
        ));
        props.push(Property::sometimes(
            "a ticket sealed before a key rotation still resumes",
            |_: &Tls12Model, s: &State| ticket_outcome(s, TicketKeyUse::Previous, true),
        ));
        props.push(Property::sometimes(
            "a ticket whose key was dropped falls back to a full handshake",
            |_: &Tls12Model, s: &State| ticket_outcome(s, TicketKeyUse::Unknown, false),
        ));
        if cfg.attacker > 0 {
            props.push(Property::sometimes(
                "the attacker forges a ticket and the connection fails",
                |_: &Tls12Model, s: &State| attacked(s, Move::ForgeTicket),
            ));
        }
    }
    if cfg.alpn && completes {
        props.push(Property::sometimes(
            "both ends agree on an application protocol",
            |_: &Tls12Model, s: &State| {
                s.conns
                    .iter()
                    .filter_map(|c| both_in_traffic(c))
                    .any(|(c, x)| c.alpn.is_some() && c.alpn == x.alpn)
            },
        ));
    }
    if cfg.attacker > 0 {
        for mv in &cfg.moves {
            props.push(match mv {
                Move::Drop => Property::sometimes(
                    "the attacker drops a record and the connection fails",
                    |_: &Tls12Model, s: &State| attacked(s, Move::Drop),
                ),
                Move::Duplicate => Property::sometimes(
                    "the attacker duplicates a record and the connection fails",
                    |_: &Tls12Model, s: &State| attacked(s, Move::Duplicate),
                ),
                Move::Reorder => Property::sometimes(
                    "the attacker reorders records and the connection fails",
                    |_: &Tls12Model, s: &State| attacked(s, Move::Reorder),
                ),
                Move::Replay => Property::sometimes(
                    "the attacker replays another connection's record and the connection fails",
                    |_: &Tls12Model, s: &State| attacked(s, Move::Replay),
                ),
                Move::Skip => Property::sometimes(
                    "the attacker skips a handshake message and the connection fails",
                    |_: &Tls12Model, s: &State| attacked(s, Move::Skip),
                ),
                Move::InjectCcs => Property::sometimes(
                    "the attacker injects ChangeCipherSpec and the connection fails",
                    |_: &Tls12Model, s: &State| attacked(s, Move::InjectCcs),
                ),
                Move::InjectFinished => Property::sometimes(
                    "the attacker injects Finished and the connection fails",
                    |_: &Tls12Model, s: &State| attacked(s, Move::InjectFinished),
                ),
                Move::Downgrade => Property::sometimes(
                    "the attacker strips extended_master_secret from a hello and the connection fails",
                    |_: &Tls12Model, s: &State| attacked(s, Move::Downgrade),
                ),
                Move::InjectAppData => Property::sometimes(
                    "the attacker injects application data and the connection fails",
                    |_: &Tls12Model, s: &State| attacked(s, Move::InjectAppData),
                ),
                Move::Tamper => Property::sometimes(
                    "the attacker edits a hello field and the connection fails",
                    |_: &Tls12Model, s: &State| attacked(s, Move::Tamper),
                ),
                Move::ForgeTicket => Property::sometimes(
                    "the attacker forges a ticket and the connection fails",
                    |_: &Tls12Model, s: &State| attacked(s, Move::ForgeTicket),
                ),
            });
        }
    }
    if completes && cfg.attacker == 0 && !cfg.ignore {
        props.push(Property::eventually(
            "every connection reaches AppData",
            |_: &Tls12Model, s: &State| {
                // Reached, not still there: with --close a client may close its first
                // connection before its second completes.
                s.conns.iter().all(|c| c.completed.0 && c.completed.1)
            },
        ));
    }
    props
}

/// Whether some connection completed on both ends with a suite of key exchange `kx`.
fn completed_with(s: &State, kx: tls12::suites::KeyExchange) -> bool {
    s.conns
        .iter()
        .filter_map(|c| both_in_traffic(c))
        .any(|(c, _)| tls12::suites::Suite::lookup(c.suite).is_some_and(|x| x.kx == kx))
}

/// Whether some connection offered a ticket under a key of `key` kind and completed on
/// both ends, resumed or not as `resumed` says (and untouched by the attacker).
fn ticket_outcome(s: &State, key: TicketKeyUse, resumed: bool) -> bool {
    s.conns.iter().any(|c| {
        c.ticket_key == Some(key)
            && c.attacked.is_none()
            && both_in_traffic(c).is_some_and(|(x, _)| x.resumed == resumed)
    })
}

fn attacked(s: &State, mv: Move) -> bool {
    s.conns.iter().any(|c| c.attacked == Some(mv) && c.failed())
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Side::ToServer => write!(f, "client -> server"),
            Side::ToClient => write!(f, "server -> client"),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Counterexamples in the spec's notation
// ---------------------------------------------------------------------------------------

/// What a record is, for people: `ClientHello`, `ServerHello, Certificate, ...`,
/// `ChangeCipherSpec`, `Alert(Fatal, HandshakeFailure)`, `encrypted Handshake`.
pub fn describe_record(record: &[u8]) -> String {
    let Some(parsed) = parse(record) else {
        return format!("{} undecodable bytes", record.len());
    };
    match parsed.typ {
        ContentType::Handshake => {
            let msgs = messages(record);
            match msgs.is_empty() {
                true => "encrypted Handshake (Finished)".into(),
                false => msgs
                    .iter()
                    .map(|m| format!("{:?}", HandshakeType::from(m[0])))
                    .collect::<Vec<_>>()
                    .join(", "),
            }
        }
        ContentType::ChangeCipherSpec => "ChangeCipherSpec".into(),
        ContentType::Alert => {
            match <tls12::msgs::AlertMessage as tls12::codec::Codec>::read_bytes(&parsed.payload)
                .ok()
            {
                Some(alert) => format!("Alert({:?}, {:?})", alert.level, alert.description),
                None => "encrypted Alert".into(),
            }
        }
        ContentType::ApplicationData => format!("ApplicationData ({} bytes)", parsed.payload.len()),
        other => format!("{other:?}"),
    }
}

fn end_names(conn: &Conn) -> (String, String) {
    let client = conn
        .client
        .as_ref()
        .map_or("client not started", |c| c.state_name());
    let server = conn
        .server
        .as_ref()
        .map_or("server not started", |s| s.state_name());
    (client.to_string(), server.to_string())
}

/// A path as a message sequence: who sent which flight, what each side decided.
pub fn explain(model: &Tls12Model, path: &[(State, Option<Action>)]) -> Vec<String> {
    let mut lines = Vec::new();
    for (state, action) in path {
        let Some(action) = action else { continue };
        let next = model.next_state(state, action.clone());
        let line = match action {
            Action::Connect { client } => {
                let i = model.next_conn(state, *client).unwrap_or(0);
                let offer = match &state.sessions[*client] {
                    Some(s) if s.ticket.is_some() => " offering its ticket".to_string(),
                    Some(s) => format!(
                        " offering session {}",
                        tls12::msgs::base::hex(s.id.as_bytes().get(..4).unwrap_or_default())
                    ),
                    None => String::new(),
                };
                format!("conn {i}: client {client} connects{offer}: -> ClientHello")
            }
            Action::Reconnect { client, change } => {
                let i = model.next_conn(state, *client).unwrap_or(0);
                format!("conn {i}: client {client} connects, {change:?}: -> ClientHello")
            }
            Action::Deliver { conn, side } | Action::Attack { conn, side, .. }
                if next.is_some() =>
            {
                let c = &state.conns[*conn];
                let head = c
                    .channel(*side)
                    .queue
                    .front()
                    .map(|r| describe_record(r))
                    .unwrap_or_default();
                let after = next
                    .as_ref()
                    .map(|n| end_names(&n.conns[*conn]))
                    .unwrap_or_default();
                match action {
                    Action::Attack { mv, .. } => {
                        format!("conn {conn}: ATTACKER {mv:?} on {side} (next record was: {head})")
                    }
                    _ => format!(
                        "conn {conn}: {side}: {head}  => [{} | {}]",
                        after.0, after.1
                    ),
                }
            }
            Action::DeliverUnwilling { conn, why } => {
                format!("conn {conn}: client -> server: ClientHello (server found the session, unwilling to resume: {why:?})")
            }
            Action::Ignore { conn } => format!("conn {conn}: server ignores the ClientHello"),
            Action::Timeout { conn } => format!("conn {conn}: client's timer fires: fatal"),
            Action::Close { conn } => format!("conn {conn}: client closes: -> close_notify"),
            Action::Renegotiate { conn } => {
                format!("conn {conn}: client asks to renegotiate: -> encrypted ClientHello")
            }
            other => format!("{other:?}"),
        };
        lines.push(line);
    }
    lines
}
