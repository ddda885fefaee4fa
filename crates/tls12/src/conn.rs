//! Floor 8: the sans-IO connections. Bytes in ([`ServerConnection::receive`]), bytes out
//! ([`ServerConnection::take_output`]), events and application data out; the time comes
//! in with every input, and nothing here reads a clock, a socket or a global RNG. Errors
//! are sticky: after a fatal alert the connection accepts nothing, and the alert stays
//! queued in the output until it is taken.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::crypto::{Provider, UnixTime};
use crate::error::Error;
use crate::handshake::client::{ClientConfig, ClientState};
use crate::handshake::server::{ServerConfig, ServerState};
use crate::handshake::{Context, Event, HandshakeSummary, Phase};
use crate::msgs::enums::{AlertDescription, AlertLevel};
use crate::msgs::AlertMessage;
use crate::record::{FlightItem, Incoming, RecordLayer};
use crate::session::{Session, SessionCache};

/// What both kinds of connection share: the record layer, the provider, and the queues
/// to the application.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Common<P: Provider> {
    provider: P,
    records: RecordLayer<P>,
    events: VecDeque<Event>,
    /// Application data written before the handshake completed.
    pending: Vec<u8>,
    /// The peer's messages since our last flight, for the flight trace.
    inbound: Vec<FlightItem>,
    /// Whether to report flights ([`Event::Flight`]).
    trace: bool,
    error: Option<Error>,
    close_notify_sent: bool,
}

impl<P: Provider> Common<P> {
    fn new(provider: P, trace: bool) -> Self {
        Self {
            provider,
            records: RecordLayer::with_trace(trace),
            events: VecDeque::new(),
            pending: Vec::new(),
            inbound: Vec::new(),
            trace,
            error: None,
            close_notify_sent: false,
        }
    }

    fn context(&mut self, now: UnixTime) -> Context<'_, P> {
        Context {
            provider: &mut self.provider,
            records: &mut self.records,
            now,
            events: &mut self.events,
        }
    }

    /// Turns the messages sent and received around one state transition into flight
    /// events: the peer's flight first, then ours. Nothing is noted unless tracing.
    fn note_flights(&mut self, received: Option<FlightItem>, in_traffic: bool) {
        if !self.trace {
            return;
        }
        self.inbound.extend(received);
        let sent = self.records.take_sent();
        if !sent.is_empty() || in_traffic {
            if !self.inbound.is_empty() {
                let line = flight_line("<-", &self.inbound);
                self.inbound.clear();
                self.events.push_back(Event::Flight(line));
            }
            if !sent.is_empty() {
                self.events
                    .push_back(Event::Flight(flight_line("->", &sent)));
            }
        }
    }

    /// An alert from the peer (RFC 5246 §7.2): close_notify closes (and we answer it),
    /// a fatal alert kills the connection, other warnings are reported and ignored.
    fn handle_alert(&mut self, alert: AlertMessage) -> Result<bool, Error> {
        match (alert.level, alert.description) {
            (_, AlertDescription::CloseNotify) => {
                self.events.push_back(Event::PeerClosed);
                self.send_close_notify();
                Ok(true)
            }
            (AlertLevel::Warning, description) => {
                self.events.push_back(Event::Warning(description));
                Ok(false)
            }
            (_, description) => Err(Error::PeerAlert(description)),
        }
    }

    fn send_close_notify(&mut self) {
        if !self.close_notify_sent && self.error.is_none() {
            self.close_notify_sent = true;
            let alert = AlertMessage::warning(AlertDescription::CloseNotify);
            // A failure to seal the alert leaves nothing more to say to the peer.
            let _ = self.records.send_alert(&self.provider, alert);
        }
    }

    /// Makes `err` sticky and queues the fatal alert it carries.
    fn fail(&mut self, err: Error) -> Error {
        if let Some(alert) = err.alert_sent() {
            let _ = self
                .records
                .send_alert(&self.provider, AlertMessage::fatal(alert));
        }
        self.error = Some(err.clone());
        err
    }

    /// Whether we may still send: not after an error nor after our close_notify.
    fn check(&self) -> Result<(), Error> {
        match &self.error {
            Some(err) => Err(err.clone()),
            None if self.close_notify_sent => Err(Error::Closed),
            None => Ok(()),
        }
    }

    /// Whether we may still read: not after an error. Our own close_notify closes only
    /// the write side (RFC 5246 §7.2.1): the peer's answering close_notify, and data it
    /// sent before it saw ours, still arrive.
    fn check_readable(&self) -> Result<(), Error> {
        match &self.error {
            Some(err) => Err(err.clone()),
            None => Ok(()),
        }
    }

    fn send_app_data(&mut self, data: &[u8], in_traffic: bool) -> Result<(), Error> {
        self.check()?;
        match in_traffic {
            true => self.records.send_application_data(&self.provider, data),
            false => {
                self.pending.extend_from_slice(data);
                Ok(())
            }
        }
    }

    fn flush_pending(&mut self) -> Result<(), Error> {
        let pending = std::mem::take(&mut self.pending);
        match pending.is_empty() {
            true => Ok(()),
            false => self.records.send_application_data(&self.provider, &pending),
        }
    }
}

