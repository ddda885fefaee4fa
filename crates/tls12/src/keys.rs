//! The TLS 1.2 key schedule: the PRF (RFC 5246 §5), the master secret (RFC 5246 §8.1)
//! or extended master secret (RFC 7627 §4), the key block (RFC 5246 §6.3) and the
//! Finished `verify_data` (RFC 5246 §7.4.9).
//!
//! Everything is generic over the [`Provider`] and uses only its `prf` (by default built
//! on its `hmac`), so the symbolic provider of the model runs the very same schedule as
//! the ring provider.

use zeroize::Zeroizing;

use crate::crypto::{AeadAlgorithm, HashAlgorithm, Provider, Secret};

/// The length of a master secret (RFC 5246 §8.1; RFC 7627 §4 keeps it).
pub const MASTER_SECRET_LEN: usize = 48;

/// The length of Finished `verify_data` for every TLS 1.2 cipher suite we speak (RFC 5246
/// §7.4.9: 12 unless the suite says otherwise, and none of ours does).
pub const VERIFY_DATA_LEN: usize = 12;

/// The PRF label of the master secret (RFC 5246 §8.1).
const MASTER_SECRET_LABEL: &[u8] = b"master secret";
/// The PRF label of the extended master secret (RFC 7627 §4).
const EXTENDED_MASTER_SECRET_LABEL: &[u8] = b"extended master secret";
/// The PRF label of the key block (RFC 5246 §6.3).
const KEY_EXPANSION_LABEL: &[u8] = b"key expansion";
/// The PRF label of the client's Finished (RFC 5246 §7.4.9).
const CLIENT_FINISHED_LABEL: &[u8] = b"client finished";
/// The PRF label of the server's Finished (RFC 5246 §7.4.9).
const SERVER_FINISHED_LABEL: &[u8] = b"server finished";

/// The TLS 1.2 PRF: `P_hash(secret, label + seed)` truncated to `out.len()` (RFC 5246 §5),
/// where `seed` is the concatenation of its parts and `hash` is the cipher suite's PRF
/// hash.
///
/// ```text
/// A(0) = label + seed
/// A(i) = HMAC_hash(secret, A(i-1))
/// P_hash(secret, seed) = HMAC_hash(secret, A(1) + label + seed) +
///                        HMAC_hash(secret, A(2) + label + seed) + ...
/// ```
///
/// The seed is passed in parts so that callers never build `client_random +
/// server_random` and the like in a temporary buffer. The work is the provider's
/// ([`Provider::prf`]), so that ring keys HMAC once per call.
///
/// # Panics
/// If the provider's HMAC is shorter than `alg.output_len()`: a provider bug, never peer
/// input.
pub fn prf<P: Provider>(
    provider: &P,
    alg: HashAlgorithm,
    secret: &[u8],
    label: &[u8],
    seed: &[&[u8]],
    out: &mut [u8],
) {
    provider.prf(alg, secret, label, seed, out);
}

/// The PRF over [`Provider::hmac`], one HMAC call per A(i) and per block: what
/// [`Provider::prf`] does unless a provider overrides it. `label + seed` is copied once
/// per call, so the blocks need no allocation.
pub fn prf_over_hmac<P: Provider>(
    provider: &P,
    alg: HashAlgorithm,
    secret: &[u8],
    label: &[u8],
    seed: &[&[u8]],
    out: &mut [u8],
) {
    // label + seed: A(0), and the tail of every output block's input.
    let seed_len: usize = seed.iter().map(|part| part.len()).sum();
    let mut label_seed = Vec::with_capacity(label.len() + seed_len);
    label_seed.extend_from_slice(label);
    for part in seed {
        label_seed.extend_from_slice(part);
    }
    let mut a = provider.hmac(alg, secret, &[&label_seed]);
    let mut chunks = out.chunks_mut(alg.output_len()).peekable();
    while let Some(chunk) = chunks.next() {
        let block = provider.hmac(alg, secret, &[a.as_ref(), &label_seed]);
        chunk.copy_from_slice(&block.as_ref()[..chunk.len()]);
        // A(i+1) is needed only if another block follows.
        if chunks.peek().is_some() {
            a = provider.hmac(alg, secret, &[a.as_ref()]);
        }
    }
}

