//! The scenarios both the criterion benches and the summary measure. A [`Contender`] is
//! a closure in criterion's `iter_custom` shape: given a number of iterations, it runs
//! them and returns the time they took (for a side's share, the time spent in that
//! side's calls only).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use tls12::crypto::AeadAlgorithm;
use tls12::pki::KeyKind;

use crate::fixture::{Aead, Fixture};
use crate::floor::Floor;
use crate::reference::{OurRecords, RingRecords};
use crate::{ours, theirs, Split, Whole};

/// Who a contender is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// tls12, both sides in one thread.
    Tls12,
    /// rustls, both sides in one thread.
    Rustls,
    /// The ring operations no implementation can avoid.
    Floor,
    /// ring alone doing the same job (record layer references).
    Ring,
    /// tls12's client (or, in bulk, receiver) calls only.
    Tls12Client,
    /// tls12's server (or, in bulk, sender) calls only.
    Tls12Server,
    /// rustls' client (receiver) calls only.
    RustlsClient,
    /// rustls' server (sender) calls only.
    RustlsServer,
}

impl Role {
    /// The contender's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Tls12 => "tls12",
            Self::Rustls => "rustls",
            Self::Floor => "floor",
            Self::Ring => "ring",
            Self::Tls12Client => "tls12-client",
            Self::Tls12Server => "tls12-server",
            Self::RustlsClient => "rustls-client",
            Self::RustlsServer => "rustls-server",
        }
    }
}

/// What one iteration is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// One handshake.
    Handshake,
    /// One record or one transfer of this many application bytes.
    Bytes(u64),
}

/// One contender: `run(iters)` runs `iters` iterations and returns the time to count.
pub struct Contender {
    /// Who it is.
    pub role: Role,
    /// Runs the iterations.
    pub run: Box<dyn FnMut(u64) -> Duration>,
}

impl std::fmt::Debug for Contender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Contender")
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// Contenders doing the same job, compared with each other.
#[derive(Debug)]
pub struct Scenario {
    /// The scenario's name (the criterion group).
    pub name: String,
    /// What one iteration is.
    pub unit: Unit,
    /// The contenders, tls12 first.
    pub contenders: Vec<Contender>,
}

impl Scenario {
    /// The index of `role`'s contender.
    pub fn position(&self, role: Role) -> Option<usize> {
        self.contenders.iter().position(|c| c.role == role)
    }
}

/// Something that runs one iteration with a stopwatch.
trait Exchange {
    fn once<S: crate::Stopwatch>(&mut self, sw: &mut S);
}

impl Exchange for ours::Handshakes {
    fn once<S: crate::Stopwatch>(&mut self, sw: &mut S) {
        self.handshake(sw);
    }
}

impl Exchange for theirs::Handshakes {
    fn once<S: crate::Stopwatch>(&mut self, sw: &mut S) {
        self.handshake(sw);
    }
}

impl Exchange for ours::Bulk {
    fn once<S: crate::Stopwatch>(&mut self, sw: &mut S) {
        std::hint::black_box(self.transfer(sw));
    }
}

impl Exchange for theirs::Bulk {
    fn once<S: crate::Stopwatch>(&mut self, sw: &mut S) {
        std::hint::black_box(self.transfer(sw));
    }
}

/// The whole exchange, then each side's share, of one implementation.
fn three<E: Exchange + 'static>(exchange: E, roles: [Role; 3]) -> Vec<Contender> {
    let shared = Rc::new(RefCell::new(exchange));
    let whole = Rc::clone(&shared);
    let client = Rc::clone(&shared);
    let server = shared;
    vec![
        Contender {
            role: roles[0],
            run: Box::new(move |iters| {
                let mut e = whole.borrow_mut();
                let start = Instant::now();
                for _ in 0..iters {
                    e.once(&mut Whole);
                }
                start.elapsed()
            }),
        },
        Contender {
            role: roles[1],
            run: Box::new(move |iters| {
                let mut e = client.borrow_mut();
                let mut sw = Split::default();
                for _ in 0..iters {
                    e.once(&mut sw);
                }
                sw.client
            }),
        },
        Contender {
            role: roles[2],
            run: Box::new(move |iters| {
                let mut e = server.borrow_mut();
                let mut sw = Split::default();
                for _ in 0..iters {
                    e.once(&mut sw);
                }
                sw.server
            }),
        },
    ]
}

const OURS: [Role; 3] = [Role::Tls12, Role::Tls12Client, Role::Tls12Server];
const THEIRS: [Role; 3] = [Role::Rustls, Role::RustlsClient, Role::RustlsServer];

/// Reorders contenders: tls12, rustls, floor/ring first, then the shares.
fn ordered(mut contenders: Vec<Contender>) -> Vec<Contender> {
    let rank = |r: Role| match r {
        Role::Tls12 => 0,
        Role::Rustls => 1,
        Role::Floor | Role::Ring => 2,
        Role::Tls12Client => 3,
        Role::Tls12Server => 4,
        Role::RustlsClient => 5,
        Role::RustlsServer => 6,
    };
    contenders.sort_by_key(|c| rank(c.role));
    contenders
}

