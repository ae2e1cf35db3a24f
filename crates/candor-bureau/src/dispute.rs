//! The dispute and review workflow. A person disputes a record of their file: it is marked
//! disputed in every report at once (blocked at once with an identity theft report), and its
//! furnisher is asked to verify or correct it. The whole dispute has one deadline
//! ([`Rules::dispute_days`]): a record its furnisher has not answered for by then is suppressed;
//! one answered waits for the ombudsman, who decides (verified, corrected, deleted) and is shown
//! it overdue past the deadline. A person may also ask for human review of a decision made on
//! their score: it has no furnisher, stays in the queue until decided (upheld or overridden),
//! and an overridden decision is marked so in the person's reads and in replay, and its lender
//! is told. Every decided change re-scores the file and tells each organisation that read it in
//! the last six months.

use candor_file::claim::{Claim, MediaType};
use candor_file::disputes::{self, Record};
use candor_file::ids::SubjectKey;
use candor_file::model::{Dispute, DisputeState, OrgId};
use candor_file::secret::{Keys, NONCE_BYTES};
use candor_log::{leaf, Leaf, LEAF_VERSION};
use candor_store::{FileRead, Store, StoredClaim, StoredEvidence};

use crate::gate::reported_file;
use crate::{log, unit, BureauError, Deployed, Now, Page, Paged, Result, Rules};

/// How far back a correction reaches: every organisation that received a report on the person
/// in this window is told.
pub const NOTIFY_WINDOW_MS: i64 = 183 * 86_400_000;

/// A dispute as its parties see it: where it stands now and when it is due.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisputeView {
    pub dispute: Dispute,
    /// Where it stands now (a record past its deadline unanswered is suppressed, recorded or not).
    pub state: DisputeState,
    /// When the whole dispute must be decided by.
    pub due_ms: i64,
    /// Not decided, and past its due date.
    pub overdue: bool,
    /// Not decided, not overdue, and due within [`DUE_SOON_DAYS`].
    pub due_soon: bool,
}

/// Days before its due date from which an undecided dispute is due soon.
pub const DUE_SOON_DAYS: i64 = 3;

fn view(rules: &Rules, now: Now, d: Dispute) -> DisputeView {
    let state = disputes::effective_state(&d, now.ms, rules.dispute_days);
    let due_ms = disputes::due_ms(d.opened_ms, rules.dispute_days);
    let pending = disputes::is_pending(state);
    let overdue = pending && now.ms > due_ms;
    let due_soon = pending && !overdue && due_ms - now.ms < DUE_SOON_DAYS * crate::DAY_MS;
    DisputeView { overdue, due_soon, state, due_ms, dispute: d }
}

/// A page of the person's disputes, oldest first, by dispute id.
pub fn of_subject(
    store: &mut Store,
    rules: &Rules,
    now: Now,
    key: &SubjectKey,
    page: Page,
) -> Result<Paged<DisputeView>> {
    let all: Vec<DisputeView> = store.disputes(key)?.into_iter().map(|d| view(rules, now, d)).collect();
    Ok(page.of(all, |v| v.dispute.id))
}

/// Which of the queue to show: one furnisher's, one kind of record's (none: all).
#[derive(Clone, Copy, Debug, Default)]
pub struct QueueFilter<'a> {
    pub furnisher: Option<&'a str>,
    pub record_kind: Option<&'a str>,
}

impl QueueFilter<'_> {
    fn wants(&self, d: &Dispute) -> bool {
        self.furnisher.is_none_or(|f| d.furnisher.as_ref().is_some_and(|o| o.as_str() == f))
            && self.record_kind.is_none_or(|k| d.record_kind == k)
    }
}