/// Runs the PRF into a fresh [`Secret`] of `len` bytes.
fn prf_secret<P: Provider>(
    provider: &P,
    alg: HashAlgorithm,
    secret: &[u8],
    label: &[u8],
    seed: &[&[u8]],
    len: usize,
) -> Secret {
    let mut out = vec![0; len];
    prf(provider, alg, secret, label, seed, &mut out);
    Secret::new(out)
}

/// The master secret of a full handshake without extended_master_secret (RFC 5246 §8.1):
/// `PRF(pre_master_secret, "master secret", ClientHello.random + ServerHello.random)[0..47]`.
pub fn master_secret<P: Provider>(
    provider: &P,
    alg: HashAlgorithm,
    pre_master: &Secret,
    client_random: &[u8; 32],
    server_random: &[u8; 32],
) -> Secret {
    prf_secret(
        provider,
        alg,
        pre_master.expose(),
        MASTER_SECRET_LABEL,
        &[client_random, server_random],
        MASTER_SECRET_LEN,
    )
}

/// The master secret when both sides negotiated extended_master_secret (RFC 7627 §4):
/// `PRF(pre_master_secret, "extended master secret", session_hash)[0..47]`, where
/// `session_hash` is the transcript hash up to and including ClientKeyExchange (RFC 7627
/// §3). Binding the master secret to the transcript defeats the triple-handshake attack.
pub fn extended_master_secret<P: Provider>(
    provider: &P,
    alg: HashAlgorithm,
    pre_master: &Secret,
    session_hash: &[u8],
) -> Secret {
    prf_secret(
        provider,
        alg,
        pre_master.expose(),
        EXTENDED_MASTER_SECRET_LABEL,
        &[session_hash],
        MASTER_SECRET_LEN,
    )
}

/// The record-layer keys of one connection, cut from the key block (RFC 5246 §6.3).
///
/// AEAD suites need no MAC keys (the AEAD authenticates, RFC 5246 §6.2.3.3), so only the
/// write keys and the fixed ("implicit") IVs remain. Every field is a [`Secret`]: the IVs
/// are not secret in the same sense as keys, but wiping and hiding them costs nothing.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KeyBlock {
    /// The key protecting records the client sends.
    pub client_write_key: Secret,
    /// The key protecting records the server sends.
    pub server_write_key: Secret,
    /// The fixed part of the client's nonces: the 4-byte salt of AES-GCM (RFC 5288 §3) or
    /// the 12-byte IV ChaCha20-Poly1305 XORs with the sequence number (RFC 7905 §2).
    pub client_write_iv: Secret,
    /// The fixed part of the server's nonces.
    pub server_write_iv: Secret,
}

/// The fixed IV length (`SecurityParameters.fixed_iv_length`) of an AEAD: 4 for AES-GCM
/// (RFC 5288 §3) and 12 for ChaCha20-Poly1305 (RFC 7905 §2).
pub fn fixed_iv_len(alg: AeadAlgorithm) -> usize {
    match alg {
        AeadAlgorithm::Aes128Gcm | AeadAlgorithm::Aes256Gcm => 4,
        AeadAlgorithm::ChaCha20Poly1305 => 12,
    }
}

/// Expands the master secret into the record-layer keys (RFC 5246 §6.3):
/// `PRF(master_secret, "key expansion", server_random + client_random)`, cut into
/// client_write_key, server_write_key, client_write_IV and server_write_IV in that order.
/// Note the randoms come server first here, unlike in the master secret. The cut is
/// [`with_key_block`]'s, copied out.
///
/// # Panics
/// If the cut is longer than [`MAX_KEY_BLOCK_LEN`]: a suite table bug, never peer input.
pub fn key_block<P: Provider>(
    provider: &P,
    alg: HashAlgorithm,
    master: &Secret,
    client_random: &[u8; 32],
    server_random: &[u8; 32],
    key_len: usize,
    fixed_iv_len: usize,
) -> KeyBlock {
    with_key_block(
        provider,
        alg,
        master,
        client_random,
        server_random,
        key_len,
        fixed_iv_len,
        |[client_write_key, server_write_key, client_write_iv, server_write_iv]| KeyBlock {
            client_write_key: Secret::new(client_write_key.to_vec()),
            server_write_key: Secret::new(server_write_key.to_vec()),
            client_write_iv: Secret::new(client_write_iv.to_vec()),
            server_write_iv: Secret::new(server_write_iv.to_vec()),
        },
    )
}

