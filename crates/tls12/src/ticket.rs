//! Floor 6: session tickets (RFC 5077). The server seals a session into a ticket that the
//! client keeps and offers back; the server holds no state per ticket, only its
//! [`TicketKeys`]: a current key that seals and the previous one that still opens, so
//! that a rotation does not turn every outstanding ticket into a full handshake at once.
//!
//! A ticket is `key_name (16) || nonce (12) || AES-256-GCM(contents) || tag (16)`, the
//! AEAD form of RFC 5077 §4's recommended construction, with `key_name` as additional
//! data. The contents are the [`Session`] serialised with serde (JSON, bytes in hex). A
//! ticket that does not open, names an unknown key, or carries an expired session means
//! a full handshake, never an error.

use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use crate::crypto::{AeadAlgorithm, CryptoError, Provider, Secret, UnixTime};
use crate::msgs::enums::{CipherSuite, ProtocolVersion};
use crate::msgs::{CertificateDer, SessionId};
use crate::session::Session;

const NAME_LEN: usize = 16;
const NONCE_LEN: usize = 12;
const KEY_LEN: usize = 32;

/// One ticket key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct TicketKey {
    /// Names the key in every ticket it seals (random, not secret).
    name: [u8; NAME_LEN],
    /// The AES-256-GCM key.
    key: Secret,
    /// When it started sealing.
    created: UnixTime,
}

/// The server's ticket keys: the current one seals, the previous one still opens for one
/// more rotation period. Keys rotate every `rotate_after` seconds, when a ticket is
/// sealed; [`TicketKeys::rotate`] rotates at once.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TicketKeys {
    current: Option<TicketKey>,
    previous: Option<TicketKey>,
    rotate_after: u64,
    /// Whether the previous key may still open tickets.
    keep_previous: bool,
}

/// A ticket opened: its session, and whether it was sealed under the previous key (so
/// that the server renews it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opened {
    /// The session sealed in the ticket.
    pub session: Session,
    /// Whether the key that sealed it has rotated out of sealing.
    pub stale: bool,
}

impl TicketKeys {
    /// Keys that rotate every `rotate_after` seconds (the first is made with the first
    /// ticket).
    pub fn new(rotate_after: u64) -> Self {
        Self {
            current: None,
            previous: None,
            rotate_after: rotate_after.max(1),
            keep_previous: true,
        }
    }

    /// Whether tickets sealed under the previous key still open (on by default).
    pub fn keep_previous(mut self, keep: bool) -> Self {
        self.keep_previous = keep;
        self
    }

    /// Forgets the previous key: tickets it sealed no longer open.
    pub fn drop_previous(&mut self) {
        self.previous = None;
    }

    /// The name of the key that seals now, if one was made yet.
    pub fn current_name(&self) -> Option<[u8; 16]> {
        self.current.as_ref().map(|k| k.name)
    }

    /// The name of the previous key, while it still opens tickets.
    pub fn previous_name(&self) -> Option<[u8; 16]> {
        self.previous
            .as_ref()
            .filter(|_| self.keep_previous)
            .map(|k| k.name)
    }

    /// The name of the key a ticket claims to be sealed under.
    pub fn name_of(ticket: &[u8]) -> Option<[u8; 16]> {
        ticket.get(..NAME_LEN)?.try_into().ok()
    }

    /// Makes a fresh current key now; the current one becomes the previous.
    pub fn rotate<P: Provider>(
        &mut self,
        provider: &mut P,
        now: UnixTime,
    ) -> Result<(), CryptoError> {
        let mut name = [0u8; NAME_LEN];
        provider.fill_random(&mut name)?;
        let mut key = vec![0u8; KEY_LEN];
        provider.fill_random(&mut key)?;
        let fresh = TicketKey {
            name,
            key: Secret::new(key),
            created: now,
        };
        self.previous = self.current.replace(fresh);
        Ok(())
    }

