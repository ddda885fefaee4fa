//! The record layer of one connection: what comes in is deframed, opened and reassembled
//! into [`Incoming`] messages; what goes out is coalesced into as few records as the
//! 2^14-byte limit allows, and protected once ChangeCipherSpec has switched the epoch.

use std::fmt;

use crate::codec::Codec;
use crate::crypto::Provider;
use crate::error::Error;
use crate::msgs::enums::{AlertDescription, ContentType, HandshakeType, ProtocolVersion};
use crate::msgs::header::{RecordHeader, MAX_PLAINTEXT_LEN};
use crate::msgs::{AlertMessage, ChangeCipherSpec, HandshakeMessage};
use crate::record::{Deframer, HandshakeJoiner, RecordCipher, RecordError, RETAIN};

/// What a flight buffer starts with.
const FLIGHT_CAPACITY: usize = 512;

/// The most a protected record adds to its plaintext: an 8-byte explicit nonce (AES-GCM,
/// RFC 5288 §3) and a 16-byte tag.
const RECORD_EXPANSION: usize = 8 + 16;

/// One message from the peer, in the order it arrived.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Incoming {
    /// A whole handshake message, header included (the transcript needs its bytes).
    Handshake(Vec<u8>),
    /// A valid ChangeCipherSpec. The state machine decides whether it was expected, and
    /// only then switches the read epoch with [`RecordLayer::activate_read`].
    ChangeCipherSpec,
    /// An alert.
    Alert(AlertMessage),
    /// Application data of this many bytes, decrypted (and, if the caller asked, held in
    /// the receive buffer for the application: [`RecordLayer::received`]).
    ApplicationData(usize),
}

/// One message of a flight as the flight trace names it ([`crate::handshake::Event::Flight`]):
/// kept as a code until a trace line is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FlightItem {
    /// A handshake message of this type.
    Handshake(HandshakeType),
    /// ChangeCipherSpec.
    ChangeCipherSpec,
}

impl FlightItem {
    /// The trace item of a message from the peer; `None` for alerts and application
    /// data, which are not part of flights.
    pub fn of(incoming: &Incoming) -> Option<Self> {
        match incoming {
            Incoming::Handshake(raw) => Some(Self::Handshake(HandshakeType::from(
                raw.first().copied().unwrap_or(255),
            ))),
            Incoming::ChangeCipherSpec => Some(Self::ChangeCipherSpec),
            Incoming::Alert(_) | Incoming::ApplicationData(_) => None,
        }
    }
}

impl fmt::Display for FlightItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Handshake(typ) => write!(f, "{typ:?}"),
            Self::ChangeCipherSpec => f.write_str("ChangeCipherSpec"),
        }
    }
}

/// Records in and out for one connection.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RecordLayer<P: Provider> {
    deframer: Deframer,
    joiner: HandshakeJoiner,
    read: Option<RecordCipher<P>>,
    pending_read: Option<RecordCipher<P>>,
    /// The write keys our next ChangeCipherSpec switches to.
    pending_write: Option<RecordCipher<P>>,
    write: Option<RecordCipher<P>>,
    /// Handshake bytes of the flight being built, sent as records at the next flush.
    flight: Vec<u8>,
    out: Vec<u8>,
    /// The messages sent since [`RecordLayer::take_sent`], for the flight trace.
    sent: Vec<FlightItem>,
    /// Whether to note them at all: off when nobody will read a flight trace.
    trace: bool,
}

impl<P: Provider> Default for RecordLayer<P> {
    fn default() -> Self {
        Self {
            deframer: Deframer::new(),
            joiner: HandshakeJoiner::new(),
            read: None,
            pending_read: None,
            pending_write: None,
            write: None,
            flight: Vec::new(),
            out: Vec::new(),
            sent: Vec::new(),
            trace: true,
        }
    }
}

impl<P: Provider> RecordLayer<P> {
    /// A record layer in the initial, unprotected epoch.
    pub fn new() -> Self {
        Self::default()
    }