/// The longest key block of an AEAD suite: two 32-byte keys and two 12-byte IVs.
pub const MAX_KEY_BLOCK_LEN: usize = 2 * 32 + 2 * 12;

/// The key block cut the same way as [`key_block`], without a heap allocation: the PRF
/// writes into a buffer on the stack (wiped on return) and `use_keys` gets the client
/// write key, server write key, client IV and server IV as slices of it. The record layer
/// keys itself from these slices and keeps nothing else.
///
/// # Panics
/// If the cut is longer than [`MAX_KEY_BLOCK_LEN`]: a suite table bug, never peer input.
#[allow(clippy::too_many_arguments)]
pub fn with_key_block<P: Provider, R>(
    provider: &P,
    alg: HashAlgorithm,
    master: &Secret,
    client_random: &[u8; 32],
    server_random: &[u8; 32],
    key_len: usize,
    fixed_iv_len: usize,
    use_keys: impl FnOnce([&[u8]; 4]) -> R,
) -> R {
    let mut block = Zeroizing::new([0u8; MAX_KEY_BLOCK_LEN]);
    let block = &mut block[..2 * key_len + 2 * fixed_iv_len];
    prf(
        provider,
        alg,
        master.expose(),
        KEY_EXPANSION_LABEL,
        &[server_random, client_random],
        block,
    );
    let (client_write_key, rest) = block.split_at(key_len);
    let (server_write_key, rest) = rest.split_at(key_len);
    let (client_write_iv, server_write_iv) = rest.split_at(fixed_iv_len);
    use_keys([
        client_write_key,
        server_write_key,
        client_write_iv,
        server_write_iv,
    ])
}

/// The Finished `verify_data` (RFC 5246 §7.4.9): `PRF(master_secret, finished_label,
/// Hash(handshake_messages))[0..11]`, with the label of the side that sends the Finished
/// (`client` true for the client's). `handshake_hash` is the transcript hash under the
/// PRF hash, up to but excluding this Finished.
///
/// Compare a received value with [`crate::crypto::constant_time_eq`].
pub fn verify_data<P: Provider>(
    provider: &P,
    alg: HashAlgorithm,
    master: &Secret,
    client: bool,
    handshake_hash: &[u8],
) -> [u8; VERIFY_DATA_LEN] {
    let label = if client {
        CLIENT_FINISHED_LABEL
    } else {
        SERVER_FINISHED_LABEL
    };
    let mut out = [0; VERIFY_DATA_LEN];
    prf(
        provider,
        alg,
        master.expose(),
        label,
        &[handshake_hash],
        &mut out,
    );
    out
}

#[cfg(test)]
mod tests {
    //! Known-answer tests. Oracles (nothing here is computed by the code under test):
    //!
    //! - the published TLS 1.2 PRF vectors for P_SHA256 and P_SHA384 (IETF TLS list,
    //!   https://www.ietf.org/mail-archive/web/tls/current/msg03416.html, label "test
    //!   label"), re-checked with OpenSSL 3.0:
    //!   `openssl kdf -keylen 100 -kdfopt digest:SHA256 -kdfopt hexsecret:9bbe...db35
    //!    -kdfopt hexseed:<hex("test label")>a0ba...198c TLS1-PRF`
    //! - the other vectors were generated with the same `openssl kdf ... TLS1-PRF`
    //!   command, with the label's hex followed by the seed's as `hexseed`, from the
    //!   inputs `PMS` = 00..2f, `CR` = 40..5f, `SR` = 60..7f, `HH` = a0..bf and
    //!   `SH384` = c0..ef (byte ranges).

    use super::*;
    use crate::crypto::ring::RingProvider;

    /// Decodes hex, ignoring whitespace.
    fn hex(s: &str) -> Vec<u8> {
        let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        assert_eq!(digits.len() % 2, 0, "odd hex length");
        digits
            .chunks(2)
            .map(|pair| {
                let text = std::str::from_utf8(pair).unwrap();
                u8::from_str_radix(text, 16).unwrap()
            })
            .collect()
    }

    /// The bytes `start..end`, the tests' synthetic inputs.
    fn range(start: u8, end: u8) -> Vec<u8> {
        (start..end).collect()
    }