/// A flight trace line in the spec's notation: `-> ChangeCipherSpec, Finished`.
fn flight_line(arrow: &str, items: &[FlightItem]) -> String {
    use std::fmt::Write;
    let mut line = String::with_capacity(arrow.len() + 20 * items.len());
    line.push_str(arrow);
    for (i, item) in items.iter().enumerate() {
        let sep = if i == 0 { " " } else { ", " };
        // Writing into a String cannot fail.
        let _ = write!(line, "{sep}{item}");
    }
    line
}

/// What [`Common::drive`] needs of one side's state machine.
trait Machine<P: Provider> {
    /// The coarse phase.
    fn phase(&self) -> Phase;
    /// The current state's printable name.
    fn name(&self) -> &'static str;
    /// Moves to the closed state, keeping a completed handshake's summary.
    fn close(&mut self);
    /// Runs one handshake message or ChangeCipherSpec through the state machine.
    fn step(&mut self, cx: &mut Context<'_, P>, incoming: Incoming) -> Result<(), Error>;
}

/// The server's state machine with what it borrows for one input.
struct ServerMachine<'a, P: Provider> {
    config: &'a ServerConfig<P>,
    state: &'a mut ServerState<P>,
    cache: &'a mut dyn SessionCache,
    session: &'a mut Option<crate::msgs::SessionId>,
}

impl<P: Provider> Machine<P> for ServerMachine<'_, P> {
    fn phase(&self) -> Phase {
        self.state.phase()
    }

    fn name(&self) -> &'static str {
        self.state.name()
    }

    fn close(&mut self) {
        let state = std::mem::replace(self.state, ServerState::Closed { summary: None });
        *self.state = state.close();
    }

    fn step(&mut self, cx: &mut Context<'_, P>, incoming: Incoming) -> Result<(), Error> {
        let state = std::mem::replace(self.state, ServerState::Closed { summary: None });
        *self.state = state.handle(self.config, cx, self.cache, incoming)?;
        *self.session = self.state.session_id().or(*self.session);
        Ok(())
    }
}

/// The client's state machine with what it borrows for one input.
struct ClientMachine<'a, P: Provider> {
    config: &'a ClientConfig<P>,
    state: &'a mut ClientState<P>,
}

impl<P: Provider> Machine<P> for ClientMachine<'_, P> {
    fn phase(&self) -> Phase {
        self.state.phase()
    }

    fn name(&self) -> &'static str {
        self.state.name()
    }

    fn close(&mut self) {
        let state = std::mem::replace(self.state, ClientState::Closed { summary: None });
        *self.state = state.close();
    }

    fn step(&mut self, cx: &mut Context<'_, P>, incoming: Incoming) -> Result<(), Error> {
        let state = std::mem::replace(self.state, ClientState::Closed { summary: None });
        *self.state = state.handle(self.config, cx, incoming)?;
        Ok(())
    }
}

impl<P: Provider> Common<P> {
    /// Feeds every complete message from the peer to `machine`: alerts and application
    /// data are handled here, handshake messages and ChangeCipherSpec by the state
    /// machine.
    fn drive(&mut self, now: UnixTime, machine: &mut impl Machine<P>) -> Result<(), Error> {
        loop {
            // Application data is held (where it was decrypted) only in AppData; before,
            // it is refused.
            let in_traffic = machine.phase() == Phase::AppData;
            let Some(incoming) = self.records.next(&self.provider, in_traffic)? else {
                return Ok(());
            };
            match incoming {
                Incoming::Alert(alert) => {
                    if self.handle_alert(alert)? {
                        machine.close();
                        return Ok(());
                    }
                }
                Incoming::ApplicationData(_) if !in_traffic => {
                    return Err(Error::unexpected(machine.name(), "ApplicationData"));
                }
                Incoming::ApplicationData(_) => {}
                incoming => {
                    let received = FlightItem::of(&incoming);
                    machine.step(&mut self.context(now), incoming)?;
                    let in_traffic = machine.phase() == Phase::AppData;
                    self.note_flights(received, in_traffic);
                    if in_traffic {
                        self.flush_pending()?;
                    }
                }
            }
        }
    }
}