/// A page of the ombudsman's queue: every dispute and review not yet decided that the filter
/// wants, by due date (every dispute has the same number of days, so by opening), the overdue
/// marked; by dispute id (a filtered page may hold fewer than asked; `next` still leads on).
pub fn queue(
    store: &mut Store,
    rules: &Rules,
    now: Now,
    page: Page,
    filter: QueueFilter<'_>,
) -> Result<Paged<DisputeView>> {
    let read = store.undecided_disputes(None, page.after, page.limit)?;
    let mut paged = Paged::read(page, read, |(d, _)| d.id);
    paged.items.retain(|(d, _)| filter.wants(d));
    paged.items.sort_by_key(|(d, _)| (disputes::due_ms(d.opened_ms, rules.dispute_days), d.id));
    Ok(Paged { next: paged.next, items: paged.items.into_iter().map(|(d, _)| view(rules, now, d)).collect() })
}

/// A page of the disputes of records `org` furnished that wait for its answer, by dispute id
/// (a page may hold fewer than asked where some wait no longer; `next` still leads on).
pub fn verifications(
    store: &mut Store,
    rules: &Rules,
    now: Now,
    org: &OrgId,
    page: Page,
) -> Result<Paged<DisputeView>> {
    let read = store.undecided_disputes(Some(org), page.after, page.limit)?;
    let paged = Paged::read(page, read, |(d, _)| d.id);
    let items = paged
        .items
        .into_iter()
        .map(|(d, _)| view(rules, now, d))
        .filter(|v| matches!(v.state, DisputeState::FurnisherAsked | DisputeState::Blocked))
        .collect();
    Ok(Paged { items, next: paged.next })
}

fn find_view(store: &mut Store, rules: &Rules, now: Now, id: i64) -> Result<DisputeView> {
    let (d, _) = store.dispute(id)?.ok_or_else(|| BureauError::corrupt("a dispute just written is missing"))?;
    Ok(view(rules, now, d))
}

/// A dispute not yet decided, and whose it is.
fn undecided(store: &mut Store, id: i64) -> Result<Option<(Dispute, SubjectKey)>> {
    Ok(store.dispute(id)?.filter(|(d, _)| disputes::is_pending(d.state)))
}

/// What a person sends to open a dispute: the record, perhaps the reference of an identity theft
/// report they filed, and perhaps what they say is wrong (sealed by [`seal_claim`]).
#[derive(Clone, Copy, Debug)]
pub struct Opening<'a> {
    pub record: &'a Record,
    pub identity_theft_report: Option<&'a str>,
    pub claim: Option<&'a StoredClaim>,
}

/// Opens a dispute of a record of the person's file, as reports show it: its furnisher is
/// asked to verify it; with an identity theft report it is blocked at once and those who read
/// the file are told.
pub fn open(
    store: &mut Store,
    rules: &Rules,
    now: Now,
    key: &SubjectKey,
    opening: &Opening<'_>,
    deployed: Option<&Deployed>,
) -> Result<DisputeView> {
    let Opening { record, identity_theft_report, claim } = *opening;
    let (record_kind, record_ref) = (record.kind(), record.reference());
    let record_ref = record_ref.as_str();
    unit(store, |store| {
        let report = reported_file(store, rules, now, key, now.today)?;
        let furnisher = record.furnisher_in(&report.file).ok_or(BureauError::NotFound {
            what: "record of that kind and reference in your file",
            field: Some("record_ref"),
        })?;
        let id = store.open_dispute(key, record_kind, record_ref, Some(&furnisher), now.ms)?;
        if let Some(claim) = claim {
            store.put_claim(key, id, claim)?;
        }
        let blocked = identity_theft_report.is_some();
        if blocked {
            store.dispute_step(id, DisputeState::Blocked, now.ms)?;
        }
        log(
            store,
            Leaf::DisputeOpened(leaf::DisputeOpened {
                leaf_version: LEAF_VERSION,
                subject: key.to_hex(),
                dispute: id,
                record_kind: record_kind.to_owned(),
                record_ref: record_ref.to_owned(),
                furnisher_asked: furnisher.as_str().to_owned(),
                identity_theft_report: identity_theft_report.map(str::to_owned),
                blocked,
                due_ms: Some(disputes::due_ms(now.ms, rules.dispute_days)),
                claim_reason: claim.map(|c| c.reason.clone()),
                claim_sha256: claim.map(|c| hex::encode(c.claim_sha256)),
                recorded_ms: now.ms,
            }),
        )?;
        if blocked {
            notify(store, rules, now, key, id, DisputeState::Blocked, None, deployed)?;
        }
        find_view(store, rules, now, id)
    })
}

