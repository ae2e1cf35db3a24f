//! Splitting a Metro 2 file into records and records into typed fields.
//!
//! The first four bytes tell the form: ASCII digits are a character-format record descriptor
//! word; a 16-bit big-endian length followed by two zero bytes is a packed one. A record may be
//! preceded by a block descriptor word of the same encoding (variable-length, blocked files);
//! a block holds one or more records whose lengths add up to it, then optional blank padding.
//! Line breaks between packed records are skipped; in a character file with line breaks each line
//! is one record (see [`split_lines`]). The first record must be a header, the last a trailer,
//! and everything between is a base segment followed by appended segments and blank padding up to
//! its record length.

use crate::field::decode;
use crate::layout::{self, Layout, CHARACTER_LEN, PACKED_LEN};
use crate::{DataRecord, Error, File, Format, Record};

/// Largest file read at once, in bytes; larger submissions must be split.
pub const MAX_FILE_BYTES: usize = 4 << 30;

pub fn read(input: &[u8]) -> Result<File, Error> {
    if input.len() > MAX_FILE_BYTES {
        return Err(Error::at(0, "", format!("the file is larger than the {MAX_FILE_BYTES}-byte limit")));
    }
    let format = detect(input)?;
    let stripped: Vec<u8>;
    let records = if format == Format::Character && input.contains(&b'\n') {
        if lines_are_records(input) {
            split_lines(input)?
        } else {
            stripped = strip_breaks(input);
            split(&stripped, format)?
        }
    } else {
        split(input, format)?
    };
    let (first, rest) = records.split_first().ok_or_else(|| Error::at(0, "", "the file holds no records"))?;
    let (header_layout, trailer_layout, base_layout): (&Layout, &Layout, &Layout) = match format {
        Format::Character => (&layout::HEADER, &layout::TRAILER, &layout::BASE),
        Format::Packed => (&layout::PACKED_HEADER, &layout::PACKED_TRAILER, &layout::PACKED_BASE),
    };
    if identifier(first.bytes, 6) != b"HEADER" {
        return Err(Error::at(1, "header", "the first record is not a header (no HEADER identifier)"));
    }
    let header = fields(1, header_layout, first)?;
    let (last, middle) = rest.split_last().ok_or_else(|| Error::at(2, "trailer", "the file ends after its header"))?;
    let mut data_records = Vec::with_capacity(middle.len());
    for (i, raw) in middle.iter().enumerate() {
        let number = i + 2;
        if identifier(raw.bytes, 7) == b"TRAILER" {
            return Err(Error::at(number, "trailer", "records follow the trailer"));
        }
        if identifier(raw.bytes, 6) == b"HEADER" {
            return Err(Error::at(number, "header", "a second header inside the file"));
        }
        data_records.push(data_record(number, base_layout, raw)?);
    }
    let number = records.len();
    if identifier(last.bytes, 7) != b"TRAILER" {
        return Err(Error::at(number, "trailer", "the last record is not a trailer (no TRAILER identifier)"));
    }
    let trailer = fields(number, trailer_layout, last)?;
    Ok(File { format, header, data: data_records, trailer })
}

/// A record's bytes (starting at its record descriptor word) and its block descriptor word.
struct Raw<'a> {
    bdw: Option<u32>,
    bytes: &'a [u8],
}

fn detect(input: &[u8]) -> Result<Format, Error> {
    let head = input.get(..4).ok_or_else(|| Error::at(0, "", "the file is shorter than one descriptor word"))?;
    if head.iter().all(u8::is_ascii_digit) {
        Ok(Format::Character)
    } else if head[2] == 0 && head[3] == 0 {
        Ok(Format::Packed)
    } else {
        Err(Error::at(
            1,
            "",
            format!("not a Metro 2 file: the first four bytes {head:?} are neither a character nor a packed descriptor word"),
        ))
    }
}

fn descriptor(bytes: &[u8], format: Format) -> Option<usize> {
    let word = bytes.get(..4)?;
    match format {
        Format::Character => {
            word.iter().all(u8::is_ascii_digit).then(|| word.iter().fold(0, |acc, &b| acc * 10 + usize::from(b - b'0')))
        }
        Format::Packed => (word[2] == 0 && word[3] == 0).then(|| usize::from(u16::from_be_bytes([word[0], word[1]]))),
    }
}

fn min_len(format: Format) -> usize {
    match format {
        Format::Character => CHARACTER_LEN,
        Format::Packed => PACKED_LEN,
    }
}

