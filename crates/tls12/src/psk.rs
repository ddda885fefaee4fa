//! Floor 6: pre-shared keys (RFC 4279 §2, RFC 5489 §2). The server looks a client's
//! identity up in a [`PskStore`]; the client holds [`ClientPsk`]s and picks one by the
//! server's identity hint. Keys are [`Secret`]s, wiped on drop.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::crypto::Secret;

/// The server's keys by identity.
pub trait PskStore: Send + Sync + fmt::Debug {
    /// The key for `identity`, if there is one.
    fn key(&self, identity: &[u8]) -> Option<Secret>;
}

/// A fixed map of identities to keys.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct InMemoryPskStore {
    keys: BTreeMap<Vec<u8>, Secret>,
}

impl InMemoryPskStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the key for `identity`.
    pub fn insert(&mut self, identity: &[u8], key: Secret) {
        self.keys.insert(identity.to_vec(), key);
    }

    /// How many identities are known.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no identity is known.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

impl fmt::Debug for InMemoryPskStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Identities are not secret; keys are never printed.
        let identities: Vec<String> = self
            .keys
            .keys()
            .map(|id| String::from_utf8_lossy(id).into_owned())
            .collect();
        f.debug_struct("InMemoryPskStore")
            .field("identities", &identities)
            .finish()
    }
}

impl PskStore for InMemoryPskStore {
    fn key(&self, identity: &[u8]) -> Option<Secret> {
        self.keys.get(identity).cloned()
    }
}

/// A server's pre-shared keys as its configuration holds them. Configurations compare
/// stores by identity (the same shared store), so that they stay `Eq + Hash`.
#[derive(Clone, Debug)]
pub struct ServerPsk {
    /// Where identities are looked up.
    pub store: Arc<dyn PskStore>,
    /// The `psk_identity_hint` to send (RFC 4279 §2); with a plain PSK suite and no hint,
    /// no ServerKeyExchange is sent at all.
    pub hint: Option<Vec<u8>>,
}

impl ServerPsk {
    /// Keys from `store`, announced with `hint`.
    pub fn new(store: Arc<dyn PskStore>, hint: Option<Vec<u8>>) -> Self {
        Self { store, hint }
    }
}

impl PartialEq for ServerPsk {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.store, &other.store) && self.hint == other.hint
    }
}

impl Eq for ServerPsk {}

impl std::hash::Hash for ServerPsk {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (Arc::as_ptr(&self.store) as *const () as usize).hash(state);
        self.hint.hash(state);
    }
}

/// One key a client may use.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ClientPsk {
    /// The `psk_identity` to send.
    pub identity: Vec<u8>,
    /// The key.
    pub key: Secret,
    /// The server hint this key answers; `None` answers any hint (and none).
    pub hint: Option<Vec<u8>>,
}

impl fmt::Debug for ClientPsk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientPsk")
            .field("identity", &String::from_utf8_lossy(&self.identity))
            .field("hint", &self.hint)
            .finish_non_exhaustive()
    }
}

/// RFC 4279 §2 leaves the use of the hint to the client: the first key made for this
/// hint, else the first key for any hint, else none.
pub fn pick_by_hint<'a>(keys: &'a [ClientPsk], hint: &[u8]) -> Option<&'a ClientPsk> {
    keys.iter()
        .find(|k| k.hint.as_deref() == Some(hint) && !hint.is_empty())
        .or_else(|| keys.iter().find(|k| k.hint.is_none()))
}

/// The premaster secret of RFC 4279 §2 (plain PSK: `other_secret` is as many zero bytes
/// as the key is long) and RFC 5489 §2 (ECDHE_PSK: `other_secret` is the ECDH shared
/// secret): `uint16 len || other_secret || uint16 len || psk`.
pub fn premaster_secret(other_secret: Option<&[u8]>, psk: &[u8]) -> Secret {
    let zeros;
    let other = match other_secret {
        Some(other) => other,
        None => {
            zeros = vec![0u8; psk.len()];
            &zeros
        }
    };
    let mut out = Vec::with_capacity(4 + other.len() + psk.len());
    out.extend_from_slice(&(other.len() as u16).to_be_bytes());
    out.extend_from_slice(other);
    out.extend_from_slice(&(psk.len() as u16).to_be_bytes());
    out.extend_from_slice(psk);
    Secret::new(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn premaster_secrets_are_laid_out_as_the_rfcs_say() {
        // RFC 4279 §2: N zero bytes stand in for the other secret.
        let plain = premaster_secret(None, &[0xaa, 0xbb, 0xcc]);
        assert_eq!(plain.expose(), [0, 3, 0, 0, 0, 0, 3, 0xaa, 0xbb, 0xcc]);
        // RFC 5489 §2: the ECDH shared secret stands in.
        let ecdhe = premaster_secret(Some(&[1, 2, 3, 4]), &[0xaa, 0xbb]);
        assert_eq!(ecdhe.expose(), [0, 4, 1, 2, 3, 4, 0, 2, 0xaa, 0xbb]);
    }

    #[test]
    fn keys_are_picked_by_hint() {
        let key = |id: &str, hint: Option<&str>| ClientPsk {
            identity: id.as_bytes().to_vec(),
            key: Secret::new(vec![1; 16]),
            hint: hint.map(|h| h.as_bytes().to_vec()),
        };
        let keys = [
            key("a", Some("north")),
            key("b", None),
            key("c", Some("south")),
        ];
        let pick = |hint: &str| pick_by_hint(&keys, hint.as_bytes()).map(|k| k.identity.clone());
        assert_eq!(pick("south"), Some(b"c".to_vec()));
        assert_eq!(pick("north"), Some(b"a".to_vec()));
        assert_eq!(pick("west"), Some(b"b".to_vec()));
        assert_eq!(pick(""), Some(b"b".to_vec()));
        assert_eq!(pick_by_hint(&keys[..1], b"west"), None);
    }

    #[test]
    fn the_store_never_prints_keys() {
        let mut store = InMemoryPskStore::new();
        store.insert(b"client1", Secret::new(vec![0x42; 16]));
        assert_eq!(store.key(b"client1").map(|k| k.expose().len()), Some(16));
        assert!(store.key(b"client2").is_none());
        let printed = format!("{store:?}");
        assert!(
            printed.contains("client1") && !printed.contains("42"),
            "{printed}"
        );
    }
}
