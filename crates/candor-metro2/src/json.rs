//! The peer's JSON form of a Metro 2 file: `{"header": {...}, "data": [{"base": {...}, "j1":
//! [...], "k1": {...}, ...}], "trailer": {...}}`, with the peer's field names, dates as
//! `YYYY-MM-DDT00:00:00Z` and empty optional fields left out.
//!
//! Reading the JSON form is strict: an unknown key, a value of the wrong type or a date that is
//! not UTC is an error naming the record and the key.

use serde_json::{Map, Value as Json};
use time::{Date, Month, PrimitiveDateTime, Time};

use crate::layout::{self, Kind, Layout, CHARACTER_LEN, PACKED_LEN};
use crate::{DataRecord, Error, File, Format, Record, Value};

pub fn to_json(file: &File) -> Json {
    let mut root = Map::new();
    root.insert("header".into(), record_json(&file.header, true));
    let data = file
        .data
        .iter()
        .map(|d| {
            let mut object = Map::new();
            object.insert("base".into(), record_json(&d.base, true));
            for layout in layout::segments() {
                let mut found = d.segments.iter().filter(|s| std::ptr::eq(s.layout, layout)).peekable();
                if found.peek().is_none() {
                    continue;
                }
                let value = if matches!(layout.name, "j1" | "j2") {
                    Json::Array(found.map(|s| record_json(s, false)).collect())
                } else {
                    found.next().map_or(Json::Null, |s| record_json(s, false))
                };
                object.insert(layout.name.into(), value);
            }
            Json::Object(object)
        })
        .collect();
    root.insert("data".into(), Json::Array(data));
    root.insert("trailer".into(), record_json(&file.trailer, true));
    Json::Object(root)
}

fn record_json(record: &Record, descriptors: bool) -> Json {
    let mut object = Map::new();
    if descriptors {
        if let Some(bdw) = record.bdw {
            object.insert("blockDescriptorWord".into(), bdw.into());
        }
        object.insert("recordDescriptorWord".into(), record.rdw.into());
    }
    for (field, value) in record.layout.fields.iter().zip(&record.values) {
        if field.is_reserved() || (field.omit_empty && value.is_empty()) {
            continue;
        }
        let json = match value {
            Value::Text(s) => Json::String(s.clone()),
            Value::Int(v) => (*v).into(),
            Value::Date(Some(d)) => Json::String(format!("{}T00:00:00Z", iso_date(*d))),
            Value::Stamp(Some(t)) => {
                Json::String(format!("{}T{:02}:{:02}:{:02}Z", iso_date(t.date()), t.hour(), t.minute(), t.second()))
            }
            Value::Date(None) | Value::Stamp(None) => continue,
        };
        object.insert(field.name.into(), json);
    }
    Json::Object(object)
}

fn iso_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Reads the JSON form. The physical form follows the peer's rule: a header record length of 366
/// (or a block descriptor word with any length but 426) means packed.
pub fn from_json(json: &Json) -> Result<File, Error> {
    let root = json.as_object().ok_or_else(|| Error::at(0, "", "the JSON form must be an object"))?;
    for key in root.keys() {
        if !matches!(key.as_str(), "header" | "data" | "trailer") {
            return Err(Error::at(0, "", format!("unknown key `{key}` (expected header, data, trailer)")));
        }
    }
    let header = root.get("header").and_then(Json::as_object).ok_or_else(|| Error::at(1, "header", "missing"))?;
    let rdw = header.get("recordDescriptorWord").and_then(Json::as_u64).unwrap_or(0) as usize;
    let bdw = header.get("blockDescriptorWord").and_then(Json::as_u64).unwrap_or(0);
    let format =
        if rdw == PACKED_LEN || (rdw != CHARACTER_LEN && bdw > 0) { Format::Packed } else { Format::Character };
    let (header_layout, base_layout, trailer_layout): (&'static Layout, &'static Layout, &'static Layout) = match format
    {
        Format::Character => (&layout::HEADER, &layout::BASE, &layout::TRAILER),
        Format::Packed => (&layout::PACKED_HEADER, &layout::PACKED_BASE, &layout::PACKED_TRAILER),
    };
    let header = record_from(1, header_layout, header, true)?;
    let empty = Vec::new();
    let items = match root.get("data") {
        None => &empty,
        Some(d) => d.as_array().ok_or_else(|| Error::at(0, "", "`data` must be an array"))?,
    };
    let mut data = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        data.push(data_from(i + 2, base_layout, item)?);
    }
    let number = data.len() + 2;
    let trailer =
        root.get("trailer").and_then(Json::as_object).ok_or_else(|| Error::at(number, "trailer", "missing"))?;
    let trailer = record_from(number, trailer_layout, trailer, true)?;
    Ok(File { format, header, data, trailer })
}

