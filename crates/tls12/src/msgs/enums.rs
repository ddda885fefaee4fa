//! Typed code points. Every registry value the protocol uses is a variant; any other value
//! decodes to `Unknown(n)` and encodes back to `n`, so a message carrying code points we
//! have never heard of still survives a decode/encode round trip (RFC 5246 §7.4.1.2: a
//! server must ignore cipher suites it does not recognise, and so on for every list).

use crate::codec::{Codec, InvalidMessage, Reader};

/// Declares a code point enum over `u8` or `u16` with `From` both ways, `Codec` and an
/// `Unknown` variant. Decoding goes through `From<uint>`, which never yields `Unknown` for
/// a known value, so decoded values compare equal exactly when their bytes do. (Code can
/// still build `Unknown(known)` by hand — tests do, to forge messages; it encodes to the
/// known value's bytes.)
macro_rules! code_points {
    (@common
        $(#[$meta:meta])*
        $name:ident: $uint:ident { $( $(#[$vmeta:meta])* $variant:ident, )* }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[allow(non_camel_case_types)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A code point this crate does not know, kept as it was on the wire.
            Unknown($uint),
        }

        impl $name {
            /// The value on the wire.
            pub fn get(self) -> $uint {
                self.into()
            }

            /// Every known variant, in registry order.
            pub const KNOWN: &'static [Self] = &[ $( Self::$variant, )* ];
        }

        impl Codec for $name {
            fn encode(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.get().to_be_bytes());
            }

            fn read(r: &mut Reader<'_>) -> Result<Self, InvalidMessage> {
                r.$uint(stringify!($name)).map(Self::from)
            }
        }
    };
    // A `u16` whose values are written as their two bytes, `{0xC0, 0x2B}`, the way RFC
    // 5246 and the IANA registry write cipher suites (and RFC 5246 a signature and hash
    // algorithm pair). Decoding matches the first byte, then the second: no 16-bit
    // `switch`, which coverage-guided fuzzers trace at a cost per item (a ClientHello
    // carries dozens), while two byte-wide ones they skip.
    (
        $(#[$meta:meta])*
        pub enum $name:ident: u16 {
            $( $(#[$vmeta:meta])* $variant:ident = { $hi:literal, $lo:literal }, )*
        }
    ) => {
        code_points!(@common $(#[$meta])* $name: u16 { $( $(#[$vmeta])* $variant, )* });

        impl From<u16> for $name {
            fn from(value: u16) -> Self {
                match value.to_be_bytes() {
                    $( [$hi, $lo] => Self::$variant, )*
                    _ => Self::Unknown(value),
                }
            }
        }

        impl From<$name> for u16 {
            fn from(value: $name) -> Self {
                match value {
                    $( $name::$variant => u16::from_be_bytes([$hi, $lo]), )*
                    $name::Unknown(other) => other,
                }
            }
        }
    };
    (
        $(#[$meta:meta])*
        pub enum $name:ident: $uint:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal, )*
        }
    ) => {
        code_points!(@common $(#[$meta])* $name: $uint { $( $(#[$vmeta])* $variant, )* });

        impl From<$uint> for $name {
            fn from(value: $uint) -> Self {
                match value {
                    $( $value => Self::$variant, )*
                    other => Self::Unknown(other),
                }
            }
        }

        impl From<$name> for $uint {
            fn from(value: $name) -> Self {
                match value {
                    $( $name::$variant => $value, )*
                    $name::Unknown(other) => other,
                }
            }
        }
    };
}

code_points! {
    /// `ContentType`, RFC 5246 §6.2.1.
    pub enum ContentType: u8 {
        ChangeCipherSpec = 20,
        Alert = 21,
        Handshake = 22,
        ApplicationData = 23,
        /// RFC 6520; not spoken by this crate.
        Heartbeat = 24,
    }
}

code_points! {
    /// `ProtocolVersion`, RFC 5246 §6.2.1 and Appendix E.
    pub enum ProtocolVersion: u16 {
        SSLv3 = 0x0300,
        TLSv1_0 = 0x0301,
        TLSv1_1 = 0x0302,
        TLSv1_2 = 0x0303,
        TLSv1_3 = 0x0304,
    }
}

code_points! {
    /// `HandshakeType`, RFC 5246 §7.4 and RFC 5077 §3.3.
    pub enum HandshakeType: u8 {
        HelloRequest = 0,
        ClientHello = 1,
        ServerHello = 2,
        NewSessionTicket = 4,
        Certificate = 11,
        ServerKeyExchange = 12,
        CertificateRequest = 13,
        ServerHelloDone = 14,
        CertificateVerify = 15,
        ClientKeyExchange = 16,
        Finished = 20,
    }
}

code_points! {
    /// `AlertLevel`, RFC 5246 §7.2.
    pub enum AlertLevel: u8 {
        Warning = 1,
        Fatal = 2,
    }
}

code_points! {
    /// `AlertDescription`: every value of RFC 5246 §7.2, and those the extension RFCs add.
    pub enum AlertDescription: u8 {
        CloseNotify = 0,
        UnexpectedMessage = 10,
        BadRecordMac = 20,
        /// Must not be sent (RFC 5246 §7.2.2).
        DecryptionFailed = 21,
        RecordOverflow = 22,
        DecompressionFailure = 30,
        HandshakeFailure = 40,
        /// SSLv3 only; must not be sent.
        NoCertificate = 41,
        BadCertificate = 42,
        UnsupportedCertificate = 43,
        CertificateRevoked = 44,
        CertificateExpired = 45,
        CertificateUnknown = 46,
        IllegalParameter = 47,
        UnknownCa = 48,
        AccessDenied = 49,
        DecodeError = 50,
        DecryptError = 51,
        /// Must not be sent.
        ExportRestriction = 60,
        ProtocolVersion = 70,
        InsufficientSecurity = 71,
        InternalError = 80,
        /// RFC 7507 §2.
        InappropriateFallback = 86,
        UserCanceled = 90,
        NoRenegotiation = 100,
        UnsupportedExtension = 110,
        /// RFC 6066 §9.
        CertificateUnobtainable = 111,
        /// RFC 6066 §3.
        UnrecognizedName = 112,
        /// RFC 6066 §8.
        BadCertificateStatusResponse = 113,
        /// RFC 6066 §9.
        BadCertificateHashValue = 114,
        /// RFC 4279 §2.
        UnknownPskIdentity = 115,
        /// RFC 7301 §3.2.
        NoApplicationProtocol = 120,
    }
}

code_points! {
    /// `CipherSuite`, RFC 5246 §7.4.1.2 and the IANA registry.
    pub enum CipherSuite: u16 {
        TLS_NULL_WITH_NULL_NULL = {0x00, 0x00},
        TLS_RSA_WITH_AES_128_CBC_SHA = {0x00, 0x2f},
        TLS_DHE_RSA_WITH_AES_128_CBC_SHA = {0x00, 0x33},
        TLS_RSA_WITH_AES_256_CBC_SHA = {0x00, 0x35},
        TLS_DHE_RSA_WITH_AES_256_CBC_SHA = {0x00, 0x39},
        TLS_RSA_WITH_AES_128_CBC_SHA256 = {0x00, 0x3c},
        TLS_RSA_WITH_AES_256_CBC_SHA256 = {0x00, 0x3d},
        TLS_DHE_RSA_WITH_AES_128_CBC_SHA256 = {0x00, 0x67},
        TLS_DHE_RSA_WITH_AES_256_CBC_SHA256 = {0x00, 0x6b},
        TLS_RSA_WITH_AES_128_GCM_SHA256 = {0x00, 0x9c},
        TLS_RSA_WITH_AES_256_GCM_SHA384 = {0x00, 0x9d},
        TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 = {0x00, 0x9e},
        TLS_DHE_RSA_WITH_AES_256_GCM_SHA384 = {0x00, 0x9f},
        TLS_PSK_WITH_AES_128_GCM_SHA256 = {0x00, 0xa8},
        TLS_PSK_WITH_AES_256_GCM_SHA384 = {0x00, 0xa9},
        /// RFC 5746 §3.3: a signal, not a suite.
        TLS_EMPTY_RENEGOTIATION_INFO_SCSV = {0x00, 0xff},
        TLS13_AES_128_GCM_SHA256 = {0x13, 0x01},
        TLS13_AES_256_GCM_SHA384 = {0x13, 0x02},
        TLS13_CHACHA20_POLY1305_SHA256 = {0x13, 0x03},
        /// RFC 7507 §2: a signal, not a suite.
        TLS_FALLBACK_SCSV = {0x56, 0x00},
        TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA = {0xc0, 0x09},
        TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA = {0xc0, 0x0a},
        TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA = {0xc0, 0x13},
        TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA = {0xc0, 0x14},
        TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256 = {0xc0, 0x23},
        TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384 = {0xc0, 0x24},
        TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256 = {0xc0, 0x27},
        TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384 = {0xc0, 0x28},
        /// RFC 5289 §3.2.
        TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 = {0xc0, 0x2b},
        TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 = {0xc0, 0x2c},
        TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 = {0xc0, 0x2f},
        TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 = {0xc0, 0x30},
        /// RFC 5489 §3.
        TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256 = {0xc0, 0x37},
        /// RFC 7905 §2.
        TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 = {0xcc, 0xa8},
        TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 = {0xcc, 0xa9},
        TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256 = {0xcc, 0xaa},
        TLS_PSK_WITH_CHACHA20_POLY1305_SHA256 = {0xcc, 0xab},
        TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256 = {0xcc, 0xac},
        /// RFC 8442 §3.
        TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256 = {0xd0, 0x01},
        TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384 = {0xd0, 0x02},
    }
}

impl CipherSuite {
    /// Whether this value is a signalling cipher suite value rather than a suite.
    pub fn is_scsv(self) -> bool {
        matches!(
            self,
            Self::TLS_EMPTY_RENEGOTIATION_INFO_SCSV | Self::TLS_FALLBACK_SCSV
        )
    }
}

code_points! {
    /// `CompressionMethod`, RFC 5246 §7.4.1.2 and RFC 3749.
    pub enum Compression: u8 {
        Null = 0,
        Deflate = 1,
    }
}

code_points! {
    /// `ExtensionType`, RFC 5246 §7.4.1.4 and the IANA registry.
    pub enum ExtensionType: u16 {
        ServerName = 0,
        MaxFragmentLength = 1,
        StatusRequest = 5,
        SupportedGroups = 10,
        EcPointFormats = 11,
        SignatureAlgorithms = 13,
        UseSrtp = 14,
        Heartbeat = 15,
        ApplicationLayerProtocolNegotiation = 16,
        SignedCertificateTimestamp = 18,
        Padding = 21,
        EncryptThenMac = 22,
        ExtendedMasterSecret = 23,
        SessionTicket = 35,
        PreSharedKey = 41,
        EarlyData = 42,
        SupportedVersions = 43,
        Cookie = 44,
        PskKeyExchangeModes = 45,
        CertificateAuthorities = 47,
        PostHandshakeAuth = 49,
        SignatureAlgorithmsCert = 50,
        KeyShare = 51,
        RenegotiationInfo = 0xff01,
    }
}

code_points! {
    /// `NamedGroup` (formerly `NamedCurve`), RFC 8422 §5.1.1 and RFC 7919.
    pub enum NamedGroup: u16 {
        secp256r1 = 23,
        secp384r1 = 24,
        secp521r1 = 25,
        X25519 = 29,
        X448 = 30,
        FFDHE2048 = 0x0100,
        FFDHE3072 = 0x0101,
        FFDHE4096 = 0x0102,
    }
}

code_points! {
    /// `ECPointFormat`, RFC 8422 §5.1.2.
    pub enum ECPointFormat: u8 {
        Uncompressed = 0,
        ANSIX962CompressedPrime = 1,
        ANSIX962CompressedChar2 = 2,
    }
}

code_points! {
    /// `ECCurveType`, RFC 8422 §5.4. Only `named_curve` is allowed (the explicit forms
    /// were deprecated by RFC 8422).
    pub enum ECCurveType: u8 {
        ExplicitPrime = 1,
        ExplicitChar2 = 2,
        NamedCurve = 3,
    }
}

code_points! {
    /// `SignatureAndHashAlgorithm` (RFC 5246 §7.4.1.4.1): `{hash, signature}`, read as one
    /// `u16` and named as the TLS 1.3 `SignatureScheme` registry names the same code points.
    pub enum SignatureScheme: u16 {
        RSA_PKCS1_SHA1 = {0x02, 0x01},
        ECDSA_SHA1_Legacy = {0x02, 0x03},
        RSA_PKCS1_SHA256 = {0x04, 0x01},
        ECDSA_NISTP256_SHA256 = {0x04, 0x03},
        RSA_PKCS1_SHA384 = {0x05, 0x01},
        ECDSA_NISTP384_SHA384 = {0x05, 0x03},
        RSA_PKCS1_SHA512 = {0x06, 0x01},
        ECDSA_NISTP521_SHA512 = {0x06, 0x03},
        RSA_PSS_SHA256 = {0x08, 0x04},
        RSA_PSS_SHA384 = {0x08, 0x05},
        RSA_PSS_SHA512 = {0x08, 0x06},
        ED25519 = {0x08, 0x07},
        ED448 = {0x08, 0x08},
        RSA_PSS_PSS_SHA256 = {0x08, 0x09},
        RSA_PSS_PSS_SHA384 = {0x08, 0x0a},
        RSA_PSS_PSS_SHA512 = {0x08, 0x0b},
    }
}

code_points! {
    /// `ClientCertificateType`, RFC 5246 §7.4.4 and RFC 8422 §5.5.
    pub enum ClientCertificateType: u8 {
        RSASign = 1,
        DSSSign = 2,
        RSAFixedDH = 3,
        DSSFixedDH = 4,
        ECDSASign = 64,
        RSAFixedECDH = 65,
        ECDSAFixedECDH = 66,
    }
}

code_points! {
    /// `NameType` of the server_name extension, RFC 6066 §3.
    pub enum ServerNameType: u8 {
        HostName = 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_u16_code_point_round_trips() {
        for n in 0..=u16::MAX {
            for typed in [
                CipherSuite::from(n).get(),
                NamedGroup::from(n).get(),
                SignatureScheme::from(n).get(),
                ExtensionType::from(n).get(),
                ProtocolVersion::from(n).get(),
            ] {
                assert_eq!(typed, n);
            }
        }
    }

    #[test]
    fn every_u8_code_point_round_trips() {
        for n in 0..=u8::MAX {
            assert_eq!(AlertDescription::from(n).get(), n);
            assert_eq!(HandshakeType::from(n).get(), n);
            assert_eq!(ContentType::from(n).get(), n);
            assert_eq!(ClientCertificateType::from(n).get(), n);
        }
    }

    #[test]
    fn known_values_never_decode_as_unknown() {
        for suite in CipherSuite::KNOWN {
            assert!(!matches!(
                CipherSuite::from(suite.get()),
                CipherSuite::Unknown(_)
            ));
        }
        assert_eq!(
            CipherSuite::from(0x00ff),
            CipherSuite::TLS_EMPTY_RENEGOTIATION_INFO_SCSV
        );
        assert_eq!(CipherSuite::from(0x5600), CipherSuite::TLS_FALLBACK_SCSV);
        assert!(CipherSuite::TLS_FALLBACK_SCSV.is_scsv());
        assert_eq!(CipherSuite::from(0xabcd), CipherSuite::Unknown(0xabcd));
        // Written as byte pairs: spot-check the pairs against the numbers (RFC 5289,
        // RFC 7905, RFC 5246 Appendix A.5).
        for (suite, value) in [
            (CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, 0xc02b),
            (CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, 0xc030),
            (
                CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
                0xcca9,
            ),
            (CipherSuite::TLS_RSA_WITH_AES_128_CBC_SHA, 0x002f),
        ] {
            assert_eq!((suite.get(), CipherSuite::from(value)), (value, suite));
        }
    }

    #[test]
    fn signature_schemes_are_hash_then_signature() {
        // RFC 5246 §7.4.1.4.1 (sha256 = 4, ecdsa = 3, sha1 = 2, rsa = 1) and RFC 8446
        // §4.2.3 (rsa_pss_rsae_sha256 = 0x0804, ed25519 = 0x0807).
        for (scheme, value) in [
            (SignatureScheme::ECDSA_NISTP256_SHA256, 0x0403),
            (SignatureScheme::RSA_PKCS1_SHA1, 0x0201),
            (SignatureScheme::RSA_PSS_SHA256, 0x0804),
            (SignatureScheme::ED25519, 0x0807),
        ] {
            assert_eq!(
                (scheme.get(), SignatureScheme::from(value)),
                (value, scheme)
            );
        }
        for scheme in SignatureScheme::KNOWN {
            assert_ne!(
                SignatureScheme::from(scheme.get()),
                SignatureScheme::Unknown(scheme.get())
            );
        }
    }

    #[test]
    fn rfc5246_alert_codes() {
        // RFC 5246 §7.2: spot-check the numbering.
        assert_eq!(AlertDescription::BadRecordMac.get(), 20);
        assert_eq!(AlertDescription::DecodeError.get(), 50);
        assert_eq!(AlertDescription::NoRenegotiation.get(), 100);
        assert_eq!(AlertDescription::UnsupportedExtension.get(), 110);
    }
}
