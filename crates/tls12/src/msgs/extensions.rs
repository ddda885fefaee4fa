//! Hello extensions (RFC 5246 §7.4.1.4): server_name (RFC 6066 §3), supported_groups and
//! ec_point_formats (RFC 8422 §5.1), signature_algorithms (RFC 5246 §7.4.1.4.1),
//! application_layer_protocol_negotiation (RFC 7301 §3.1), extended_master_secret
//! (RFC 7627 §5.1), session_ticket (RFC 5077 §3.2) and renegotiation_info (RFC 5746 §3.2).
//! Any other extension is kept as its type and opaque bytes.
//!
//! An extension's body must be consumed exactly; a block must not name one type twice.

use crate::codec::{Bounds, Codec, InvalidMessage, Prefix, Reader};
use crate::msgs::enums::{
    ECPointFormat, ExtensionType, NamedGroup, ServerNameType, SignatureScheme,
};

const EXTENSIONS: Bounds = Bounds::new("extensions", Prefix::U16, 0, 0xffff);
const EXTENSION_DATA: Bounds = Bounds::new("extension_data", Prefix::U16, 0, 0xffff);
const SERVER_NAME_LIST: Bounds = Bounds::new("server_name_list", Prefix::U16, 1, 0xffff);
const HOST_NAME: Bounds = Bounds::new("HostName", Prefix::U16, 1, 0xffff);
const OTHER_NAME: Bounds = Bounds::new("server_name", Prefix::U16, 0, 0xffff);
const NAMED_GROUP_LIST: Bounds = Bounds::new("named_group_list", Prefix::U16, 2, 0xffff);
const EC_POINT_FORMAT_LIST: Bounds = Bounds::new("ec_point_format_list", Prefix::U8, 1, 0xff);
const SIGNATURE_ALGORITHMS: Bounds =
    Bounds::new("supported_signature_algorithms", Prefix::U16, 2, 0xfffe);
const PROTOCOL_NAME_LIST: Bounds = Bounds::new("protocol_name_list", Prefix::U16, 2, 0xffff);
const PROTOCOL_NAME: Bounds = Bounds::new("ProtocolName", Prefix::U8, 1, 0xff);
const RENEGOTIATED_CONNECTION: Bounds = Bounds::new("renegotiated_connection", Prefix::U8, 0, 0xff);

/// One entry of a `ServerNameList` (RFC 6066 §3).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ServerName {
    /// `host_name`, or a future type whose body we keep as `opaque<0..2^16-1>`.
    pub typ: ServerNameType,
    /// The name's bytes: for a `host_name`, ASCII without a trailing dot.
    pub name: Vec<u8>,
}

impl Codec for ServerName {
    fn encode(&self, out: &mut Vec<u8>) {
        self.typ.encode(out);
        HOST_NAME.encode_bytes(out, &self.name);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, InvalidMessage> {
        let typ = ServerNameType::read(r)?;
        let bounds = match typ {
            ServerNameType::HostName => HOST_NAME,
            ServerNameType::Unknown(_) => OTHER_NAME,
        };
        Ok(Self {
            typ,
            name: bounds.read_bytes(r)?,
        })
    }
}

/// A `ProtocolName` of ALPN (RFC 7301 §3.1): `opaque ProtocolName<1..2^8-1>`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProtocolName(pub Vec<u8>);

impl Codec for ProtocolName {
    fn encode(&self, out: &mut Vec<u8>) {
        PROTOCOL_NAME.encode_bytes(out, &self.0);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, InvalidMessage> {
        PROTOCOL_NAME.read_bytes(r).map(Self)
    }
}

/// An extension this crate does not interpret: its type and its `extension_data`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UnknownExtension {
    /// The extension type.
    pub typ: ExtensionType,
    /// The opaque `extension_data`.
    pub data: Vec<u8>,
}

/// An extension in a ClientHello.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ClientExtension {
    /// RFC 6066 §3: at most one name of each type.
    ServerName(Vec<ServerName>),
    /// RFC 8422 §5.1.1 (`named_group_list<2..2^16-1>`).
    SupportedGroups(Vec<NamedGroup>),
    /// RFC 8422 §5.1.2 (`ec_point_format_list<1..2^8-1>`).
    EcPointFormats(Vec<ECPointFormat>),
    /// RFC 5246 §7.4.1.4.1 (`supported_signature_algorithms<2..2^16-2>`).
    SignatureAlgorithms(Vec<SignatureScheme>),
    /// RFC 7301 §3.1 (`protocol_name_list<2..2^16-1>`).
    Alpn(Vec<ProtocolName>),
    /// RFC 7627 §5.1: empty.
    ExtendedMasterSecret,
    /// RFC 5077 §3.2: empty to ask for a ticket, or a ticket to resume.
    SessionTicket(Vec<u8>),
    /// RFC 5746 §3.2: `renegotiated_connection<0..255>`, empty on an initial handshake.
    RenegotiationInfo(Vec<u8>),
    /// Anything else, kept as it was.
    Unknown(UnknownExtension),
}