fn data_from(number: usize, base_layout: &'static Layout, item: &Json) -> Result<DataRecord, Error> {
    let object = item.as_object().ok_or_else(|| Error::at(number, "", "a data record must be an object"))?;
    let base = object.get("base").and_then(Json::as_object).ok_or_else(|| Error::at(number, "base", "missing"))?;
    let base = record_from(number, base_layout, base, true)?;
    let mut segments = Vec::new();
    for (key, value) in object {
        if key == "base" || value.is_null() {
            continue;
        }
        let layout = layout::segments().into_iter().find(|l| l.name == key).ok_or_else(|| {
            Error::at(number, "", format!("unknown key `{key}` (expected base, j1, j2, k1-k4, l1, n1)"))
        })?;
        let list: Vec<&Json> = match value {
            Json::Array(items) if matches!(layout.name, "j1" | "j2") => items.iter().collect(),
            Json::Object(_) => vec![value],
            _ => return Err(Error::at(number, layout.name, "expected an object (an array for j1 and j2)")),
        };
        for one in list {
            let fields = one.as_object().ok_or_else(|| Error::at(number, layout.name, "expected an object"))?;
            let mut segment = record_from(number, layout, fields, false)?;
            if let Some(i) = layout.field("segmentIdentifier") {
                segment.values[i] = Value::Text(layout.id.to_owned());
            }
            segments.push(segment);
        }
    }
    // The file carries segments in the manual's order, whatever order the JSON keys came in.
    segments.sort_by_key(|s| layout::segments().iter().position(|l| std::ptr::eq(*l, s.layout)));
    Ok(DataRecord { base, segments })
}

fn record_from(
    number: usize,
    layout: &'static Layout,
    object: &Map<String, Json>,
    descriptors: bool,
) -> Result<Record, Error> {
    let mut record = Record::empty(layout);
    let bad = |key: &str, problem: String| Error {
        record: number,
        segment: layout.name,
        field: layout.fields.iter().find(|f| f.name == key).map(|f| f.name),
        problem,
    };
    for (key, json) in object {
        if descriptors && matches!(key.as_str(), "blockDescriptorWord" | "recordDescriptorWord") {
            let word = json.as_u64().filter(|&v| v <= 9999).ok_or_else(|| {
                Error::at(number, layout.name, format!("`{key}` must be a whole number up to 9999, found {json}"))
            })? as u32;
            if key == "blockDescriptorWord" {
                record.bdw = (word > 0).then_some(word);
            } else {
                record.rdw = word;
            }
            continue;
        }
        let index = layout
            .fields
            .iter()
            .position(|f| !f.is_reserved() && f.name == key)
            .ok_or_else(|| Error::at(number, layout.name, format!("unknown key `{key}`")))?;
        let field = &layout.fields[index];
        record.values[index] = match field.kind {
            Kind::Text => Value::Text(
                json.as_str().ok_or_else(|| bad(key, format!("expected a string, found {json}")))?.to_owned(),
            ),
            Kind::Number | Kind::PackedNumber => {
                Value::Int(json.as_i64().ok_or_else(|| bad(key, format!("expected a whole number, found {json}")))?)
            }
            Kind::Date | Kind::PackedDate => Value::Date(parse_time(json).map_err(|p| bad(key, p))?.map(|t| t.date())),
            Kind::Timestamp | Kind::PackedTimestamp => Value::Stamp(parse_time(json).map_err(|p| bad(key, p))?),
        };
    }
    Ok(record)
}

/// `YYYY-MM-DDTHH:MM:SSZ` (or `+00:00`); Go's zero time (year 1) and `null` are no value.
fn parse_time(json: &Json) -> Result<Option<PrimitiveDateTime>, String> {
    let text = match json {
        Json::Null => return Ok(None),
        Json::String(s) => s.as_str(),
        other => return Err(format!("expected a date string, found {other}")),
    };
    let bad = || format!("expected a UTC time YYYY-MM-DDTHH:MM:SSZ, found {text:?}");
    let num = |r: std::ops::Range<usize>| -> Result<u32, String> {
        let part = text.get(r).ok_or_else(bad)?;
        if !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        part.parse().map_err(|_| bad())
    };
    let year = num(0..4)? as i32;
    if text.get(4..5) != Some("-") || text.get(7..8) != Some("-") {
        return Err(bad());
    }
    let month = Month::try_from(num(5..7)? as u8).map_err(|_| bad())?;
    let date = Date::from_calendar_date(year, month, num(8..10)? as u8).map_err(|_| bad())?;
    let time = match text.get(10..) {
        Some("") => Time::MIDNIGHT,
        Some(rest) => {
            let zone = rest.get(9..).ok_or_else(bad)?;
            if !rest.starts_with('T') || !matches!(zone, "Z" | "+00:00") {
                return Err(bad());
            }
            Time::from_hms(num(11..13)? as u8, num(14..16)? as u8, num(17..19)? as u8).map_err(|_| bad())?
        }
        None => return Err(bad()),
    };
    Ok((year > 1).then(|| PrimitiveDateTime::new(date, time)))
}
