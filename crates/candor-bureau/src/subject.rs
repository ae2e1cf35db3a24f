//! What a person does to their own file: enrol (opt in, with an activation code the bureau
//! issued them), withdraw, freeze and lift the freeze,
//! attach a statement to a record. Each is one unit with its log leaf.

use candor_file::activation::ActivationCode;
use candor_file::ids::SubjectKey;
use candor_file::secret::Keys;
use candor_log::{leaf, Leaf, LEAF_VERSION};
use candor_store::{Proofing, Store, SubjectEntry};

use crate::{log, unit, BureauError, Now, Page, Paged, Result, Rules, DAY_MS};

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
/// [`RECOURSE_STEP_POINTS`] (changes to actionable characteristics only; none for a file the
/// model does not score).
pub fn own_score(
    store: &mut Store,
    rules: &crate::Rules,
    now: Now,
    key: &SubjectKey,
    deployed: &crate::Deployed,
) -> Result<(crate::score::Scoring, Option<candor_scorecard::Recourse>)> {
    let report = crate::gate::reported_file(store, rules, now, key, now.today)?;
    let scoring = deployed.score_file(&report.file, now.today)?;
    // A file with too little history has no score to raise: more history is the way.
    let recourse = scoring.score.map(|score| deployed.scorer.recourse(&scoring.bins, score + RECOURSE_STEP_POINTS));
    Ok((scoring, recourse))
}

/// A characteristic the person can act on, for the what-if simulator: where they stand and the
/// bins they could move to (never a missing or special-value bin, as recourse never suggests).
#[derive(Clone, Debug, PartialEq)]
pub struct Lever {
    /// The characteristic's index in the model.
    pub index: usize,
    pub name: String,
    pub current: usize,
    /// Bin indexes that can be chosen, with their rules.
    pub choices: Vec<(usize, candor_scorecard::BinRule)>,
}

/// The levers of a scoring: the actionable characteristics of the deployed model.
pub fn levers(deployed: &crate::Deployed, bins: &[usize]) -> Vec<Lever> {
    // A file the model did not score fell in no bins: there is nothing to move.
    if bins.len() != deployed.scorer.model().characteristics.len() {
        return Vec::new();
    }
    deployed
        .scorer
        .model()
        .characteristics
        .iter()
        .enumerate()
        .filter(|(_, c)| c.actionable)
        .map(|(index, c)| Lever {
            index,
            name: c.name.clone(),
            current: bins.get(index).copied().unwrap_or(0),
            choices: c
                .bins
                .iter()
                .enumerate()
                .filter(|(_, b)| matches!(b.rule, candor_scorecard::BinRule::Range { .. }))
                .map(|(i, b)| (i, b.rule.clone()))
                .collect(),
        })
        .collect()
}

/// The score the person would have if the actionable characteristics named in `moves` (index,
/// bin) were in those bins and the rest stayed: the what-if simulator. A move of a
/// characteristic that is not actionable, or into a bin that is not a choice, is refused.
pub fn what_if(deployed: &crate::Deployed, bins: &[usize], moves: &[(usize, usize)]) -> Result<i32> {
    let levers = levers(deployed, bins);
    if levers.is_empty() {
        return Err(BureauError::invalid("bad_what_if", "what_if", "there is no score to try changes on"));
    }
    let mut moved = bins.to_vec();
    for &(c, bin) in moves {
        let ok = levers.iter().any(|l| l.index == c && l.choices.iter().any(|(b, _)| *b == bin));
        if !ok {
            return Err(BureauError::invalid(
                "bad_what_if",
                "what_if",
                "only what you can act on, to a value it can take",
            ));
        }
        moved[c] = bin;
    }
    Ok(deployed.scorer.score_bins(moved).score)
}

/// Longest statement a person may attach, in characters.
pub const MAX_STATEMENT_CHARS: usize = 1_000;

fn event(key: &SubjectKey, now: Now) -> leaf::SubjectEvent {
    leaf::SubjectEvent { leaf_version: LEAF_VERSION, subject: key.to_hex(), recorded_ms: now.ms }
}

/// Issues a person an activation code, to reach them out of band (a letter, or a furnisher
/// who knows them): kept only as a keyed hash bound to the person, valid for
/// `rules.activation_days`, used once. Makes the person's entry in the file if the bureau has
/// none yet. The leaf says that a code was issued and until when, never the code. Returns when
/// it expires.
pub fn invite(
    store: &mut Store,
    keys: &Keys,
    rules: &Rules,
    now: Now,
    entry: &SubjectEntry,
    code: &ActivationCode,
) -> Result<i64> {
    let expires_ms = now.ms.saturating_add(rules.activation_days.saturating_mul(DAY_MS));
    let hash = hex::encode(keys.activation_hash(&entry.key, code));
    unit(store, |store| {
        store.put_activation(entry, &hash, now.ms, expires_ms)?;
        log(
            store,
            Leaf::ActivationIssued(leaf::ActivationIssued {
                leaf_version: LEAF_VERSION,
                subject: entry.key.to_hex(),
                expires_ms,
                recorded_ms: now.ms,
            }),
        )?;
        Ok(expires_ms)
    })
}

