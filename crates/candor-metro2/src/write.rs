//! A [`File`] back to Metro 2 bytes, in the form it names.
//!
//! Each record is written at its record descriptor word's length, or at the length its segments
//! need when that is longer; a record with a block descriptor word is written as a one-record
//! block. Values that do not fit their field (too long, negative, too large) are refused with the
//! record and field named rather than cut: a bureau must not shorten an account number silently.

use crate::field::{encode, fill};
use crate::{Error, File, Format, Record};

pub fn write(file: &File) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity((file.data.len() + 2) * 512);
    put_record(&mut out, file.format, 1, &file.header, &[])?;
    for (i, data) in file.data.iter().enumerate() {
        put_record(&mut out, file.format, i + 2, &data.base, &data.segments)?;
    }
    put_record(&mut out, file.format, file.data.len() + 2, &file.trailer, &[])?;
    Ok(out)
}

fn put_descriptor(out: &mut Vec<u8>, format: Format, value: usize, number: usize, what: &str) -> Result<(), Error> {
    match format {
        Format::Character if value <= 9999 => out.extend_from_slice(format!("{value:04}").as_bytes()),
        Format::Packed if value <= usize::from(u16::MAX) => {
            out.extend_from_slice(&(value as u16).to_be_bytes());
            out.extend_from_slice(&[0, 0]);
        }
        _ => return Err(Error::at(number, "", format!("the {what} {value} does not fit a descriptor word"))),
    }
    Ok(())
}

fn put_record(
    out: &mut Vec<u8>,
    format: Format,
    number: usize,
    record: &Record,
    segments: &[Record],
) -> Result<(), Error> {
    let needed = record.layout.len + segments.iter().map(|s| s.layout.len).sum::<usize>();
    let len = needed.max(record.rdw as usize);
    let block_start = out.len();
    let block = record.bdw.map(|bdw| (bdw as usize).max(len + 4));
    if let Some(block) = block {
        put_descriptor(out, format, block, number, "block length")?;
    }
    let start = out.len();
    put_descriptor(out, format, len, number, "record length")?;
    put_fields(out, number, record)?;
    for segment in segments {
        put_fields(out, number, segment)?;
    }
    out.resize(start + len, b' ');
    if let Some(block) = block {
        out.resize(block_start + block, b' ');
    }
    Ok(())
}

fn put_fields(out: &mut Vec<u8>, number: usize, record: &Record) -> Result<(), Error> {
    let layout = record.layout;
    let base = out.len();
    let first = layout.fields.first().map_or(0, |f| f.start);
    out.resize(base + layout.len - first, b' ');
    for (field, value) in layout.fields.iter().zip(&record.values) {
        let slot = &mut out[base + field.start - first..base + field.start - first + field.len];
        if value.is_empty() && !field.is_reserved() {
            fill(field, slot);
            continue;
        }
        encode(field, value, slot).map_err(|problem| Error {
            record: number,
            segment: layout.name,
            field: Some(if field.is_reserved() { "reserved" } else { field.name }),
            problem,
        })?;
    }
    Ok(())
}
