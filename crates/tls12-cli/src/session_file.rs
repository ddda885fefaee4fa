//! The client's session file (`--sess-out`, `--sess-in`): a JSON mirror of
//! [`tls12::session::Session`], bytes in hex, code points by name.

use std::path::Path;

use serde::{Deserialize, Serialize};
use tls12::crypto::{Secret, UnixTime};
use tls12::msgs::base::hex;
use tls12::msgs::enums::{CipherSuite, ProtocolVersion};
use tls12::msgs::{CertificateDer, SessionId};
use tls12::session::Session;

use crate::common::{fail, unhex, write_private, CliError};

/// What the file holds. It carries the master secret: keep it private.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionFile {
    /// The session ID, hex.
    pub id: String,
    /// The protocol version's name, e.g. `TLSv1_2`.
    pub version: String,
    /// The suite's name, e.g. `TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256`.
    pub suite: String,
    /// The 48-byte master secret, hex.
    pub master_secret: String,
    /// Whether the master secret is an extended one (RFC 7627).
    pub extended_master_secret: bool,
    /// The server name the session was made for.
    pub server_name: Option<String>,
    /// The server's end-entity certificate, DER in hex.
    pub server_certificate: Option<String>,
    /// The client's own end-entity certificate, if it authenticated, DER in hex.
    #[serde(default)]
    pub client_certificate: Option<String>,
    /// The PSK identity of a PSK session, hex.
    #[serde(default)]
    pub psk_identity: Option<String>,
    /// When the full handshake completed, seconds since the Unix epoch.
    pub created: u64,
}

/// The known code point whose `Debug` name is `name`.
fn by_name<T: Copy + std::fmt::Debug>(known: &[T], name: &str) -> Option<T> {
    known.iter().copied().find(|v| format!("{v:?}") == name)
}

impl From<&Session> for SessionFile {
    fn from(s: &Session) -> Self {
        Self {
            id: hex(s.id.as_bytes()),
            version: format!("{:?}", s.version),
            suite: format!("{:?}", s.suite),
            master_secret: hex(s.master_secret.expose()),
            extended_master_secret: s.extended_master_secret,
            server_name: s.server_name.clone(),
            server_certificate: s.server_certificate.as_ref().map(|c| hex(&c.0)),
            client_certificate: s.client_certificate.as_ref().map(|c| hex(&c.0)),
            psk_identity: s.psk_identity.as_deref().map(hex),
            created: s.created.0,
        }
    }
}

impl SessionFile {
    /// The session, checking every field.
    pub fn to_session(&self) -> Result<Session, String> {
        let id = unhex(&self.id)
            .and_then(|b| SessionId::new(&b))
            .filter(|id| !id.is_empty())
            .ok_or("id: want 1 to 32 bytes of hex")?;
        let version = by_name(ProtocolVersion::KNOWN, &self.version)
            .ok_or_else(|| format!("version: unknown {:?}", self.version))?;
        let suite = by_name(CipherSuite::KNOWN, &self.suite)
            .ok_or_else(|| format!("suite: unknown {:?}", self.suite))?;
        let master_secret = unhex(&self.master_secret)
            .filter(|b| b.len() == 48)
            .ok_or("master_secret: want 48 bytes of hex")?;
        let certificate = |field: &Option<String>, name: &str| match field {
            Some(cert) => unhex(cert)
                .map(|der| Some(CertificateDer(der)))
                .ok_or(format!("{name}: want hex")),
            None => Ok(None),
        };
        let server_certificate = certificate(&self.server_certificate, "server_certificate")?;
        let client_certificate = certificate(&self.client_certificate, "client_certificate")?;
        let psk_identity = match &self.psk_identity {
            Some(identity) => Some(unhex(identity).ok_or("psk_identity: want hex")?),
            None => None,
        };
        Ok(Session {
            id,
            version,
            suite,
            master_secret: Secret::new(master_secret),
            extended_master_secret: self.extended_master_secret,
            server_name: self.server_name.clone(),
            server_certificate,
            client_certificate,
            psk_identity,
            created: UnixTime(self.created),
        })
    }
}

/// Writes `session` to `path` as JSON (owner-only permissions).
pub fn save(path: &Path, session: &Session) -> Result<(), CliError> {
    let mut json = serde_json::to_string_pretty(&SessionFile::from(session))
        .map_err(|e| fail(format!("cannot encode the session: {e}")))?;
    json.push('\n');
    write_private(path, json.as_bytes())
        .map_err(|e| fail(format!("cannot write {}: {e}", path.display())))
}

/// Reads a session written by [`save`].
pub fn load(path: &Path) -> Result<Session, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?;
    let file: SessionFile = serde_json::from_str(&text)
        .map_err(|e| fail(format!("{} is not a session file: {e}", path.display())))?;
    file.to_session()
        .map_err(|e| fail(format!("{} is not a usable session: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        Session {
            id: SessionId::new(&[7; 32]).unwrap(),
            version: ProtocolVersion::TLSv1_2,
            suite: CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
            master_secret: Secret::new(vec![9; 48]),
            extended_master_secret: true,
            server_name: Some("localhost".into()),
            server_certificate: Some(CertificateDer(vec![0x30, 0x82, 1, 2])),
            client_certificate: None,
            psk_identity: Some(b"client1".to_vec()),
            created: UnixTime(1_800_000_000),
        }
    }

    #[test]
    fn a_session_survives_the_json_round_trip() {
        let s = session();
        let json = serde_json::to_string(&SessionFile::from(&s)).unwrap();
        assert!(json.contains("\"suite\":\"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256\""));
        let back: SessionFile = serde_json::from_str(&json).unwrap();
        assert_eq!(back.to_session().unwrap(), s);
    }

    #[test]
    fn malformed_fields_are_refused_by_name() {
        let good = SessionFile::from(&session());
        type Breakage = fn(&mut SessionFile);
        let cases: [(&str, Breakage); 5] = [
            ("id", |f| f.id = "0".repeat(66)),
            ("id", |f| f.id.clear()),
            ("version", |f| f.version = "SSLv9".into()),
            ("suite", |f| f.suite = "TLS_NULL".into()),
            ("master_secret", |f| f.master_secret = "00".into()),
        ];
        for (field, break_it) in cases {
            let mut f = good.clone();
            break_it(&mut f);
            let err = f.to_session().unwrap_err();
            assert!(err.starts_with(field), "{field}: {err}");
        }
    }
}