/// If a block of `bdw` bytes starts at `data[0]`, the lengths of the records inside it. A block
/// may end in blank padding after its last record.
fn block(data: &[u8], bdw: usize, format: Format) -> Option<Vec<usize>> {
    let end = data.len().min(bdw);
    let mut at = 4;
    let mut lens = Vec::new();
    while at < end {
        let Some(rdw) = descriptor(&data[at..], format) else {
            let padding = data[at..end].iter().all(|&b| b == b' ' || b == 0);
            return (padding && !lens.is_empty()).then_some(lens);
        };
        if rdw < min_len(format) || at + rdw > bdw {
            return None;
        }
        lens.push(rdw);
        at += rdw;
    }
    (at == bdw && !lens.is_empty()).then_some(lens)
}

fn strip_breaks(input: &[u8]) -> Vec<u8> {
    input.iter().copied().filter(|&b| b != b'\n' && b != b'\r').collect()
}

/// Whether every line of a character file is long enough to be a whole record (a line of a
/// block descriptor word alone aside); otherwise the line breaks are wrapping, not framing.
fn lines_are_records(input: &[u8]) -> bool {
    input.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l)).all(|line| {
        line.is_empty() || line.len() >= CHARACTER_LEN || (line.len() == 4 && line.iter().all(u8::is_ascii_digit))
    })
}

fn split(data: &[u8], format: Format) -> Result<Vec<Raw<'_>>, Error> {
    let mut records = Vec::new();
    let mut at = 0;
    loop {
        while at < data.len() && matches!(data[at], b'\n' | b'\r') {
            at += 1;
        }
        if at >= data.len() {
            break;
        }
        let number = records.len() + 1;
        let word = descriptor(&data[at..], format).ok_or_else(|| {
            Error::at(
                number,
                "",
                format!("expected a record descriptor word at byte {at}, found {:?}", preview(&data[at..])),
            )
        })?;
        if word < 4 {
            return Err(Error::at(number, "", format!("descriptor word {word} at byte {at} is shorter than itself")));
        }
        if at + word > data.len() {
            return Err(Error::at(
                number,
                "",
                format!("descriptor word at byte {at} says {word} bytes but only {} remain", data.len() - at),
            ));
        }
        match block(&data[at..], word, format) {
            Some(lens) => {
                let mut inner = at + 4;
                for (i, len) in lens.into_iter().enumerate() {
                    let bdw = (i == 0).then_some(word as u32);
                    records.push(Raw { bdw, bytes: &data[inner..inner + len] });
                    inner += len;
                }
            }
            None if word >= min_len(format) => records.push(Raw { bdw: None, bytes: &data[at..at + word] }),
            None => {
                return Err(Error::at(
                    number,
                    "",
                    format!("record length {word} at byte {at} is shorter than the {}-byte minimum", min_len(format)),
                ))
            }
        }
        at += word;
    }
    Ok(records)
}

/// A character file with line breaks: each line is one record, or one block holding one record,
/// and its length (not its descriptor words) frames it, as furnishers' descriptor words in such
/// files are often stale. A line of four digits alone is a block descriptor word for the next.
fn split_lines(data: &[u8]) -> Result<Vec<Raw<'_>>, Error> {
    let mut records = Vec::new();
    let mut pending: Option<u32> = None;
    let mut blocked = false;
    for (i, line) in data.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let number = records.len() + 1;
        let word = descriptor(line, Format::Character).ok_or_else(|| {
            Error::at(number, "", format!("line {}: expected a descriptor word, found {:?}", i + 1, preview(line)))
        })?;
        if line.len() == 4 {
            pending = Some(word as u32);
            continue;
        }
        let at = |offset: usize, id: &[u8]| line.get(offset..offset + id.len()) == Some(id);
        let has_bdw = if at(8, b"HEADER") || at(8, b"TRAILER") {
            true
        } else if at(4, b"HEADER") || at(4, b"TRAILER") {
            false
        } else {
            blocked && descriptor(&line[4..], Format::Character).is_some()
        };
        let (bdw, bytes) = match pending.take() {
            Some(bdw) => (Some(bdw), line),
            None if has_bdw => (Some(word as u32), &line[4..]),
            None => (None, line),
        };
        if records.is_empty() {
            blocked = bdw.is_some();
        }
        if descriptor(bytes, Format::Character).is_none() {
            return Err(Error::at(number, "", format!("line {}: expected a record descriptor word", i + 1)));
        }
        if bytes.len() < CHARACTER_LEN {
            return Err(Error::at(
                number,
                "",
                format!(
                    "line {} holds a {}-byte record, shorter than the {CHARACTER_LEN}-byte minimum",
                    i + 1,
                    bytes.len()
                ),
            ));
        }
        records.push(Raw { bdw, bytes });
    }
    Ok(records)
}

