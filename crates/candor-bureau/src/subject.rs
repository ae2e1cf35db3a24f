//! What a person does to their own file: enrol (opt in), withdraw, freeze and lift the freeze,
//! attach a statement to a record. Each is one unit with its log leaf.

use candor_file::ids::SubjectKey;
use candor_log::{leaf, Leaf, LEAF_VERSION};
use candor_store::{Store, SubjectEntry};

use crate::{log, unit, BureauError, Now, Page, Paged, Result};

/// Shortest passphrase accepted at enrolment, in characters.
pub const MIN_PASSPHRASE_CHARS: usize = 10;

/// How many points above their score the recourse a person is shown aims for.
pub const RECOURSE_STEP_POINTS: i32 = 40;

/// Whether a passphrase is long enough to enrol with.
pub fn check_passphrase(passphrase: &str) -> Result<()> {
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(BureauError::invalid(
            "weak_passphrase",
            "passphrase",
            format!("at least {MIN_PASSPHRASE_CHARS} characters"),
        ));
    }
    Ok(())
}

/// The person's own score now, through the read gate, with what would raise it by
/// [`RECOURSE_STEP_POINTS`] (changes to actionable characteristics only).
pub fn own_score(
    store: &mut Store,
    rules: &crate::Rules,
    now: Now,
    key: &SubjectKey,
    deployed: &crate::Deployed,
) -> Result<(crate::score::Scoring, candor_scorecard::Recourse)> {
    let report = crate::gate::reported_file(store, rules, now, key, now.today)?;
    let scoring = deployed.score_file(&report.file, now.today)?;
    let recourse = deployed.scorer.recourse(&scoring.bins, scoring.score + RECOURSE_STEP_POINTS);
    Ok((scoring, recourse))
}

/// Longest statement a person may attach, in characters.
pub const MAX_STATEMENT_CHARS: usize = 1_000;

fn event(key: &SubjectKey, now: Now) -> leaf::SubjectEvent {
    leaf::SubjectEvent { leaf_version: LEAF_VERSION, subject: key.to_hex(), recorded_ms: now.ms }
}

/// Enrols a person with the hash of their passphrase (making their entry in the file if the
/// bureau has none yet), and logs it.
pub fn enrol(store: &mut Store, now: Now, entry: &SubjectEntry, passphrase_hash: &str) -> Result<()> {
    unit(store, |store| {
        store.enrol(entry, Some(passphrase_hash), now.ms)?;
        log(store, Leaf::Enrolment(event(&entry.key, now)))?;
        Ok(())
    })
}

/// Withdraws the person's enrolment: their passphrase is forgotten (the file furnishers send
/// stays, as the law has it). The caller ends their sessions.
pub fn withdraw(store: &mut Store, now: Now, key: &SubjectKey) -> Result<()> {
    unit(store, |store| {
        store.withdraw(key, now.ms)?;
        log(store, Leaf::Withdrawal(event(key, now)))?;
        Ok(())
    })
}

/// Places (`true`) or lifts the person's freeze: while placed, every score and decision is
/// refused, consent or not.
pub fn set_freeze(store: &mut Store, now: Now, key: &SubjectKey, placed: bool) -> Result<()> {
    unit(store, |store| {
        store.set_freeze(key, placed, now.ms)?;
        let e = event(key, now);
        log(store, if placed { Leaf::FreezePlaced(e) } else { Leaf::FreezeLifted(e) })?;
        Ok(())
    })
}

/// Attaches the person's statement to a record (an empty text withdraws it); shown with the
/// record in every report.
pub fn attach_statement(store: &mut Store, now: Now, key: &SubjectKey, record_ref: &str, text: &str) -> Result<()> {
    if text.chars().count() > MAX_STATEMENT_CHARS || text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(BureauError::invalid(
            "bad_statement",
            "text",
            format!("at most {MAX_STATEMENT_CHARS} characters of text"),
        ));
    }
    unit(store, |store| {
        store.put_statement(key, record_ref, text, now.ms)?;
        log(
            store,
            Leaf::Statement(leaf::Statement {
                leaf_version: LEAF_VERSION,
                subject: key.to_hex(),
                record_ref: record_ref.to_owned(),
                withdrawn: text.is_empty(),
                recorded_ms: now.ms,
            }),
        )?;
        Ok(())
    })
}

/// A page of the leaves about the person, oldest first, as typed leaves keyed by their index; a
/// decision an ombudsman overrode on review is marked so.
pub fn leaves_about(store: &mut Store, key: &SubjectKey, page: Page) -> Result<Paged<LeafAbout>> {
    let overridden: Vec<i64> = store
        .disputes(key)?
        .into_iter()
        .filter(|d| d.state == candor_file::model::DisputeState::Overridden)
        .filter_map(|d| candor_file::disputes::reviewed_leaf(&d))
        .collect();
    let read = store.leaves_about_page(key, page.after, page.limit)?;
    let mut out = Vec::with_capacity(read.len());
    for (index, body) in read {
        let leaf = Leaf::parse(&body).map_err(BureauError::corrupt)?;
        let overridden = matches!(leaf, Leaf::Decision(_)) && overridden.contains(&index);
        out.push(LeafAbout { index, leaf, overridden });
    }
    Ok(Paged::read(page, out, |l| l.index))
}

/// A leaf about a person, with its index in the log.
#[derive(Clone, Debug, PartialEq)]
pub struct LeafAbout {
    pub index: i64,
    pub leaf: Leaf,
    /// A decision the ombudsman overrode on the person's request for review.
    pub overridden: bool,
}
