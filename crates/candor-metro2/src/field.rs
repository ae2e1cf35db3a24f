//! One field's bytes to a [`Value`] and back, for each [`Kind`].
//!
//! Text is Latin-1: each byte is one character, so any byte string survives a round trip.
//! Errors are plain sentences; the caller adds the record, segment and field.

use time::{Date, Month, PrimitiveDateTime, Time};

use crate::layout::{Field, Kind};
use crate::Value;

pub(crate) fn decode(field: &Field, bytes: &[u8]) -> Result<Value, String> {
    if field.is_reserved() {
        return Ok(Value::Text(latin1(bytes)));
    }
    match field.kind {
        Kind::Text => Ok(Value::Text(latin1(trim_blanks(bytes)))),
        Kind::Number => digits(bytes).map(Value::Int).ok_or_else(|| expected("digits", bytes)),
        Kind::Date => date_text(bytes).map(Value::Date).ok_or_else(|| expected("a date MMDDYYYY", bytes)),
        Kind::Timestamp => stamp_text(bytes).map(Value::Stamp).ok_or_else(|| expected("a time MMDDYYYYHHMMSS", bytes)),
        Kind::PackedNumber => Ok(Value::Int(binary(bytes))),
        Kind::PackedDate => signed_binary(bytes)
            .and_then(|v| if v == 0 { Some(None) } else { date_digits(&format!("{v:08}")).map(Some) })
            .map(Value::Date)
            .ok_or_else(|| expected("a packed date", bytes)),
        Kind::PackedTimestamp => signed_binary(bytes)
            .and_then(|v| if v == 0 { Some(None) } else { stamp_digits(&format!("{v:014}")).map(Some) })
            .map(Value::Stamp)
            .ok_or_else(|| expected("a packed time stamp", bytes)),
    }
}

/// Writes `value` into `out` (exactly `field.len` bytes).
pub(crate) fn encode(field: &Field, value: &Value, out: &mut [u8]) -> Result<(), String> {
    debug_assert_eq!(out.len(), field.len);
    match (field.kind, value) {
        (_, Value::Text(s)) if field.is_reserved() => {
            // Reserved space is kept as read, or blank-filled as the manual asks.
            let bytes = to_latin1(s)?;
            if bytes.len() == out.len() {
                out.copy_from_slice(&bytes);
            } else {
                out.fill(b' ');
            }
        }
        (Kind::Text, Value::Text(s)) => {
            let bytes = to_latin1(s)?;
            if bytes.len() > out.len() {
                return Err(format!("{:?} is {} characters, the field holds {}", s, bytes.len(), out.len()));
            }
            out[..bytes.len()].copy_from_slice(&bytes);
            out[bytes.len()..].fill(b' ');
        }
        (Kind::Number, Value::Int(v)) => {
            let text = format!("{v:0width$}", width = out.len());
            if *v < 0 || text.len() > out.len() {
                return Err(format!("{v} does not fit in {} digits", out.len()));
            }
            out.copy_from_slice(text.as_bytes());
        }
        (Kind::PackedNumber, Value::Int(v)) => {
            let max = if out.len() >= 8 { i64::MAX } else { (1i64 << (8 * out.len())) - 1 };
            if *v < 0 || *v > max {
                return Err(format!("{v} does not fit in {} binary bytes", out.len()));
            }
            put_binary(*v as u64, out);
        }
        (Kind::Date, Value::Date(d)) => match d {
            Some(d) => out.copy_from_slice(date_string(*d)?.as_bytes()),
            None => out.fill(b'0'),
        },
        (Kind::Timestamp, Value::Stamp(t)) => match t {
            Some(t) => out.copy_from_slice(stamp_string(*t)?.as_bytes()),
            None => out.fill(b'0'),
        },
        (Kind::PackedDate, Value::Date(d)) => match d {
            Some(d) => put_signed(date_string(*d)?.parse().unwrap_or(0), out),
            None => out.fill(0),
        },
        (Kind::PackedTimestamp, Value::Stamp(t)) => match t {
            Some(t) => put_signed(stamp_string(*t)?.parse().unwrap_or(0), out),
            None => out.fill(0),
        },
        (kind, value) => return Err(format!("a {kind:?} field cannot hold {value:?}")),
    }
    Ok(())
}