/// The methods both connections expose, written once.
macro_rules! connection_io {
    () => {
        /// The bytes to send to the peer (flights, alerts, application data).
        pub fn take_output(&mut self) -> Vec<u8> {
            self.common.records.take_output()
        }

        /// Whether bytes are waiting to be sent.
        pub fn has_output(&self) -> bool {
            self.common.records.has_output()
        }

        /// The bytes to send to the peer, left in the connection's buffer: write them,
        /// then say how many went with [`Self::consume_output`]. Unlike
        /// [`Self::take_output`] this allocates nothing: the buffer is reused.
        pub fn output(&self) -> &[u8] {
            self.common.records.output()
        }

        /// Marks the first `n` bytes of [`Self::output`] sent.
        pub fn consume_output(&mut self, n: usize) {
            self.common.records.consume_output(n)
        }

        /// The application data received so far, copied into one vector, leaving none
        /// to read. [`Self::received`] reads it without a copy.
        pub fn take_received(&mut self) -> Vec<u8> {
            self.common.records.take_received()
        }

        /// The oldest application data received and not yet read, as a slice of the
        /// receive buffer where its record was decrypted: one record's plaintext (or what
        /// is left of it), empty when nothing is waiting. Mark what was used with
        /// [`Self::consume_received`]; the next call gives the rest or the next record's,
        /// so a reader loops until it gets an empty slice.
        pub fn received(&self) -> &[u8] {
            self.common.records.received()
        }

        /// Marks the first `n` bytes of application data read (at most
        /// [`Self::received_len`]), across records.
        pub fn consume_received(&mut self, n: usize) {
            self.common.records.consume_received(n)
        }

        /// How many bytes of application data are waiting to be read, in all records.
        pub fn received_len(&self) -> usize {
            self.common.records.received_len()
        }

        /// Copies as much waiting application data as fits into `buf` and marks it read:
        /// the number of bytes copied (0 when none is waiting). The shape of
        /// [`std::io::Read::read`], for callers that have a buffer of their own.
        pub fn read_received(&mut self, buf: &mut [u8]) -> usize {
            let mut copied = 0;
            for chunk in self.common.records.received_chunks() {
                let n = chunk.len().min(buf.len() - copied);
                crate::record::copy_from(&mut buf[copied..copied + n], &chunk[..n]);
                copied += n;
                if copied == buf.len() {
                    break;
                }
            }
            self.common.records.consume_received(copied);
            copied
        }

        /// The next event, oldest first.
        pub fn next_event(&mut self) -> Option<Event> {
            self.common.events.pop_front()
        }

        /// Sends application data; before the handshake completes it is held and sent
        /// right after our Finished.
        pub fn send(&mut self, data: &[u8]) -> Result<(), Error> {
            let in_traffic = self.phase() == Phase::AppData;
            self.common.send_app_data(data, in_traffic)
        }

        /// Sends close_notify (RFC 5246 §7.2.1); nothing may be sent after it.
        pub fn close(&mut self) {
            self.common.send_close_notify();
        }

        /// The error that ended the connection, if any.
        pub fn error(&self) -> Option<&Error> {
            self.common.error.as_ref()
        }

        /// Whether the handshake is still in progress.
        pub fn is_handshaking(&self) -> bool {
            matches!(self.phase(), Phase::Idle | Phase::Wait)
        }

        /// The provider, e.g. to inspect a symbolic provider's state.
        pub fn provider(&self) -> &P {
            &self.common.provider
        }
    };
}

/// A TLS 1.2 server connection.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ServerConnection<P: Provider> {
    config: Arc<ServerConfig<P>>,
    state: ServerState<P>,
    common: Common<P>,
    /// The session this connection last worked on: a failing handler consumes the state
    /// that knew it, and a fatal alert must still invalidate it.
    session: Option<crate::msgs::SessionId>,
}