/// What an enrolment did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enrolled {
    /// The person's first enrolment.
    First,
    /// An enrolment over an earlier one (or after a withdrawal), or one proven by questions: the
    /// caller ends every session of the person, and sensitive changes wait until
    /// `cooling_off_until_ms`.
    Again { cooling_off_until_ms: i64 },
}

/// Enrols a person who holds an activation code the bureau issued them, with the hash of their
/// passphrase, and logs it. Knowing a national identifier is not enough: the code must be the
/// person's, unused and unexpired, and it is used up. An unknown identifier and a wrong, used
/// or expired code get the same answer. An enrolment over an earlier one is logged as such.
pub fn enrol(
    store: &mut Store,
    keys: &Keys,
    rules: &Rules,
    now: Now,
    entry: &SubjectEntry,
    code: &ActivationCode,
    passphrase_hash: &str,
) -> Result<Enrolled> {
    let key = &entry.key;
    let hash = hex::encode(keys.activation_hash(key, code));
    unit(store, |store| {
        if !store.use_activation(key, &hash, now.ms)? {
            return Err(BureauError::Unproven);
        }
        record_enrolment(store, rules, now, entry, passphrase_hash, Proofing::Code)
    })
}

/// Records a proven enrolment and its leaf, inside the caller's unit of work.
pub(crate) fn record_enrolment(
    store: &mut Store,
    rules: &Rules,
    now: Now,
    entry: &SubjectEntry,
    passphrase_hash: &str,
    proofing: Proofing,
) -> Result<Enrolled> {
    let before = !store.enrolment_history(&entry.key)?.is_empty();
    store.enrol(entry, Some(passphrase_hash), proofing, now.ms)?;
    let e = event(&entry.key, now);
    log(store, if before { Leaf::Reenrolment(e) } else { Leaf::Enrolment(e) })?;
    Ok(if before || proofing == Proofing::Questions {
        Enrolled::Again { cooling_off_until_ms: now.ms.saturating_add(rules.cooling_off_days * DAY_MS) }
    } else {
        Enrolled::First
    })
}

/// Refuses a sensitive change (lifting a freeze, a new consent) while the person's latest
/// enrolment is in its cooling-off period: an enrolment that followed an earlier one, or one
/// proven only by questions from the file (which someone close to the person might answer), so
/// that a person whose enrolment was taken over has time to see it and act.
pub fn check_cooling_off(store: &mut Store, rules: &Rules, now: Now, key: &SubjectKey) -> Result<()> {
    let history = store.enrolment_history(key)?;
    let held = match history.as_slice() {
        [latest, rest @ ..] if latest.passphrase_hash.is_some() => {
            (!rest.is_empty() || latest.proofing == Proofing::Questions).then_some(latest.recorded_ms)
        }
        _ => None,
    };
    if let Some(latest_ms) = held {
        let until = latest_ms.saturating_add(rules.cooling_off_days * DAY_MS);
        if now.ms < until {
            return Err(BureauError::conflict(
                "cooling_off",
                format!(
                    "you enrolled again recently: this change waits until {} (UTC), {} days after the new enrolment",
                    crate::day_of_ms(until),
                    rules.cooling_off_days
                ),
            ));
        }
    }
    Ok(())
}

/// What the holder of an enrolment replaced at `at_ms` is told when they sign in with its
/// passphrase: when, until when the changes a taker would want are held, and what to do.
pub fn replaced_notice(rules: &Rules, at_ms: i64) -> String {
    let held_until = crate::day_of_ms(at_ms.saturating_add(rules.cooling_off_days * DAY_MS));
    format!(
        "this passphrase was for an enrolment replaced by a new one on {} (UTC); if that was not you, ask the bureau for a new activation code or complain to the ombudsman: lifting a freeze and new consents are held until {held_until}",
        crate::day_of_ms(at_ms)
    )
}

/// Withdraws the person's enrolment: their passphrase is forgotten and every live consent ends
/// (the file furnishers send stays, as the law has it). The caller ends their sessions.
pub fn withdraw(store: &mut Store, now: Now, key: &SubjectKey) -> Result<()> {
    unit(store, |store| {
        crate::consent::revoke_all(store, now, key)?;
        store.withdraw(key, now.ms)?;
        log(store, Leaf::Withdrawal(event(key, now)))?;
        Ok(())
    })
}

/// Whether the person's file is frozen now.
pub fn is_frozen(store: &mut Store, key: &SubjectKey) -> Result<bool> {
    Ok(store.is_frozen(key)?)
}