/// An extension in a ServerHello.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ServerExtension {
    /// RFC 6066 §3: empty, "the name you sent was used".
    ServerNameAck,
    /// RFC 8422 §5.2.
    EcPointFormats(Vec<ECPointFormat>),
    /// RFC 7301 §3.1: exactly one protocol name.
    Alpn(ProtocolName),
    /// RFC 7627 §5.1: empty.
    ExtendedMasterSecret,
    /// RFC 5077 §3.2: empty, "a NewSessionTicket will follow".
    SessionTicketAck,
    /// RFC 5746 §3.2.
    RenegotiationInfo(Vec<u8>),
    /// Anything else, kept as it was.
    Unknown(UnknownExtension),
}

/// What the two extension enums share: a type and a body codec. The block codec below is
/// written once for both.
pub trait Extension: Sized {
    /// The extension's type.
    fn ext_type(&self) -> ExtensionType;
    /// Appends `extension_data`, without its length.
    fn encode_data(&self, out: &mut Vec<u8>);
    /// Reads `extension_data` (exactly `data`) for an extension of type `typ`.
    fn read_data(typ: ExtensionType, data: &mut Reader<'_>) -> Result<Self, InvalidMessage>;
}

fn expect_empty(data: &mut Reader<'_>, what: &'static str) -> Result<(), InvalidMessage> {
    data.expect_empty(what)
}

impl Extension for ClientExtension {
    fn ext_type(&self) -> ExtensionType {
        match self {
            Self::ServerName(_) => ExtensionType::ServerName,
            Self::SupportedGroups(_) => ExtensionType::SupportedGroups,
            Self::EcPointFormats(_) => ExtensionType::EcPointFormats,
            Self::SignatureAlgorithms(_) => ExtensionType::SignatureAlgorithms,
            Self::Alpn(_) => ExtensionType::ApplicationLayerProtocolNegotiation,
            Self::ExtendedMasterSecret => ExtensionType::ExtendedMasterSecret,
            Self::SessionTicket(_) => ExtensionType::SessionTicket,
            Self::RenegotiationInfo(_) => ExtensionType::RenegotiationInfo,
            Self::Unknown(ext) => ext.typ,
        }
    }

    fn encode_data(&self, out: &mut Vec<u8>) {
        match self {
            Self::ServerName(names) => SERVER_NAME_LIST.encode_items(out, names),
            Self::SupportedGroups(groups) => NAMED_GROUP_LIST.encode_items(out, groups),
            Self::EcPointFormats(formats) => EC_POINT_FORMAT_LIST.encode_items(out, formats),
            Self::SignatureAlgorithms(schemes) => SIGNATURE_ALGORITHMS.encode_items(out, schemes),
            Self::Alpn(names) => PROTOCOL_NAME_LIST.encode_items(out, names),
            Self::ExtendedMasterSecret => {}
            Self::SessionTicket(ticket) => out.extend_from_slice(ticket),
            Self::RenegotiationInfo(info) => RENEGOTIATED_CONNECTION.encode_bytes(out, info),
            Self::Unknown(ext) => out.extend_from_slice(&ext.data),
        }
    }

