//! Small fixed-shape values shared by several messages.

use std::fmt;

use crate::codec::{Bounds, Codec, InvalidMessage, Prefix, Reader};

/// `Random`, RFC 5246 §7.4.1.2: 32 bytes, the first four traditionally a timestamp.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Random(pub [u8; 32]);

impl fmt::Debug for Random {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Random({})", hex(&self.0))
    }
}

impl Codec for Random {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, InvalidMessage> {
        r.array("Random").map(Self)
    }
}

/// `SessionID`, RFC 5246 §7.4.1.2: `opaque SessionID<0..32>`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId {
    len: u8,
    data: [u8; 32],
}

impl SessionId {
    /// The longest session ID, in bytes.
    pub const MAX_LEN: usize = 32;

    const BOUNDS: Bounds = Bounds::new("session_id", Prefix::U8, 0, Self::MAX_LEN);

    /// The empty session ID: "no session to resume" from a client, "will not be cached"
    /// from a server.
    pub const EMPTY: Self = Self {
        len: 0,
        data: [0; 32],
    };

    /// A session ID holding `bytes`, or `None` if it is longer than 32 bytes.
    pub fn new(bytes: &[u8]) -> Option<Self> {
        let mut data = [0u8; 32];
        data.get_mut(..bytes.len())?.copy_from_slice(bytes);
        Some(Self {
            len: bytes.len() as u8,
            data,
        })
    }

    /// The bytes of the ID.
    pub fn as_bytes(&self) -> &[u8] {
        &self.data[..self.len as usize]
    }

    /// Whether this is the empty ID.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({})", hex(self.as_bytes()))
    }
}

impl Codec for SessionId {
    fn encode(&self, out: &mut Vec<u8>) {
        Self::BOUNDS.encode_bytes(out, self.as_bytes());
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, InvalidMessage> {
        let mut body = Self::BOUNDS.body(r)?;
        let bytes = body.rest();
        // `body` enforced the 32-byte ceiling, so `new` cannot refuse.
        Self::new(bytes).ok_or(InvalidMessage::LengthOutOfRange {
            what: "session_id",
            len: bytes.len(),
        })
    }
}

/// Lower-case hex, for `Debug` output and traces.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
