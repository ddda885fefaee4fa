//! [`TlsStream`]: a connection over an `AsyncRead + AsyncWrite` transport, itself
//! `AsyncRead + AsyncWrite`. It moves bytes between the two and decides nothing about the
//! protocol: every byte read goes to the connection, every byte the connection queues is
//! written.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use tls12::crypto::UnixTime;
use tls12::handshake::{Event, HandshakeSummary, Phase};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::connection::Connection;

/// The largest TLS record on the wire (RFC 5246 §6.2.3: 2^14 + 2048 bytes of fragment and
/// a 5-byte header): one read of this size can complete any record.
const READ_SIZE: usize = (1 << 14) + 2048 + 5;

/// The most plaintext one `poll_write` takes: four full records.
const MAX_WRITE: usize = 4 << 14;

/// The most events a stream keeps for [`TlsStream::next_event`]; later ones are dropped,
/// so that a peer cannot grow memory with warnings nobody reads.
const MAX_EVENTS: usize = 64;

/// How a stream closes when its owner is done with it or it failed: see
/// [`TlsStream::lingering_close`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Linger {
    /// The longest the close may take, writing and draining together.
    pub time: Duration,
    /// The most input read and discarded while draining.
    pub bytes: usize,
}

impl Default for Linger {
    /// One second and 64 KiB: enough for a peer that was mid-write when we closed, too
    /// little for one that wants to hold the socket.
    fn default() -> Self {
        Self {
            time: Duration::from_secs(1),
            bytes: 64 * 1024,
        }
    }
}

/// Bytes waiting in one direction, consumed from the front. The allocation is released
/// once everything is consumed, so an idle stream holds no buffer.
#[derive(Debug, Default)]
struct Pending {
    bytes: Vec<u8>,
    start: usize,
}

impl Pending {
    fn push(&mut self, more: Vec<u8>) {
        if more.is_empty() {
            return;
        }
        if self.is_empty() {
            self.bytes = more;
            self.start = 0;
        } else {
            self.bytes.extend_from_slice(&more);
        }
    }

    fn is_empty(&self) -> bool {
        self.start >= self.bytes.len()
    }

    fn as_slice(&self) -> &[u8] {
        self.bytes.get(self.start..).unwrap_or_default()
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        if self.is_empty() {
            self.bytes = Vec::new();
            self.start = 0;
        }
    }
}

/// A TLS error as the I/O error this crate returns; [`tls_error`] gets it back.
pub(crate) fn io_error(err: tls12::Error) -> io::Error {
    io::Error::other(err)
}

/// The TLS error an I/O error of this crate carries, if it carries one (as opposed to a
/// failure of the transport itself).
pub fn tls_error(err: &io::Error) -> Option<&tls12::Error> {
    err.get_ref()
        .and_then(|inner| inner.downcast_ref::<tls12::Error>())
}

/// A connection (`C`: a `ClientConnection` or a [`ServerSide`](crate::ServerSide)) over a
/// transport (`IO`: a `TcpStream`, say). Reading yields the application data received;
/// writing sends application data; [`shutdown`](tokio::io::AsyncWriteExt::shutdown)
/// sends close_notify and then shuts the transport's write side.
///
/// A read that meets the end of the transport's input returns 0 (end of stream) whether or
/// not close_notify came first; [`TlsStream::received_close_notify`] tells the two apart
/// for a protocol that cares about truncation.
#[derive(Debug)]
pub struct TlsStream<IO, C> {
    io: IO,
    conn: C,
    clock: fn() -> UnixTime,
    /// Bytes for the peer, not yet written.
    output: Pending,
    events: VecDeque<Event>,
    /// The transport's input ended.
    eof: bool,
    /// Our close_notify is queued (or the connection failed: nothing more to queue).
    closing: bool,
    /// The transport's write side is shut.
    write_shut: bool,
    /// A read or write of the transport failed (the peer reset the connection, say):
    /// nothing more can reach the peer, so a close neither writes nor drains.
    transport_failed: bool,
    close_notify_received: bool,
}

impl<IO, C: Connection> TlsStream<IO, C> {
    /// `conn` over `io`, with `clock` as the time source; the handshake has not run yet
    /// (see [`TlsStream::handshake`]).
    pub fn new(conn: C, io: IO, clock: fn() -> UnixTime) -> Self {
        Self {
            io,
            conn,
            clock,
            output: Pending::default(),
            events: VecDeque::new(),
            eof: false,
            closing: false,
            write_shut: false,
            transport_failed: false,
            close_notify_received: false,
        }
    }

    /// The transport.
    pub fn get_ref(&self) -> &IO {
        &self.io
    }