impl<P: Provider> ServerConnection<P> {
    /// A server connection waiting for a ClientHello.
    pub fn new(config: Arc<ServerConfig<P>>, provider: P) -> Self {
        let common = Common::new(provider, config.flight_trace);
        Self {
            config,
            state: ServerState::ExpectClientHello,
            common,
            session: None,
        }
    }

    /// Takes bytes from the client at time `now`, consulting and filling `cache`.
    pub fn receive(
        &mut self,
        bytes: &[u8],
        now: UnixTime,
        cache: &mut dyn SessionCache,
    ) -> Result<(), Error> {
        self.common.check_readable()?;
        self.common.records.push(bytes);
        match self.process(now, cache) {
            Ok(()) => Ok(()),
            Err(err) => {
                // RFC 5246 §7.2: a fatal alert, sent or received, invalidates the session
                // it happened on.
                if let Some(id) = self.state.session_id().or(self.session) {
                    cache.remove(&id);
                }
                self.close_state();
                Err(self.common.fail(err))
            }
        }
    }

    fn process(&mut self, now: UnixTime, cache: &mut dyn SessionCache) -> Result<(), Error> {
        let mut machine = ServerMachine {
            config: &self.config,
            state: &mut self.state,
            cache,
            session: &mut self.session,
        };
        self.common.drive(now, &mut machine)
    }

    /// The coarse phase of the spec's table.
    pub fn phase(&self) -> Phase {
        self.state.phase()
    }

    fn close_state(&mut self) {
        let state = std::mem::replace(&mut self.state, ServerState::Closed { summary: None });
        self.state = state.close();
    }

    /// The current state's printable name.
    pub fn state_name(&self) -> &'static str {
        self.state.name()
    }

    /// What the handshake settled, once complete.
    pub fn summary(&self) -> Option<&HandshakeSummary> {
        self.state.summary()
    }

    /// The configuration.
    pub fn config(&self) -> &Arc<ServerConfig<P>> {
        &self.config
    }

    connection_io!();
}

/// A TLS 1.2 client connection.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClientConnection<P: Provider> {
    config: Arc<ClientConfig<P>>,
    state: ClientState<P>,
    common: Common<P>,
    started: UnixTime,
}

impl<P: Provider> ClientConnection<P> {
    /// Starts a handshake with `server_name` (checked against the server's certificate and
    /// sent as SNI when it is a DNS name), offering `session` if given: the ClientHello is
    /// queued in the output at once.
    pub fn new(
        config: Arc<ClientConfig<P>>,
        provider: P,
        server_name: Option<String>,
        session: Option<Session>,
        now: UnixTime,
    ) -> Result<Self, Error> {
        let mut common = Common::new(provider, config.flight_trace);
        let state = ClientState::start(&config, &mut common.context(now), server_name, session)?;
        if common.trace {
            let sent = common.records.take_sent();
            common
                .events
                .push_back(Event::Flight(flight_line("->", &sent)));
        }
        Ok(Self {
            config,
            state,
            common,
            started: now,
        })
    }

    /// Takes bytes from the server at time `now`.
    pub fn receive(&mut self, bytes: &[u8], now: UnixTime) -> Result<(), Error> {
        self.common.check_readable()?;
        self.common.records.push(bytes);
        match self.process(now) {
            Ok(()) => Ok(()),
            Err(err) => {
                self.close_state();
                Err(self.common.fail(err))
            }
        }
    }

    /// Lets time pass: a handshake not complete within the configured timeout fails (the
    /// spec's "the server ignores the ClientHello; the client's timer fires").
    pub fn tick(&mut self, now: UnixTime) -> Result<(), Error> {
        self.common.check_readable()?;
        if let Err(err) = self.state.check_timeout(&self.config, self.started, now) {
            self.close_state();
            return Err(self.common.fail(err));
        }
        Ok(())
    }

    fn process(&mut self, now: UnixTime) -> Result<(), Error> {
        let mut machine = ClientMachine {
            config: &self.config,
            state: &mut self.state,
        };
        self.common.drive(now, &mut machine)
    }

    /// The coarse phase.
    pub fn phase(&self) -> Phase {
        self.state.phase()
    }

    fn close_state(&mut self) {
        let state = std::mem::replace(&mut self.state, ClientState::Closed { summary: None });
        self.state = state.close();
    }

    /// The current state's printable name.
    pub fn state_name(&self) -> &'static str {
        self.state.name()
    }

    /// What the handshake settled, once complete.
    pub fn summary(&self) -> Option<&HandshakeSummary> {
        self.state.summary()
    }

    connection_io!();
}
