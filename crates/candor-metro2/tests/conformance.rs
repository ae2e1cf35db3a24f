//! Conformance with the peer (`moov-io/metro2`): its fixtures, read field by field; its crashers,
//! read without a panic; and round trips through our writer and the JSON form.

use std::io::Read;
use std::path::{Path, PathBuf};

use candor_metro2::json::{from_json, to_json};
use candor_metro2::{read, read_segment, write, Format};
use proptest::prelude::*;
use serde_json::Value as Json;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn peer_json(name: &str) -> Json {
    serde_json::from_slice(&bytes(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn is_empty(v: &Json) -> bool {
    match v {
        Json::Null => true,
        Json::String(s) => s.is_empty(),
        Json::Number(n) => n.as_i64() == Some(0),
        Json::Array(a) => a.is_empty(),
        Json::Object(o) => o.is_empty(),
        Json::Bool(b) => !b,
    }
}

/// Every field the peer reports equals ours; every field we report beyond the peer's is empty
/// (the peer leaves empty fields out). Returns the paths that differ.
fn differences(path: &str, ours: &Json, peer: &Json, out: &mut Vec<String>) {
    match (ours, peer) {
        (Json::Object(a), Json::Object(b)) => {
            for (key, theirs) in b {
                match a.get(key) {
                    Some(mine) => differences(&format!("{path}.{key}"), mine, theirs, out),
                    None if is_empty(theirs) => {}
                    None => out.push(format!("{path}.{key}: missing, peer has {theirs}")),
                }
            }
            for (key, mine) in a {
                if !b.contains_key(key) && !is_empty(mine) {
                    out.push(format!("{path}.{key}: we have {mine}, the peer has nothing"));
                }
            }
        }
        (Json::Array(a), Json::Array(b)) => {
            if a.len() != b.len() {
                out.push(format!("{path}: {} items, the peer has {}", a.len(), b.len()));
            }
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                differences(&format!("{path}[{i}]"), x, y, out);
            }
        }
        _ if ours == peer => {}
        _ => out.push(format!("{path}: we read {ours}, the peer {peer}")),
    }
}

fn assert_same(ours: &Json, peer: &Json, what: &str) {
    let mut diffs = Vec::new();
    differences("", ours, peer, &mut diffs);
    assert!(diffs.is_empty(), "{what} differs from the peer:\n{}", diffs.join("\n"));
}

#[test]
fn whole_files_read_as_the_peer_reads_them() {
    for (dat, json, format) in [
        ("unpacked_variable_file.dat", "unpacked_variable_file.json", Format::Character),
        ("packed_file.dat", "packed_file.json", Format::Packed),
    ] {
        let file = read(&bytes(dat)).unwrap_or_else(|e| panic!("{dat}: {e}"));
        assert_eq!(file.format, format, "{dat}");
        assert_same(&to_json(&file), &peer_json(json), dat);
    }
}

/// The fixed-length fixture's header is padded to 470 bytes and its descriptor word says so,
/// while the peer's JSON beside it says 426 (the peer writes that JSON, it does not read it from
/// this file). Every other field agrees.
#[test]
fn fixed_length_file_reads_as_the_peer_reads_it() {
    let file = read(&bytes("unpacked_fixed_file.dat")).expect("fixed file");
    assert_eq!(file.header.rdw, 470);
    let mut ours = to_json(&file);
    ours["header"]["recordDescriptorWord"] = 426.into();
    assert_same(&ours, &peer_json("unpacked_fixed_file.json"), "unpacked_fixed_file.dat");
}

#[test]
fn a_lone_base_segment_reads_as_the_peer_reads_it() {
    // base_segment.dat is one blocked base record; frame it with the fixture header and trailer.
    let mut file = bytes("header_record.dat");
    file.extend(bytes("base_segment.dat"));
    file.extend(bytes("trailer_record.dat"));
    let file = read(&file).expect("base segment file");
    let data = &to_json(&file)["data"][0];
    assert_same(data, &peer_json("base_segment.json"), "base_segment.dat");
}

#[test]
fn lone_segments_read_with_every_field() {
    let expected: [(&str, &str, &str); 8] = [
        ("j1_segment.dat", "surname", "BEAUCHAMP"),
        ("j2_segment.dat", "city", "LANSING"),
        ("k1_segment.dat", "originalCreditorName", "WETCOSAT INDUSTRIES LTD."),
        ("k2_segment.dat", "purchasedName", "Purchased From Name"),
        ("k3_segment.dat", "mortgageIdentificationNumber", "Mortgage Number"),
        ("k4_segment.dat", "segmentIdentifier", "K4"),
        ("l1_segment.dat", "newConsumerAccountNumber", "New Consumer Account Number"),
        ("n1_segment.dat", "occupation", "Occupation"),
    ];
    for (name, field, value) in expected {
        let raw = bytes(name);
        let segment = read_segment(&raw).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(segment.text(field), value, "{name}");
        let unwrapped = raw.iter().filter(|&&b| b != b'\n' && b != b'\r').count();
        assert_eq!(segment.layout.len, unwrapped, "{name}");
    }
    let k4 = read_segment(&bytes("k4_segment.dat")).expect("k4");
    assert_eq!(k4.int("balloonPaymentAmount"), 1234);
    assert_eq!(k4.date("balloonPaymentDueDate").map(|d| d.to_string()), Some("2020-01-20".into()));
}

#[test]
fn packed_and_character_forms_of_one_account_agree() {
    let packed = read(&bytes("packed_file.dat")).expect("packed");
    let character = read(&bytes("unpacked_variable_file.dat")).expect("character");
    let base = |file: &candor_metro2::File| {
        let mut j = to_json(file)["data"][0]["base"].clone();
        for key in ["blockDescriptorWord", "recordDescriptorWord"] {
            j.as_object_mut().map(|o| o.remove(key));
        }
        j
    };
    assert_eq!(base(&packed), base(&character));
}

/// What the writer produces is the very bytes the peer wrote, and reads back to the same file.
#[test]
fn fixtures_round_trip_byte_for_byte() {
    for name in ["unpacked_fixed_file.dat", "packed_file.dat"] {
        let raw = bytes(name);
        let file = read(&raw).expect(name);
        let written = write(&file).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(written, raw, "{name}");
        assert_eq!(read(&written).expect(name), file, "{name}");
    }
}

/// The variable-length fixture is line-delimited and its base record's block descriptor word
/// (426) is shorter than the record it holds (1000): our writer repairs the word to the block's
/// real length and writes no line breaks, and everything else reads back unchanged.
#[test]
fn variable_length_fixture_round_trips_with_its_block_word_repaired() {
    let file = read(&bytes("unpacked_variable_file.dat")).expect("variable file");
    assert_eq!(file.data[0].base.bdw, Some(426));
    let written = write(&file).expect("write");
    let mut back = read(&written).expect("read back");
    assert_eq!(back.data[0].base.bdw, Some(1004));
    back.data[0].base.bdw = Some(426);
    assert_eq!(back, file);
}

/// Descriptor words aside, which the writer repairs where the peer's JSON has them stale (the
/// variable file's base block word of 426 for a 1000-byte record).
#[test]
fn json_form_round_trips_through_metro2() {
    for name in ["unpacked_fixed_file.json", "unpacked_variable_file.json", "packed_file.json"] {
        let mut file = from_json(&peer_json(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        for data in &mut file.data {
            data.base.bdw = data.base.bdw.map(|b| b.max(data.base.rdw + 4));
        }
        let written = write(&file).unwrap_or_else(|e| panic!("{name}: {e}"));
        let back = read(&written).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(to_json(&back), to_json(&file), "{name}");
        if name != "unpacked_variable_file.json" {
            assert_same(&to_json(&back), &peer_json(name), name);
        }
    }
}

/// The peer's 10,000-account JSON file carries an `address` key Metro 2 has no field for: it is
/// refused by name. Without it the file reads; written as Metro 2 it is refused only where a value
/// is longer than its field, and that error names the record and the field.
#[test]
fn ten_thousand_accounts_in_the_json_form() {
    let mut text = String::new();
    flate2::read::GzDecoder::new(&bytes("10k_record.json.gz")[..]).read_to_string(&mut text).expect("gunzip");
    let mut json: Json = serde_json::from_str(&text).expect("json");
    let e = from_json(&json).expect_err("must fail");
    assert_eq!(e.to_string(), "record 2 (base segment): unknown key `address`");
    for record in json["data"].as_array_mut().expect("data") {
        for part in ["base", "j1", "j2"] {
            let items = match &mut record[part] {
                Json::Array(items) => items.iter_mut().collect::<Vec<_>>(),
                other => vec![other],
            };
            for item in items {
                item.as_object_mut().map(|o| o.remove("address"));
            }
        }
    }
    let file = from_json(&json).expect("10k file");
    assert_eq!(file.data.len(), 10_000);
    match write(&file) {
        Ok(written) => assert_eq!(read(&written).expect("read back").data.len(), 10_000),
        Err(e) => {
            assert!(e.field.is_some(), "{e}");
            assert!(e.problem.contains("the field holds"), "{e}");
        }
    }
}

#[test]
fn crashers_give_a_clean_error_or_parse() {
    let dir = fixture("crashers");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("crashers") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "output") {
            continue;
        }
        let raw = std::fs::read(&path).expect("crasher");
        if let Err(e) = read(&raw) {
            assert!(!e.problem.is_empty(), "{}", path.display());
        }
        seen += 1;
    }
    assert_eq!(seen, 4);
}

#[test]
fn errors_name_record_segment_and_field() {
    let mut raw = bytes("unpacked_fixed_file.dat");
    // dateOpened of the base record: the header is 470 bytes, the field sits at 75.
    raw[470 + 75..470 + 83].copy_from_slice(b"13452019");
    let e = read(&raw).expect_err("must fail");
    assert_eq!(
        e.to_string(),
        "record 2 (base segment), field `dateOpened`: at byte 75: expected a date MMDDYYYY, found \"13452019\""
    );

    let e = read(b"0426HEADER").expect_err("must fail");
    assert!(e.to_string().contains("only 10 remain"), "{e}");
    let e = read(b"hello, world").expect_err("must fail");
    assert!(e.to_string().contains("not a Metro 2 file"), "{e}");

    let raw = bytes("unpacked_fixed_file.dat");
    let without_trailer = &raw[..raw.len() - 426];
    let e = read(without_trailer).expect_err("must fail");
    assert!(e.to_string().contains("not a trailer"), "{e}");

    let mut json = peer_json("unpacked_fixed_file.json");
    json["data"][0]["base"]["favouriteColour"] = "blue".into();
    let e = from_json(&json).expect_err("must fail");
    assert_eq!(e.to_string(), "record 2 (base segment): unknown key `favouriteColour`");
}

fn mutations() -> impl Strategy<Value = Vec<u8>> {
    let seeds = ["unpacked_fixed_file.dat", "unpacked_variable_file.dat", "packed_file.dat"].map(bytes);
    (
        0..seeds.len(),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..12),
        any::<prop::sample::Index>(),
    )
        .prop_map(move |(which, edits, cut)| {
            let mut raw = seeds[which].clone();
            for (at, byte) in edits {
                let i = at.index(raw.len());
                raw[i] = byte;
            }
            let keep = cut.index(raw.len() + 1);
            if keep > raw.len() / 2 {
                raw.truncate(keep);
            }
            raw
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Damaged fixtures never panic; whatever reads also writes, and what we write reads back
    /// and writes again to the same bytes (one write repairs stale descriptor words and line
    /// breaks; after that nothing changes).
    #[test]
    fn damaged_files_never_panic(raw in mutations()) {
        if let Ok(file) = read(&raw) {
            let _ = to_json(&file);
            if let Ok(written) = write(&file) {
                let again = read(&written).map_err(|e| e.to_string()).and_then(|f| write(&f).map_err(|e| e.to_string()));
                prop_assert_eq!(again, Ok(written));
            }
        }
    }

    #[test]
    fn random_bytes_never_panic(raw in prop::collection::vec(any::<u8>(), 0..2000)) {
        let _ = read(&raw);
        let _ = read_segment(&raw);
    }
}

#[test]
fn errors_never_repeat_personal_data() {
    let mut raw = bytes("unpacked_fixed_file.dat");
    // The SSN of the base record (header is 470 bytes; the field sits at 297): 12345678X.
    raw[470 + 297..470 + 306].copy_from_slice(b"12345678X");
    let e = read(&raw).expect_err("must fail");
    assert_eq!(e.field, Some("socialSecurityNumber"));
    assert!(!e.to_string().contains("12345678"), "{e}");
}