    /// The transport, e.g. to set socket options. Reading or writing it directly breaks
    /// the TLS stream.
    pub fn get_mut(&mut self) -> &mut IO {
        &mut self.io
    }

    /// The connection.
    pub fn connection(&self) -> &C {
        &self.conn
    }

    /// The transport, giving up the connection (nothing queued is written).
    pub fn into_inner(self) -> IO {
        self.io
    }

    /// What the handshake settled, once it completed.
    pub fn summary(&self) -> Option<&HandshakeSummary> {
        self.conn.summary()
    }

    /// The error that ended the connection, if a TLS error did.
    pub fn error(&self) -> Option<&tls12::Error> {
        self.conn.error()
    }

    /// Whether the peer has sent close_notify.
    pub fn received_close_notify(&self) -> bool {
        self.close_notify_received
    }

    /// The next event of the connection, oldest first: the handshake's flights (when the
    /// configuration traces them), `HandshakeComplete`, a client's `NewSession`,
    /// `PeerClosed`, warnings. The stream keeps at most 64 unread events.
    pub fn next_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The events not yet handed out, without taking them.
    pub(crate) fn events_iter(&self) -> impl Iterator<Item = &Event> {
        self.events.iter()
    }

    /// Moves what the connection produced into the stream's queues.
    fn collect(&mut self) {
        if self.conn.has_output() {
            self.output.push(self.conn.take_output());
        }
        while let Some(event) = self.conn.next_event() {
            if event == Event::PeerClosed {
                self.close_notify_received = true;
            }
            if self.events.len() < MAX_EVENTS {
                self.events.push_back(event);
            }
        }
    }

