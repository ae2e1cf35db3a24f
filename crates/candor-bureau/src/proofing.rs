//! Enrolment by questions from the person's own file: the self-service fallback for a person
//! who has no activation code to hand. Three questions, each with decoys, asked of anyone who
//! names an identifier (known to the bureau or not) and answered the same way whether or not it
//! is: which of these organisations report an account of yours (the person's furnishers among
//! others'), roughly the largest credit limit of your accounts, and how long ago you opened the
//! oldest. Nothing a stranger can read goes into them: no court record (judgments are public),
//! no region (the identifier itself carries it), no name.
//!
//! What is shown depends only on the identifier's keyed hash and the organisations registered,
//! so asking again shows the same choices and comparing two askings gives nothing away. Wrong
//! answers are counted per identifier in the store: after [`FAILURES_ALLOWED`] in
//! [`FAILURE_WINDOW_DAYS`] the questions close for it (for a known person or not). A person
//! proven this way cannot replace an enrolment that exists (that takes an activation code), and
//! their first changes wait out the cooling-off period, since someone close to them may know
//! the answers.

use candor_file::ids::SubjectKey;
use candor_file::model::SubjectFile;
use candor_store::{Proofing, Store, SubjectEntry};
use sha2::{Digest, Sha256};

use crate::subject::Enrolled;
use crate::{unit, BureauError, Now, Result, Rules, DAY_MS};

/// Organisations offered in the first question (the person's own among decoys).
pub const SHOWN_ORGANISATIONS: usize = 6;
/// At most this many of them are the person's own.
pub const OWN_SHOWN: usize = 3;
/// Wrong answers allowed per identifier in [`FAILURE_WINDOW_DAYS`].
pub const FAILURES_ALLOWED: i64 = 3;
pub const FAILURE_WINDOW_DAYS: i64 = 30;

/// Largest credit limit or original amount, in whole units of the account's currency: the
/// band ids and their upper bounds (the last has none).
const LIMIT_BANDS: &[(&str, &str, Option<i64>)] = &[
    ("none", "none of my accounts has a limit or an amount (bills, rent)", Some(0)),
    ("up_to_5000", "up to 5,000", Some(5_000)),
    ("up_to_20000", "5,000 to 20,000", Some(20_000)),
    ("up_to_100000", "20,000 to 100,000", Some(100_000)),
    ("up_to_500000", "100,000 to 500,000", Some(500_000)),
    ("over_500000", "more than 500,000", None),
];

/// How long ago the oldest account was opened, in whole years below the bound.
const AGE_BANDS: &[(&str, &str, Option<i64>)] = &[
    ("under_1", "less than a year ago", Some(1)),
    ("1_to_3", "1 to 3 years ago", Some(3)),
    ("3_to_6", "3 to 6 years ago", Some(6)),
    ("6_to_10", "6 to 10 years ago", Some(10)),
    ("over_10", "more than 10 years ago", None),
];

/// One question: its id, the prompt, whether several choices may be picked, the choices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    pub id: &'static str,
    pub prompt: &'static str,
    pub multiple: bool,
    pub choices: Vec<Choice>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    pub id: String,
    pub label: String,
}

/// A person's answers: the organisations picked (ids, possibly none) and the two bands' ids.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Answers {
    pub organisations: Vec<String>,
    pub largest_limit: String,
    pub oldest_account: String,
}

/// The file as reports show it today, or an empty one for a person the bureau has no file on.
fn file_of(store: &mut Store, rules: &Rules, now: Now, key: &SubjectKey) -> Result<SubjectFile> {
    match crate::gate::reported_file(store, rules, now, key, now.today) {
        Ok(r) => Ok(r.file),
        Err(BureauError::NotFound { .. }) => Ok(SubjectFile::default()),
        Err(e) => Err(e),
    }
}

/// A stable, unguessable order of organisations for this identifier.
fn rank(key: &SubjectKey, org: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"candor proofing\n");
    h.update(key.0);
    h.update(org.as_bytes());
    h.finalize().into()
}

/// The organisations offered to this identifier, sorted by name, and which are the person's.
fn offered(store: &mut Store, key: &SubjectKey, file: &SubjectFile) -> Result<Vec<(Choice, bool)>> {
    let furnishers = store.furnishers()?;
    let own = |id: &str| file.accounts.iter().any(|a| a.account.furnisher.as_str() == id);
    let (mut mine, mut others): (Vec<_>, Vec<_>) = furnishers.into_iter().partition(|o| own(o.id.as_str()));
    mine.sort_by_key(|o| rank(key, o.id.as_str()));
    others.sort_by_key(|o| rank(key, o.id.as_str()));
    mine.truncate(OWN_SHOWN);
    let decoys = SHOWN_ORGANISATIONS.saturating_sub(mine.len());
    others.truncate(decoys);
    let mut shown: Vec<(Choice, bool)> = mine
        .into_iter()
        .map(|o| (o, true))
        .chain(others.into_iter().map(|o| (o, false)))
        .map(|(o, is_own)| (Choice { id: o.id.as_str().to_owned(), label: o.name }, is_own))
        .collect();
    shown.sort_by(|a, b| a.0.label.cmp(&b.0.label).then(a.0.id.cmp(&b.0.id)));
    Ok(shown)
}

fn band_choices(bands: &[(&str, &str, Option<i64>)]) -> Vec<Choice> {
    bands.iter().map(|(id, label, _)| Choice { id: (*id).to_owned(), label: (*label).to_owned() }).collect()
}

