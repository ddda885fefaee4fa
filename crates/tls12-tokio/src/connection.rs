//! What a [`TlsStream`](crate::TlsStream) drives: a client connection, or a server
//! connection with the session cache it shares with the others.

use std::sync::{Arc, Mutex, MutexGuard};

use tls12::crypto::{Provider, UnixTime};
use tls12::handshake::{Event, HandshakeSummary, Phase};
use tls12::msgs::SessionId;
use tls12::session::{Session, SessionCache};
use tls12::{ClientConnection, Error, ServerConnection};

/// The sans-IO calls a [`TlsStream`](crate::TlsStream) makes, one to one with the methods
/// of [`ClientConnection`] and [`ServerConnection`]. Implemented for
/// `ClientConnection<P>` and [`ServerSide<P, C>`]; there is nothing here to implement for
/// an application.
pub trait Connection {
    /// Takes bytes from the peer at time `now`.
    fn receive(&mut self, bytes: &[u8], now: UnixTime) -> Result<(), Error>;
    /// Whether bytes for the peer are waiting.
    fn has_output(&self) -> bool;
    /// The bytes for the peer.
    fn take_output(&mut self) -> Vec<u8>;
    /// The application data received so far.
    fn take_received(&mut self) -> Vec<u8>;
    /// The oldest application data received and not yet read, where it was decrypted.
    fn received(&self) -> &[u8];
    /// Marks the first `n` bytes of [`Connection::received`] read.
    fn consume_received(&mut self, n: usize);
    /// Queues application data.
    fn send(&mut self, data: &[u8]) -> Result<(), Error>;
    /// Queues close_notify.
    fn close(&mut self);
    /// Whether the handshake is still running.
    fn is_handshaking(&self) -> bool;
    /// The coarse phase.
    fn phase(&self) -> Phase;
    /// The next event, oldest first.
    fn next_event(&mut self) -> Option<Event>;
    /// What the handshake settled, once complete.
    fn summary(&self) -> Option<&HandshakeSummary>;
    /// The error that ended the connection, if any.
    fn error(&self) -> Option<&Error>;
}

impl<P: Provider> Connection for ClientConnection<P> {
    fn receive(&mut self, bytes: &[u8], now: UnixTime) -> Result<(), Error> {
        // The client's own handshake timer (`ClientConfig::handshake_timeout`) is checked
        // whenever bytes arrive; a server that sends nothing is the caller's deadline.
        self.tick(now)?;
        ClientConnection::receive(self, bytes, now)
    }
    fn has_output(&self) -> bool {
        ClientConnection::has_output(self)
    }
    fn take_output(&mut self) -> Vec<u8> {
        ClientConnection::take_output(self)
    }
    fn take_received(&mut self) -> Vec<u8> {
        ClientConnection::take_received(self)
    }
    fn received(&self) -> &[u8] {
        ClientConnection::received(self)
    }
    fn consume_received(&mut self, n: usize) {
        ClientConnection::consume_received(self, n)
    }
    fn send(&mut self, data: &[u8]) -> Result<(), Error> {
        ClientConnection::send(self, data)
    }
    fn close(&mut self) {
        ClientConnection::close(self)
    }
    fn is_handshaking(&self) -> bool {
        ClientConnection::is_handshaking(self)
    }
    fn phase(&self) -> Phase {
        ClientConnection::phase(self)
    }
    fn next_event(&mut self) -> Option<Event> {
        ClientConnection::next_event(self)
    }
    fn summary(&self) -> Option<&HandshakeSummary> {
        ClientConnection::summary(self)
    }
    fn error(&self) -> Option<&Error> {
        ClientConnection::error(self)
    }
}

/// A session cache shared by every connection of a server. The lock is held for one
/// lookup, store or removal at a time, never across a handshake step: a connection that
/// is signing or deriving keys does not hold up the others.
#[derive(Debug)]
pub struct SharedCache<C>(Arc<Mutex<C>>);

impl<C> SharedCache<C> {
    /// Shares `cache`.
    pub fn new(cache: C) -> Self {
        Self(Arc::new(Mutex::new(cache)))
    }

    /// The cache itself, e.g. to count its sessions. A poisoned lock (a thread panicked
    /// while holding it) still guards a valid cache: every update is a single call.
    pub fn lock(&self) -> MutexGuard<'_, C> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl<C> Clone for SharedCache<C> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<C> From<Arc<Mutex<C>>> for SharedCache<C> {
    fn from(cache: Arc<Mutex<C>>) -> Self {
        Self(cache)
    }
}

impl<C: SessionCache> SessionCache for SharedCache<C> {
    fn get(&mut self, id: &SessionId, now: UnixTime) -> Option<Session> {
        self.lock().get(id, now)
    }
    fn put(&mut self, session: Session, now: UnixTime) {
        self.lock().put(session, now)
    }
    fn remove(&mut self, id: &SessionId) {
        self.lock().remove(id)
    }
    fn with_ticket_keys(&mut self, f: &mut dyn FnMut(&mut tls12::session::TicketKeys)) -> bool {
        self.lock().with_ticket_keys(f)
    }
}

/// A server connection with the cache it consults and fills.
#[derive(Debug)]
pub struct ServerSide<P: Provider, C> {
    conn: ServerConnection<P>,
    cache: SharedCache<C>,
}

impl<P: Provider, C> ServerSide<P, C> {
    /// `conn`, served from `cache`.
    pub fn new(conn: ServerConnection<P>, cache: SharedCache<C>) -> Self {
        Self { conn, cache }
    }

    /// The connection.
    pub fn connection(&self) -> &ServerConnection<P> {
        &self.conn
    }

    /// The shared cache.
    pub fn cache(&self) -> &SharedCache<C> {
        &self.cache
    }
}

impl<P: Provider, C: SessionCache> Connection for ServerSide<P, C> {
    fn receive(&mut self, bytes: &[u8], now: UnixTime) -> Result<(), Error> {
        self.conn.receive(bytes, now, &mut self.cache)
    }
    fn has_output(&self) -> bool {
        self.conn.has_output()
    }
    fn take_output(&mut self) -> Vec<u8> {
        self.conn.take_output()
    }
    fn take_received(&mut self) -> Vec<u8> {
        self.conn.take_received()
    }
    fn received(&self) -> &[u8] {
        self.conn.received()
    }
    fn consume_received(&mut self, n: usize) {
        self.conn.consume_received(n)
    }
    fn send(&mut self, data: &[u8]) -> Result<(), Error> {
        self.conn.send(data)
    }
    fn close(&mut self) {
        self.conn.close()
    }
    fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }
    fn phase(&self) -> Phase {
        self.conn.phase()
    }
    fn next_event(&mut self) -> Option<Event> {
        self.conn.next_event()
    }
    fn summary(&self) -> Option<&HandshakeSummary> {
        self.conn.summary()
    }
    fn error(&self) -> Option<&Error> {
        self.conn.error()
    }
}