/// Places (`true`) or lifts the person's freeze: while placed, every score and decision is
/// refused, consent or not.
pub fn set_freeze(store: &mut Store, rules: &Rules, now: Now, key: &SubjectKey, placed: bool) -> Result<()> {
    if !placed {
        check_cooling_off(store, rules, now, key)?;
    }
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
    if text.chars().count() > MAX_STATEMENT_CHARS {
        return Err(BureauError::invalid(
            "bad_statement",
            "text",
            format!("at most {MAX_STATEMENT_CHARS} characters of text"),
        ));
    }
    candor_file::text::check(text, true).map_err(|why| BureauError::invalid("bad_statement", "text", why))?;
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

/// Most log entries a copy of everything holds (a person with more is told the copy is not
/// complete and reads the rest page by page).
pub const MAX_COPY_ENTRIES: usize = 50_000;

/// Everything the bureau holds about a person: the statutory copy.
#[derive(Clone, Debug, PartialEq)]
pub struct Everything {
    pub report: crate::gate::ReportedFile,
    pub frozen: bool,
    pub consents: Vec<candor_file::model::Consent>,
    pub disputes: Vec<crate::dispute::DisputeView>,
    pub leaves: Vec<LeafAbout>,
    /// Whether every log entry about them is in `leaves` (at most [`MAX_COPY_ENTRIES`]).
    pub complete: bool,
}

/// Everything the bureau holds about the person now, as one copy, read in one unit.
pub fn everything(store: &mut Store, rules: &Rules, now: Now, key: &SubjectKey) -> Result<Everything> {
    unit(store, |store| {
        let report = crate::gate::reported_file(store, rules, now, key, now.today)?;
        let frozen = store.is_frozen(key)?;
        let consents = store.consents(key, i64::MAX)?;
        let disputes = crate::dispute::of_subject(store, rules, now, key, Page::first(u32::MAX))?.items;
        let mut leaves = Vec::new();
        let mut page = Page::first(crate::MAX_PAGE);
        let complete = loop {
            let read = leaves_about(store, key, page)?;
            leaves.extend(read.items);
            match read.next {
                None => break true,
                Some(_) if leaves.len() >= MAX_COPY_ENTRIES => break false,
                Some(after) => page.after = after,
            }
        };
        Ok(Everything { report, frozen, consents, disputes, leaves, complete })
    })
}

/// When the bureau first received each record of the person's file (their file page shows it
/// beside each record, with its source).
pub fn received(store: &mut Store, key: &SubjectKey) -> Result<candor_store::Received> {
    Ok(store.received(key)?)
}

/// What changed in a person's file, for their alerts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// A late, charged-off or collection report (account, month, furnisher).
    NegativeReport {
        furnisher: String,
        account: String,
        month: String,
    },
    Inquiry {
        org: String,
        day: String,
    },
    CourtRecord {
        court: String,
        case: String,
    },
    /// A step of one of their disputes (its state), a correction among them.
    DisputeStep {
        dispute: i64,
        state: String,
    },
}

/// Most alerts shown.
pub const MAX_ALERTS: usize = 200;

/// What changed in the person's file, newest first: the negative reports, inquiries and court
/// records it shows now (through the read gate, so nothing aged off, suppressed or deleted), each
/// at when the bureau received it, and every step of their disputes. (ms, change) pairs.
pub fn alerts(store: &mut Store, rules: &Rules, now: Now, key: &SubjectKey) -> Result<Vec<(i64, Change)>> {
    let report = crate::gate::reported_file(store, rules, now, key, now.today)?;
    let received = received(store, key)?;
    let mut out = Vec::new();
    for h in &report.file.accounts {
        for r in h.reports.iter().filter(|r| r.is_negative()) {
            let at = received.reports.get(&(h.account.reference.clone(), i64::from(r.month.0))).copied().unwrap_or(0);
            out.push((
                at,
                Change::NegativeReport {
                    furnisher: h.account.furnisher.as_str().to_owned(),
                    account: h.account.reference.clone(),
                    month: r.month.to_string(),
                },
            ));
        }
    }
    for i in &report.file.inquiries {
        let day = candor_store::day_number(i.date);
        let at = received.inquiries.get(&(i.org.as_str().to_owned(), day)).copied().unwrap_or(0);
        out.push((at, Change::Inquiry { org: i.org.as_str().to_owned(), day: i.date.to_string() }));
    }
    for c in &report.file.court_records {
        let at = received.court_records.get(&c.case_number).copied().unwrap_or(0);
        out.push((at, Change::CourtRecord { court: c.court.as_str().to_owned(), case: c.case_number.clone() }));
    }
    let mut page = Page::first(crate::MAX_PAGE);
    loop {
        let read = leaves_about(store, key, page)?;
        for l in &read.items {
            let step = match &l.leaf {
                Leaf::DisputeOpened(d) => Some((d.recorded_ms, d.dispute, "open")),
                Leaf::DisputeAnswered(d) => Some((d.recorded_ms, d.dispute, d.answer.as_str())),
                Leaf::DisputeSuppressed(d) => Some((d.recorded_ms, d.dispute, "suppressed")),
                Leaf::DisputeDecided(d) => Some((d.recorded_ms, d.dispute, d.outcome.as_str())),
                _ => None,
            };
            if let Some((ms, dispute, state)) = step {
                out.push((ms, Change::DisputeStep { dispute, state: state.to_owned() }));
            }
        }
        match read.next {
            Some(after) if out.len() < 10 * MAX_ALERTS => page.after = after,
            _ => break,
        }
    }
    out.sort_by_key(|a| std::cmp::Reverse(a.0));
    out.truncate(MAX_ALERTS);
    Ok(out)
}
