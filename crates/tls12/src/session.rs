//! Floor 6: sessions (RFC 5246 §7.3, "resumption") — the [`Session`] value, the server's
//! [`SessionCache`] with a bounded in-memory implementation, and the client's
//! [`ClientSessionStore`].

use std::collections::{BTreeMap, HashMap, VecDeque};

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
///
/// A lookup costs the same with 10,000 sessions as with one: an index maps IDs to
/// insertion numbers, and expired sessions are dropped from the front, oldest first
/// (sessions are inserted in the order they were created, so the expired ones lead; a
/// session inserted out of that order makes the cache fall back to sweeping all of them,
/// which is what every lookup used to do). Equality, hashing and `Debug` see only what
/// the cache holds, not the index.
#[derive(Clone)]
pub struct InMemoryCache {
    capacity: usize,
    lifetime: u64,
    /// Oldest first.
    entries: VecDeque<Session>,
    /// Ticket keys, when the server issues tickets.
    tickets: Option<TicketKeys>,
    /// The insertion number of each entry, in the same order (so increasing).
    numbers: VecDeque<u64>,
    /// Each stored ID's insertion number.
    index: HashMap<SessionId, u64>,
    /// The next insertion number.
    next: u64,
    /// Whether the entries' creation times never decrease from front to back, so that
    /// the expired ones are a prefix.
    in_order: bool,
}

impl PartialEq for InMemoryCache {
    fn eq(&self, other: &Self) -> bool {
        self.capacity == other.capacity
            && self.lifetime == other.lifetime
            && self.entries == other.entries
            && self.tickets == other.tickets
    }
}

impl Eq for InMemoryCache {}

impl std::hash::Hash for InMemoryCache {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // The fields, in the order a derived `Hash` took them.
        self.capacity.hash(state);
        self.lifetime.hash(state);
        self.entries.hash(state);
        self.tickets.hash(state);
    }
}

impl std::fmt::Debug for InMemoryCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InMemoryCache")
            .field("capacity", &self.capacity)
            .field("lifetime", &self.lifetime)
            .field("entries", &self.entries)
            .field("tickets", &self.tickets)
            .finish()
    }
}