/// What the person sends with a dispute, sealed for the store under their key: their words and
/// their evidence (each with a fresh nonce), with the digests the log and the receipt show.
pub fn seal_claim(keys: &Keys, key: &SubjectKey, claim: &Claim, nonces: [[u8; NONCE_BYTES]; 2]) -> StoredClaim {
    StoredClaim {
        reason: claim.reason.as_str().to_owned(),
        text_sealed: keys.seal(key, &claim.text, nonces[0]),
        evidence: claim.evidence.as_ref().map(|e| StoredEvidence {
            media_type: e.media_type,
            sha256: e.sha256(),
            sealed: keys.seal_bytes(key, &e.bytes, nonces[1]),
        }),
        claim_sha256: claim.digest(),
    }
}

/// What a person sent with a dispute, opened for them (or the ombudsman): the receipt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub reason: String,
    pub text: String,
    /// The evidence's type, size and digest.
    pub evidence: Option<(MediaType, usize, [u8; 32])>,
    pub claim_sha256: [u8; 32],
}

/// One of the person's disputes with every step and when, and what they sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timeline {
    pub view: DisputeView,
    /// Each step, when, and a decision's explanation.
    pub steps: Vec<(candor_file::model::DisputeState, i64, Option<String>)>,
    pub receipt: Option<Receipt>,
}

/// One of the person's disputes, whole; `NotFound` for another person's (the two look the same).
pub fn timeline(
    store: &mut Store,
    keys: &Keys,
    rules: &Rules,
    now: Now,
    key: &SubjectKey,
    id: i64,
) -> Result<Timeline> {
    match whole(store, keys, rules, now, id)? {
        Some((timeline, owner)) if owner == *key => Ok(timeline),
        _ => Err(BureauError::not_found("dispute of yours")),
    }
}

/// A dispute whole, and whose it is.
fn whole(store: &mut Store, keys: &Keys, rules: &Rules, now: Now, id: i64) -> Result<Option<(Timeline, SubjectKey)>> {
    let Some((d, owner)) = store.dispute(id)? else { return Ok(None) };
    let steps = store.dispute_steps(id)?;
    let receipt = match store.claim(&owner, id)? {
        None => None,
        Some(c) => Some(Receipt {
            text: keys.open(&owner, &c.text_sealed).map_err(BureauError::corrupt)?,
            evidence: c.evidence.as_ref().map(|e| (e.media_type, candor_file::secret::sealed_len(&e.sealed), e.sha256)),
            reason: c.reason,
            claim_sha256: c.claim_sha256,
        }),
    };
    Ok(Some((Timeline { view: view(rules, now, d), steps, receipt }, owner)))
}

/// A case as the ombudsman's staff see it: the dispute whole, the record as the person's file
/// shows it now (none once it left the file), and the log entries about the dispute.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    pub timeline: Timeline,
    pub owner: SubjectKey,
    pub record: Option<RecordNow>,
    /// The log entries of the dispute's steps, with their indexes.
    pub entries: Vec<crate::subject::LeafAbout>,
}

/// A disputed record as the file shows it now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordNow {
    Account(candor_file::model::AccountHistory),
    CourtRecord(candor_file::model::CourtRecord),
    Inquiry(candor_file::model::Inquiry),
}

