//! The one error type of the connections. The alert is chosen where the fault is
//! detected, and travels with the error.

use std::fmt;

use crate::codec::InvalidMessage;
use crate::crypto::{CertError, CryptoError};
use crate::msgs::enums::AlertDescription;
use crate::record::RecordError;

/// Why a connection failed. Errors are sticky: once a connection has one, every later
/// call returns it again.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Error {
    /// We found a fault, queued this fatal alert for the peer, and closed.
    Local {
        /// The alert we sent.
        alert: AlertDescription,
        /// What we found.
        reason: Reason,
    },
    /// The peer sent this fatal alert.
    PeerAlert(AlertDescription),
    /// The connection is closed (close_notify, or the application closed it).
    Closed,
}

/// What a local fault was.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// A message that does not decode.
    Decode(InvalidMessage),
    /// A broken record stream.
    Record(RecordError),
    /// A cryptographic failure (a bad signature, a bad record MAC, a bad key share).
    Crypto(CryptoError),
    /// A certificate chain that does not verify.
    Certificate(CertError),
    /// A message the state machine does not expect in its current state.
    Unexpected {
        /// The state's printable name, e.g. "server expect_finished".
        state: &'static str,
        /// What arrived.
        got: String,
    },
    /// The peer broke a rule of the protocol.
    PeerMisbehaved(&'static str),
    /// Nothing both ends accept (no common version, suite or group; policy refusal).
    Refused(&'static str),
}

impl Error {
    /// A local fault with its alert.
    pub fn local(alert: AlertDescription, reason: Reason) -> Self {
        Self::Local { alert, reason }
    }

    /// `unexpected_message` in `state` on receipt of `got` (RFC 5246 §7.2.2).
    pub fn unexpected(state: &'static str, got: impl fmt::Debug) -> Self {
        let reason = Reason::Unexpected {
            state,
            got: format!("{got:?}"),
        };
        Self::local(AlertDescription::UnexpectedMessage, reason)
    }

    /// A rule of the protocol the peer broke, with the alert the RFC asks for.
    pub fn misbehaved(alert: AlertDescription, what: &'static str) -> Self {
        Self::local(alert, Reason::PeerMisbehaved(what))
    }

    /// `handshake_failure`: nothing acceptable to both ends.
    pub fn refused(what: &'static str) -> Self {
        Self::local(AlertDescription::HandshakeFailure, Reason::Refused(what))
    }

    /// The alert we sent, if this fault was ours.
    pub fn alert_sent(&self) -> Option<AlertDescription> {
        match self {
            Self::Local { alert, .. } => Some(*alert),
            _ => None,
        }
    }
}

impl From<InvalidMessage> for Error {
    fn from(err: InvalidMessage) -> Self {
        Self::local(err.alert(), Reason::Decode(err))
    }
}

impl From<RecordError> for Error {
    fn from(err: RecordError) -> Self {
        Self::local(err.alert(), Reason::Record(err))
    }
}

impl From<CryptoError> for Error {
    fn from(err: CryptoError) -> Self {
        Self::local(err.alert(), Reason::Crypto(err))
    }
}

impl From<CertError> for Error {
    fn from(err: CertError) -> Self {
        Self::local(err.alert(), Reason::Certificate(err))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Local { alert, reason } => write!(f, "{reason} (sent {alert:?})"),
            Self::PeerAlert(alert) => write!(f, "peer sent fatal alert {alert:?}"),
            Self::Closed => write!(f, "connection closed"),
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Decode(err) => write!(f, "undecodable message: {err}"),
            Self::Record(err) => write!(f, "{err}"),
            Self::Crypto(err) => write!(f, "crypto failure: {err:?}"),
            Self::Certificate(err) => write!(f, "certificate refused: {err}"),
            Self::Unexpected { state, got } => write!(f, "{state} got unexpected {got}"),
            Self::PeerMisbehaved(what) => write!(f, "peer misbehaved: {what}"),
            Self::Refused(what) => write!(f, "refused: {what}"),
        }
    }
}

impl std::error::Error for Error {}
