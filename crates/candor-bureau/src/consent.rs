//! Consent: a person grants an organisation a purpose until a date, and revokes it; and the
//! consent gate every third-party read goes through — no live consent, or a frozen file, and the
//! read is refused and logged where the person sees it.

use candor_file::ids::SubjectKey;
use candor_file::model::{Consent, OrgId, Organisation, Purpose};
use candor_log::{leaf, Leaf, LEAF_VERSION};
use candor_store::Store;

use crate::gate::ReportedFile;
use crate::policy::{self, Band, Decision, Policy};
use crate::score::Scoring;
use crate::{log, unit, BureauError, Deployed, Now, Page, Paged, Result, Rules};

/// Why a read was refused (and logged as refused).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    NoConsent,
    Frozen,
}

impl Refusal {
    /// As the log records it.
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::NoConsent => "no live consent",
            Refusal::Frozen => "file frozen",
        }
    }
}

fn change_leaf(key: &SubjectKey, c: &Consent, now: Now) -> leaf::ConsentChange {
    leaf::ConsentChange {
        leaf_version: LEAF_VERSION,
        subject: key.to_hex(),
        org: c.org.as_str().to_owned(),
        purpose: c.purpose.as_str().to_owned(),
        granted: c.granted.to_string(),
        until: c.until.to_string(),
        revoked: c.revoked.map(|d| d.to_string()),
        recorded_ms: now.ms,
    }
}

/// A page of the person's consents, each at its latest state, by organisation and purpose
/// (keyed by position in that order).
pub fn consents(store: &mut Store, key: &SubjectKey, page: Page) -> Result<Paged<Consent>> {
    let all: Vec<(i64, Consent)> =
        store.consents(key, i64::MAX)?.into_iter().enumerate().map(|(i, c)| (i as i64, c)).collect();
    let paged = page.of(all, |(i, _)| *i);
    Ok(Paged { next: paged.next, items: paged.items.into_iter().map(|(_, c)| c).collect() })
}

/// The organisations a person may give consent to: the lenders and merchants the bureau has
/// registered, by id.
pub fn readers(store: &mut Store) -> Result<Vec<candor_file::model::Organisation>> {
    Ok(store.organisations()?.into_iter().filter(|o| o.kind.reads()).collect())
}

/// Grants `org` the `purpose` from today until `until`, and logs it.
pub fn grant(
    store: &mut Store,
    rules: &Rules,
    now: Now,
    key: &SubjectKey,
    org: OrgId,
    purpose: Purpose,
    until: time::Date,
) -> Result<Consent> {
    if until < now.today {
        return Err(BureauError::invalid("bad_date", "until", "a consent must last until today or later"));
    }
    let longest = now.today.saturating_add(time::Duration::days(rules.max_consent_days));
    if until > longest {
        return Err(BureauError::invalid(
            "bad_date",
            "until",
            format!("a consent lasts at most {} days: until {longest} at the latest", rules.max_consent_days),
        ));
    }
    match store.organisation(&org)? {
        Some(o) if o.kind.reads() => {}
        _ => {
            return Err(BureauError::invalid(
                "bad_org",
                "org",
                "consent is given only to a lender or merchant the bureau has registered",
            ))
        }
    }
    crate::subject::check_cooling_off(store, rules, now, key)?;
    let consent = Consent { org, purpose, granted: now.today, until, revoked: None };
    unit(store, |store| {
        store.put_consent(key, &consent, now.ms)?;
        log(store, Leaf::ConsentGranted(change_leaf(key, &consent, now)))
    })?;
    Ok(consent)
}

/// Revokes every live consent of the person, from today, each with its leaf (a withdrawal ends
/// them all). Runs inside the caller's unit.
pub(crate) fn revoke_all(store: &mut Store, now: Now, key: &SubjectKey) -> Result<usize> {
    let live: Vec<Consent> =
        store.consents(key, i64::MAX)?.into_iter().filter(|c| c.revoked.is_none() && c.until >= now.today).collect();
    for current in &live {
        let revoked = Consent { revoked: Some(now.today), ..current.clone() };
        store.put_consent(key, &revoked, now.ms)?;
        log(store, Leaf::ConsentRevoked(change_leaf(key, &revoked, now)))?;
    }
    Ok(live.len())
}