/// Opens a case for a member of the ombudsman's staff: logged as a leaf about the person (who
/// sees that their case was looked at, and by whom), in the same unit as the reading.
pub fn open_case(
    store: &mut Store,
    keys: &Keys,
    rules: &Rules,
    now: Now,
    staff: &candor_store::StaffRow,
    id: i64,
) -> Result<Case> {
    unit(store, |store| {
        let (timeline, owner) = whole(store, keys, rules, now, id)?.ok_or(BureauError::not_found("dispute"))?;
        let d = &timeline.view.dispute;
        let record = match Record::parse(&d.record_kind, &d.record_ref) {
            Err(_) => None,
            Ok(record) => {
                let file =
                    store.file(&owner, &FileRead { known_ms: now.ms, today: now.today, retention: rules.retention })?;
                file.and_then(|f| record_now(&record, &f))
            }
        };
        let mut entries = Vec::new();
        let mut page = Page::first(crate::MAX_PAGE);
        loop {
            let read = crate::subject::leaves_about(store, &owner, page)?;
            entries.extend(read.items.into_iter().filter(|l| leaf_dispute(&l.leaf) == Some(id)));
            match read.next {
                Some(after) if entries.len() < 1_000 => page.after = after,
                _ => break,
            }
        }
        log(
            store,
            Leaf::CaseOpened(leaf::CaseOpened {
                leaf_version: LEAF_VERSION,
                subject: owner.to_hex(),
                dispute: id,
                org: staff.org.as_str().to_owned(),
                staff: staff.id.clone(),
                recorded_ms: now.ms,
            }),
        )?;
        Ok(Case { timeline, owner, record, entries })
    })
}

/// The dispute a leaf is a step of, if any.
fn leaf_dispute(leaf: &Leaf) -> Option<i64> {
    match leaf {
        Leaf::DisputeOpened(x) => Some(x.dispute),
        Leaf::DisputeAnswered(x) => Some(x.dispute),
        Leaf::DisputeSuppressed(x) => Some(x.dispute),
        Leaf::DisputeDecided(x) => Some(x.dispute),
        Leaf::ReviewRequested(x) => Some(x.dispute),
        Leaf::CaseOpened(x) => Some(x.dispute),
        _ => None,
    }
}

/// The record a dispute names, in the file as it stands.
fn record_now(record: &Record, file: &candor_file::model::SubjectFile) -> Option<RecordNow> {
    match record {
        Record::Account(r) | Record::Report(r, _) => {
            file.accounts.iter().find(|a| &a.account.reference == r).cloned().map(RecordNow::Account)
        }
        Record::CourtRecord(case) => {
            file.court_records.iter().find(|c| &c.case_number == case).cloned().map(RecordNow::CourtRecord)
        }
        Record::Inquiry(org, day) => {
            file.inquiries.iter().find(|i| &i.org == org && i.date == *day).cloned().map(RecordNow::Inquiry)
        }
    }
}

/// The evidence sent with any dispute, for the ombudsman's staff.
pub fn case_evidence(store: &mut Store, keys: &Keys, id: i64) -> Result<(MediaType, Vec<u8>)> {
    let (_, owner) = store.dispute(id)?.ok_or(BureauError::not_found("dispute"))?;
    evidence(store, keys, &owner, id)
}

/// The evidence the person sent with one of their disputes: its type and bytes.
pub fn evidence(store: &mut Store, keys: &Keys, key: &SubjectKey, id: i64) -> Result<(MediaType, Vec<u8>)> {
    let sealed = store.claim(key, id)?.and_then(|c| c.evidence).ok_or(BureauError::not_found("evidence"))?;
    Ok((sealed.media_type, keys.open_bytes(key, &sealed.sealed).map_err(BureauError::corrupt)?))
}

/// Asks for human review of a decision about the person (by its log leaf).
pub fn request_review(
    store: &mut Store,
    rules: &Rules,
    now: Now,
    key: &SubjectKey,
    decision_leaf: i64,
) -> Result<DisputeView> {
    unit(store, |store| {
        let body = store
            .leaf_about(decision_leaf, key)?
            .ok_or(BureauError::NotFound { what: "decision about you", field: Some("leaf") })?;
        let Leaf::Decision(decision) = Leaf::parse(&body).map_err(BureauError::corrupt)? else {
            return Err(BureauError::invalid("not_a_decision", "leaf", "that log entry is not a decision"));
        };
        let id = store.open_dispute(key, disputes::REVIEW_KIND, &disputes::review_ref(decision_leaf), None, now.ms)?;
        log(
            store,
            Leaf::ReviewRequested(leaf::ReviewRequested {
                leaf_version: LEAF_VERSION,
                subject: key.to_hex(),
                dispute: id,
                decision_leaf,
                org: decision.org,
                recorded_ms: now.ms,
            }),
        )?;
        find_view(store, rules, now, id)
    })
}