    /// A record layer that notes the messages it sends for the flight trace only if
    /// `trace`.
    pub fn with_trace(trace: bool) -> Self {
        Self {
            trace,
            ..Self::default()
        }
    }

    /// Takes bytes received from the peer.
    pub fn push(&mut self, bytes: &[u8]) {
        self.deframer.push(bytes);
    }

    /// The next message from the peer, `Ok(None)` when more bytes are needed.
    ///
    /// Records are opened in place in the receive buffer. The plaintext of application
    /// data stays there, held for the application ([`RecordLayer::received`]), if
    /// `keep_application_data`; otherwise it is only announced (the caller refuses it).
    pub fn next(
        &mut self,
        provider: &P,
        keep_application_data: bool,
    ) -> Result<Option<Incoming>, Error> {
        loop {
            if let Some(msg) = self.joiner.pop() {
                return Ok(Some(Incoming::Handshake(msg)));
            }
            let Some(record) = self.deframer.pop_in_place()? else {
                self.deframer.tidy();
                return Ok(None);
            };
            let fragment = self.deframer.fragment_mut(&record);
            let plain = match &mut self.read {
                Some(cipher) => cipher.open_in_place(provider, record.typ, fragment)?,
                None if fragment.len() > MAX_PLAINTEXT_LEN => {
                    let len = fragment.len();
                    return Err(
                        RecordError::Header(crate::InvalidMessage::RecordOverflow(len)).into(),
                    );
                }
                None => 0..fragment.len(),
            };
            let payload = &fragment[plain.clone()];
            let mid_message = !self.joiner.is_empty();
            match record.typ {
                ContentType::Handshake if payload.is_empty() => {
                    return Err(RecordError::EmptyFragment(record.typ).into());
                }
                ContentType::Handshake => self.joiner.push(payload)?,
                // RFC 5246 §7.1: ChangeCipherSpec ends the epoch, so no handshake message
                // may straddle it; application data may not interleave with one either.
                ContentType::ChangeCipherSpec | ContentType::ApplicationData if mid_message => {
                    return Err(Error::misbehaved(
                        AlertDescription::UnexpectedMessage,
                        "record interleaved with a partial handshake message",
                    ));
                }
                ContentType::ChangeCipherSpec => {
                    // RFC 5246 §7.1: the message is the single byte 1. Anything else is
                    // not a ChangeCipherSpec at all: unexpected_message, as OpenSSL, NSS
                    // and GnuTLS answer it (RFC 5246 §7.2.2 leaves the choice open).
                    if ChangeCipherSpec::read_bytes(payload).is_err() {
                        return Err(Error::misbehaved(
                            AlertDescription::UnexpectedMessage,
                            "ChangeCipherSpec is not the single byte 1",
                        ));
                    }
                    return Ok(Some(Incoming::ChangeCipherSpec));
                }
                ContentType::Alert => {
                    return Ok(Some(Incoming::Alert(AlertMessage::read_bytes(payload)?)));
                }
                _ => {
                    let len = payload.len();
                    if keep_application_data {
                        let at = record.fragment.start;
                        self.deframer.hold(at + plain.start..at + plain.end);
                    }
                    return Ok(Some(Incoming::ApplicationData(len)));
                }
            }
        }
    }

    /// The oldest application data received and not yet read: the plaintext of one
    /// record (or what is left of it), where it was decrypted. Empty when there is none.
    pub fn received(&self) -> &[u8] {
        self.deframer.held()
    }

    /// All application data received and not yet read, record by record.
    pub fn received_chunks(&self) -> impl Iterator<Item = &[u8]> {
        self.deframer.held_chunks()
    }

    /// How many bytes of application data are waiting to be read.
    pub fn received_len(&self) -> usize {
        self.deframer.held_len()
    }

    /// Marks the first `n` bytes of application data read.
    pub fn consume_received(&mut self, n: usize) {
        self.deframer.release(n);
    }

    /// All application data waiting, copied into one vector, and marked read.
    pub fn take_received(&mut self) -> Vec<u8> {
        self.deframer.take_held()
    }