    fn read_data(typ: ExtensionType, data: &mut Reader<'_>) -> Result<Self, InvalidMessage> {
        let ext = match typ {
            ExtensionType::ServerName => {
                let names: Vec<ServerName> = SERVER_NAME_LIST.read_items(data, 0)?;
                // RFC 6066 §3: "MUST NOT contain more than one name of the same name_type".
                for (i, name) in names.iter().enumerate() {
                    if names[..i].iter().any(|earlier| earlier.typ == name.typ) {
                        return Err(InvalidMessage::IllegalValue("server_name_list"));
                    }
                }
                Self::ServerName(names)
            }
            ExtensionType::SupportedGroups => {
                Self::SupportedGroups(NAMED_GROUP_LIST.read_u16s(data)?)
            }
            ExtensionType::EcPointFormats => {
                Self::EcPointFormats(EC_POINT_FORMAT_LIST.read_u8s(data)?)
            }
            ExtensionType::SignatureAlgorithms => {
                Self::SignatureAlgorithms(SIGNATURE_ALGORITHMS.read_u16s(data)?)
            }
            ExtensionType::ApplicationLayerProtocolNegotiation => {
                Self::Alpn(PROTOCOL_NAME_LIST.read_items(data, 0)?)
            }
            ExtensionType::ExtendedMasterSecret => {
                expect_empty(data, "extended_master_secret")?;
                Self::ExtendedMasterSecret
            }
            ExtensionType::SessionTicket => Self::SessionTicket(data.rest().to_vec()),
            ExtensionType::RenegotiationInfo => {
                Self::RenegotiationInfo(RENEGOTIATED_CONNECTION.read_bytes(data)?)
            }
            typ => Self::Unknown(UnknownExtension {
                typ,
                data: data.rest().to_vec(),
            }),
        };
        Ok(ext)
    }
}

impl Extension for ServerExtension {
    fn ext_type(&self) -> ExtensionType {
        match self {
            Self::ServerNameAck => ExtensionType::ServerName,
            Self::EcPointFormats(_) => ExtensionType::EcPointFormats,
            Self::Alpn(_) => ExtensionType::ApplicationLayerProtocolNegotiation,
            Self::ExtendedMasterSecret => ExtensionType::ExtendedMasterSecret,
            Self::SessionTicketAck => ExtensionType::SessionTicket,
            Self::RenegotiationInfo(_) => ExtensionType::RenegotiationInfo,
            Self::Unknown(ext) => ext.typ,
        }
    }

    fn encode_data(&self, out: &mut Vec<u8>) {
        match self {
            Self::ServerNameAck | Self::ExtendedMasterSecret | Self::SessionTicketAck => {}
            Self::EcPointFormats(formats) => EC_POINT_FORMAT_LIST.encode_items(out, formats),
            Self::Alpn(name) => PROTOCOL_NAME_LIST.encode_items(out, std::slice::from_ref(name)),
            Self::RenegotiationInfo(info) => RENEGOTIATED_CONNECTION.encode_bytes(out, info),
            Self::Unknown(ext) => out.extend_from_slice(&ext.data),
        }
    }