    /// Seals `session` under the current key, rotating first if it is due.
    pub fn seal<P: Provider>(
        &mut self,
        provider: &mut P,
        session: &Session,
        now: UnixTime,
    ) -> Result<Vec<u8>, CryptoError> {
        let due = self
            .current
            .as_ref()
            .is_none_or(|k| now.0.saturating_sub(k.created.0) >= self.rotate_after);
        if due {
            self.rotate(provider, now)?;
        }
        let key = self.current.as_ref().ok_or(CryptoError::Internal)?;
        let mut nonce = [0u8; NONCE_LEN];
        provider.fill_random(&mut nonce)?;
        let mut body =
            serde_json::to_vec(&Contents::from(session)).map_err(|_| CryptoError::Internal)?;
        let aead = provider.aead_key(AeadAlgorithm::Aes256Gcm, key.key.expose())?;
        provider.seal(&aead, nonce, &key.name, &mut body)?;
        let mut ticket = Vec::with_capacity(NAME_LEN + NONCE_LEN + body.len());
        ticket.extend_from_slice(&key.name);
        ticket.extend_from_slice(&nonce);
        ticket.extend_from_slice(&body);
        Ok(ticket)
    }

    /// Opens a ticket sealed by [`TicketKeys::seal`] under the current key or, while it
    /// is kept, the previous one; `None` for anything else.
    pub fn open<P: Provider>(&self, provider: &P, ticket: &[u8], now: UnixTime) -> Option<Opened> {
        let name = ticket.get(..NAME_LEN)?;
        let nonce: [u8; NONCE_LEN] = ticket
            .get(NAME_LEN..NAME_LEN + NONCE_LEN)?
            .try_into()
            .ok()?;
        let (key, stale) = match (&self.current, &self.previous) {
            (Some(current), _) if current.name == name => (current, false),
            (_, Some(previous)) if previous.name == name && self.keep_previous => {
                // The previous key opens for one rotation period after it stopped sealing.
                let retired = now.0.saturating_sub(previous.created.0);
                (retired < 2 * self.rotate_after).then_some((previous, true))?
            }
            _ => return None,
        };
        let aead = provider
            .aead_key(AeadAlgorithm::Aes256Gcm, key.key.expose())
            .ok()?;
        let mut body = ticket.get(NAME_LEN + NONCE_LEN..)?.to_vec();
        let opened = provider.open(&aead, nonce, &key.name, &mut body);
        let session = opened.ok().and_then(|len| {
            let contents: Contents = serde_json::from_slice(body.get(..len)?).ok()?;
            contents.into_session()
        });
        body.zeroize();
        Some(Opened {
            session: session?,
            stale,
        })
    }
}

/// Bytes as a hex string in the serialised ticket.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Hex(Vec<u8>);

impl Serialize for Hex {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&crate::msgs::base::hex(&self.0))
    }
}

impl<'de> Deserialize<'de> for Hex {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let digit = |c: u8| (c as char).to_digit(16);
        if text.len() % 2 != 0 {
            return Err(serde::de::Error::custom("odd hex length"));
        }
        text.as_bytes()
            .chunks(2)
            .map(|pair| Some((digit(pair[0])? * 16 + digit(pair[1])?) as u8))
            .collect::<Option<Vec<u8>>>()
            .map(Hex)
            .ok_or_else(|| serde::de::Error::custom("not hex"))
    }
}

impl Drop for Hex {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// What a ticket carries: the session, minus what the server knows anyway (its own
/// certificate) and its ID (a ticket is its own handle).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Contents {
    version: u16,
    suite: u16,
    master_secret: Hex,
    extended_master_secret: bool,
    server_name: Option<String>,
    client_certificate: Option<Hex>,
    psk_identity: Option<Hex>,
    created: u64,
}

impl From<&Session> for Contents {
    fn from(s: &Session) -> Self {
        Self {
            version: s.version.get(),
            suite: s.suite.get(),
            master_secret: Hex(s.master_secret.expose().to_vec()),
            extended_master_secret: s.extended_master_secret,
            server_name: s.server_name.clone(),
            client_certificate: s.client_certificate.as_ref().map(|c| Hex(c.0.clone())),
            psk_identity: s.psk_identity.clone().map(Hex),
            created: s.created.0,
        }
    }
}

impl Contents {
    fn into_session(self) -> Option<Session> {
        if self.master_secret.0.len() != 48 {
            return None;
        }
        Some(Session {
            id: SessionId::EMPTY,
            version: ProtocolVersion::from(self.version),
            suite: CipherSuite::from(self.suite),
            master_secret: Secret::new(self.master_secret.0.clone()),
            extended_master_secret: self.extended_master_secret,
            server_name: self.server_name.clone(),
            server_certificate: None,
            client_certificate: self
                .client_certificate
                .as_ref()
                .map(|c| CertificateDer(c.0.clone())),
            psk_identity: self.psk_identity.as_ref().map(|p| p.0.clone()),
            ticket: None,
            created: UnixTime(self.created),
        })
    }
}
