//! Floor 6: sessions (RFC 5246 §7.3, "resumption") — the [`Session`] value, the server's
//! [`SessionCache`] with a bounded in-memory implementation, and the client's
//! [`ClientSessionStore`].

use std::collections::{BTreeMap, VecDeque};

use crate::crypto::{Secret, UnixTime};
use crate::msgs::enums::{CipherSuite, ProtocolVersion};
use crate::msgs::{CertificateDer, SessionId};
pub use crate::ticket::TicketKeys;

/// What both ends keep of a completed full handshake to resume it later.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Session {
    /// The ID the server chose.
    pub id: SessionId,
    /// The protocol version.
    pub version: ProtocolVersion,
    /// The cipher suite.
    pub suite: CipherSuite,
    /// The 48-byte master secret.
    pub master_secret: Secret,
    /// Whether the master secret is an extended one (RFC 7627).
    pub extended_master_secret: bool,
    /// The server name the client asked for, if any (RFC 6066 §3: a resumed session must
    /// be for the same name).
    pub server_name: Option<String>,
    /// The server's end-entity certificate, as the client verified it (`None` in the
    /// server's own cache: it is the server's).
    pub server_certificate: Option<CertificateDer>,
    /// The client's end-entity certificate, if it authenticated. Both ends keep it, so
    /// that a resumed handshake reports the same identity on both.
    pub client_certificate: Option<CertificateDer>,
    /// The PSK identity of a PSK or ECDHE_PSK session: a resumption is made with the key
    /// of that identity, and reports it.
    pub psk_identity: Option<Vec<u8>>,
    /// The client's session ticket (RFC 5077), to offer instead of (or beside) the ID.
    pub ticket: Option<Vec<u8>>,
    /// When the full handshake completed.
    pub created: UnixTime,
}

impl Session {
    /// Whether the session is past `lifetime` seconds at `now`.
    pub fn expired(&self, now: UnixTime, lifetime: u64) -> bool {
        now.0.saturating_sub(self.created.0) >= lifetime
    }
}

/// The server's store of resumable sessions, keyed by ID. The server consults it with
/// the ClientHello's session ID and inserts a session only after both Finished messages
/// of a full handshake have been verified.
pub trait SessionCache: std::fmt::Debug {
    /// The session stored under `id`, if any and not expired at `now`.
    fn get(&mut self, id: &SessionId, now: UnixTime) -> Option<Session>;
    /// Stores `session`, evicting as the cache's policy says.
    fn put(&mut self, session: Session, now: UnixTime);
    /// Forgets `id` (e.g. after a fatal alert on a connection resuming it, RFC 5246 §7.2).
    fn remove(&mut self, id: &SessionId);
    /// Runs `f` on the keys that seal and open session tickets (RFC 5077), if this server
    /// issues them; whether it did. The keys live with the cache because, like it, they
    /// are shared by every connection of a server and change over time (rotation); a
    /// closure, not a reference, so that a cache behind a lock can lend them.
    fn with_ticket_keys(&mut self, f: &mut dyn FnMut(&mut TicketKeys)) -> bool {
        let _ = f;
        false
    }
}

/// A bounded in-memory cache: at most `capacity` sessions, each for `lifetime` seconds;
/// when full, the oldest insertion is evicted first. Deterministic, so that the model can
/// explore hits, misses and evictions.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct InMemoryCache {
    capacity: usize,
    lifetime: u64,
    /// Oldest first.
    entries: VecDeque<Session>,
    /// Ticket keys, when the server issues tickets.
    tickets: Option<TicketKeys>,
}

impl InMemoryCache {
    /// A cache of `capacity` sessions (0 disables caching) living `lifetime` seconds.
    pub fn new(capacity: usize, lifetime: u64) -> Self {
        Self {
            capacity,
            lifetime,
            entries: VecDeque::new(),
            tickets: None,
        }
    }

