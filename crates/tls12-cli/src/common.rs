//! What `server` and `client` share: loading PEM files, the outcome line, the key log,
//! and small text helpers.

use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::path::Path;

use rustls_pki_types::pem::PemObject;
use tls12::crypto::ring::{RingRoots, RingSigningKey};
use tls12::handshake::{Event, HandshakeSummary};
use tls12::msgs::base::hex;
use tls12::msgs::CertificateDer;
use tls12::stream::{Endpoint, Stream};

/// Why a subcommand stopped: bad usage (exit 2) or a failure at run time (exit 1).
/// Either way the message is printed as `error: <message>`.
#[derive(Debug)]
pub enum CliError {
    /// The command line cannot work as given.
    Usage(String),
    /// A TLS, I/O or file failure.
    Failed(String),
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Usage(m) | Self::Failed(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for CliError {}

/// A failure at run time.
pub fn fail(message: impl Into<String>) -> CliError {
    CliError::Failed(message.into())
}

/// A command line that cannot work.
pub fn usage(message: impl Into<String>) -> CliError {
    CliError::Usage(message.into())
}

/// How long a socket read or write may block before the connection is given up.
pub const IO_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// An I/O error of a [`tls12::stream::Stream`] in words: the TLS error it carries, if
/// any, else what happened to the socket.
pub fn describe(err: &io::Error) -> String {
    if let Some(tls) = tls_error(err) {
        return tls.to_string();
    }
    match err.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => format!(
            "timed out: nothing from the peer for {} s",
            IO_TIMEOUT.as_secs()
        ),
        _ => err.to_string(),
    }
}

/// Every certificate in a PEM file, in file order (end entity first for a chain).
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer>, CliError> {
    let certs = rustls_pki_types::CertificateDer::pem_file_iter(path)
        .map_err(|e| {
            fail(format!(
                "cannot read certificates from {}: {e}",
                path.display()
            ))
        })?
        .map(|cert| cert.map(|c| CertificateDer(c.to_vec())))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(format!("bad PEM in {}: {e}", path.display())))?;
    match certs.is_empty() {
        true => Err(fail(format!(
            "{} holds no CERTIFICATE block",
            path.display()
        ))),
        false => Ok(certs),
    }
}

/// The private key of a PEM file: PKCS#8 (ECDSA P-256/P-384 or RSA) or PKCS#1 RSA.
pub fn load_key(path: &Path) -> Result<RingSigningKey, CliError> {
    let der = rustls_pki_types::PrivateKeyDer::from_pem_file(path).map_err(|e| {
        fail(format!(
            "cannot read a private key from {}: {e}",
            path.display()
        ))
    })?;
    RingSigningKey::from_der(&der).map_err(|e| {
        fail(format!(
            "unusable private key in {} ({e:?}): need PKCS#8 ECDSA P-256/P-384, or RSA \
             2048-4096 bits (convert a SEC1 'EC PRIVATE KEY' with `openssl pkcs8 -topk8 -nocrypt`)",
            path.display()
        ))
    })
}

/// Trust anchors from every certificate of a PEM file.
pub fn load_roots(path: &Path) -> Result<RingRoots, CliError> {
    let certs = load_certs(path)?;
    RingRoots::from_der_certs(&certs).map_err(|e| {
        fail(format!(
            "cannot use the certificates in {} as trust anchors: {e:?}",
            path.display()
        ))
    })
}

/// Runs the handshake of `stream`; returns the events it produced and its outcome.
///
/// Works around a gap in `Stream::handshake`: when the peer's last flight and its
/// close_notify arrive in one read (`openssl s_client -reconnect` does this on every
/// resumed connection), the connection is already closed when the handshake loop ends,
/// `summary()` is gone and the adapter reports "handshake did not complete". The
/// `HandshakeComplete` event still says it did; only a TLS error overrides it.
pub fn run_handshake<E: Endpoint, S: Read + Write>(
    stream: &mut Stream<E, S>,
) -> (Vec<Event>, io::Result<HandshakeSummary>) {
    let result = stream.handshake().cloned();
    let events: Vec<Event> = std::iter::from_fn(|| stream.endpoint.next_event()).collect();
    let completed = events.iter().find_map(|e| match e {
        Event::HandshakeComplete(summary) => Some(summary.as_ref().clone()),
        _ => None,
    });
    let result = match (result, completed) {
        (Err(err), Some(summary)) if tls_error(&err).is_none() => {
            tracing::debug!("handshake completed, then: {err}");
            Ok(summary)
        }
        (result, _) => result,
    };
    (events, result)
}

/// The TLS error an I/O error of a `Stream` carries, if any.
pub fn tls_error(err: &io::Error) -> Option<&tls12::Error> {
    err.get_ref().and_then(|e| e.downcast_ref::<tls12::Error>())
}