/// The band a value falls in.
fn band_of(bands: &[(&'static str, &str, Option<i64>)], value: i64) -> &'static str {
    let last = bands.last().map_or("", |b| b.0);
    bands.iter().find(|(_, _, bound)| bound.is_some_and(|b| value < b || (b == 0 && value == 0))).map_or(last, |b| b.0)
}

/// The questions for the person named by `key` (the same, known or not).
pub fn questions(store: &mut Store, rules: &Rules, now: Now, key: &SubjectKey) -> Result<Vec<Question>> {
    let file = file_of(store, rules, now, key)?;
    let organisations = offered(store, key, &file)?.into_iter().map(|(c, _)| c).collect();
    Ok(vec![
        Question {
            id: "organisations",
            prompt: "Which of these organisations report an account of yours to the bureau? Pick every one that does (perhaps none).",
            multiple: true,
            choices: organisations,
        },
        Question {
            id: "largest_limit",
            prompt: "Roughly what is the largest credit limit or loan amount among your accounts (in the account's currency)?",
            multiple: false,
            choices: band_choices(LIMIT_BANDS),
        },
        Question {
            id: "oldest_account",
            prompt: "How long ago did you open your oldest account?",
            multiple: false,
            choices: band_choices(AGE_BANDS),
        },
    ])
}

/// Whether `answers` are right for this file: it has an account, the organisations picked are
/// exactly the person's among those offered, and both bands are the file's.
fn right(store: &mut Store, key: &SubjectKey, file: &SubjectFile, now: Now, answers: &Answers) -> Result<bool> {
    let offered = offered(store, key, file)?;
    for id in &answers.organisations {
        if !offered.iter().any(|(c, _)| &c.id == id) {
            return Err(BureauError::invalid(
                "bad_answers",
                "answers.organisations",
                format!("`{id}` was not offered"),
            ));
        }
    }
    for (field, given, bands) in [
        ("answers.largest_limit", &answers.largest_limit, LIMIT_BANDS),
        ("answers.oldest_account", &answers.oldest_account, AGE_BANDS),
    ] {
        if !bands.iter().any(|b| b.0 == given) {
            let ids: Vec<&str> = bands.iter().map(|b| b.0).collect();
            return Err(BureauError::invalid("bad_answers", field, format!("one of {}", ids.join(", "))));
        }
    }
    let Some(opened) = file.accounts.iter().map(|a| a.account.opened).min() else { return Ok(false) };
    let own: std::collections::BTreeSet<&str> =
        offered.iter().filter(|(_, own)| *own).map(|(c, _)| c.id.as_str()).collect();
    let picked: std::collections::BTreeSet<&str> = answers.organisations.iter().map(String::as_str).collect();
    let largest = file.accounts.iter().flat_map(|a| a.reports.iter()).map(|r| r.limit_minor).max().unwrap_or(0) / 100;
    let years = (now.today - opened).whole_days() * 4 / 1461;
    Ok(own == picked
        && band_of(LIMIT_BANDS, largest) == answers.largest_limit
        && band_of(AGE_BANDS, years) == answers.oldest_account)
}

/// Enrols a person proven by their answers, with the hash of their passphrase; every wrong
/// answer counts against the identifier. `Unproven` for wrong answers or nothing to ask about
/// (the two look the same); `proofing_closed` once too many were wrong.
pub fn enrol(
    store: &mut Store,
    rules: &Rules,
    now: Now,
    entry: &SubjectEntry,
    answers: &Answers,
    passphrase_hash: &str,
) -> Result<Enrolled> {
    let key = &entry.key;
    let window_start = now.ms.saturating_sub(FAILURE_WINDOW_DAYS * DAY_MS);
    if store.proofing_failures(key, window_start)? >= FAILURES_ALLOWED {
        return Err(BureauError::Closed {
            message: format!(
                "{FAILURES_ALLOWED} wrong answers for this identifier in {FAILURE_WINDOW_DAYS} days: the questions are closed for now; ask the bureau for an activation code"
            ),
        });
    }
    let file = file_of(store, rules, now, key)?;
    if !right(store, key, &file, now, answers)? {
        store.put_proofing_failure(key, now.ms, window_start)?;
        return Err(BureauError::Unproven);
    }
    unit(store, |store| {
        if store.enrolment(key)?.is_some() {
            return Err(BureauError::conflict(
                "already_enrolled",
                "you are enrolled already: to enrol again (a lost passphrase), ask the bureau for an activation code",
            ));
        }
        crate::subject::record_enrolment(store, rules, now, entry, passphrase_hash, Proofing::Questions)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_cover_every_value() {
        assert_eq!(band_of(LIMIT_BANDS, 0), "none");
        assert_eq!(band_of(LIMIT_BANDS, 1), "up_to_5000");
        assert_eq!(band_of(LIMIT_BANDS, 4_999), "up_to_5000");
        assert_eq!(band_of(LIMIT_BANDS, 5_000), "up_to_20000");
        assert_eq!(band_of(LIMIT_BANDS, 500_000), "over_500000");
        assert_eq!(band_of(AGE_BANDS, 0), "under_1");
        assert_eq!(band_of(AGE_BANDS, 3), "3_to_6");
        assert_eq!(band_of(AGE_BANDS, 40), "over_10");
    }
}
