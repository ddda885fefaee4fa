//! A blocking adapter: a connection over any `Read + Write` (a `TcpStream`, say), itself
//! `Read + Write`. It is the only place in the crate that reads a clock, and only the one
//! it was given.

use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::crypto::{Provider, UnixTime};
use crate::error::Error;
use crate::handshake::{Event, HandshakeSummary};
use crate::session::SessionCache;
use crate::{ClientConnection, ServerConnection};

/// What [`Stream`] needs of a connection.
pub trait Endpoint {
    /// Takes bytes from the peer.
    fn feed(&mut self, bytes: &[u8], now: UnixTime) -> Result<(), Error>;
    /// Bytes for the peer.
    fn take_output(&mut self) -> Vec<u8>;
    /// Application data received.
    fn take_received(&mut self) -> Vec<u8>;
    /// Queues application data.
    fn send(&mut self, data: &[u8]) -> Result<(), Error>;
    /// Queues close_notify.
    fn close(&mut self);
    /// Whether the handshake is still running.
    fn is_handshaking(&self) -> bool;
    /// The next event.
    fn next_event(&mut self) -> Option<Event>;
    /// The handshake's outcome, once complete.
    fn summary(&self) -> Option<&HandshakeSummary>;
    /// Whether the connection can carry no more data (closed or failed).
    fn is_closed(&self) -> bool;
}

impl<P: Provider> Endpoint for ClientConnection<P> {
    fn feed(&mut self, bytes: &[u8], now: UnixTime) -> Result<(), Error> {
        self.tick(now)?;
        self.receive(bytes, now)
    }
    fn take_output(&mut self) -> Vec<u8> {
        ClientConnection::take_output(self)
    }
    fn take_received(&mut self) -> Vec<u8> {
        ClientConnection::take_received(self)
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
    fn next_event(&mut self) -> Option<Event> {
        ClientConnection::next_event(self)
    }
    fn summary(&self) -> Option<&HandshakeSummary> {
        ClientConnection::summary(self)
    }
    fn is_closed(&self) -> bool {
        self.phase() == crate::handshake::Phase::Closed
    }
}

/// A server connection with the session cache it shares with other connections.
#[derive(Debug)]
pub struct ServerEndpoint<P: Provider, C: SessionCache> {
    /// The connection.
    pub conn: ServerConnection<P>,
    /// The shared cache.
    pub cache: Arc<Mutex<C>>,
}

impl<P: Provider, C: SessionCache> Endpoint for ServerEndpoint<P, C> {
    fn feed(&mut self, bytes: &[u8], now: UnixTime) -> Result<(), Error> {
        // A poisoned lock means another connection panicked mid-update; the cache is
        // still a valid cache, so carry on with it.
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.conn.receive(bytes, now, &mut *cache)
    }
    fn take_output(&mut self) -> Vec<u8> {
        self.conn.take_output()
    }
    fn take_received(&mut self) -> Vec<u8> {
        self.conn.take_received()
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
    fn next_event(&mut self) -> Option<Event> {
        self.conn.next_event()
    }
    fn summary(&self) -> Option<&HandshakeSummary> {
        self.conn.summary()
    }
    fn is_closed(&self) -> bool {
        self.conn.phase() == crate::handshake::Phase::Closed
    }
}

/// The wall clock, as the connections want it.
pub fn system_time() -> UnixTime {
    UnixTime(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    )
}

/// A connection driven over a blocking socket.
#[derive(Debug)]
pub struct Stream<E: Endpoint, S: Read + Write> {
    /// The connection.
    pub endpoint: E,
    /// The transport.
    pub socket: S,
    clock: fn() -> UnixTime,
    received: Vec<u8>,
}

fn tls_error(err: Error) -> io::Error {
    io::Error::other(err)
}

impl<E: Endpoint, S: Read + Write> Stream<E, S> {
    /// Wraps `endpoint` over `socket`, with the system clock.
    pub fn new(endpoint: E, socket: S) -> Self {
        Self {
            endpoint,
            socket,
            clock: system_time,
            received: Vec::new(),
        }
    }

    /// Replaces the clock (tests).
    pub fn with_clock(mut self, clock: fn() -> UnixTime) -> Self {
        self.clock = clock;
        self
    }

    fn write_output(&mut self) -> io::Result<()> {
        let out = self.endpoint.take_output();
        if !out.is_empty() {
            self.socket.write_all(&out)?;
            self.socket.flush()?;
        }
        Ok(())
    }

    /// Reads once from the socket and feeds the connection; `false` at end of stream.
    fn read_once(&mut self) -> io::Result<bool> {
        let mut buf = [0u8; 16 * 1024 + 2048 + 5];
        let n = self.socket.read(&mut buf)?;
        if n == 0 {
            return Ok(false);
        }
        let fed = self.endpoint.feed(&buf[..n], (self.clock)());
        // The fatal alert, if any, goes out before the error comes back.
        self.write_output()?;
        fed.map_err(tls_error)?;
        self.received.extend(self.endpoint.take_received());
        Ok(true)
    }

    /// Runs the handshake to completion.
    pub fn handshake(&mut self) -> io::Result<&HandshakeSummary> {
        self.write_output()?;
        while self.endpoint.is_handshaking() {
            if !self.read_once()? {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "peer closed during the handshake",
                ));
            }
        }
        self.endpoint
            .summary()
            .ok_or_else(|| io::Error::other("handshake did not complete"))
    }

    /// Sends close_notify.
    pub fn close(&mut self) -> io::Result<()> {
        self.endpoint.close();
        self.write_output()
    }
}

impl<E: Endpoint> Stream<E, std::net::TcpStream> {
    /// Closes like a careful server, after a fatal alert or close_notify: writes out what
    /// is queued (the alert), shuts down the write side, then reads and discards what the
    /// peer still sends, for at most `timeout` and `limit` bytes, before the socket is
    /// dropped. Dropping a socket with unread bytes makes the kernel answer with a reset,
    /// which can destroy the alert before the peer reads it.
    pub fn close_gracefully(&mut self, timeout: Duration, limit: usize) -> io::Result<()> {
        self.write_output()?;
        self.socket.shutdown(std::net::Shutdown::Write)?;
        let deadline = Instant::now() + timeout;
        let mut buf = [0u8; 16 * 1024];
        let mut drained = 0;
        while drained < limit {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            self.socket.set_read_timeout(Some(left))?;
            match self.socket.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => drained += n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                // A timeout or a reset: either way there is nothing more to wait for.
                Err(_) => break,
            }
        }
        Ok(())
    }
}

impl<E: Endpoint, S: Read + Write> Read for Stream<E, S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.write_output()?;
        while self.received.is_empty() {
            if self.endpoint.is_closed() || !self.read_once()? {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.received.len());
        buf[..n].copy_from_slice(&self.received[..n]);
        self.received.drain(..n);
        Ok(n)
    }
}

impl<E: Endpoint, S: Read + Write> Write for Stream<E, S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.endpoint.send(buf).map_err(tls_error)?;
        self.write_output()?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.write_output()
    }
}