    /// The same cache, also holding ticket keys: the server then issues session tickets
    /// to clients that ask for them (RFC 5077).
    pub fn with_tickets(mut self, keys: TicketKeys) -> Self {
        self.tickets = Some(keys);
        self
    }

    /// The ticket keys, if any.
    pub fn ticket_keys(&self) -> Option<&TicketKeys> {
        self.tickets.as_ref()
    }

    /// The ticket keys, to rotate them, if any.
    pub fn ticket_keys_mut(&mut self) -> Option<&mut TicketKeys> {
        self.tickets.as_mut()
    }

    /// How many sessions are stored.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no session is stored.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The stored sessions, oldest first (expired ones included until the next access).
    pub fn sessions(&self) -> impl Iterator<Item = &Session> {
        self.entries.iter()
    }
}

impl SessionCache for InMemoryCache {
    fn get(&mut self, id: &SessionId, now: UnixTime) -> Option<Session> {
        let lifetime = self.lifetime;
        self.entries.retain(|s| !s.expired(now, lifetime));
        self.entries.iter().find(|s| s.id == *id).cloned()
    }

    fn put(&mut self, session: Session, now: UnixTime) {
        if self.capacity == 0 || session.id.is_empty() {
            return;
        }
        let lifetime = self.lifetime;
        self.entries
            .retain(|s| s.id != session.id && !s.expired(now, lifetime));
        while self.entries.len() >= self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(session);
    }

    fn remove(&mut self, id: &SessionId) {
        self.entries.retain(|s| s.id != *id);
    }

    fn with_ticket_keys(&mut self, f: &mut dyn FnMut(&mut TicketKeys)) -> bool {
        match &mut self.tickets {
            Some(keys) => {
                f(keys);
                true
            }
            None => false,
        }
    }
}

/// The client's sessions, one per server name (or address), to offer on reconnection.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ClientSessionStore {
    sessions: BTreeMap<String, Session>,
}

impl ClientSessionStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The session for `server`, if any.
    pub fn get(&self, server: &str) -> Option<&Session> {
        self.sessions.get(server)
    }

    /// Remembers `session` for `server`, replacing any older one.
    pub fn put(&mut self, server: &str, session: Session) {
        self.sessions.insert(server.to_owned(), session);
    }

    /// Forgets the session for `server`.
    pub fn remove(&mut self, server: &str) {
        self.sessions.remove(server);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(id: u8, created: u64) -> Session {
        Session {
            id: SessionId::new(&[id; 32]).unwrap(),
            version: ProtocolVersion::TLSv1_2,
            suite: CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            master_secret: Secret::new(vec![id; 48]),
            extended_master_secret: true,
            server_name: None,
            server_certificate: None,
            client_certificate: None,
            psk_identity: None,
            ticket: None,
            created: UnixTime(created),
        }
    }

    #[test]
    fn the_cache_is_bounded_and_evicts_the_oldest() {
        let mut cache = InMemoryCache::new(2, 100);
        for id in 1..=3 {
            cache.put(session(id, 0), UnixTime(0));
        }
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.get(&session(1, 0).id, UnixTime(1)), None);
        assert_eq!(
            cache.get(&session(3, 0).id, UnixTime(1)),
            Some(session(3, 0))
        );
    }

    #[test]
    fn sessions_expire_after_their_lifetime() {
        let mut cache = InMemoryCache::new(2, 100);
        cache.put(session(1, 0), UnixTime(0));
        assert!(cache.get(&session(1, 0).id, UnixTime(99)).is_some());
        assert!(cache.get(&session(1, 0).id, UnixTime(100)).is_none());
        assert!(cache.is_empty());
    }

    #[test]
    fn a_zero_capacity_cache_stores_nothing() {
        let mut cache = InMemoryCache::new(0, 100);
        cache.put(session(1, 0), UnixTime(0));
        assert!(cache.is_empty());
    }
}