/// The one-line outcome both sides print after a handshake, e.g.
/// `handshake: version=TLSv1_2 suite=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 group=X25519
/// resumed=false extended_master_secret=true session_id=<hex>`.
pub fn outcome_line(summary: &HandshakeSummary) -> String {
    let group = summary
        .group
        .map_or_else(|| "none".to_owned(), |g| format!("{g:?}"));
    let mut line = format!(
        "handshake: version={:?} suite={:?} group={group} resumed={} extended_master_secret={} session_id={}",
        summary.version,
        summary.suite,
        summary.resumed,
        summary.extended_master_secret,
        session_id_hex(summary),
    );
    if let Some(alpn) = &summary.alpn {
        line.push_str(&format!(" alpn={}", String::from_utf8_lossy(alpn)));
    }
    if let Some(identity) = &summary.psk_identity {
        line.push_str(&format!(
            " psk_identity={}",
            String::from_utf8_lossy(identity)
        ));
    }
    line
}

/// `IDENTITY:HEXKEY` (the form of `--psk`): the identity's bytes and the key.
pub fn parse_psk(text: &str) -> Result<(Vec<u8>, tls12::crypto::Secret), String> {
    let (identity, key) = text
        .rsplit_once(':')
        .ok_or_else(|| format!("{text:?} is not IDENTITY:HEXKEY"))?;
    let key = unhex(key)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| format!("the key of {identity:?} is not hex (e.g. 1a2b3c...)"))?;
    if identity.is_empty() || identity.len() > 0xffff {
        return Err("a PSK identity is 1 to 65,535 bytes".into());
    }
    Ok((
        identity.as_bytes().to_vec(),
        tls12::crypto::Secret::new(key),
    ))
}

/// A comma-separated `--alpn` list as protocol names (1 to 255 bytes each).
pub fn parse_alpn(list: &[String]) -> Result<Vec<Vec<u8>>, CliError> {
    list.iter()
        .map(|p| match p.is_empty() || p.len() > 255 {
            true => Err(usage(format!(
                "--alpn {p:?}: a protocol name is 1 to 255 bytes"
            ))),
            false => Ok(p.as_bytes().to_vec()),
        })
        .collect()
}

/// The session ID in hex, or `none` when the server gave none.
pub fn session_id_hex(summary: &HandshakeSummary) -> String {
    match summary.session_id.is_empty() {
        true => "none".to_owned(),
        false => hex(summary.session_id.as_bytes()),
    }
}

/// Appends the NSS key log line of a completed handshake to `$SSLKEYLOGFILE`, if set.
/// One `write` of one line on a file opened for appending, so concurrent connections do
/// not interleave.
pub fn log_key(summary: &HandshakeSummary) {
    let Some(path) = std::env::var_os("SSLKEYLOGFILE").filter(|p| !p.is_empty()) else {
        return;
    };
    let line = format!("{}\n", summary.key_log_line());
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| file.write_all(line.as_bytes()));
    if let Err(err) = written {
        tracing::warn!(
            "cannot append to SSLKEYLOGFILE {}: {err}",
            Path::new(&path).display()
        );
    }
}

/// The flight strings among `events`, in order.
pub fn flights(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Flight(f) => Some(f.clone()),
            _ => None,
        })
        .collect()
}

/// `bytes` as lossy UTF-8 on one line: newlines, tabs, backslashes and other control
/// characters escaped.
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::new();
    for c in String::from_utf8_lossy(bytes).chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// The inverse of [`escape`] for what a user types on a command line: `\n`, `\r`, `\t`
/// and `\\`; any other backslash stays as it is.
pub fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Parses lower- or upper-case hex.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
        })
        .collect()
}

/// Writes `contents` to `path`, readable by the owner only where the platform allows:
/// for keys and session files (which hold a master secret).
pub fn write_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(contents)
}

/// Prints `lines` to stdout in one go (so that concurrent connections do not interleave)
/// and flushes.
pub fn print_block(lines: &[String]) {
    let mut text = String::new();
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    let mut out = io::stdout().lock();
    // A closed stdout (the reader went away) is no reason to stop serving.
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_and_unescape_are_inverse_on_typed_text() {
        let typed = r"GET / HTTP/1.0\r\n\r\n";
        let text = unescape(typed);
        assert_eq!(text, "GET / HTTP/1.0\r\n\r\n");
        assert_eq!(escape(text.as_bytes()), typed);
        assert_eq!(unescape(r"a\qb\"), r"a\qb\");
        assert_eq!(escape(b"\x00\xff"), "\\u{0}\u{fffd}");
    }

    #[test]
    fn unhex_refuses_odd_and_non_hex_input() {
        assert_eq!(unhex("00ffA0"), Some(vec![0, 255, 160]));
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
        assert_eq!(unhex("00é"), None);
    }
}