/// Revokes the person's consent to `org` for `purpose`, from today, and logs it.
pub fn revoke(store: &mut Store, now: Now, key: &SubjectKey, org: &OrgId, purpose: Purpose) -> Result<()> {
    unit(store, |store| {
        let current = store
            .consents(key, i64::MAX)?
            .into_iter()
            .find(|c| &c.org == org && c.purpose == purpose)
            .ok_or(BureauError::not_found("consent"))?;
        let revoked = Consent { revoked: Some(now.today), ..current };
        store.put_consent(key, &revoked, now.ms)?;
        log(store, Leaf::ConsentRevoked(change_leaf(key, &revoked, now)))?;
        Ok(())
    })
}

/// What a lender or merchant is given under a live consent.
#[derive(Clone, Debug, PartialEq)]
pub struct Given {
    pub scoring: Scoring,
    pub report: ReportedFile,
    /// Under a policy: its name, version, and the band the score fell in.
    pub decision: Option<(String, String, Band)>,
    /// The log leaf that records the read.
    pub leaf: i64,
}

impl Given {
    pub fn decision(&self) -> Option<Decision> {
        self.decision.as_ref().map(|(_, _, b)| b.decision)
    }

    /// A decline carries its adverse-action reasons: the score's reasons, so the person
    /// learns why (FCRA §615, China's 2013 regulation art. 22).
    pub fn adverse_action_reasons(&self) -> Option<&[candor_scorecard::Reason]> {
        (self.decision() == Some(Decision::Decline)).then_some(self.scoring.reasons.as_slice())
    }
}

/// What a lender or merchant asks for: a score for a purpose, or a decision under one of its
/// policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ask<'a> {
    pub purpose: Purpose,
    /// The name of one of the asker's policies, for a decision.
    pub policy: Option<&'a str>,
}

/// A score (and, under a policy, a decision) for `org`, with the person's live consent for
/// the purpose asked: logged as a read or a decision with the inputs and versions that replay it. With
/// no live consent, or the file frozen, the attempt is logged as a refused read and
/// [`BureauError::Refused`] says why. The read and its leaf are one unit.
pub fn consented_read(
    store: &mut Store,
    rules: &Rules,
    now: Now,
    org: &Organisation,
    key: &SubjectKey,
    ask: Ask<'_>,
    deployed: &Deployed,
) -> Result<Given> {
    unit(store, |store| {
        let assessed = assess(store, rules, now, org, key, ask, deployed)?;
        let leaf = store.log(&assessed.leaf)?;
        // A refusal is on the record: commit it, and tell the caller after.
        Ok(assessed.logged(leaf))
    })?
}

/// [`consented_read`] for a group commit ([`candor_store::GroupLog`]): the reads, in one read
/// transaction, and the leaf to append. The caller gives back the connection, appends
/// [`Assessed::leaf`] through the group, and then learns the answer from [`Assessed::logged`].
/// The same answers and the same leaves as [`consented_read`]; many reads share a commit.
pub fn assess_read(
    store: &mut Store,
    rules: &Rules,
    now: Now,
    org: &Organisation,
    key: &SubjectKey,
    ask: Ask<'_>,
    deployed: &Deployed,
) -> Result<Assessed> {
    // A score is the person's standing alone, one statement; a decision also reads the policy,
    // with the standing in one snapshot.
    match ask.policy {
        None => store.read_alone(|store| assess(store, rules, now, org, key, ask, deployed)),
        Some(_) => store.snapshot(|store| assess(store, rules, now, org, key, ask, deployed)),
    }
}

/// A read decided but not yet logged: its leaf, and what the caller is told once it is.
pub struct Assessed {
    pub leaf: Leaf,
    outcome: Outcome,
}