    /// Keys the next epoch, the pending states of RFC 5246 §6.1: `read` takes over at
    /// the peer's ChangeCipherSpec, `write` at ours.
    pub fn set_pending(&mut self, read: RecordCipher<P>, write: RecordCipher<P>) {
        self.pending_read = Some(read);
        self.pending_write = Some(write);
    }

    /// Switches the read epoch on an expected ChangeCipherSpec.
    pub fn activate_read(&mut self) -> Result<(), Error> {
        match self.pending_read.take() {
            Some(cipher) => {
                self.read = Some(cipher);
                Ok(())
            }
            None => Err(Error::misbehaved(
                AlertDescription::UnexpectedMessage,
                "ChangeCipherSpec before keys were agreed",
            )),
        }
    }

    /// Whether the peer's records are protected.
    pub fn reading_protected(&self) -> bool {
        self.read.is_some()
    }

    /// Adds handshake messages (their exact bytes) to the flight being built.
    pub fn queue_handshake(&mut self, bytes: &[u8]) {
        if let Some(typ) = bytes.first() {
            self.note_sent(FlightItem::Handshake(HandshakeType::from(*typ)));
        }
        self.flight.extend_from_slice(bytes);
    }

    /// Encodes `msg` straight into the flight being built and returns its bytes (for
    /// the transcript): no intermediate vector.
    pub fn queue_message(&mut self, msg: &HandshakeMessage) -> &[u8] {
        if self.flight.is_empty() {
            // One allocation instead of a series of doublings. 512 bytes hold a client's
            // flights and an abbreviated handshake's, and stay below glibc's large-bin
            // size (about 1 KiB), whose requests consolidate the heap first; a flight
            // with certificates grows once or twice.
            self.flight.reserve(FLIGHT_CAPACITY);
        }
        self.note_sent(FlightItem::Handshake(msg.typ()));
        let start = self.flight.len();
        msg.encode(&mut self.flight);
        &self.flight[start..]
    }

    fn note_sent(&mut self, item: FlightItem) {
        if self.trace {
            self.sent.push(item);
        }
    }

    /// The messages sent since the last call, in order (none unless tracing).
    pub fn take_sent(&mut self) -> Vec<FlightItem> {
        std::mem::take(&mut self.sent)
    }

    /// Sends the queued flight as few records as possible.
    pub fn flush(&mut self, provider: &P) -> Result<(), Error> {
        let flight = std::mem::take(&mut self.flight);
        self.send(provider, ContentType::Handshake, &flight)
    }

    /// Flushes the flight, sends ChangeCipherSpec, and protects everything after it with
    /// the pending write keys (RFC 5246 §7.1).
    pub fn send_change_cipher_spec(&mut self, provider: &P) -> Result<(), Error> {
        let cipher = self.pending_write.take().ok_or_else(|| {
            Error::misbehaved(
                AlertDescription::InternalError,
                "ChangeCipherSpec before keys",
            )
        })?;
        self.flush(provider)?;
        // RFC 5246 §7.1: the message is the single byte 1.
        self.send(provider, ContentType::ChangeCipherSpec, &[1])?;
        self.note_sent(FlightItem::ChangeCipherSpec);
        self.write = Some(cipher);
        Ok(())
    }

    /// Flushes the flight and sends an alert.
    pub fn send_alert(&mut self, provider: &P, alert: AlertMessage) -> Result<(), Error> {
        self.flush(provider)?;
        self.send(provider, ContentType::Alert, &alert.get_encoding())
    }

    /// Sends application data, split into records of at most 2^14 bytes.
    pub fn send_application_data(&mut self, provider: &P, data: &[u8]) -> Result<(), Error> {
        self.send(provider, ContentType::ApplicationData, data)
    }