/// Filler for a field with no value: blanks for text, zeros for the rest.
pub(crate) fn fill(field: &Field, out: &mut [u8]) {
    match field.kind {
        Kind::Text => out.fill(b' '),
        Kind::Number | Kind::Date | Kind::Timestamp => out.fill(b'0'),
        Kind::PackedNumber | Kind::PackedDate | Kind::PackedTimestamp => out.fill(0),
    }
}

fn expected(what: &str, bytes: &[u8]) -> String {
    format!("expected {what}, found {:?}", latin1(bytes))
}

fn trim_blanks(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().rposition(|&b| b != b' ').map_or(0, |i| i + 1);
    &bytes[..end]
}

fn latin1(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) if bytes.is_ascii() => s.to_owned(),
        _ => bytes.iter().map(|&b| b as char).collect(),
    }
}

fn to_latin1(s: &str) -> Result<Vec<u8>, String> {
    s.chars()
        .map(|c| u8::try_from(u32::from(c)).map_err(|_| format!("{c:?} in {s:?} is not a Latin-1 character")))
        .collect()
}

/// Unsigned decimal; a field of blanks reads as zero, as furnishers often blank-fill.
fn digits(bytes: &[u8]) -> Option<i64> {
    if bytes.iter().all(|&b| b == b' ') {
        return Some(0);
    }
    if bytes.is_empty() || bytes.len() > 18 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(bytes.iter().fold(0i64, |acc, &b| acc * 10 + i64::from(b - b'0')))
}

fn is_empty_date(bytes: &[u8]) -> bool {
    bytes.iter().all(|&b| b == b'0') || bytes.iter().all(|&b| b == b' ')
}

fn date_text(bytes: &[u8]) -> Option<Option<Date>> {
    if is_empty_date(bytes) {
        return Some(None);
    }
    date_digits(std::str::from_utf8(bytes).ok()?).map(Some)
}

fn stamp_text(bytes: &[u8]) -> Option<Option<PrimitiveDateTime>> {
    if is_empty_date(bytes) {
        return Some(None);
    }
    stamp_digits(std::str::from_utf8(bytes).ok()?).map(Some)
}