impl Assessed {
    /// The answer, once the leaf is logged at `leaf`: the read, or why it was refused.
    pub fn logged(self, leaf: i64) -> Result<Given> {
        self.outcome.finish(leaf)
    }
}

enum Outcome {
    Refused(Refusal),
    Given { scoring: Scoring, report: ReportedFile, decision: Option<(String, String, Band)> },
}

impl Outcome {
    fn finish(self, leaf: i64) -> Result<Given> {
        match self {
            Outcome::Refused(refusal) => Err(BureauError::Refused { refusal, leaf }),
            Outcome::Given { scoring, report, decision } => Ok(Given { scoring, report, decision, leaf }),
        }
    }
}

/// The reads of a consented read, and the leaf that records it.
fn assess(
    store: &mut Store,
    rules: &Rules,
    now: Now,
    org: &Organisation,
    key: &SubjectKey,
    ask: Ask<'_>,
    deployed: &Deployed,
) -> Result<Assessed> {
    let (purpose, policy_name) = (ask.purpose, ask.policy);
    let policy: Option<(Policy, String)> = policy_name.map(|n| policy::current(store, &org.id, n)).transpose()?;
    // Consents, freeze and file in one read (one statement on PostgreSQL). Someone the bureau
    // has no file on has given no consent: the answer, and its leaf, are those of any read
    // without consent, so a reader learns nothing of who is on file.
    let standing = crate::gate::standing(store, rules, now, key)?;
    let frozen = standing.as_ref().is_some_and(|s| s.frozen);
    let live = standing.as_ref().and_then(|s| {
        s.consents.iter().find(|c| c.org == org.id && c.purpose == purpose && c.is_live_on(now.today)).cloned()
    });
    let (consent, standing) = match (live, standing) {
        (Some(consent), Some(standing)) if !frozen => (consent, standing),
        _ => {
            let refusal = if frozen { Refusal::Frozen } else { Refusal::NoConsent };
            let leaf = Leaf::RefusedRead(leaf::RefusedRead {
                leaf_version: LEAF_VERSION,
                subject: key.to_hex(),
                org: org.id.as_str().to_owned(),
                purpose: purpose.as_str().to_owned(),
                reason: refusal.reason().to_owned(),
                recorded_ms: now.ms,
            });
            return Ok(Assessed { leaf, outcome: Outcome::Refused(refusal) });
        }
    };
    let report = standing.report;
    let scoring = deployed.score_file(&report.file, now.today)?;
    let decision = match (&policy, policy_name) {
        (Some((p, version)), Some(name)) => {
            let band = match scoring.score {
                Some(score) => *p.band(score).ok_or_else(|| {
                    BureauError::corrupt(format!("the policy `{name}` gives no decision for the score {score}"))
                })?,
                // Not scored: the policy's decision for no score (a band with no score).
                None => Band { min_score: i32::MIN, decision: p.no_score_decision() },
            };
            Some((name.to_owned(), version.clone(), band))
        }
        _ => None,
    };
    let read = leaf::Read {
        leaf_version: LEAF_VERSION,
        subject: key.to_hex(),
        org: org.id.as_str().to_owned(),
        purpose: purpose.as_str().to_owned(),
        consent_until: consent.until.to_string(),
        model_version: deployed.version.clone(),
        score: scoring.score,
        pd: scoring.pd,
        reasons: scoring.reasons.iter().map(|r| r.code.clone()).collect(),
        decision: decision.as_ref().map(|(_, _, b)| b.decision.as_str().to_owned()),
        policy: decision
            .as_ref()
            .map(|(name, version, _)| leaf::PolicyRef { name: name.clone(), version: version.clone() }),
        inputs: scoring.inputs(),
        as_of: now.today.to_string(),
        recorded_ms: now.ms,
    };
    let leaf = if decision.is_some() { Leaf::Decision(read) } else { Leaf::Read(read) };
    Ok(Assessed { leaf, outcome: Outcome::Given { scoring, report, decision } })
}
