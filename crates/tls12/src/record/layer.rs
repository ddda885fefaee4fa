//! The record layer of one connection: what comes in is deframed, opened and reassembled
//! into [`Incoming`] messages; what goes out is coalesced into as few records as the
//! 2^14-byte limit allows, and protected once ChangeCipherSpec has switched the epoch.

use crate::codec::Codec;
use crate::crypto::Provider;
use crate::error::Error;
use crate::msgs::enums::{AlertDescription, ContentType, ProtocolVersion};
use crate::msgs::header::{RecordHeader, MAX_PLAINTEXT_LEN};
use crate::msgs::{AlertMessage, ChangeCipherSpec};
use crate::record::{Deframer, HandshakeJoiner, RecordCipher, RecordError};

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
    /// Application data, decrypted.
    ApplicationData(Vec<u8>),
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
    /// The names of the messages sent since [`RecordLayer::take_sent`], for traces.
    sent: Vec<String>,
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
        }
    }
}

impl<P: Provider> RecordLayer<P> {
    /// A record layer in the initial, unprotected epoch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes bytes received from the peer.
    pub fn push(&mut self, bytes: &[u8]) {
        self.deframer.push(bytes);
    }

    /// The next message from the peer, `Ok(None)` when more bytes are needed.
    pub fn next(&mut self, provider: &P) -> Result<Option<Incoming>, Error> {
        loop {
            if let Some(msg) = self.joiner.pop() {
                return Ok(Some(Incoming::Handshake(msg)));
            }
            let Some(mut record) = self.deframer.pop()? else {
                return Ok(None);
            };
            match &mut self.read {
                Some(cipher) => cipher.open(provider, &mut record)?,
                None if record.payload.len() > MAX_PLAINTEXT_LEN => {
                    let len = record.payload.len();
                    return Err(
                        RecordError::Header(crate::InvalidMessage::RecordOverflow(len)).into(),
                    );
                }
                None => {}
            }
            let mid_message = !self.joiner.is_empty();
            match record.typ {
                ContentType::Handshake if record.payload.is_empty() => {
                    return Err(RecordError::EmptyFragment(record.typ).into());
                }
                ContentType::Handshake => self.joiner.push(&record.payload)?,
                // RFC 5246 §7.1: ChangeCipherSpec ends the epoch, so no handshake message
                // may straddle it; application data may not interleave with one either.
                ContentType::ChangeCipherSpec | ContentType::ApplicationData if mid_message => {
                    return Err(Error::misbehaved(
                        AlertDescription::UnexpectedMessage,
                        "record interleaved with a partial handshake message",
                    ));
                }
                ContentType::ChangeCipherSpec => {
                    ChangeCipherSpec::read_bytes(&record.payload)?;
                    return Ok(Some(Incoming::ChangeCipherSpec));
                }
                ContentType::Alert => {
                    return Ok(Some(Incoming::Alert(AlertMessage::read_bytes(
                        &record.payload,
                    )?)));
                }
                _ => return Ok(Some(Incoming::ApplicationData(record.payload))),
            }
        }
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
            self.sent.push(format!(
                "{:?}",
                crate::msgs::enums::HandshakeType::from(*typ)
            ));
        }
        self.flight.extend_from_slice(bytes);
    }

    /// The names of the messages sent since the last call, in order.
    pub fn take_sent(&mut self) -> Vec<String> {
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
        self.send(
            provider,
            ContentType::ChangeCipherSpec,
            &ChangeCipherSpec.get_encoding(),
        )?;
        self.sent.push("ChangeCipherSpec".into());
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

    /// Whether bytes are waiting to be sent.
    pub fn has_output(&self) -> bool {
        !self.out.is_empty()
    }
}