/// The explanations an ombudsman's decision may give, each for one outcome: published, so a
/// person and a furnisher read the same words for the same reason, in their language.
pub const EXPLANATIONS: &[(&str, DisputeState)] = &[
    ("verified_furnisher_records", DisputeState::Verified),
    ("verified_evidence_insufficient", DisputeState::Verified),
    ("corrected_as_claimed", DisputeState::Corrected),
    ("corrected_in_part", DisputeState::Corrected),
    ("deleted_not_verifiable", DisputeState::Deleted),
    ("deleted_evidence_shows_wrong", DisputeState::Deleted),
    ("deleted_identity_theft", DisputeState::Deleted),
    ("upheld_policy_applied", DisputeState::Upheld),
    ("overridden_record_wrong", DisputeState::Overridden),
    ("overridden_policy_misapplied", DisputeState::Overridden),
];

/// An ombudsman's ruling: the outcome, the published explanation, and the member of staff who
/// gave it (when given in the console).
#[derive(Clone, Copy, Debug)]
pub struct Ruling<'a> {
    pub outcome: DisputeState,
    pub explanation: Option<&'a str>,
    pub staff: Option<&'a str>,
}

impl Ruling<'_> {
    /// An outcome alone.
    pub fn of(outcome: DisputeState) -> Ruling<'static> {
        Ruling { outcome, explanation: None, staff: None }
    }
}

/// A furnisher's answer to a dispute of its record: verified, or corrected (the corrected
/// record sent in a batch first).
pub fn answer(
    store: &mut Store,
    rules: &Rules,
    now: Now,
    org: &OrgId,
    id: i64,
    step: DisputeState,
) -> Result<DisputeState> {
    if !matches!(step, DisputeState::FurnisherVerified | DisputeState::FurnisherCorrected) {
        return Err(BureauError::invalid("bad_outcome", "outcome", "verified or corrected"));
    }
    unit(store, |store| {
        // Another furnisher's dispute is as absent as a missing one.
        let (dispute, owner) = undecided(store, id)?
            .filter(|(d, _)| d.furnisher.as_ref() == Some(org))
            .ok_or(BureauError::not_found("dispute of a record of yours"))?;
        match disputes::effective_state(&dispute, now.ms, rules.dispute_days) {
            DisputeState::FurnisherAsked => {}
            DisputeState::Blocked => {
                return Err(BureauError::conflict(
                    "blocked",
                    "the person reported this record as identity theft and it is blocked; the ombudsman decides",
                ))
            }
            DisputeState::Suppressed => {
                return Err(BureauError::conflict(
                    "too_late",
                    "the deadline has passed and the record is suppressed; the ombudsman decides from here",
                ))
            }
            _ => return Err(BureauError::conflict("already_answered", "this dispute has your answer")),
        }
        if step == DisputeState::FurnisherCorrected {
            require_correction(store, rules, now, &owner, &dispute)?;
        }
        store.dispute_step(id, step, now.ms)?;
        log(
            store,
            Leaf::DisputeAnswered(leaf::DisputeAnswered {
                leaf_version: LEAF_VERSION,
                subject: owner.to_hex(),
                dispute: id,
                record_ref: dispute.record_ref.clone(),
                furnisher: org.as_str().to_owned(),
                answer: step.as_str().to_owned(),
                recorded_ms: now.ms,
            }),
        )?;
        Ok(step)
    })
}

