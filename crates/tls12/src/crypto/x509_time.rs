//! The validity period of an X.509 certificate (RFC 5280 §4.1.2.5), read straight from its
//! DER. webpki checks validity while it builds a path; a certificate trusted as it is
//! (configured as a root and presented as the peer's own) builds no path, so its period
//! is read here. Only the few DER shapes on the way to `validity` are walked.

/// `notBefore` and `notAfter` as seconds since the Unix epoch, or `None` when the
/// certificate does not parse that far.
pub(crate) fn validity(cert: &[u8]) -> Option<(u64, u64)> {
    let (certificate, _) = element(cert, SEQUENCE)?;
    let (tbs, _) = element(certificate, SEQUENCE)?;
    let mut rest = tbs;
    // version [0] EXPLICIT, optional.
    if rest.first() == Some(&0xa0) {
        rest = element(rest, 0xa0)?.1;
    }
    let (_serial, rest) = element(rest, INTEGER)?;
    let (_signature, rest) = element(rest, SEQUENCE)?;
    let (_issuer, rest) = element(rest, SEQUENCE)?;
    let (validity, _) = element(rest, SEQUENCE)?;
    let (not_before, rest) = time(validity)?;
    let (not_after, rest) = time(rest)?;
    rest.is_empty().then_some((not_before, not_after))
}

const INTEGER: u8 = 0x02;
const SEQUENCE: u8 = 0x30;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;

/// One DER element of tag `tag`: its contents and what follows it.
fn element(der: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&first, rest) = der.split_first()?;
    if first != tag {
        return None;
    }
    let (&len, rest) = rest.split_first()?;
    let (len, rest) = match len {
        0..=0x7f => (usize::from(len), rest),
        0x81..=0x84 => {
            let n = usize::from(len & 0x7f);
            let bytes = rest.get(..n)?;
            let len = bytes
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            (len, &rest[n..])
        }
        _ => return None,
    };
    Some((rest.get(..len)?, rest.get(len..)?))
}

/// A `Time` (RFC 5280 §4.1.2.5.1, §4.1.2.5.2): UTCTime `YYMMDDHHMMSSZ` (years 1950 to
/// 2049) or GeneralizedTime `YYYYMMDDHHMMSSZ`.
fn time(der: &[u8]) -> Option<(u64, &[u8])> {
    let (year, digits, rest) = match *der.first()? {
        UTC_TIME => {
            let (value, rest) = element(der, UTC_TIME)?;
            let yy = number(value.get(..2)?)?;
            let year = if yy >= 50 { 1900 + yy } else { 2000 + yy };
            (year, value.get(2..)?, rest)
        }
        GENERALIZED_TIME => {
            let (value, rest) = element(der, GENERALIZED_TIME)?;
            (number(value.get(..4)?)?, value.get(4..)?, rest)
        }
        _ => return None,
    };
    if digits.len() != 11 || digits[10] != b'Z' {
        return None;
    }
    let field = |i: usize| number(&digits[i..i + 2]);
    let (month, day) = (field(0)?, field(2)?);
    let (hour, minute, second) = (field(4)?, field(6)?, field(8)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    let days = days_from_civil(year, month, day)?;
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second.min(60);
    Some((seconds, rest))
}

fn number(digits: &[u8]) -> Option<u64> {
    digits.iter().try_fold(0u64, |acc, d| {
        d.is_ascii_digit().then(|| acc * 10 + u64::from(d - b'0'))
    })
}

/// Days from 1970-01-01 to a proleptic Gregorian date (the civil-from-days inverse of H.
/// Hinnant's date algorithms); `None` before 1970.
fn days_from_civil(year: u64, month: u64, day: u64) -> Option<u64> {
    let y = if month <= 2 {
        year.checked_sub(1)?
    } else {
        year
    };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).checked_sub(719_468)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_count_days_from_the_epoch() {
        assert_eq!(days_from_civil(1970, 1, 1), Some(0));
        assert_eq!(days_from_civil(2000, 3, 1), Some(11_017));
        assert_eq!(days_from_civil(2024, 2, 29), Some(19_782));
        assert_eq!(days_from_civil(1969, 12, 31), None);
    }

    #[test]
    fn both_time_forms_read() {
        let utc = [&[UTC_TIME, 13][..], b"491231235959Z"].concat();
        assert_eq!(time(&utc).map(|t| t.0), Some(2_524_607_999));
        let utc_old = [&[UTC_TIME, 13][..], b"700101000000Z"].concat();
        assert_eq!(time(&utc_old).map(|t| t.0), Some(0));
        let general = [&[GENERALIZED_TIME, 15][..], b"20500101000000Z"].concat();
        assert_eq!(time(&general).map(|t| t.0), Some(2_524_608_000));
        for bad in [
            &b"2050010100000Z"[..],
            b"20501301000000Z",
            b"2050010100000+0",
        ] {
            let der = [&[GENERALIZED_TIME, bad.len() as u8][..], bad].concat();
            assert_eq!(time(&der), None, "{bad:?}");
        }
    }

    #[test]
    fn truncated_certificates_have_no_validity() {
        assert_eq!(validity(&[]), None);
        assert_eq!(validity(&[SEQUENCE, 0x82, 0xff]), None);
        assert_eq!(validity(&[SEQUENCE, 2, SEQUENCE, 0]), None);
    }
}