fn preview(bytes: &[u8]) -> String {
    bytes.iter().take(8).map(|&b| if b.is_ascii_graphic() { b as char } else { '.' }).collect()
}

fn identifier(bytes: &[u8], len: usize) -> &[u8] {
    bytes.get(4..4 + len).unwrap_or(&[])
}

fn fields(number: usize, layout: &'static Layout, raw: &Raw<'_>) -> Result<Record, Error> {
    let rdw = descriptor(raw.bytes, format_of(layout)).unwrap_or(raw.bytes.len());
    let mut record = parse_fields(number, layout, raw.bytes)?;
    record.bdw = raw.bdw;
    record.rdw = rdw as u32;
    Ok(record)
}

fn format_of(layout: &Layout) -> Format {
    if layout.len == PACKED_LEN {
        Format::Packed
    } else {
        Format::Character
    }
}

fn parse_fields(number: usize, layout: &'static Layout, bytes: &[u8]) -> Result<Record, Error> {
    if bytes.len() < layout.len {
        return Err(Error::at(
            number,
            layout.name,
            format!("needs {} bytes, the record has {}", layout.len, bytes.len()),
        ));
    }
    let values = layout
        .fields
        .iter()
        .map(|f| {
            decode(f, &bytes[f.start..f.start + f.len]).map_err(|problem| {
                // Errors end up in logs: never repeat a person's identifier, name, birth date,
                // telephone number or address.
                let problem = if is_personal(f.name) { format!("not a valid {:?} value", f.kind) } else { problem };
                Error {
                    record: number,
                    segment: layout.name,
                    field: Some(if f.is_reserved() { "reserved" } else { f.name }),
                    problem: format!("at byte {}: {problem}", f.start),
                }
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Record { layout, bdw: None, rdw: 0, values })
}

/// Fields about the person, whose bytes an error message must not repeat.
pub(crate) fn is_personal(name: &str) -> bool {
    matches!(
        name,
        "socialSecurityNumber"
            | "surname"
            | "firstName"
            | "middleName"
            | "dateBirth"
            | "telephoneNumber"
            | "firstLineAddress"
            | "secondLineAddress"
            | "city"
            | "zipCode"
    )
}

fn data_record(number: usize, base_layout: &'static Layout, raw: &Raw<'_>) -> Result<DataRecord, Error> {
    let base = fields(number, base_layout, raw)?;
    let mut segments: Vec<Record> = Vec::new();
    let bytes = raw.bytes;
    let mut at = base_layout.len;
    while at < bytes.len() {
        let rest = &bytes[at..];
        if rest.iter().all(|&b| b == b' ' || b == 0) {
            break;
        }
        let id = rest.get(..2).unwrap_or(rest);
        let layout = layout::segments().into_iter().find(|l| l.id.as_bytes() == id).ok_or_else(|| {
            Error::at(number, "base", format!("unknown segment identifier {:?} at byte {at}", preview(id)))
        })?;
        if !matches!(layout.name, "j1" | "j2") && segments.iter().any(|s| std::ptr::eq(s.layout, layout)) {
            return Err(Error::at(number, layout.name, format!("a second {} segment at byte {at}", layout.id)));
        }
        if rest.len() < layout.len {
            return Err(Error::at(
                number,
                layout.name,
                format!("the segment at byte {at} needs {} bytes, the record has {} left", layout.len, rest.len()),
            ));
        }
        segments.push(parse_fields(number, layout, &rest[..layout.len])?);
        at += layout.len;
    }
    Ok(DataRecord { base, segments })
}

/// One appended segment (J1, J2, K1–K4, L1 or N1) on its own, as segment fixtures hold them
/// (line breaks inside it are wrapping and are removed).
pub fn read_segment(bytes: &[u8]) -> Result<Record, Error> {
    let bytes = &strip_breaks(bytes)[..];
    let id = bytes.get(..2).unwrap_or(bytes);
    let layout = layout::segments()
        .into_iter()
        .find(|l| l.id.as_bytes() == id)
        .ok_or_else(|| Error::at(0, "", format!("unknown segment identifier {:?}", preview(id))))?;
    parse_fields(0, layout, bytes)
}