    fn send(&mut self, provider: &P, typ: ContentType, data: &[u8]) -> Result<(), Error> {
        // Header and AEAD expansion (explicit nonce and tag: 24 bytes at most) per record.
        let records = data.len().div_ceil(MAX_PLAINTEXT_LEN).max(1);
        let needed = data.len() + records * (RecordHeader::LEN + RECORD_EXPANSION);
        // An empty buffer starts at a flight's worth: a flight, ChangeCipherSpec and
        // Finished go out as three sends, and would otherwise grow it twice.
        let needed = match self.out.capacity() {
            0 => needed.max(FLIGHT_CAPACITY),
            _ => needed,
        };
        self.out.reserve(needed);
        for fragment in data.chunks(MAX_PLAINTEXT_LEN) {
            match &mut self.write {
                Some(cipher) => cipher.seal(provider, typ, fragment, &mut self.out)?,
                None => {
                    let len = fragment.len() as u16;
                    RecordHeader {
                        typ,
                        version: ProtocolVersion::TLSv1_2,
                        len,
                    }
                    .encode(&mut self.out);
                    self.out.extend_from_slice(fragment);
                }
            }
        }
        Ok(())
    }

    /// The bytes to send to the peer, leaving the buffer empty.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    /// The bytes to send to the peer, left in place: after writing some of them, say
    /// so with [`RecordLayer::consume_output`]. The buffer keeps its allocation for the
    /// next records (up to a bound), where [`RecordLayer::take_output`] gives it away.
    pub fn output(&self) -> &[u8] {
        &self.out
    }

    /// Marks the first `n` bytes of [`RecordLayer::output`] sent.
    pub fn consume_output(&mut self, n: usize) {
        if n >= self.out.len() {
            if self.out.capacity() > RETAIN {
                self.out = Vec::new();
            } else {
                self.out.clear();
            }
        } else {
            self.out.drain(..n);
        }
    }

    /// The output buffer's allocation, for tests of what it keeps.
    #[cfg(test)]
    fn output_capacity(&self) -> usize {
        self.out.capacity()
    }