/// The ombudsman decides a dispute (verified, corrected, deleted) or a review (upheld,
/// overridden).
pub fn decide(
    store: &mut Store,
    rules: &Rules,
    now: Now,
    reviewer: &OrgId,
    id: i64,
    ruling: &Ruling<'_>,
    deployed: Option<&Deployed>,
) -> Result<()> {
    let Ruling { outcome, explanation, staff } = *ruling;
    if let Some(e) = explanation {
        if !EXPLANATIONS.iter().any(|(id, o)| *id == e && *o == outcome) {
            return Err(BureauError::invalid(
                "bad_explanation",
                "explanation",
                format!("not an explanation the bureau publishes for `{}`", outcome.as_str()),
            ));
        }
    }
    const OUTCOMES: &str = "verified, corrected or deleted; upheld or overridden for a review";
    unit(store, |store| {
        let (dispute, owner) = undecided(store, id)?.ok_or(BureauError::not_found("open dispute"))?;
        let decision_leaf = disputes::reviewed_leaf(&dispute);
        let review = dispute.record_kind == disputes::REVIEW_KIND;
        let allowed = if review {
            matches!(outcome, DisputeState::Upheld | DisputeState::Overridden)
        } else {
            matches!(outcome, DisputeState::Verified | DisputeState::Corrected | DisputeState::Deleted)
        };
        if !allowed {
            return Err(BureauError::invalid("bad_outcome", "outcome", OUTCOMES));
        }
        if outcome == DisputeState::Corrected {
            require_correction(store, rules, now, &owner, &dispute)?;
        }
        store.dispute_step_explained(id, outcome, now.ms, explanation)?;
        log(
            store,
            Leaf::DisputeDecided(leaf::DisputeDecided {
                leaf_version: LEAF_VERSION,
                subject: owner.to_hex(),
                dispute: id,
                record_kind: dispute.record_kind.clone(),
                record_ref: dispute.record_ref.clone(),
                outcome: outcome.as_str().to_owned(),
                reviewer: reviewer.as_str().to_owned(),
                decision_leaf,
                explanation: explanation.map(str::to_owned),
                staff: staff.map(str::to_owned),
                recorded_ms: now.ms,
            }),
        )?;
        if matches!(outcome, DisputeState::Corrected | DisputeState::Deleted | DisputeState::Overridden) {
            notify(store, rules, now, &owner, id, outcome, decision_leaf, deployed)?;
        }
        Ok(())
    })
}

/// A `corrected` outcome stands only if the record changed since the dispute opened: the
/// furnisher sent the corrected record (a newer version) in a batch.
fn require_correction(store: &mut Store, rules: &Rules, now: Now, owner: &SubjectKey, dispute: &Dispute) -> Result<()> {
    let record = Record::parse(&dispute.record_kind, &dispute.record_ref).map_err(BureauError::corrupt)?;
    let read = |known_ms| FileRead { known_ms, today: now.today, retention: rules.retention };
    let before = store.file(owner, &read(dispute.opened_ms))?.and_then(|f| record.content_in(&f));
    let after = store.file(owner, &read(now.ms))?.and_then(|f| record.content_in(&f));
    if before == after {
        return Err(BureauError::Conflict {
            code: "no_correction",
            field: Some("outcome"),
            message: "the record has not changed since the dispute opened: send the corrected record in a batch first, or answer verified (deleted, for the ombudsman)".into(),
        });
    }
    Ok(())
}

/// Records the suppression of every disputed record whose furnisher has not answered by the
/// deadline, logs it and tells the organisations that read the file, each dispute in a unit of
/// its own. (Reads leave such records out from the deadline on whether or not this has run;
/// this puts it on the record.) How many it suppressed.
pub fn sweep_overdue(store: &mut Store, rules: &Rules, now: Now, deployed: Option<&Deployed>) -> Result<usize> {
    let mut n = 0;
    let mut page = Page::first(SWEEP_PAGE);
    loop {
        let read = store.undecided_disputes(None, page.after, page.limit)?;
        let Some(last) = read.last().map(|(d, _)| d.id) else { break };
        for (d, owner) in read {
            n += suppress_if_overdue(store, rules, now, d, &owner, deployed)?;
        }
        page.after = last;
    }
    Ok(n)
}

