//! A synthetic population, written as the submissions furnishers and courts would send.
//!
//! Each person has a history length (from a newcomer's few months to twelve years; longer
//! histories belong, on average, to steadier people) and a latent risk that drifts month by
//! month over the last three years. Every account's month follows it: a current account misses
//! a payment with a probability rising with the risk; a late one pays up with a probability
//! falling with it, or slips another 30 days, until a lender charges it off at 180 days or a
//! utility sends it to collection at 90. About a quarter of people have no bank account at all
//! and are seen only through utility, telecom, rent and rental accounts; newcomers have one or
//! two accounts. Charged-off debts may become court judgments, some later performed, and a few
//! people, the riskier far more often, have a judgment for a debt no furnisher reports. The
//! simulation runs 12 months past the last reported month, and a person's outcome is whether
//! any account reached 90 days past due in those months — what a scorecard fitted on the
//! features should predict. People already 90+ days late on an open account at the last
//! reported month are left out of the outcomes, as a bureau's development sample leaves them.
//!
//! Output, in `DIR`: `batches/NNNNNN-<sender>.jsonl` (submissions of at most `reports_per_file`
//! reports each, in the order to ingest them) and `outcomes.csv` (`scheme,number,bad`).
//! The same seed gives the same bytes.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

#[derive(Clone, Debug)]
pub struct Config {
    pub subjects: u64,
    pub months: u32,
    pub seed: u64,
    /// The last reported month (year, month).
    pub end: (i32, u8),
    pub reports_per_file: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config { subjects: 10_000, months: 24, seed: 1, end: (2026, 9), reports_per_file: 10_000 }
    }
}

/// Largest population one run writes: the identifiers below are unique up to this many.
pub const MAX_SUBJECTS: u64 = 30 * 1000 * 2_000;
/// Longest history one run writes, in months.
pub const MAX_MONTHS: u32 = 120;
/// Longest a person has had accounts, in months before the last reported one.
const MAX_TENURE: i32 = 144;
/// Months simulated after the last reported one to decide each person's outcome.
pub const OUTCOME_MONTHS: i32 = 12;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Card,
    Loan,
    Utility,
    Telecom,
    Rent,
    Rental,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Card => "card",
            Kind::Loan => "loan",
            Kind::Utility => "utility",
            Kind::Telecom => "telecom",
            Kind::Rent => "rent",
            Kind::Rental => "rental",
        }
    }

    fn is_lender(self) -> bool {
        matches!(self, Kind::Card | Kind::Loan)
    }
}

/// Who sends what: (id, kind, name).
const SENDERS: [(&str, &str, &str); 7] = [
    ("bank-a", "lender", "First Commercial Bank"),
    ("bank-b", "lender", "Harbour Credit Union"),
    ("power-co", "utility", "City Power and Water"),
    ("telco", "utility", "National Telecom"),
    ("homes", "landlord", "Evergreen Homes"),
    ("rent-it", "rental_service", "Deposit-free Rentals"),
    ("court-1", "court", "District People's Court"),
];
const COURT: usize = 6;

const REGIONS: [&str; 30] = [
    "110101", "110105", "120101", "130102", "140105", "150102", "210102", "220102", "230102", "310101", "310115",
    "320102", "330102", "340102", "350102", "360102", "370102", "410102", "420102", "430102", "440103", "440304",
    "450102", "460105", "500101", "510104", "520102", "530102", "610102", "620102",
];
const SURNAMES: [&str; 12] = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙"];
const GIVEN: [&str; 12] = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "娟"];

/// A mainland China resident ID, unique for each index below [`MAX_SUBJECTS`]; born 1950–2004.
pub fn resident_id(index: u64) -> String {
    let region = REGIONS[(index % 30) as usize];
    let seq = (index / 30) % 1000;
    let block = index / 30_000;
    // 7919 is invertible modulo the prime 20089, so distinct blocks get distinct days.
    let day = (block * 7919) % 20_089;
    let (y, m, d) = civil_from_days(days_from_civil(1950, 1, 1) + day as i64);
    let body = format!("{region}{y:04}{m:02}{d:02}{seq:03}");
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body.bytes().zip(WEIGHTS).map(|(b, w)| u32::from(b - b'0') * w).sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{body}{check}")
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = i64::from(if m <= 2 { y - 1 } else { y });
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = (yoe + era * 400 + i64::from(m <= 2)) as i32;
    (y, m, d)
}