    /// The stack buffer of `with_key_block` is exactly the longest cut of a suite we
    /// support (ChaCha20-Poly1305: two 32-byte keys, two 12-byte IVs), so the bound its
    /// panic documents is the real one.
    #[test]
    fn max_key_block_len_is_the_longest_cut_of_a_supported_suite() {
        let cut = |s: &crate::suites::Suite| 2 * s.aead.key_len() + 2 * s.fixed_iv_len();
        let suites = crate::suites::ALL_SUITES
            .iter()
            .chain(&crate::suites::PSK_SUITES);
        assert_eq!(suites.map(cut).max(), Some(MAX_KEY_BLOCK_LEN));
    }

    fn random(start: u8) -> [u8; 32] {
        range(start, start + 32).try_into().unwrap()
    }

    fn pms() -> Secret {
        Secret::new(range(0x00, 0x30))
    }

    const CR: u8 = 0x40;
    const SR: u8 = 0x60;

    fn hh() -> Vec<u8> {
        range(0xa0, 0xc0)
    }

    fn sh384() -> Vec<u8> {
        range(0xc0, 0xf0)
    }

    const MS256: &str = "33f19713029a32518129acfbd2623ad9b9e3bfe795f60dbc0228a7bc4142a453\
                         70fa02ebdfecbc1f5ac0d266becfb59a";
    const MS384: &str = "f1833cbe385cd1d77da7e185a0279d6471c067901abaa5feb17860e7afa8a334\
                         250190a51fc6cf664b42afbd9cb61f83";

    /// Both PRF paths: the ring provider's override and the default over `hmac`.
    const PRFS: [(&str, PrfFn); 2] = [
        ("ring override", prf::<RingProvider>),
        ("default over hmac", prf_over_hmac::<RingProvider>),
    ];

    type PrfFn = fn(&RingProvider, HashAlgorithm, &[u8], &[u8], &[&[u8]], &mut [u8]);

    #[test]
    fn prf_sha256_published_vector() {
        for (name, prf) in PRFS {
            prf_sha256_published_vector_with(name, prf);
        }
    }

    fn prf_sha256_published_vector_with(name: &str, prf: PrfFn) {
        let mut out = [0; 100];
        prf(
            &RingProvider::new(),
            HashAlgorithm::Sha256,
            &hex("9bbe436ba940f017b17652849a71db35"),
            b"test label",
            &[&hex("a0ba9f936cda311827a6f796ffd5198c")],
            &mut out,
        );
        let want = hex(
            "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a\
             6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab\
             4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701\
             87347b66",
        );
        assert_eq!(out.to_vec(), want, "{name}");
    }

    #[test]
    fn prf_sha384_published_vector() {
        for (name, prf) in PRFS {
            prf_sha384_published_vector_with(name, prf);
        }
    }

    fn prf_sha384_published_vector_with(name: &str, prf: PrfFn) {
        let mut out = [0; 148];
        prf(
            &RingProvider::new(),
            HashAlgorithm::Sha384,
            &hex("b80b733d6ceefcdc71566ea48e5567df"),
            b"test label",
            &[&hex("cd665cf6a8447dd6ff8b27555edb7465")],
            &mut out,
        );
        let want = hex(
            "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd\
             e9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd\
             8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425\
             9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee6\
             91c8f3a26854308d5eaa3be85e0990703d73e56f",
        );
        assert_eq!(out.to_vec(), want, "{name}");
    }

    /// SHA-512, 150 bytes: two full blocks and a partial third.
    #[test]
    fn prf_sha512_openssl_vector() {
        for (name, prf) in PRFS {
            prf_sha512_openssl_vector_with(name, prf);
        }
    }

    fn prf_sha512_openssl_vector_with(name: &str, prf: PrfFn) {
        let mut out = [0; 150];
        prf(
            &RingProvider::new(),
            HashAlgorithm::Sha512,
            pms().expose(),
            b"test label",
            &[&random(CR)],
            &mut out,
        );
        let want = hex(
            "61e301a3f6bad642246ef55e21b895a03d904be9dcb6ef9726dde67177ba135b\
             f9742ac9d43ec00cd5cb51d9f586988427f9b61c3435920980e150f4b01bac30\
             6e22f2f7f891d6786f8d03bac748f66091212763e88b1f3e5edbac6c002bf2e0\
             285306e9c3ff232bd5bb5f24561e5a5f19fe1fcbca3c6a7e8d802c5983ce2454\
             90d64a74f77888e9f8afa3dc6dd583cd18f0a9d92958",
        );
        assert_eq!(out.to_vec(), want, "{name}");
    }