    fn read_data(typ: ExtensionType, data: &mut Reader<'_>) -> Result<Self, InvalidMessage> {
        let ext = match typ {
            ExtensionType::ServerName => {
                expect_empty(data, "server_name")?;
                Self::ServerNameAck
            }
            ExtensionType::EcPointFormats => {
                Self::EcPointFormats(EC_POINT_FORMAT_LIST.read_u8s(data)?)
            }
            ExtensionType::ApplicationLayerProtocolNegotiation => {
                let mut names: Vec<ProtocolName> = PROTOCOL_NAME_LIST.read_items(data, 0)?;
                // RFC 7301 §3.1: the server's list "MUST contain exactly one".
                match (names.pop(), names.is_empty()) {
                    (Some(name), true) => Self::Alpn(name),
                    _ => return Err(InvalidMessage::IllegalValue("ALPN selection")),
                }
            }
            ExtensionType::ExtendedMasterSecret => {
                expect_empty(data, "extended_master_secret")?;
                Self::ExtendedMasterSecret
            }
            ExtensionType::SessionTicket => {
                expect_empty(data, "session_ticket")?;
                Self::SessionTicketAck
            }
            ExtensionType::RenegotiationInfo => {
                Self::RenegotiationInfo(RENEGOTIATED_CONNECTION.read_bytes(data)?)
            }
            typ => Self::Unknown(UnknownExtension {
                typ,
                data: data.rest().to_vec(),
            }),
        };
        Ok(ext)
    }
}

/// Writes an `extensions<0..2^16-1>` block.
pub fn encode_extensions<E: Extension>(out: &mut Vec<u8>, extensions: &[E]) {
    EXTENSIONS.encode_with(out, |out| {
        for ext in extensions {
            ext.ext_type().encode(out);
            EXTENSION_DATA.encode_with(out, |out| ext.encode_data(out));
        }
    });
}

/// Reads an `extensions<0..2^16-1>` block, refusing a type seen twice.
///
/// A block may hold 16,383 empty extensions: duplicates are found by sorting the types
/// once the block is read, not by comparing each extension with every earlier one.
pub fn read_extensions<E: Extension>(r: &mut Reader<'_>) -> Result<Vec<E>, InvalidMessage> {
    let mut block = EXTENSIONS.body(r)?;
    let mut extensions: Vec<E> = Vec::new();
    let mut types: Vec<u16> = Vec::new();
    while block.any_left() {
        let typ = ExtensionType::read(&mut block)?;
        types.push(typ.get());
        let mut data = EXTENSION_DATA.body(&mut block)?;
        let ext = E::read_data(typ, &mut data)?;
        data.expect_empty("extension_data")?;
        extensions.push(ext);
    }
    types.sort_unstable();
    if let Some(pair) = types.windows(2).find(|pair| pair[0] == pair[1]) {
        return Err(InvalidMessage::DuplicateExtension(pair[0]));
    }
    Ok(extensions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msgs::enums::AlertDescription;

    fn client_ext(typ: u16, data: &[u8]) -> Result<Vec<ClientExtension>, InvalidMessage> {
        let mut block = Vec::new();
        block.extend_from_slice(&(4 + data.len() as u16).to_be_bytes());
        block.extend_from_slice(&typ.to_be_bytes());
        block.extend_from_slice(&(data.len() as u16).to_be_bytes());
        block.extend_from_slice(data);
        read_extensions(&mut Reader::new(&block))
    }

    #[test]
    fn malformed_extension_bodies_are_decode_errors() {
        let cases: &[(&str, u16, &[u8])] = &[
            ("empty group list", 10, &[0, 0]),
            ("odd group list", 10, &[0, 3, 0, 23, 0]),
            ("empty point formats", 11, &[0]),
            ("empty signature algorithms", 13, &[0, 0]),
            ("odd signature algorithms", 13, &[0, 1, 4]),
            ("non-empty extended_master_secret", 23, &[0]),
            ("empty ALPN name", 16, &[0, 1, 0]),
            ("empty host name", 0, &[0, 3, 0, 0, 0]),
            ("trailing bytes after renegotiation_info", 0xff01, &[0, 0]),
            ("truncated server_name list", 0, &[0, 9, 0, 0, 2, b'a']),
        ];
        for (name, typ, data) in cases {
            let err = client_ext(*typ, data).expect_err(name);
            assert_eq!(err.alert(), AlertDescription::DecodeError, "{name}: {err}");
        }
    }

    #[test]
    fn two_host_names_are_an_illegal_parameter() {
        let data = [0, 8, 0, 0, 1, b'a', 0, 0, 1, b'b'];
        let err = client_ext(0, &data).unwrap_err();
        assert_eq!(err.alert(), AlertDescription::IllegalParameter);
    }

    #[test]
    fn duplicate_extensions_are_an_illegal_parameter() {
        let block = [0, 8, 0, 23, 0, 0, 0, 23, 0, 0];
        let err = read_extensions::<ClientExtension>(&mut Reader::new(&block)).unwrap_err();
        assert_eq!(err, InvalidMessage::DuplicateExtension(23));
        assert_eq!(err.alert(), AlertDescription::IllegalParameter);
        let err = read_extensions::<ServerExtension>(&mut Reader::new(&block)).unwrap_err();
        assert_eq!(err, InvalidMessage::DuplicateExtension(23));
    }

    #[test]
    fn a_server_selects_exactly_one_protocol() {
        let two = [0, 10, 0, 16, 0, 6, 0, 4, 1, b'a', 1, b'b'];
        let err = read_extensions::<ServerExtension>(&mut Reader::new(&two)).unwrap_err();
        assert_eq!(err.alert(), AlertDescription::IllegalParameter);
        let one = [0, 8, 0, 16, 0, 4, 0, 2, 1, b'a'];
        let exts = read_extensions::<ServerExtension>(&mut Reader::new(&one)).unwrap();
        assert_eq!(exts, [ServerExtension::Alpn(ProtocolName(b"a".to_vec()))]);
    }

    #[test]
    fn unknown_extensions_are_kept() {
        let exts = client_ext(0x1234, &[9, 9, 9]).unwrap();
        let unknown = UnknownExtension {
            typ: ExtensionType::Unknown(0x1234),
            data: vec![9; 3],
        };
        assert_eq!(exts, [ClientExtension::Unknown(unknown)]);
    }
}
