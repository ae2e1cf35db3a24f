//! Measures Metro 2 reading speed: builds a file of N accounts (the peer's fixture account with a
//! different account number each, J1/J2/K3/L1/N1 segments included) in the character and packed
//! forms, then reads each several times and prints MB/s as JSON. Used by `bench/run file`.

use std::time::Instant;

use candor_metro2::{read, write, Value};

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");
    let mut out = Vec::new();
    for name in ["unpacked_fixed_file.dat", "packed_file.dat"] {
        let seed = read(&std::fs::read(format!("{dir}{name}")).expect("fixture")).expect("fixture reads");
        let mut file = seed.clone();
        let record = seed.data[0].clone();
        let account = record.base.layout.field("consumerAccountNumber").expect("field");
        file.data = (0..n)
            .map(|i| {
                let mut r = record.clone();
                r.base.values[account] = Value::Text(format!("ACCT{i:012}"));
                r
            })
            .collect();
        let total = file.trailer.layout.field("totalBaseRecords").expect("field");
        file.trailer.values[total] = Value::Int(n as i64);
        let bytes = write(&file).expect("write");
        let mut best = f64::MAX;
        for _ in 0..3 {
            let t = Instant::now();
            let parsed = read(&bytes).expect("read");
            assert_eq!(parsed.data.len(), n);
            best = best.min(t.elapsed().as_secs_f64());
        }
        out.push(format!(
            r#"{{"form":"{}","accounts":{n},"bytes":{},"seconds":{best:.4},"mb_per_second":{:.1}}}"#,
            if name.starts_with("packed") { "packed" } else { "character" },
            bytes.len(),
            bytes.len() as f64 / 1e6 / best
        ));
    }
    println!("[{}]", out.join(","));
}