    #[test]
    fn master_secret_matches_openssl() {
        let p = RingProvider::new();
        let ms = master_secret(&p, HashAlgorithm::Sha256, &pms(), &random(CR), &random(SR));
        assert_eq!(ms.expose(), hex(MS256));
        let ms = master_secret(&p, HashAlgorithm::Sha384, &pms(), &random(CR), &random(SR));
        assert_eq!(ms.expose(), hex(MS384));
    }

    #[test]
    fn extended_master_secret_matches_openssl() {
        let p = RingProvider::new();
        let ems = extended_master_secret(&p, HashAlgorithm::Sha256, &pms(), &hh());
        assert_eq!(
            ems.expose(),
            hex(
                "6e70ef47dda84c4a539e7640a1d33994a4130ab28c2164c6dfeac955bf191233\
                 c52f77e8e108da25c74b8751070e6fa3"
            )
        );
        let ems = extended_master_secret(&p, HashAlgorithm::Sha384, &pms(), &sh384());
        assert_eq!(
            ems.expose(),
            hex(
                "b9e76736be3ce17dfbf4786d2d6f38dc774c499f1ccf7f3af17b8ec52dc0571b\
                 df29c0ed7f7a8e7942dfcdf2af81bbc8"
            )
        );
    }

    /// Checks a key block against the PRF output it was cut from.
    fn assert_cut(kb: &KeyBlock, expanded: &str, key_len: usize, iv_len: usize) {
        let expanded = hex(expanded);
        assert_eq!(expanded.len(), 2 * key_len + 2 * iv_len);
        let (ck, rest) = expanded.split_at(key_len);
        let (sk, rest) = rest.split_at(key_len);
        let (civ, siv) = rest.split_at(iv_len);
        assert_eq!(kb.client_write_key.expose(), ck);
        assert_eq!(kb.server_write_key.expose(), sk);
        assert_eq!(kb.client_write_iv.expose(), civ);
        assert_eq!(kb.server_write_iv.expose(), siv);
    }

    #[test]
    fn key_block_aes_128_gcm_sha256_matches_openssl() {
        let p = RingProvider::new();
        let alg = AeadAlgorithm::Aes128Gcm;
        let kb = key_block(
            &p,
            HashAlgorithm::Sha256,
            &Secret::new(hex(MS256)),
            &random(CR),
            &random(SR),
            alg.key_len(),
            fixed_iv_len(alg),
        );
        assert_cut(
            &kb,
            "037f5f8e581d0a2f5f5151654699ccebf51558374847aaa8edc51cb47d406b0a\
             35b534f0f79f66ff",
            16,
            4,
        );
    }

    #[test]
    fn key_block_chacha20_poly1305_sha256_matches_openssl() {
        let p = RingProvider::new();
        let alg = AeadAlgorithm::ChaCha20Poly1305;
        let kb = key_block(
            &p,
            HashAlgorithm::Sha256,
            &Secret::new(hex(MS256)),
            &random(CR),
            &random(SR),
            alg.key_len(),
            fixed_iv_len(alg),
        );
        assert_cut(
            &kb,
            "037f5f8e581d0a2f5f5151654699ccebf51558374847aaa8edc51cb47d406b0a\
             35b534f0f79f66ff3204ebc25ead0c1d990cd801342eadb7a5cbba6fc245ad5e\
             eb5eedd228aa8ea0dcd1900ff801f06df2df167f1d49ed3b",
            32,
            12,
        );
    }

    #[test]
    fn key_block_aes_256_gcm_sha384_matches_openssl() {
        let p = RingProvider::new();
        let alg = AeadAlgorithm::Aes256Gcm;
        let kb = key_block(
            &p,
            HashAlgorithm::Sha384,
            &Secret::new(hex(MS384)),
            &random(CR),
            &random(SR),
            alg.key_len(),
            fixed_iv_len(alg),
        );
        assert_cut(
            &kb,
            "04e0d605071ce54b6319b649bd7bff9a08eaae5592b5ae73ffef9e5810d60f5e\
             767a5db874003f4de80d38678d68b20bcb2d0b5bcf8d456d655bcfc68abccd34\
             b2aa37d60cff44a3",
            32,
            4,
        );
    }