impl InMemoryCache {
    /// A cache of `capacity` sessions (0 disables caching) living `lifetime` seconds.
    pub fn new(capacity: usize, lifetime: u64) -> Self {
        Self {
            capacity,
            lifetime,
            entries: VecDeque::new(),
            tickets: None,
            numbers: VecDeque::new(),
            index: HashMap::new(),
            next: 0,
            in_order: true,
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

    /// Where the session stored under `id` is.
    fn position(&self, id: &SessionId) -> Option<usize> {
        let number = self.index.get(id)?;
        self.numbers.binary_search(number).ok()
    }

    fn remove_at(&mut self, at: usize) {
        if let Some(session) = self.entries.remove(at) {
            self.index.remove(&session.id);
        }
        self.numbers.remove(at);
        if self.entries.is_empty() {
            self.in_order = true;
        }
    }

    fn pop_oldest(&mut self) {
        self.remove_at(0);
    }

    /// Drops every session expired at `now`.
    fn drop_expired(&mut self, now: UnixTime) {
        let lifetime = self.lifetime;
        if self.in_order {
            while self
                .entries
                .front()
                .is_some_and(|s| s.expired(now, lifetime))
            {
                self.pop_oldest();
            }
        } else {
            let mut at = 0;
            while at < self.entries.len() {
                match self.entries[at].expired(now, lifetime) {
                    true => self.remove_at(at),
                    false => at += 1,
                }
            }
        }
    }
}

impl SessionCache for InMemoryCache {
    fn get(&mut self, id: &SessionId, now: UnixTime) -> Option<Session> {
        self.drop_expired(now);
        let at = self.position(id)?;
        self.entries.get(at).cloned()
    }

    fn put(&mut self, session: Session, now: UnixTime) {
        if self.capacity == 0 || session.id.is_empty() {
            return;
        }
        if let Some(at) = self.position(&session.id) {
            self.remove_at(at);
        }
        self.drop_expired(now);
        while self.entries.len() >= self.capacity {
            self.pop_oldest();
        }
        if let Some(last) = self.entries.back() {
            self.in_order &= last.created <= session.created;
        }
        self.index.insert(session.id, self.next);
        self.numbers.push_back(self.next);
        self.next += 1;
        self.entries.push_back(session);
    }

    fn remove(&mut self, id: &SessionId) {
        if let Some(at) = self.position(id) {
            self.remove_at(at);
        }
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
    fn caches_are_equal_only_with_the_same_sessions_and_settings() {
        let mut a = InMemoryCache::new(2, 100);
        let b = InMemoryCache::new(2, 100);
        assert!(a.is_empty());
        assert_eq!(a, b);
        a.put(session(1, 0), UnixTime(0));
        assert!(!a.is_empty());
        assert_ne!(a, b);
        let mut c = InMemoryCache::new(2, 100);
        c.put(session(1, 0), UnixTime(0));
        assert_eq!(a, c);
        // Same sessions, another capacity or lifetime.
        let mut d = InMemoryCache::new(3, 100);
        d.put(session(1, 0), UnixTime(0));
        assert_ne!(a, d);
        let mut e = InMemoryCache::new(2, 50);
        e.put(session(1, 0), UnixTime(0));
        assert_ne!(a, e);
    }

    /// A cache that keeps nothing and has no ticket keys: the trait's defaults.
    #[derive(Debug)]
    struct Forgetful;

    impl SessionCache for Forgetful {
        fn get(&mut self, _: &SessionId, _: UnixTime) -> Option<Session> {
            None
        }
        fn put(&mut self, _: Session, _: UnixTime) {}
        fn remove(&mut self, _: &SessionId) {}
    }

    #[test]
    fn a_cache_without_ticket_keys_says_so_and_lends_none() {
        let mut called = false;
        assert!(!Forgetful.with_ticket_keys(&mut |_| called = true));
        assert!(!called);
        let mut cache = InMemoryCache::new(2, 100);
        assert!(!cache.with_ticket_keys(&mut |_| called = true));
        assert!(!called);
    }

    #[test]
    fn a_cache_debugs_its_settings_and_sessions() {
        let mut cache = InMemoryCache::new(2, 100);
        cache.put(session(1, 0), UnixTime(0));
        let debug = format!("{cache:?}");
        assert!(debug.starts_with("InMemoryCache { capacity: 2, lifetime: 100, entries: ["));
        assert!(debug.contains("tickets: None"), "{debug}");
    }

    #[test]
    fn a_client_store_keeps_one_session_per_server() {
        let mut store = ClientSessionStore::new();
        assert_eq!(store.get("a.example"), None);
        store.put("a.example", session(1, 0));
        store.put("b.example", session(2, 0));
        store.put("a.example", session(3, 0));
        assert_eq!(store.get("a.example"), Some(&session(3, 0)));
        assert_eq!(store.get("b.example"), Some(&session(2, 0)));
        store.remove("a.example");
        assert_eq!(store.get("a.example"), None);
        assert_eq!(store.get("b.example"), Some(&session(2, 0)));
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

    /// The cache as it was before its index: every access sweeps every session.
    struct Sweeping {
        capacity: usize,
        lifetime: u64,
        entries: VecDeque<Session>,
    }

    impl Sweeping {
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
    }

    #[test]
    fn the_indexed_cache_behaves_as_the_sweeping_one_did() {
        // Puts, gets and removes of a few IDs, with time mostly moving forward, sometimes
        // jumping back (out-of-order insertions); after every step both caches hold the
        // same sessions in the same order and answered the same.
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for capacity in [0, 1, 3, 8] {
            let mut ours = InMemoryCache::new(capacity, 50);
            let mut theirs = Sweeping {
                capacity,
                lifetime: 50,
                entries: VecDeque::new(),
            };
            let mut now = 0u64;
            for step in 0..5_000 {
                now = match next(10) {
                    0 => now.saturating_sub(next(30)),
                    _ => now + next(8),
                };
                let id = session(next(12) as u8, 0).id;
                match next(4) {
                    0 | 1 => {
                        let created = now.saturating_sub(next(3) * 20);
                        let s = session(next(12) as u8, created);
                        ours.put(s.clone(), UnixTime(now));
                        theirs.put(s, UnixTime(now));
                    }
                    2 => assert_eq!(
                        ours.get(&id, UnixTime(now)),
                        theirs.get(&id, UnixTime(now)),
                        "step {step}"
                    ),
                    _ => {
                        ours.remove(&id);
                        theirs.remove(&id);
                    }
                }
                assert!(ours.sessions().eq(theirs.entries.iter()), "step {step}");
            }
        }
    }

    #[test]
    fn a_zero_capacity_cache_stores_nothing() {
        let mut cache = InMemoryCache::new(0, 100);
        cache.put(session(1, 0), UnixTime(0));
        assert!(cache.is_empty());
    }
}