/// A full ECDHE handshake with a `kind` server certificate, X25519 and AES-128-GCM:
/// tls12, rustls, the crypto floor, and each side's share.
pub fn full(kind: KeyKind) -> Scenario {
    let fixture = Fixture::new(kind);
    let suite = fixture.suite(Aead::Aes128Gcm);
    let floor = Floor::new(&fixture);
    let mut contenders = three(ours::Handshakes::new(&fixture, suite, false), OURS);
    contenders.extend(three(
        theirs::Handshakes::new(&fixture, suite, false),
        THEIRS,
    ));
    contenders.push(Contender {
        role: Role::Floor,
        run: Box::new(move |iters| {
            let start = Instant::now();
            for _ in 0..iters {
                floor.run();
            }
            start.elapsed()
        }),
    });
    let name = match kind {
        KeyKind::EcdsaP256 => "full-ecdsa-p256-x25519",
        KeyKind::EcdsaP384 => "full-ecdsa-p384-x25519",
        KeyKind::Rsa2048 => "full-rsa2048-x25519",
    };
    Scenario {
        name: name.into(),
        unit: Unit::Handshake,
        contenders: ordered(contenders),
    }
}

/// An abbreviated handshake resuming a session ID (ECDSA P-256 certificate,
/// AES-128-GCM): tls12, rustls, and each side's share.
pub fn resumed() -> Scenario {
    let fixture = Fixture::new(KeyKind::EcdsaP256);
    let suite = fixture.suite(Aead::Aes128Gcm);
    let mut contenders = three(ours::Handshakes::new(&fixture, suite, true), OURS);
    contenders.extend(three(
        theirs::Handshakes::new(&fixture, suite, true),
        THEIRS,
    ));
    Scenario {
        name: "resumed-session-id".into(),
        unit: Unit::Handshake,
        contenders: ordered(contenders),
    }
}

/// [`crate::TRANSFER`] bytes from server to client over an established connection:
/// tls12, rustls, and the sender's (server) and receiver's (client) shares.
pub fn bulk(aead: Aead) -> Scenario {
    let fixture = Fixture::new(KeyKind::EcdsaP256);
    let suite = fixture.suite(aead);
    let mut contenders = three(ours::Bulk::new(&fixture, suite), OURS);
    contenders.extend(three(theirs::Bulk::new(&fixture, suite), THEIRS));
    let name = match aead {
        Aead::Aes128Gcm => "bulk-aes-128-gcm",
        Aead::ChaCha20Poly1305 => "bulk-chacha20-poly1305",
    };
    Scenario {
        name: name.into(),
        unit: Unit::Bytes(crate::TRANSFER as u64),
        contenders: ordered(contenders),
    }
}

/// The short name of an AEAD.
pub fn aead_name(aead: AeadAlgorithm) -> &'static str {
    match aead {
        AeadAlgorithm::Aes128Gcm => "aes-128-gcm",
        AeadAlgorithm::Aes256Gcm => "aes-256-gcm",
        AeadAlgorithm::ChaCha20Poly1305 => "chacha20-poly1305",
    }
}

/// Sealing one record of `len` bytes: tls12's `RecordCipher::seal` and ring alone.
pub fn seal(aead: AeadAlgorithm, len: usize) -> Scenario {
    let mut ours = OurRecords::new(aead, len);
    let mut ring = RingRecords::new(aead, len);
    Scenario {
        name: format!("seal-{}-{len}", aead_name(aead)),
        unit: Unit::Bytes(len as u64),
        contenders: vec![
            Contender {
                role: Role::Tls12,
                run: Box::new(move |iters| {
                    let start = Instant::now();
                    for _ in 0..iters {
                        ours.seal();
                    }
                    start.elapsed()
                }),
            },
            Contender {
                role: Role::Ring,
                run: Box::new(move |iters| {
                    let start = Instant::now();
                    for _ in 0..iters {
                        ring.seal();
                    }
                    start.elapsed()
                }),
            },
        ],
    }
}

/// Opening one record of `len` bytes: tls12's `RecordCipher::open` and ring alone.
pub fn open(aead: AeadAlgorithm, len: usize) -> Scenario {
    let mut ours = OurRecords::new(aead, len);
    let mut ring = RingRecords::new(aead, len);
    Scenario {
        name: format!("open-{}-{len}", aead_name(aead)),
        unit: Unit::Bytes(len as u64),
        contenders: vec![
            Contender {
                role: Role::Tls12,
                run: Box::new(move |iters| ours.open(iters)),
            },
            Contender {
                role: Role::Ring,
                run: Box::new(move |iters| ring.open(iters)),
            },
        ],
    }
}