    #[test]
    fn verify_data_matches_openssl() {
        let p = RingProvider::new();
        let ms = Secret::new(hex(MS256));
        let client = verify_data(&p, HashAlgorithm::Sha256, &ms, true, &hh());
        let server = verify_data(&p, HashAlgorithm::Sha256, &ms, false, &hh());
        assert_eq!(client.to_vec(), hex("e1b12e133a8e1afbef7689d7"));
        assert_eq!(server.to_vec(), hex("7e89b1b10c36d6fb9fbf24dc"));
        let ms = Secret::new(hex(MS384));
        let client = verify_data(&p, HashAlgorithm::Sha384, &ms, true, &sh384());
        assert_eq!(client.to_vec(), hex("ad6146f391cf217f56ed381b"));
    }

    #[test]
    fn the_key_block_on_the_stack_is_cut_like_the_one_on_the_heap() {
        let p = RingProvider::new();
        let master = Secret::new((0..48).collect());
        for (alg, key_len, iv_len) in [
            (HashAlgorithm::Sha256, 16, 4),
            (HashAlgorithm::Sha384, 32, 4),
            (HashAlgorithm::Sha256, 32, 12),
        ] {
            let heap = key_block(&p, alg, &master, &[1; 32], &[2; 32], key_len, iv_len);
            let stack =
                with_key_block(&p, alg, &master, &[1; 32], &[2; 32], key_len, iv_len, |k| {
                    k.map(<[u8]>::to_vec)
                });
            assert_eq!(
                stack,
                [
                    heap.client_write_key.expose(),
                    heap.server_write_key.expose(),
                    heap.client_write_iv.expose(),
                    heap.server_write_iv.expose()
                ]
            );
        }
    }

    #[test]
    fn the_prf_gives_the_same_bytes_whether_its_key_is_cached_or_not() {
        // The ring provider keeps the last SHA-256 PRF key; alternating secrets, lengths
        // and providers must not change an output.
        let p = RingProvider::new();
        let secrets: [&[u8]; 4] = [&[1; 48], &[2; 48], &[1; 47], &[3; 100]];
        let run = |p: &RingProvider, secret: &[u8]| {
            let mut out = [0u8; 40];
            p.prf(
                HashAlgorithm::Sha256,
                secret,
                b"label",
                &[b"seed"],
                &mut out,
            );
            out
        };
        for (i, secret) in secrets
            .iter()
            .chain(&secrets)
            .chain(&secrets[..2])
            .enumerate()
        {
            let mut fresh = [0u8; 40];
            prf_over_hmac(
                &p,
                HashAlgorithm::Sha256,
                secret,
                b"label",
                &[b"seed"],
                &mut fresh,
            );
            assert_eq!(run(&p, secret), fresh, "call {i}");
            assert_eq!(run(&p.clone(), secret), fresh, "call {i} on a clone");
        }
    }

    #[test]
    fn key_block_debug_hides_keys() {
        let p = RingProvider::new();
        let kb = key_block(
            &p,
            HashAlgorithm::Sha256,
            &Secret::new(hex(MS256)),
            &random(CR),
            &random(SR),
            16,
            4,
        );
        let printed = format!("{kb:?}");
        assert!(!printed.contains("037f"), "{printed}");
        assert!(printed.contains("16 bytes"), "{printed}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// The seed's split into parts does not matter, and a shorter output is a prefix
        /// of a longer one (RFC 5246 §5: P_hash is iterated "as many times as necessary").
        #[test]
        fn prf_is_split_and_length_consistent(
            secret in proptest::collection::vec(proptest::num::u8::ANY, 0..80),
            seed in proptest::collection::vec(proptest::num::u8::ANY, 0..80),
            split in 0usize..80,
            len in 0usize..200,
        ) {
            let p = RingProvider::new();
            let split = split.min(seed.len());
            let (a, b) = seed.split_at(split);
            let mut whole = [0u8; 200];
            prf(&p, HashAlgorithm::Sha256, &secret, b"label", &[&seed], &mut whole);
            let mut parts = vec![0u8; len];
            prf(&p, HashAlgorithm::Sha256, &secret, b"label", &[a, b], &mut parts);
            proptest::prop_assert_eq!(&parts[..], &whole[..len]);
            // The ring override and the default over `hmac` agree.
            let mut default = [0u8; 200];
            prf_over_hmac(&p, HashAlgorithm::Sha256, &secret, b"label", &[a, b], &mut default);
            proptest::prop_assert_eq!(&default[..], &whole[..]);
        }
    }
}