/// A month as a count from year 0.
fn month_name(m: i32) -> String {
    format!("{:04}-{:02}", m.div_euclid(12), m.rem_euclid(12) + 1)
}

fn day_in(m: i32, day: u32) -> String {
    format!("{}-{day:02}", month_name(m))
}

fn normal(rng: &mut fastrand::Rng) -> f64 {
    // Box–Muller; 1 - f64() is in (0, 1], so the log is finite.
    let u = 1.0 - rng.f64();
    let v = rng.f64();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// One sender's current output file.
struct Out {
    dir: PathBuf,
    file: Option<BufWriter<File>>,
    reports: usize,
}

/// Writes the submissions, rolling to a new file every `reports_per_file` reports.
struct Writer {
    dir: PathBuf,
    seq: u32,
    outs: Vec<Out>,
    limit: usize,
    files: u32,
}

impl Writer {
    fn new(dir: &Path, limit: usize) -> io::Result<Writer> {
        let batches = dir.join("batches");
        std::fs::create_dir_all(&batches)?;
        let outs = SENDERS.iter().map(|_| Out { dir: batches.clone(), file: None, reports: 0 }).collect();
        Ok(Writer { dir: batches, seq: 0, outs, limit, files: 0 })
    }

    /// The sender's file, opening the next one (with its `batch` record) when needed.
    fn to(&mut self, sender: usize) -> io::Result<&mut BufWriter<File>> {
        let out = &mut self.outs[sender];
        if out.file.is_none() || out.reports >= self.limit {
            if let Some(mut f) = out.file.take() {
                f.flush()?;
            }
            self.seq += 1;
            self.files += 1;
            let (id, kind, name) = SENDERS[sender];
            let path = out.dir.join(format!("{:06}-{id}.jsonl", self.seq));
            let mut f = BufWriter::with_capacity(1 << 16, File::create(path)?);
            writeln!(f, r#"{{"type":"batch","sender":"{id}","sender_kind":"{kind}","sender_name":"{name}"}}"#)?;
            out.file = Some(f);
            out.reports = 0;
        }
        Ok(out.file.as_mut().unwrap_or_else(|| unreachable!("opened above")))
    }

    fn finish(&mut self) -> io::Result<()> {
        for out in &mut self.outs {
            if let Some(mut f) = out.file.take() {
                f.flush()?;
            }
        }
        Ok(())
    }
}

/// One account's simulated life.
struct Account {
    kind: Kind,
    sender: usize,
    reference: String,
    opened: i32,
    limit: i64,
    amount: i64,
    term: i32,
}

/// What one run wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub subjects: u64,
    pub accounts: u64,
    pub reports: u64,
    pub court_records: u64,
    pub files: u32,
    pub bad: u64,
    /// People already 90+ days late on an open account at the last reported month, left out
    /// of `outcomes.csv`: a development sample predicts new delinquency, not what is already so.
    pub excluded: u64,
}

pub fn run(config: &Config, dir: &Path, progress: &mut dyn FnMut(u64)) -> io::Result<Summary> {
    if config.subjects > MAX_SUBJECTS || config.months == 0 || config.months > MAX_MONTHS {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("subjects must be at most {MAX_SUBJECTS} and months 1 to {MAX_MONTHS}"),
        ));
    }
    let mut rng = fastrand::Rng::with_seed(config.seed);
    let end = config.end.0 * 12 + i32::from(config.end.1) - 1;
    let start = end - config.months as i32 + 1;
    let mut writer = Writer::new(dir, config.reports_per_file)?;
    let mut outcomes = BufWriter::new(File::create(dir.join("outcomes.csv"))?);
    writeln!(outcomes, "scheme,number,bad")?;
    let mut closures: Vec<(String, String)> = Vec::new();
    let mut summary = Summary::default();
    // An economy-wide shock per month, shared by everyone.
    let origin = (end - MAX_TENURE).min(start);
    let shocks: Vec<f64> = (origin..=end + OUTCOME_MONTHS).map(|_| 0.25 * normal(&mut rng)).collect();
    let shock = |m: i32| shocks[(m - origin) as usize];

    for index in 0..config.subjects {
        let id = resident_id(index);
        // How long the person has had accounts: from none yet (a newcomer) to twelve years.
        // Longer histories belong, on average, to steadier people, as in real files.
        let tenure = if rng.f64() < 0.08 { rng.i32(1..12) } else { rng.i32(6..MAX_TENURE) };
        let mut risk = 0.9 * normal(&mut rng) + 0.45 - 0.006 * f64::from(tenure);
        let thin = rng.f64() < 0.25;
        let name = format!("{}{}", SURNAMES[rng.usize(..SURNAMES.len())], GIVEN[rng.usize(..GIVEN.len())]);
        let mut accounts = Vec::new();
        // The first account opens `tenure` months before the last reported month; the others
        // at any time since.
        let mut add = |kind: Kind, sender: usize, rng: &mut fastrand::Rng| {
            let opened = if accounts.is_empty() { end - tenure } else { end - rng.i32(0..=tenure) };
            let limit = (2_000_000.0 * (0.6 * normal(rng)).exp()) as i64 / 100 * 100;
            let amount = (5_000_000.0 * (0.7 * normal(rng)).exp()) as i64 / 100 * 100;
            let reference = format!("{}-{index}-{}", kind.name(), accounts.len());
            accounts.push(Account {
                kind,
                sender,
                reference,
                opened,
                limit,
                amount,
                term: [12, 24, 36, 60][rng.usize(..4)],
            });
        };
        // A newcomer has one or two accounts; others more.
        let newcomer = tenure < 12;
        if !thin {
            if rng.f64() < if newcomer { 0.4 } else { 0.7 } {
                add(Kind::Card, rng.usize(0..2), &mut rng);
            }
            if rng.f64() < if newcomer { 0.15 } else { 0.45 } {
                add(Kind::Loan, rng.usize(0..2), &mut rng);
            }
        }
        if rng.f64() < 0.75 {
            add(Kind::Utility, 2, &mut rng);
        }
        if rng.f64() < if newcomer { 0.3 } else { 0.6 } {
            add(Kind::Telecom, 3, &mut rng);
        }
        if rng.f64() < 0.3 {
            add(Kind::Rent, 4, &mut rng);
        }
        if rng.f64() < 0.25 {
            add(Kind::Rental, 5, &mut rng);
        }
        // A judgment for a debt no furnisher reports (a private loan, a supplier): rare, and far
        // likelier for the riskier.
        let outside_judgment = (rng.f64() < sigmoid(-5.0 + 1.2 * risk)).then(|| end - rng.i32(0..config.months as i32));

        let mut bad = false;
        // Already 90+ days late at the last reported month: not in the outcome sample.
        let mut excluded = false;
        let mut told: Vec<bool> = vec![false; SENDERS.len()];
        // Each month, the person's risk drifts; then every account moves.
        let mut dpd: Vec<i32> = vec![0; accounts.len()];
        let mut since: Vec<Option<String>> = vec![None; accounts.len()];
        let mut closed: Vec<bool> = vec![false; accounts.len()];
        let first = accounts.iter().map(|a| a.opened).min().unwrap_or(start).min(start);
        for m in first..=end + OUTCOME_MONTHS {
            // Risk drifts over the last three years and the outcome months; before, it stands.
            if m > end - 36 {
                risk += 0.08 * normal(&mut rng);
            }
            if outside_judgment == Some(m) {
                let case = format!("({}){index}-j号", m.div_euclid(12));
                let amount = 1_000_000 + rng.i64(0..9_000_000);
                let court = writer.to(COURT)?;
                writeln!(
                    court,
                    r#"{{"type":"court_record","scheme":"cn_rid","number":"{id}","case":"{case}","amount_minor":{amount},"currency":"CNY","grounds":"unpaid debt","listed":"{}"}}"#,
                    day_in(m, 10)
                )?;
                writer.outs[COURT].reports += 1;
                summary.court_records += 1;
            }
            for (i, a) in accounts.iter().enumerate() {
                if m < a.opened || closed[i] {
                    continue;
                }
                let terminal = if a.kind.is_lender() { 180 } else { 90 };
                if dpd[i] >= terminal {
                    // Charged off or in collection: stays so, bar the odd settlement.
                    if rng.f64() < 0.02 {
                        closed[i] = true;
                    }
                } else if dpd[i] == 0 {
                    let base = if a.kind.is_lender() { -4.6 } else { -5.0 };
                    if rng.f64() < sigmoid(base + 1.3 * risk + shock(m)) {
                        dpd[i] = 30;
                        since[i] = Some(day_in(m, 5));
                    }
                } else if rng.f64() < sigmoid(0.9 - 1.0 * risk) {
                    dpd[i] = 0;
                    since[i] = None;
                } else {
                    dpd[i] += 30;
                }
                if m > end {
                    bad |= dpd[i] >= 90;
                    continue;
                }
                if m == end && dpd[i] >= 90 && !closed[i] {
                    excluded = true;
                }
                if m < start {
                    continue;
                }
                // Report this month.
                let age = m - a.opened;
                let (balance, limit, paid) = match a.kind {
                    Kind::Card => {
                        let used = sigmoid(-0.6 + 0.6 * risk + 0.6 * normal(&mut rng)).min(1.0);
                        let balance = ((a.limit as f64) * used) as i64 / 100 * 100;
                        (balance, a.limit, if dpd[i] == 0 { balance / 10 / 100 * 100 } else { 0 })
                    }
                    Kind::Loan => {
                        let left = (a.term - age).max(0);
                        let balance = a.amount * i64::from(left) / i64::from(a.term) / 100 * 100;
                        (balance, a.amount, if dpd[i] == 0 { a.amount / i64::from(a.term) / 100 * 100 } else { 0 })
                    }
                    Kind::Utility | Kind::Telecom => {
                        let bill = 10_000 + rng.i64(0..40_000);
                        (bill, 0, if dpd[i] == 0 { bill } else { 0 })
                    }
                    Kind::Rent => (400_000, 0, if dpd[i] == 0 { 400_000 } else { 0 }),
                    Kind::Rental => (9_900, 0, if dpd[i] == 0 { 9_900 } else { 0 }),
                };
                let paid_off = a.kind == Kind::Loan && balance == 0 && dpd[i] == 0;
                let status = if dpd[i] >= terminal {
                    if a.kind.is_lender() {
                        "charged_off"
                    } else {
                        "collection"
                    }
                } else if paid_off {
                    "paid"
                } else {
                    "open"
                };
                let out = writer.to(a.sender)?;
                if !told[a.sender] {
                    writeln!(out, r#"{{"type":"subject","scheme":"cn_rid","number":"{id}","name":"{name}"}}"#)?;
                    told[a.sender] = true;
                }
                if m == start.max(a.opened) {
                    writeln!(
                        out,
                        r#"{{"type":"account","scheme":"cn_rid","number":"{id}","account":"{}","kind":"{}","opened":"{}","currency":"CNY"}}"#,
                        a.reference,
                        a.kind.name(),
                        day_in(a.opened, 1 + (index % 28) as u32)
                    )?;
                    summary.accounts += 1;
                }
                let negative = dpd[i] > 0;
                let mut line = format!(
                    r#"{{"type":"report","scheme":"cn_rid","number":"{id}","account":"{}","month":"{}","balance_minor":{balance},"limit_minor":{limit},"paid_minor":{paid},"dpd":{},"status":"{status}""#,
                    a.reference,
                    month_name(m),
                    dpd[i].min(180),
                );
                if negative {
                    let since = since[i].clone().unwrap_or_else(|| day_in(m, 5));
                    // One furnisher in two hundred forgets to attest notice: those reports are quarantined.
                    let notice = rng.f64() >= 0.005;
                    line.push_str(&format!(r#","delinquent_since":"{since}","notice_given":{notice}"#));
                }
                line.push('}');
                writeln!(out, "{line}")?;
                writer.outs[a.sender].reports += 1;
                summary.reports += 1;
                if paid_off {
                    closed[i] = true;
                }
                // A charge-off may become a court judgment a few months later.
                if a.kind.is_lender() && dpd[i] == 180 && m + 3 <= end && rng.f64() < 0.05 {
                    let case = format!("({}){index}-{i}号", m.div_euclid(12));
                    let listed = day_in(m + 3, 10);
                    let court = writer.to(COURT)?;
                    writeln!(
                        court,
                        r#"{{"type":"court_record","scheme":"cn_rid","number":"{id}","case":"{case}","amount_minor":{balance},"currency":"CNY","grounds":"unpaid debt","listed":"{listed}"}}"#
                    )?;
                    writer.outs[COURT].reports += 1;
                    summary.court_records += 1;
                    if rng.f64() < 0.4 && m + 6 <= end {
                        closures.push((case, day_in(m + 6, 20)));
                    }
                    closed[i] = true;
                }
            }
            if m == end {
                // Inquiries in the last year, more for the riskier.
                let n = rng.usize(..=((0.5 + risk.max(0.0)) * 2.0) as usize);
                for _ in 0..n.min(6) {
                    let lender = rng.usize(0..2);
                    let out = writer.to(lender)?;
                    if !told[lender] {
                        writeln!(out, r#"{{"type":"subject","scheme":"cn_rid","number":"{id}","name":"{name}"}}"#)?;
                        told[lender] = true;
                    }
                    let day = day_in(end - rng.i32(0..12), 1 + rng.u32(0..28));
                    writeln!(
                        out,
                        r#"{{"type":"inquiry","scheme":"cn_rid","number":"{id}","date":"{day}","purpose":"credit_application"}}"#
                    )?;
                }
            }
        }
        if excluded {
            summary.excluded += 1;
        } else {
            writeln!(outcomes, "cn_rid,{id},{}", u8::from(bad))?;
            summary.bad += u64::from(bad);
        }
        summary.subjects += 1;
        if index % 1000 == 999 {
            progress(index + 1);
        }
    }
    writer.finish()?;
    if !closures.is_empty() {
        writer.seq += 1;
        let (id, kind, name) = SENDERS[COURT];
        let mut f = BufWriter::new(File::create(writer.dir.join(format!("{:06}-{id}-closures.jsonl", writer.seq)))?);
        writeln!(f, r#"{{"type":"batch","sender":"{id}","sender_kind":"{kind}","sender_name":"{name}"}}"#)?;
        for (case, day) in &closures {
            writeln!(f, r#"{{"type":"court_closure","case":"{case}","date":"{day}","outcome":"performed"}}"#)?;
        }
        f.flush()?;
        writer.files += 1;
    }
    outcomes.flush()?;
    progress(config.subjects);
    summary.files = writer.files;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resident_ids_are_valid_and_distinct() {
        let ids: std::collections::HashSet<String> = (0..70_000).map(resident_id).collect();
        assert_eq!(ids.len(), 70_000);
        assert_eq!(resident_id(0).len(), 18);
    }

    #[test]
    fn civil_dates_round_trip() {
        for days in [-7_305, 0, 1, 59, 365, 10_957, 20_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
    }

    #[test]
    fn the_same_seed_writes_the_same_bytes() {
        let write = |seed| {
            let dir =
                std::env::temp_dir().join(format!("candor-sim-{}-{seed}-{}", std::process::id(), fastrand::u32(..)));
            let config = Config { subjects: 300, months: 12, seed, ..Config::default() };
            let summary = run(&config, &dir, &mut |_| {}).expect("run");
            let mut names: Vec<_> =
                std::fs::read_dir(dir.join("batches")).expect("dir").map(|e| e.expect("entry").path()).collect();
            names.sort();
            let bytes: Vec<Vec<u8>> = names.iter().map(|p| std::fs::read(p).expect("read")).collect();
            let outcomes = std::fs::read(dir.join("outcomes.csv")).expect("outcomes");
            std::fs::remove_dir_all(&dir).expect("clean");
            (summary, bytes, outcomes)
        };
        let a = write(7);
        assert_eq!(a, write(7));
        assert_ne!(a.2, write(8).2);
        assert!(a.0.bad > 0 && a.0.bad < 300, "{:?}", a.0);
    }
}