/// Disputes the sweep reads at a time.
const SWEEP_PAGE: u32 = 500;

/// Records one dispute's suppression if its furnisher has not answered by the deadline, in a
/// unit of its own; 1 if it did.
fn suppress_if_overdue(
    store: &mut Store,
    rules: &Rules,
    now: Now,
    d: Dispute,
    owner: &SubjectKey,
    deployed: Option<&Deployed>,
) -> Result<usize> {
    if disputes::effective_state(&d, now.ms, rules.dispute_days) != DisputeState::Suppressed {
        return Ok(0);
    }
    unit(store, |store| {
        store.dispute_step(d.id, DisputeState::Suppressed, now.ms)?;
        log(
            store,
            Leaf::DisputeSuppressed(leaf::DisputeSuppressed {
                leaf_version: LEAF_VERSION,
                subject: owner.to_hex(),
                dispute: d.id,
                record_kind: d.record_kind.clone(),
                record_ref: d.record_ref.clone(),
                furnisher: d.furnisher.as_ref().map(|f| f.as_str().to_owned()),
                reason: "not verified by the deadline".into(),
                recorded_ms: now.ms,
            }),
        )?;
        notify(store, rules, now, owner, d.id, DisputeState::Suppressed, None, deployed)
    })?;
    Ok(1)
}

/// Tells every organisation that read the person's file in the last six months (and, for an
/// overridden decision, the lender that made it) of a change, with the score the file gives
/// now — unless the person has since frozen the file or withdrawn that organisation's consent,
/// in which case it is told of the change without a score.
#[allow(clippy::too_many_arguments)]
fn notify(
    store: &mut Store,
    rules: &Rules,
    now: Now,
    owner: &SubjectKey,
    dispute: i64,
    outcome: DisputeState,
    decision_leaf: Option<i64>,
    deployed: Option<&Deployed>,
) -> Result<()> {
    let mut recipients: Vec<String> = Vec::new();
    for (index, body) in store.leaves_about(owner)? {
        let Ok(leaf) = Leaf::parse(&body) else { continue };
        let recent = leaf.recorded_ms() >= now.ms - NOTIFY_WINDOW_MS;
        if let Some(org) = leaf.reader() {
            if (recent || decision_leaf == Some(index)) && !recipients.iter().any(|r| r == org) {
                recipients.push(org.to_owned());
            }
        }
    }
    let rescored = match deployed {
        Some(deployed) => match reported_file(store, rules, now, owner, now.today) {
            Ok(report) => deployed.score_file(&report.file, now.today)?.score,
            Err(BureauError::NotFound { .. }) => None,
            Err(e) => return Err(e),
        },
        None => None,
    };
    let frozen = store.is_frozen(owner)?;
    let consents = store.consents(owner, i64::MAX)?;
    for org in recipients {
        let still_consented = consents.iter().any(|c| c.org.as_str() == org && c.is_live_on(now.today));
        log(
            store,
            Leaf::Notification(leaf::Notification {
                leaf_version: LEAF_VERSION,
                subject: owner.to_hex(),
                org,
                dispute,
                outcome: outcome.as_str().to_owned(),
                new_score: rescored.filter(|_| still_consented && !frozen),
                decision_leaf,
                recorded_ms: now.ms,
            }),
        )?;
    }
    Ok(())
}

/// A page of the notifications for `org`, oldest first, with their leaf index (the key).
pub fn notifications(store: &mut Store, org: &OrgId, page: Page) -> Result<Paged<(i64, leaf::Notification)>> {
    let read = store.leaves_addressed_to(org, "notification", page.after, page.limit)?;
    let mut out = Vec::with_capacity(read.len());
    for (index, body) in read {
        match Leaf::parse(&body).map_err(BureauError::corrupt)? {
            Leaf::Notification(n) => out.push((index, n)),
            other => {
                return Err(BureauError::corrupt(format!("leaf {index} is a {}, not a notification", other.kind())))
            }
        }
    }
    Ok(Paged::read(page, out, |(i, _)| *i))
}