    /// Whether bytes are waiting to be sent.
    pub fn has_output(&self) -> bool {
        !self.out.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::ring::RingProvider;

    /// A record layer reading under fresh keys, and a cipher that seals for it.
    fn protected() -> (
        RecordLayer<RingProvider>,
        RecordCipher<RingProvider>,
        RingProvider,
    ) {
        let provider = RingProvider::new();
        let suite = crate::suites::ALL_SUITES[0];
        let (key, iv) = ([7u8; 16], [9u8; 4]);
        let cipher =
            || RecordCipher::new(&provider, &suite, &key, &iv).unwrap_or_else(|e| panic!("{e:?}"));
        let mut layer = RecordLayer::new();
        layer.set_pending(cipher(), cipher());
        layer.push(&[20, 3, 3, 0, 1, 1]);
        assert!(matches!(
            layer.next(&provider, true),
            Ok(Some(Incoming::ChangeCipherSpec))
        ));
        assert!(!layer.reading_protected());
        layer.activate_read().unwrap_or_else(|e| panic!("{e:?}"));
        assert!(layer.reading_protected());
        (layer, cipher(), provider)
    }

    /// A [`protected`] layer that has received `records`, each sealed by its peer.
    fn receiving(records: &[(ContentType, &[u8])]) -> (RecordLayer<RingProvider>, RingProvider) {
        let (mut layer, mut peer, provider) = protected();
        let mut out = Vec::new();
        for &(typ, data) in records {
            peer.seal(&provider, typ, data, &mut out)
                .unwrap_or_else(|e| panic!("{e:?}"));
        }
        layer.push(&out);
        (layer, provider)
    }

    #[test]
    fn a_protected_record_of_an_empty_handshake_fragment_is_unexpected() {
        let (mut layer, provider) = receiving(&[(ContentType::Handshake, &[])]);
        let err = match layer.next(&provider, true) {
            Err(err) => err,
            other => panic!("an empty handshake fragment was taken: {other:?}"),
        };
        assert_eq!(err.alert_sent(), Some(AlertDescription::UnexpectedMessage));
    }

    /// RFC 5246 §6.2.1: a handshake message split over records must not have other
    /// records between its parts. Application data after half a handshake message (here
    /// after the handshake, where application data is otherwise welcome) is
    /// unexpected_message, not data.
    #[test]
    fn application_data_inside_a_split_handshake_message_is_unexpected() {
        let (mut layer, provider) = receiving(&[
            (ContentType::Handshake, &[0, 0]),
            (ContentType::ApplicationData, b"data"),
        ]);
        let err = match layer.next(&provider, true) {
            Err(err) => err,
            other => panic!("data inside a handshake message was taken: {other:?}"),
        };
        assert_eq!(err.alert_sent(), Some(AlertDescription::UnexpectedMessage));
        assert_eq!(layer.received_len(), 0);
    }

    #[test]
    fn protected_application_data_is_held_where_it_was_opened() {
        let (mut layer, provider) = receiving(&[
            (ContentType::ApplicationData, b"first"),
            (ContentType::ApplicationData, b"second"),
        ]);
        assert!(matches!(
            layer.next(&provider, true),
            Ok(Some(Incoming::ApplicationData(5)))
        ));
        assert!(matches!(
            layer.next(&provider, true),
            Ok(Some(Incoming::ApplicationData(6)))
        ));
        assert_eq!(layer.received(), b"first");
        assert_eq!(layer.received_len(), 11);
        assert_eq!(
            layer.received_chunks().collect::<Vec<_>>(),
            [&b"first"[..], b"second"]
        );
        assert_eq!(layer.take_received(), b"firstsecond");
        assert_eq!(layer.received_len(), 0);
    }

    #[test]
    fn queued_handshake_bytes_go_out_as_a_record_and_output_is_lent() {
        let provider = RingProvider::new();
        let mut layer = RecordLayer::<RingProvider>::new();
        assert!(!layer.has_output());
        // A ServerHelloDone: type 14, empty body.
        layer.queue_handshake(&[14, 0, 0, 0]);
        layer.flush(&provider).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(layer.has_output());
        assert_eq!(layer.output(), [22, 3, 3, 0, 4, 14, 0, 0, 0]);
        layer.consume_output(5);
        assert_eq!(layer.output(), [14, 0, 0, 0]);
        layer.consume_output(4);
        assert!(!layer.has_output());
        assert_eq!(
            layer.take_sent(),
            [FlightItem::Handshake(HandshakeType::ServerHelloDone)]
        );
    }

    #[test]
    fn a_receive_buffer_larger_than_the_bound_is_given_back_once_read() {
        let full: &[u8] = &[3; MAX_PLAINTEXT_LEN];
        let (mut layer, provider) = receiving(&[(ContentType::ApplicationData, full); 10]);
        assert!(layer.deframer.capacity() > RETAIN);
        let mut records = 0;
        while let Ok(Some(Incoming::ApplicationData(len))) = layer.next(&provider, false) {
            assert_eq!(len, MAX_PLAINTEXT_LEN);
            records += 1;
        }
        assert_eq!(records, 10);
        assert_eq!(layer.received_len(), 0);
        assert_eq!(layer.deframer.capacity(), 0);
    }

    #[test]
    fn without_the_trace_nothing_sent_is_noted() {
        let provider = RingProvider::new();
        for trace in [false, true] {
            let mut layer = RecordLayer::<RingProvider>::with_trace(trace);
            layer.queue_handshake(&[14, 0, 0, 0]);
            layer.queue_handshake(&[0, 0, 0, 0]);
            layer.flush(&provider).unwrap_or_else(|e| panic!("{e:?}"));
            assert_eq!(layer.take_sent().len(), if trace { 2 } else { 0 });
        }
    }

    #[test]
    fn the_output_buffer_keeps_its_allocation_up_to_the_bound_only() {
        let (_, _, provider) = protected();
        let mut layer = RecordLayer::<RingProvider>::new();
        layer
            .send_application_data(&provider, &[1; 1000])
            .unwrap_or_else(|e| panic!("{e:?}"));
        let len = layer.output().len();
        layer.consume_output(len);
        assert!(!layer.has_output());
        assert!(layer.output_capacity() >= 1000);
        layer
            .send_application_data(&provider, &vec![1; 2 * RETAIN])
            .unwrap_or_else(|e| panic!("{e:?}"));
        let len = layer.output().len();
        layer.consume_output(len);
        assert_eq!(layer.output_capacity(), 0);
    }
}
