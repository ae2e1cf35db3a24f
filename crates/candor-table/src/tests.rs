//! Unit tests of the CSV reader and column typing.

use super::*;
use std::sync::Arc;

use arrow_array::types::Int8Type;
use arrow_array::{DictionaryArray, Float64Array, Int32Array, RecordBatch, StringArray};

fn table(csv: &str) -> Result<Table, TableError> {
    Table::from_bytes(Path::new("t.csv"), csv.as_bytes())
}

fn err(csv: &str) -> String {
    match table(csv) {
        Ok(_) => "ok".into(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn reading_errors_name_file_line_and_column() {
    let cases = [
        ("", "t.csv: the file is empty (no header row)"),
        ("a,b\n", "t.csv: the file has a header but no data rows"),
        ("a,b\n1,2\n3\n", "t.csv: line 3: expected 2 fields as in the header, found 1"),
        ("a,a\n1,2\n", "t.csv: line 1: header names column `a` twice"),
        ("a,b\n1,2\n\n3,4\n", "ok"),
        // Windows line endings count as one line each, as do line breaks inside quotes.
        ("a,b\r\n1,2\r\n3,4\r\n5\r\n", "t.csv: line 4: expected 2 fields as in the header, found 1"),
        ("a,a\r\n1,2\r\n", "t.csv: line 1: header names column `a` twice"),
        ("a,b\n\"x\ny\",2\n3\n", "t.csv: line 4: expected 2 fields as in the header, found 1"),
    ];
    for (input, want) in cases {
        assert_eq!(err(input), want, "input {input:?}");
    }
    // A value's place in a file with Windows line endings, for the errors about values.
    let t = table("a,b\r\n1,2\r\n3,x\r\n").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.place(1), "line 3");
    assert_eq!(
        t.numbers(1).map(|_| ()).map_err(|e| e.to_string()),
        Err("t.csv: line 3, column `b`: expected a number, found \"x\"".to_string())
    );
}

#[test]
fn columns_are_typed_by_content_and_missing_tokens_are_recognised() {
    let t = table("n,c,m\n1,x,\n2.5,y,NA\nnull,NA,nan\n").unwrap_or_else(|e| panic!("{e}"));
    let Values::Numeric(n) = t.column(0, false).values else { panic!("n should be numeric") };
    assert_eq!(n[..2], [1.0, 2.5]);
    assert!(n[2].is_nan());
    let Values::Categorical { codes, levels } = t.column(1, false).values else { panic!("c should be categorical") };
    assert_eq!(levels, ["x", "y"]);
    assert_eq!(codes, [0, 1, MISSING_CODE]);
    let Values::Categorical { levels, .. } = t.column(0, true).values else { panic!("forced categorical") };
    assert_eq!(levels, ["1", "2.5"]);
}

#[test]
fn target_must_be_two_valued_and_the_bad_value_known() {
    let t = |csv: &str, bad: Option<&str>| match table(csv).and_then(|t| t.target("y", bad)) {
        Ok(v) => format!("{v:?}"),
        Err(e) => e.to_string(),
    };
    assert_eq!(t("y\n0\n1\n1\n", None), "[false, true, true]");
    assert_eq!(t("y\ngood\nBAD\n", None), "[false, true]");
    assert_eq!(t("y\nyes\nno\n", Some("yes")), "[true, false]");
    assert_eq!(t("y\n1\n1\n", None), "t.csv: column `y`: the target must have exactly two values, found `1`");
    assert_eq!(
        t("y\n0\n1\n2\n", None),
        "t.csv: column `y`: the target must have exactly two values, found `0`, `1`, `2`"
    );
    assert_eq!(
        t("y\n0\n1\n2\n1\n3\n", None),
        "t.csv: column `y`: the target must have exactly two values, found `0`, `1`, `2` and more"
    );
    assert_eq!(t("y\n0\nNA\n1\n", None), "t.csv: line 3, column `y`: the target is missing");
    assert_eq!(
        t("y\nyes\nno\n", None),
        "t.csv: column `y`: the target has values `yes`, `no`; say which one is bad with --bad-value (0/1 and good/bad are recognised)"
    );
    assert_eq!(t("x\n1\n", None), "t.csv: no column `y` (the header has: x)");
}

#[test]
fn a_files_digest_is_the_sha256_of_its_bytes_parquet_and_csv_alike() {
    let batch = RecordBatch::try_from_iter([
        ("x", Arc::new(Float64Array::from(vec![1.0, 2.5, -3.0])) as arrow_array::ArrayRef),
        ("s", Arc::new(StringArray::from(vec!["a", "b", "c"])) as arrow_array::ArrayRef),
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let files = [("t.parquet", parquet_bytes(&batch)), ("t.csv", b"x,s\n1,a\n2.5,b\n-3,c\n".to_vec())];
    for (name, bytes) in files {
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap_or_else(|e| panic!("{e}"));
        let want = format!("sha256:{:x}", Sha256::digest(&bytes));
        let with = ReadOptions { columns: None, digest: true, categorical: Vec::new() };
        let table = Table::read_with(&path, &with).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((table.digest(), table.rows()), (want.as_str(), 3), "{name}");
        let without = ReadOptions { digest: false, ..with };
        assert_eq!(Table::read_with(&path, &without).unwrap_or_else(|e| panic!("{e}")).digest(), "", "{name}");
    }
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
        if let Ok(t) = Table::from_bytes(Path::new("f.csv"), &bytes) {
            for c in 0..t.headers().len() {
                let _ = t.column(c, false);
                let _ = t.target(&t.headers()[c].clone(), None);
            }
        }
    }
}

fn parquet_bytes(batch: &RecordBatch) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut buf, batch.schema(), None).unwrap_or_else(|e| panic!("{e}"));
    w.write(batch).unwrap_or_else(|e| panic!("{e}"));
    w.close().unwrap_or_else(|e| panic!("{e}"));
    buf
}

#[test]
fn parquet_columns_arrive_typed_with_nulls_missing() {
    let dict: DictionaryArray<Int8Type> = vec![Some("a"), None, Some("b")].into_iter().collect();
    let batch = RecordBatch::try_from_iter([
        ("x", Arc::new(Float64Array::from(vec![Some(1.5), None, Some(-2.0)])) as arrow_array::ArrayRef),
        ("n", Arc::new(Int32Array::from(vec![Some(0), Some(1), None])) as _),
        ("s", Arc::new(StringArray::from(vec![Some("p"), Some("q"), None])) as _),
        ("d", Arc::new(dict) as _),
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    let t = Table::from_parquet_bytes(Path::new("t.parquet"), parquet_bytes(&batch)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.headers(), ["x", "n", "s", "d"]);
    assert_eq!(t.rows(), 3);
    let Values::Numeric(x) = t.column(0, false).values else { panic!("x numeric") };
    assert_eq!((x[0], x[1].is_nan(), x[2]), (1.5, true, -2.0));
    let Values::Categorical { codes, levels } = t.column(2, false).values else { panic!("s categorical") };
    assert_eq!((codes, levels), (vec![0, 1, MISSING_CODE], vec!["p".to_string(), "q".to_string()]));
    let Values::Categorical { codes, levels } = t.column(3, false).values else { panic!("d categorical") };
    assert_eq!((codes, levels), (vec![0, MISSING_CODE, 1], vec!["a".to_string(), "b".to_string()]));
    assert_eq!(t.place(2), "row 3");
    let target = t.target("n", None).map_err(|e| e.to_string());
    assert_eq!(target.err().as_deref(), Some("t.parquet: row 3, column `n`: the target is missing"));
    let err = t.numbers(2).map_err(|e| e.to_string()).err();
    assert_eq!(err.as_deref(), Some("t.parquet: row 1, column `s`: expected a number, found \"p\""));
}

#[test]
fn an_unreadable_parquet_file_is_named() {
    let e = Table::from_parquet_bytes(Path::new("junk.parquet"), b"not parquet at all".to_vec()).map(|_| ());
    let msg = e.map_err(|e| e.to_string()).err().unwrap_or_default();
    assert!(msg.starts_with("junk.parquet: not a readable Parquet file:"), "{msg}");
}

proptest::proptest! {
    #[test]
    fn arbitrary_parquet_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
        let mut with_magic = b"PAR1".to_vec();
        with_magic.extend(&bytes);
        with_magic.extend(b"PAR1");
        let _ = Table::from_parquet_bytes(Path::new("f.parquet"), with_magic);
    }
}

#[test]
fn parquet_streams_in_batches_that_match_the_whole_file() {
    let rows = 1_000;
    let x: Vec<Option<f64>> = (0..rows).map(|i| (i % 7 != 3).then_some(i as f64 * 0.5)).collect();
    // Categories with padding and missing tokens, which coding must read as text does.
    let s: Vec<Option<String>> = (0..rows)
        .map(|i| match i % 11 {
            4 => Some(" NA ".to_string()),
            7 => Some(format!("  v{} ", i % 13)),
            _ => (i % 5 != 1).then(|| format!("v{}", i % 13)),
        })
        .collect();
    let batch = RecordBatch::try_from_iter([
        (
            "id",
            Arc::new(StringArray::from((0..rows).map(|i| format!("A{i}")).collect::<Vec<_>>()))
                as arrow_array::ArrayRef,
        ),
        ("x", Arc::new(Float64Array::from(x)) as _),
        ("s", Arc::new(StringArray::from(s)) as _),
        ("n", Arc::new(Int32Array::from((0..rows).map(|i| i as i32 % 3).collect::<Vec<_>>())) as _),
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("t.parquet");
    std::fs::write(&path, parquet_bytes(&batch)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(Table::parquet_rows(&path), Some(rows as u64));

    let wanted = ["s", "x", "id"].map(String::from).to_vec();
    let options = ReadOptions { columns: Some(wanted.clone()), digest: false, categorical: Vec::new() };
    let whole = Table::read_with(&path, &options).unwrap_or_else(|e| panic!("{e}"));
    let mut sizes = Vec::new();
    let mut first_places = Vec::new();
    let mut streamed: Vec<Vec<Option<String>>> = vec![Vec::new(); 3];
    Table::read_in_batches(&path, &options, 300, |t| -> Result<(), TableError> {
        assert_eq!(t.headers(), whole.headers());
        sizes.push(t.rows());
        first_places.push(t.place(0));
        for (c, col) in streamed.iter_mut().enumerate() {
            col.extend((0..t.rows()).map(|r| t.text(c, r).map(|v| v.into_owned())));
        }
        Ok(())
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sizes, [300, 300, 300, 100]);
    assert_eq!(first_places, ["row 1", "row 301", "row 601", "row 901"]);
    for (c, col) in streamed.iter().enumerate() {
        let want: Vec<Option<String>> = (0..rows).map(|r| whole.text(c, r).map(|v| v.into_owned())).collect();
        assert_eq!(col, &want, "column {}", whole.headers()[c]);
    }

    // Asked for as categories, the strings arrive coded from the file's dictionaries, reading
    // as the same text, with codes that move out as a categorical column.
    let coded = ReadOptions { categorical: vec!["s".into()], ..options.clone() };
    let mut texts = Vec::new();
    let (si, id) = (whole.index_of("s").unwrap_or_default(), whole.index_of("id").unwrap_or_default());
    Table::read_in_batches(&path, &coded, 300, |mut t| -> Result<(), TableError> {
        assert!(t.is_coded(si) && !t.is_coded(id));
        texts.extend((0..t.rows()).map(|r| t.text(si, r).map(|v| v.into_owned())));
        let Values::Categorical { codes, levels } = t.take_column(si, true).values else { panic!("s categorical") };
        assert!(!t.is_coded(si));
        for (r, &code) in codes.iter().enumerate() {
            assert_eq!(levels.get(code as usize), texts[texts.len() - codes.len() + r].as_ref());
        }
        Ok(())
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(texts, streamed[si]);
    assert!(texts.iter().any(Option::is_none) && texts.contains(&Some("v7".into())));

    // The caller's error stops the stream at once.
    let mut calls = 0;
    let stopped = Table::read_in_batches(&path, &options, 100, |_| {
        calls += 1;
        if calls == 2 {
            return Err(TableError::NoRows { path: path.clone() });
        }
        Ok(())
    });
    assert!(stopped.is_err());
    assert_eq!(calls, 2);

    // An unknown column is named before anything is decoded.
    let unknown = ReadOptions { columns: Some(vec!["nope".into()]), digest: false, categorical: Vec::new() };
    let e = Table::read_in_batches(&path, &unknown, 100, |_| -> Result<(), TableError> { panic!("no batch expected") });
    let msg = e.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.ends_with("no column `nope` (the header has: id, x, s, n)"), "{msg}");
}

#[test]
fn a_parquet_file_without_rows_streams_an_error() {
    let batch =
        RecordBatch::try_from_iter([("x", Arc::new(Float64Array::from(Vec::<f64>::new())) as arrow_array::ArrayRef)])
            .unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("empty.parquet");
    std::fs::write(&path, parquet_bytes(&batch)).unwrap_or_else(|e| panic!("{e}"));
    let options = ReadOptions { columns: None, digest: false, categorical: Vec::new() };
    let e = Table::read_in_batches(&path, &options, 100, |_| -> Result<(), TableError> { panic!("no batch expected") });
    let msg = e.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.ends_with("empty.parquet: the file has a header but no data rows"), "{msg}");
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config::with_cases(3000))]
    #[test]
    fn a_damaged_parquet_file_streams_an_error_not_a_panic(at in 0.0f64..1.0, value in proptest::num::u8::ANY) {
        // A real file with one byte changed, so that damage reaches the page decoders; in
        // some thousand cases the decoder panics at least once, which must come back an error.
        let dict: DictionaryArray<Int8Type> = (0..500).map(|i| Some(["a", "b", "c"][i % 3])).collect();
        let batch = RecordBatch::try_from_iter([
            ("x", Arc::new(Float64Array::from((0..500).map(|i| i as f64).collect::<Vec<_>>())) as arrow_array::ArrayRef),
            ("d", Arc::new(dict) as _),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        let mut bytes = parquet_bytes(&batch);
        let i = 4 + (at * (bytes.len() - 8) as f64) as usize;
        bytes[i] = value;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("damaged.parquet");
        std::fs::write(&path, &bytes).unwrap_or_else(|e| panic!("{e}"));
        let options = ReadOptions { columns: None, digest: false, categorical: vec!["d".into()] };
        let _ = Table::read_in_batches(&path, &options, 128, |t| -> Result<(), TableError> {
            for c in 0..t.headers().len() {
                let _ = t.column(c, false);
            }
            Ok(())
        });
    }
}