fn number(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn date_digits(s: &str) -> Option<Date> {
    // Digits only, so every slice below falls on a character boundary.
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let month = Month::try_from(u8::try_from(number(&s[0..2])?).ok()?).ok()?;
    let day = u8::try_from(number(&s[2..4])?).ok()?;
    let year = i32::try_from(number(&s[4..8])?).ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

fn stamp_digits(s: &str) -> Option<PrimitiveDateTime> {
    if s.len() != 14 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let date = date_digits(&s[0..8])?;
    let part = |r: std::ops::Range<usize>| u8::try_from(number(&s[r])?).ok();
    let time = Time::from_hms(part(8..10)?, part(10..12)?, part(12..14)?).ok()?;
    Some(PrimitiveDateTime::new(date, time))
}

fn date_string(d: Date) -> Result<String, String> {
    if !(0..=9999).contains(&d.year()) {
        return Err(format!("year {} does not fit MMDDYYYY", d.year()));
    }
    Ok(format!("{:02}{:02}{:04}", u8::from(d.month()), d.day(), d.year()))
}

fn stamp_string(t: PrimitiveDateTime) -> Result<String, String> {
    Ok(format!("{}{:02}{:02}{:02}", date_string(t.date())?, t.hour(), t.minute(), t.second()))
}

fn binary(bytes: &[u8]) -> i64 {
    let v = bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
    v as i64
}

/// The peer's packed dates: a zero byte, a big-endian integer, then the sign byte `0x73`.
/// All zero bytes is no value.
fn signed_binary(bytes: &[u8]) -> Option<i64> {
    if bytes.iter().all(|&b| b == 0) {
        return Some(0);
    }
    let (&first, rest) = bytes.split_first()?;
    let (&last, middle) = rest.split_last()?;
    (first == 0 && last == 0x73).then(|| binary(middle))
}

fn put_binary(v: u64, out: &mut [u8]) {
    let n = out.len();
    for (i, b) in out.iter_mut().enumerate() {
        let shift = 8 * (n - 1 - i);
        *b = if shift >= 64 { 0 } else { (v >> shift) as u8 };
    }
}

fn put_signed(v: u64, out: &mut [u8]) {
    let n = out.len();
    out[0] = 0;
    put_binary(v, &mut out[1..n - 1]);
    out[n - 1] = 0x73;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{BASE, PACKED_BASE};

    fn field(layout: &crate::layout::Layout, name: &str) -> Field {
        layout.fields[layout.field(name).expect(name)]
    }

    /// Found by the damaged-files property test: a character of several bytes inside a date
    /// once split it mid-character.
    #[test]
    fn dates_and_stamps_with_multibyte_characters_are_refused_not_split() {
        assert_eq!(date_digits("0\u{710}12020"), None);
        assert_eq!(stamp_digits("0\u{710}120200111223"), None);
        assert_eq!(date_text("0\u{710}12020".as_bytes()), None);
    }

    #[test]
    fn every_kind_round_trips() {
        let cases = [
            (field(&BASE, "dateOpened"), &b"11222019"[..]),
            (field(&BASE, "timeStamp"), b"01012020011122"),
            (field(&BASE, "currentBalance"), b"000002233"),
            (field(&BASE, "surname"), b"SMITH-JONES              "),
            (field(&PACKED_BASE, "dateOpened"), &[0, 0xab, 0x3c, 0x03, 0x73]),
            (field(&PACKED_BASE, "timeStamp"), &[0, 0, 0xeb, 0xa1, 0x17, 0xe0, 0x72, 0x73]),
            (field(&PACKED_BASE, "currentBalance"), &[0, 0, 0, 0x08, 0xb9]),
        ];
        for (f, bytes) in cases {
            let value = decode(&f, bytes).expect(f.name);
            let mut out = vec![0u8; f.len];
            encode(&f, &value, &mut out).expect(f.name);
            assert_eq!(out, bytes, "{}", f.name);
        }
        assert_eq!(
            decode(&field(&PACKED_BASE, "timeStamp"), &[0, 0, 0xeb, 0xa1, 0x17, 0xe0, 0x72, 0x73]),
            decode(&field(&BASE, "timeStamp"), b"01012020011122")
        );
    }

    #[test]
    fn bad_bytes_are_named() {
        let e = decode(&field(&BASE, "dateOpened"), b"13452019").expect_err("must fail");
        assert_eq!(e, "expected a date MMDDYYYY, found \"13452019\"");
        let e = decode(&field(&BASE, "currentBalance"), b"00000-233").expect_err("must fail");
        assert!(e.contains("digits"), "{e}");
        assert!(decode(&field(&PACKED_BASE, "dateOpened"), &[1, 2, 3, 4, 5]).is_err());
    }

    #[test]
    fn too_long_or_too_big_is_refused_on_write() {
        let mut out = [0u8; 2];
        assert!(encode(&field(&BASE, "state"), &Value::Text("MIX".into()), &mut out).is_err());
        let mut out = [0u8; 9];
        assert!(encode(&field(&BASE, "currentBalance"), &Value::Int(1_000_000_000), &mut out).is_err());
        assert!(encode(&field(&BASE, "currentBalance"), &Value::Int(-1), &mut out).is_err());
    }
}