    /// The sticky TLS error, as an I/O error.
    fn failure(&self) -> Option<io::Error> {
        self.conn.error().cloned().map(io_error)
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin, C: Connection> TlsStream<IO, C> {
    /// Passes on the result of a transport call, remembering a failure.
    fn transport<T>(&mut self, result: io::Result<T>) -> io::Result<T> {
        self.transport_failed |= result.is_err();
        result
    }

    /// Writes everything queued for the peer.
    fn poll_write_output(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.collect();
        while !self.output.is_empty() {
            let written = ready!(Pin::new(&mut self.io).poll_write(cx, self.output.as_slice()));
            let n = self.transport(written)?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.output.consume(n);
        }
        Poll::Ready(Ok(()))
    }

    /// Starts writing what is queued without waiting for it: `Err` only if the transport
    /// failed.
    fn push_output(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        match self.poll_write_output(cx) {
            Poll::Ready(Err(err)) => Err(err),
            _ => Ok(()),
        }
    }

    /// Reads once from the transport and feeds the connection: `false` at the end of the
    /// input. A TLS error comes back as an I/O error once the alert it queued has been
    /// offered to the transport.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<bool>> {
        // On the stack, not in the stream: an idle connection holds no read buffer.
        let mut buf = [MaybeUninit::<u8>::uninit(); READ_SIZE];
        let mut read = ReadBuf::uninit(&mut buf);
        let result = ready!(Pin::new(&mut self.io).poll_read(cx, &mut read));
        self.transport(result)?;
        if read.filled().is_empty() {
            return Poll::Ready(Ok(false));
        }
        let fed = self.conn.receive(read.filled(), (self.clock)());
        self.collect();
        match fed {
            Ok(()) => Poll::Ready(Ok(true)),
            Err(err) => {
                self.closing = true;
                // The TLS error is the news; a transport too broken to take the alert
                // changes nothing about it.
                let _ = self.push_output(cx);
                Poll::Ready(Err(io_error(err)))
            }
        }
    }

    /// Drives the handshake to its end.
    fn poll_handshake(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            ready!(self.poll_write_output(cx))?;
            if let Some(err) = self.failure() {
                return Poll::Ready(Err(err));
            }
            if !self.conn.is_handshaking() {
                // Closed during the handshake (close_notify before Finished) leaves no
                // summary; closed right after it (the last flight and close_notify in one
                // read) keeps one.
                return Poll::Ready(match self.conn.summary() {
                    Some(_) => Ok(()),
                    None => Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "peer closed during the handshake",
                    )),
                });
            }
            if self.eof {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "peer closed during the handshake",
                )));
            }
            if !ready!(self.poll_fill(cx))? {
                self.eof = true;
            }
        }
    }

    /// Runs the handshake to completion and returns what it settled. On a TLS error the
    /// fatal alert has been handed to the transport; [`TlsStream::lingering_close`] makes
    /// sure the peer can read it.
    pub async fn handshake(&mut self) -> io::Result<&HandshakeSummary> {
        poll_fn(|cx| self.poll_handshake(cx)).await?;
        self.conn
            .summary()
            .ok_or_else(|| io::Error::other("handshake did not complete"))
    }

    /// Writes, shuts the write side, then drains the input until it ends or the limit.
    fn poll_linger(&mut self, cx: &mut Context<'_>, drained: &mut usize, limit: usize) -> Poll<()> {
        if ready!(self.poll_write_output(cx)).is_err() {
            return Poll::Ready(());
        }
        if !self.write_shut {
            if ready!(Pin::new(&mut self.io).poll_shutdown(cx)).is_err() {
                return Poll::Ready(());
            }
            self.write_shut = true;
        }
        let mut buf = [MaybeUninit::<u8>::uninit(); 4096];
        while !self.eof && *drained < limit {
            let mut read = ReadBuf::uninit(&mut buf);
            match ready!(Pin::new(&mut self.io).poll_read(cx, &mut read)) {
                Ok(()) if read.filled().is_empty() => self.eof = true,
                Ok(()) => *drained += read.filled().len(),
                Err(_) => return Poll::Ready(()),
            }
        }
        Poll::Ready(())
    }

    /// Closes the way a careful HTTP server does (Apache's "lingering close"): queues
    /// close_notify unless the connection already failed (then the fatal alert it queued is
    /// what goes out), writes everything queued, shuts the transport's write side, and
    /// reads and discards what the peer still sends until it closes its side, `linger.bytes`
    /// have come, or `linger.time` has passed. Then the transport is dropped. After a
    /// failed read or write of the transport (a reset), it is dropped at once.
    ///
    /// Why: a socket closed with unread input makes the kernel answer with a TCP reset,
    /// and a reset can destroy our last records (the alert that says why) before the peer
    /// reads them; a peer that was still writing when we gave up would see "connection
    /// reset" instead of the alert.
    ///
    /// The async counterpart of the blocking adapter's `Stream::close_gracefully`. Needs a
    /// tokio runtime with the time driver.
    pub async fn lingering_close(mut self, linger: Linger) {
        if self.transport_failed {
            // Reset by the peer, say: a write would fail too (EPIPE), and there is
            // nothing to drain.
            return;
        }
        if !self.closing {
            self.conn.close();
            self.closing = true;
        }
        let mut drained = 0;
        let close = poll_fn(|cx| self.poll_linger(cx, &mut drained, linger.bytes));
        // Running out of time is the bound doing its job, not an error to report.
        let _ = tokio::time::timeout(linger.time, close).await;
    }

    /// Whether the connection can carry no more data to the reader.
    fn read_done(&self) -> bool {
        self.eof || self.conn.phase() == Phase::Closed
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin, C: Connection + Unpin> AsyncRead for TlsStream<IO, C> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // What earlier calls queued (a close_notify answer, say) goes out when it can; a
        // read does not wait for it.
        this.push_output(cx)?;
        loop {
            // Application data is read where the connection decrypted it: no queue of
            // the stream's own, no copy but the one into the caller's buffer.
            let data = this.conn.received();
            if !data.is_empty() {
                let n = data.len().min(buf.remaining());
                buf.put_slice(&data[..n]);
                this.conn.consume_received(n);
                return Poll::Ready(Ok(()));
            }
            if let Some(err) = this.failure() {
                return Poll::Ready(Err(err));
            }
            if this.read_done() || buf.remaining() == 0 {
                return Poll::Ready(Ok(()));
            }
            if ready!(this.poll_fill(cx))? {
                this.push_output(cx)?;
            } else {
                this.eof = true;
            }
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin, C: Connection + Unpin> AsyncWrite for TlsStream<IO, C> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        // New data only once the old is out: what a stream buffers stays bounded by one
        // write's worth, and a peer that stops reading stops the writer.
        ready!(this.poll_write_output(cx))?;
        if let Some(err) = this.failure() {
            return Poll::Ready(Err(err));
        }
        if data.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let n = data.len().min(MAX_WRITE);
        this.conn.send(&data[..n]).map_err(io_error)?;
        this.push_output(cx)?;
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_write_output(cx))?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    /// Sends close_notify (RFC 5246 §7.2.1), then shuts the transport's write side. The
    /// read side stays open: the peer's close_notify and data it sent before it saw ours
    /// still arrive.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.closing {
            this.conn.close();
            this.closing = true;
        }
        ready!(this.poll_write_output(cx))?;
        if !this.write_shut {
            ready!(Pin::new(&mut this.io).poll_shutdown(cx))?;
            this.write_shut = true;
        }
        Poll::Ready(Ok(()))
    }
}
