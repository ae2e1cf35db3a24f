//! Consents and disputes, as records: each change is a new row, and reads take the latest. The
//! workflows around them (who may grant, deadlines, notifications) belong to the service.

use candor_file::ids::SubjectKey;
use candor_file::model::{Consent, Dispute, DisputeState, OrgId, Purpose};

use crate::conn::{Param, Tx};
use crate::{fetch, from_day_number, param_date, transact, Store, StoreError};

/// The subject's id inside a write transaction: they must be on file.
fn subject<T: Tx>(tx: &mut T, key: &SubjectKey) -> Result<i64, StoreError> {
    known_subject(tx, key)?.ok_or(StoreError::UnknownSubject)
}

/// The subject's id, if the bureau knows them: every per-person statement then filters by it
/// (the directory is looked up first, never joined, so each statement stays on one shard).
pub(crate) fn known_subject<T: Tx>(tx: &mut T, key: &SubjectKey) -> Result<Option<i64>, StoreError> {
    tx.query_one("SELECT subject_id FROM subjects WHERE subject_key = $1", &[Param::Bytes(&key.0)], |r| r.int(0))
}

/// The subject a dispute is about, by its number (the one lookup not routed by subject: staff
/// address a dispute by number; every statement after it filters by the subject).
fn dispute_subject<T: Tx>(tx: &mut T, dispute_id: i64) -> Result<Option<i64>, StoreError> {
    tx.query_one("SELECT subject_id FROM disputes WHERE dispute_id = $1", &[Param::Int(dispute_id)], |r| r.int(0))
}

/// The time a new version of the row `filter` selects is recorded at: now, or just after the
/// latest version when changes come within one millisecond, so versions stay distinct and ordered.
fn version_ms<T: Tx>(
    tx: &mut T,
    table: &str,
    filter: &str,
    params: &[Param<'_>],
    now_ms: i64,
) -> Result<i64, StoreError> {
    let last = tx
        .query_one(&format!("SELECT MAX(recorded_ms) FROM {table} WHERE {filter}"), params, |r| r.opt_int(0))?
        .flatten();
    Ok(last.map_or(now_ms, |l| now_ms.max(l + 1)))
}

/// A dispute from the first six columns: id, record kind, record reference, opened, state,
/// furnisher.
fn read_dispute(r: &dyn crate::conn::Row) -> Result<Dispute, StoreError> {
    Ok(Dispute {
        id: r.int(0)?,
        record_kind: r.text(1)?,
        record_ref: r.text(2)?,
        opened_ms: r.int(3)?,
        state: DisputeState::parse(&r.text(4)?).map_err(corrupt)?,
        furnisher: r.opt_text(5)?.map(|f| OrgId::parse(&f)).transpose().map_err(corrupt)?,
    })
}

/// Adds a row of a subject's disputes with their steps (oldest first): each dispute ends at its
/// latest step.
pub(crate) fn fold_dispute(out: &mut Vec<Dispute>, r: &dyn crate::conn::Row) -> Result<(), StoreError> {
    let dispute = read_dispute(r)?;
    match out.last_mut() {
        Some(last) if last.id == dispute.id => *last = dispute,
        _ => out.push(dispute),
    }
    Ok(())
}

/// Folds the rows of a person's consents, by (organisation, purpose) and time, into the latest
/// state of each.
pub(crate) fn fold_consent(out: &mut Vec<Consent>, r: &dyn crate::conn::Row) -> Result<(), StoreError> {
    let consent = Consent {
        org: OrgId::parse(&r.text(0)?).map_err(corrupt)?,
        purpose: Purpose::parse(&r.text(1)?).map_err(corrupt)?,
        granted: from_day_number(r.int(2)?)?,
        until: from_day_number(r.int(3)?)?,
        revoked: r.opt_int(4)?.map(from_day_number).transpose()?,
    };
    match out.last_mut() {
        Some(last) if last.org == consent.org && last.purpose == consent.purpose => *last = consent,
        _ => out.push(consent),
    }
    Ok(())
}

/// Adds a row of a subject's statements (by reference, oldest first): each reference ends at
/// its latest text (empty when withdrawn).
pub(crate) fn fold_statement(out: &mut Vec<(String, String)>, r: &dyn crate::conn::Row) -> Result<(), StoreError> {
    let (reference, text) = (r.text(0)?, r.text(1)?);
    match out.last_mut() {
        Some(last) if last.0 == reference => last.1 = text,
        _ => out.push((reference, text)),
    }
    Ok(())
}

/// The columns of a dispute with each of its steps and its subject, over `d`.
const LATEST: &str =
    "SELECT d.dispute_id, d.record_kind, d.record_ref, d.opened_ms, st.state, d.furnisher, d.subject_id";
const LATEST_JOIN: &str = "JOIN dispute_steps st ON st.subject_id = d.subject_id AND st.dispute_id = d.dispute_id \
     ORDER BY d.dispute_id, st.recorded_ms, st.seq";

/// Each dispute `sql` selects (with [`LATEST`] and [`LATEST_JOIN`]) at its latest state, with
/// its subject's key (looked up in the directory afterwards, not joined).
fn latest_states<T: Tx>(tx: &mut T, sql: &str, params: &[Param<'_>]) -> Result<Vec<(Dispute, SubjectKey)>, StoreError> {
    let mut found: Vec<(Dispute, i64)> = Vec::new();
    tx.query(sql, params, &mut |r| {
        let dispute = read_dispute(r)?;
        match found.last_mut() {
            Some(last) if last.0.id == dispute.id => last.0 = dispute,
            _ => found.push((dispute, r.int(6)?)),
        }
        Ok(())
    })?;
    let mut keys: std::collections::HashMap<i64, SubjectKey> = std::collections::HashMap::new();
    let mut ids: Vec<i64> = found.iter().map(|(_, sid)| *sid).collect();
    ids.sort_unstable();
    ids.dedup();
    let params: Vec<Param<'_>> = ids.iter().map(|id| Param::Int(*id)).collect();
    crate::write::select_in(
        tx,
        &crate::write::KeyLookup {
            columns: "subject_id, subject_key",
            table: "subjects",
            filter: "",
            key: "subject_id",
        },
        &[],
        &params,
        &mut |r| {
            keys.insert(r.int(0)?, crate::read::subject_key(r.opt_bytes(1)?)?);
            Ok(())
        },
    )?;
    found
        .into_iter()
        .map(|(dispute, sid)| {
            let key = keys.get(&sid).copied().ok_or_else(|| corrupt("a dispute's subject is not on file"))?;
            Ok((dispute, key))
        })
        .collect()
}

/// How an enrolment proved that the person is who they say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proofing {
    /// An activation code the bureau issued them out of band.
    Code,
    /// Questions from their own file.
    Questions,
}

impl Proofing {
    pub fn as_str(self) -> &'static str {
        match self {
            Proofing::Code => "code",
            Proofing::Questions => "questions",
        }
    }
}

/// One version of a person's enrolment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnrolmentRow {
    pub recorded_ms: i64,
    /// None for a withdrawal.
    pub passphrase_hash: Option<String>,
    pub proofing: Proofing,
}

/// The passphrase hashes a sign-in is checked against ([`Store::sign_in_hashes`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignInHashes {
    pub current: Option<String>,
    /// When the enrolment now replaced the one before, and that one's hash.
    pub replaced: Option<(i64, String)>,
}

/// A person's second factor as the store keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecondFactor {
    /// The TOTP secret, sealed to the person.
    pub secret_sealed: Vec<u8>,
    /// The keyed hashes of the recovery codes not yet used, comma-separated.
    pub recovery_hashes: String,
    /// When it was put in force; none while being turned on.
    pub confirmed_ms: Option<i64>,
    /// The last step whose code was accepted.
    pub last_step: Option<i64>,
}

/// The person's entry in the file, made if the bureau has none yet.
fn ensure_subject<T: Tx>(tx: &mut T, subject: &crate::SubjectEntry, now_ms: i64) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO subjects (subject_key, scheme, masked, region, recorded_ms) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (subject_key) DO NOTHING",
        &[
            Param::Bytes(&subject.key.0),
            Param::Text(subject.scheme.as_str()),
            Param::Text(&subject.masked),
            Param::OptText(subject.region.as_deref()),
            Param::Int(now_ms),
        ],
    )?;
    Ok(())
}

/// Records the next state of the subject's dispute (`seq` orders steps recorded in the same
/// millisecond); a decision marks the dispute decided.
fn record_step<T: Tx>(
    tx: &mut T,
    sid: i64,
    dispute_id: i64,
    state: DisputeState,
    now_ms: i64,
    explanation: Option<&str>,
) -> Result<(), StoreError> {
    let ids = [Param::Int(sid), Param::Int(dispute_id)];
    let seq = tx
        .query_one("SELECT COUNT(*) FROM dispute_steps WHERE subject_id = $1 AND dispute_id = $2", &ids, |r| r.int(0))?
        .unwrap_or(0);
    tx.execute(
        "INSERT INTO dispute_steps (subject_id, dispute_id, recorded_ms, seq, state, explanation) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            Param::Int(sid),
            Param::Int(dispute_id),
            Param::Int(now_ms),
            Param::Int(seq),
            Param::Text(state.as_str()),
            Param::OptText(explanation),
        ],
    )?;
    if !candor_file::disputes::is_pending(state) && state != DisputeState::Open {
        tx.execute(
            "UPDATE disputes SET decided_ms = $3 WHERE subject_id = $1 AND dispute_id = $2 AND decided_ms IS NULL",
            &[Param::Int(sid), Param::Int(dispute_id), Param::Int(now_ms)],
        )?;
    }
    Ok(())
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

impl Store {
    /// Enrols a subject (creating the file's entry if the bureau has none yet) with the hash of
    /// their passphrase; `None` withdraws.
    pub fn enrol(
        &mut self,
        subject: &crate::SubjectEntry,
        passphrase_hash: Option<&str>,
        proofing: Proofing,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        transact!(self, |tx| {
            ensure_subject(&mut tx, subject, now_ms)?;
            let sid = self::subject(&mut tx, &subject.key)?;
            let at = version_ms(&mut tx, "enrolments", "subject_id = $1", &[Param::Int(sid)], now_ms)?;
            tx.execute(
                "INSERT INTO enrolments (subject_id, recorded_ms, passphrase_hash, proofing) VALUES ($1, $2, $3, $4)",
                &[Param::Int(sid), Param::Int(at), Param::OptText(passphrase_hash), Param::Text(proofing.as_str())],
            )?
        })?;
        Ok(())
    }

    /// How many wrong answers to the enrolment questions were given for this identifier's keyed
    /// hash since `since_ms` (whether or not the bureau knows the person).
    pub fn proofing_failures(&mut self, key: &SubjectKey, since_ms: i64) -> Result<i64, StoreError> {
        fetch!(self, |tx| tx
            .query_one(
                "SELECT COUNT(*) FROM proofing_failures WHERE subject_key = $1 AND at_ms >= $2",
                &[Param::Bytes(&key.0), Param::Int(since_ms)],
                |r| r.int(0),
            )?
            .unwrap_or(0))
    }

    /// Records a wrong answer to the enrolment questions, and forgets those from before
    /// `forget_before_ms`, so the table holds one window's failures only.
    pub fn put_proofing_failure(
        &mut self,
        key: &SubjectKey,
        now_ms: i64,
        forget_before_ms: i64,
    ) -> Result<(), StoreError> {
        transact!(self, |tx| {
            tx.execute("DELETE FROM proofing_failures WHERE at_ms < $1", &[Param::Int(forget_before_ms)])?;
            tx.execute(
                "INSERT INTO proofing_failures (subject_key, at_ms) VALUES ($1, $2)",
                &[Param::Bytes(&key.0), Param::Int(now_ms)],
            )?
        })?;
        Ok(())
    }

    /// Keeps an activation code's hash for a person (making their entry in the file if the
    /// bureau has none yet), valid until `expires_ms`.
    pub fn put_activation(
        &mut self,
        subject: &crate::SubjectEntry,
        code_hash: &str,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<(), StoreError> {
        transact!(self, |tx| {
            ensure_subject(&mut tx, subject, now_ms)?;
            let sid = self::subject(&mut tx, &subject.key)?;
            tx.execute(
                "INSERT INTO activation_codes (subject_id, code_hash, issued_ms, expires_ms, used_ms) \
                 VALUES ($1, $2, $3, $4, NULL)",
                &[Param::Int(sid), Param::Text(code_hash), Param::Int(now_ms), Param::Int(expires_ms)],
            )?
        })?;
        Ok(())
    }

    /// Uses the person's activation code of this hash, if it is theirs, unused and unexpired:
    /// whether it was.
    pub fn use_activation(&mut self, key: &SubjectKey, code_hash: &str, now_ms: i64) -> Result<bool, StoreError> {
        transact!(self, |tx| {
            match known_subject(&mut tx, key)? {
                None => false,
                Some(sid) => {
                    tx.execute(
                        "UPDATE activation_codes SET used_ms = $3 WHERE subject_id = $1 AND code_hash = $2 \
                         AND used_ms IS NULL AND expires_ms > $3",
                        &[Param::Int(sid), Param::Text(code_hash), Param::Int(now_ms)],
                    )? == 1
                }
            }
        })
    }

    /// The person's last two enrolment rows, newest first.
    pub fn enrolment_history(&mut self, key: &SubjectKey) -> Result<Vec<EnrolmentRow>, StoreError> {
        let Some(sid) = self.subject_id(key)? else { return Ok(Vec::new()) };
        fetch!(self, |tx| {
            let mut out = Vec::new();
            tx.query(
                "SELECT recorded_ms, passphrase_hash, proofing FROM enrolments \
                 WHERE subject_id = $1 ORDER BY recorded_ms DESC LIMIT 2",
                &[Param::Int(sid)],
                &mut |r| {
                    let proofing = match r.opt_text(2)?.as_deref() {
                        Some("questions") => Proofing::Questions,
                        _ => Proofing::Code,
                    };
                    out.push(EnrolmentRow { recorded_ms: r.int(0)?, passphrase_hash: r.opt_text(1)?, proofing });
                    Ok(())
                },
            )?;
            out
        })
    }

    /// The person's second factor, on or being turned on.
    pub fn second_factor(&mut self, key: &SubjectKey) -> Result<Option<SecondFactor>, StoreError> {
        let Some(sid) = self.subject_id(key)? else { return Ok(None) };
        fetch!(self, |tx| {
            tx.query_one(
                "SELECT secret_sealed, recovery_hashes, confirmed_ms, last_step FROM second_factors WHERE subject_id = $1",
                &[Param::Int(sid)],
                |r| {
                    Ok(SecondFactor {
                        secret_sealed: hex::decode(r.text(0)?).map_err(corrupt)?,
                        recovery_hashes: r.text(1)?,
                        confirmed_ms: r.opt_int(2)?,
                        last_step: r.opt_int(3)?,
                    })
                },
            )?
        })
    }

    /// Starts the person's second factor afresh (replacing one not confirmed).
    pub fn put_second_factor(
        &mut self,
        key: &SubjectKey,
        secret_sealed: &[u8],
        recovery_hashes: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        transact!(self, |tx| {
            let sid = subject(&mut tx, key)?;
            tx.execute("DELETE FROM second_factors WHERE subject_id = $1", &[Param::Int(sid)])?;
            tx.execute(
                "INSERT INTO second_factors (subject_id, recorded_ms, secret_sealed, recovery_hashes) \
                 VALUES ($1, $2, $3, $4)",
                &[
                    Param::Int(sid),
                    Param::Int(now_ms),
                    Param::Text(&hex::encode(secret_sealed)),
                    Param::Text(recovery_hashes),
                ],
            )?
        })?;
        Ok(())
    }

    /// Puts the person's second factor in force, with the step of the code that confirmed it.
    pub fn confirm_second_factor(&mut self, key: &SubjectKey, step: i64, now_ms: i64) -> Result<(), StoreError> {
        self.update_second_factor(key, "confirmed_ms = $2, last_step = $3", &[Param::Int(now_ms), Param::Int(step)])
    }

    /// Remembers the step of a code used, so it is never accepted again.
    pub fn use_second_factor_step(&mut self, key: &SubjectKey, step: i64) -> Result<(), StoreError> {
        self.update_second_factor(key, "last_step = $2", &[Param::Int(step)])
    }

    /// The keyed hashes of the recovery codes left.
    pub fn set_recovery_hashes(&mut self, key: &SubjectKey, hashes: &str) -> Result<(), StoreError> {
        self.update_second_factor(key, "recovery_hashes = $2", &[Param::Text(hashes)])
    }

    /// Turns the person's second factor off.
    pub fn remove_second_factor(&mut self, key: &SubjectKey) -> Result<(), StoreError> {
        transact!(self, |tx| {
            let sid = subject(&mut tx, key)?;
            tx.execute("DELETE FROM second_factors WHERE subject_id = $1", &[Param::Int(sid)])?
        })?;
        Ok(())
    }

    fn update_second_factor(&mut self, key: &SubjectKey, set: &str, params: &[Param<'_>]) -> Result<(), StoreError> {
        transact!(self, |tx| {
            let sid = subject(&mut tx, key)?;
            let all: Vec<Param<'_>> = std::iter::once(Param::Int(sid)).chain(params.iter().cloned()).collect();
            tx.execute(&format!("UPDATE second_factors SET {set} WHERE subject_id = $1"), &all)?
        })?;
        Ok(())
    }

    /// Records the operator's switch: scoring suspended (or resumed).
    pub fn put_scoring_switch(&mut self, suspended: bool, now_ms: i64) -> Result<(), StoreError> {
        transact!(self, |tx| {
            let at = version_ms(&mut tx, "scoring_switch", "1 = 1", &[], now_ms)?;
            tx.execute(
                "INSERT INTO scoring_switch (recorded_ms, suspended) VALUES ($1, $2)",
                &[Param::Int(at), Param::Int(i64::from(suspended))],
            )?
        })?;
        Ok(())
    }

    /// Whether the operator's last switch suspended scoring.
    pub fn scoring_suspended(&mut self) -> Result<bool, StoreError> {
        let last = fetch!(self, |tx| tx.query_one(
            "SELECT suspended FROM scoring_switch ORDER BY recorded_ms DESC LIMIT 1",
            &[],
            |r| r.int(0)
        )?)?;
        Ok(last == Some(1))
    }

    /// Withdraws a subject's enrolment: their passphrase is forgotten (a row without one).
    pub fn withdraw(&mut self, key: &SubjectKey, now_ms: i64) -> Result<(), StoreError> {
        transact!(self, |tx| {
            let sid = subject(&mut tx, key)?;
            let at = version_ms(&mut tx, "enrolments", "subject_id = $1", &[Param::Int(sid)], now_ms)?;
            tx.execute(
                "INSERT INTO enrolments (subject_id, recorded_ms, passphrase_hash) VALUES ($1, $2, NULL)",
                &[Param::Int(sid), Param::Int(at)],
            )?
        })?;
        Ok(())
    }

    /// Places (or lifts) the subject's freeze on their file.
    pub fn set_freeze(&mut self, key: &SubjectKey, placed: bool, now_ms: i64) -> Result<(), StoreError> {
        transact!(self, |tx| {
            let sid = subject(&mut tx, key)?;
            let at = version_ms(&mut tx, "freezes", "subject_id = $1", &[Param::Int(sid)], now_ms)?;
            tx.execute(
                "INSERT INTO freezes (subject_id, recorded_ms, placed) VALUES ($1, $2, $3)",
                &[Param::Int(sid), Param::Int(at), Param::Int(i64::from(placed))],
            )?
        })?;
        Ok(())
    }

    /// Whether the subject's file is frozen now.
    pub fn is_frozen(&mut self, key: &SubjectKey) -> Result<bool, StoreError> {
        let Some(sid) = self.subject_id(key)? else { return Ok(false) };
        let placed = fetch!(self, |tx| {
            tx.query_one(
                "SELECT placed FROM freezes WHERE subject_id = $1 ORDER BY recorded_ms DESC LIMIT 1",
                &[Param::Int(sid)],
                |r| r.int(0),
            )?
        })?;
        Ok(placed == Some(1))
    }

    /// The subject's passphrase hash if they are enrolled (and have not withdrawn).
    pub fn enrolment(&mut self, key: &SubjectKey) -> Result<Option<String>, StoreError> {
        let Some(sid) = self.subject_id(key)? else { return Ok(None) };
        fetch!(self, |tx| {
            tx.query_one(
                "SELECT passphrase_hash FROM enrolments WHERE subject_id = $1 ORDER BY recorded_ms DESC LIMIT 1",
                &[Param::Int(sid)],
                |r| r.opt_text(0),
            )?
            .flatten()
        })
    }

    /// What a sign-in is checked against: the passphrase hash of the person's enrolment now (none
    /// if never enrolled or withdrawn) and, when that enrolment replaced an earlier one without a
    /// withdrawal between, when it did and the replaced passphrase's hash (whose holder is told).
    pub fn sign_in_hashes(&mut self, key: &SubjectKey) -> Result<SignInHashes, StoreError> {
        let mut rows = self.enrolment_history(key)?.into_iter();
        let (now, before) = (rows.next(), rows.next());
        let replaced = match (&now, before) {
            (Some(now), Some(before)) if now.passphrase_hash.is_some() => {
                before.passphrase_hash.map(|hash| (now.recorded_ms, hash))
            }
            _ => None,
        };
        Ok(SignInHashes { current: now.and_then(|r| r.passphrase_hash), replaced })
    }

    /// Records a consent, or a new state of one (a revocation is the same consent with `revoked`).
    pub fn put_consent(&mut self, key: &SubjectKey, consent: &Consent, now_ms: i64) -> Result<(), StoreError> {
        transact!(self, |tx| {
            let sid = subject(&mut tx, key)?;
            let now_ms = version_ms(
                &mut tx,
                "consents",
                "subject_id = $1 AND org_id = $2 AND purpose = $3",
                &[Param::Int(sid), Param::Text(consent.org.as_str()), Param::Text(consent.purpose.as_str())],
                now_ms,
            )?;
            tx.execute(
                "INSERT INTO consents (subject_id, recorded_ms, org_id, purpose, granted, until, revoked) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    Param::Int(sid),
                    Param::Int(now_ms),
                    Param::Text(consent.org.as_str()),
                    Param::Text(consent.purpose.as_str()),
                    param_date(consent.granted),
                    param_date(consent.until),
                    Param::OptInt(consent.revoked.map(crate::day_number)),
                ],
            )?
        })?;
        Ok(())
    }

    /// The subject's consents as recorded by `known_ms`: the latest state of each (organisation,
    /// purpose).
    pub fn consents(&mut self, key: &SubjectKey, known_ms: i64) -> Result<Vec<Consent>, StoreError> {
        let sid = self.subject_id(key)?.ok_or(StoreError::UnknownSubject)?;
        fetch!(self, |tx| {
            let mut out: Vec<Consent> = Vec::new();
            tx.query(
                "SELECT org_id, purpose, granted, until, revoked FROM consents WHERE subject_id = $1 AND recorded_ms <= $2 \
                 ORDER BY org_id, purpose, recorded_ms",
                &[Param::Int(sid), Param::Int(known_ms)],
                &mut |r| fold_consent(&mut out, r),
            )?;
            out
        })
    }

    /// Opens a dispute of one record, asking `furnisher` (if any) to verify it; returns its id.
    pub fn open_dispute(
        &mut self,
        key: &SubjectKey,
        record_kind: &str,
        record_ref: &str,
        furnisher: Option<&OrgId>,
        now_ms: i64,
    ) -> Result<i64, StoreError> {
        transact!(self, |tx| {
            let sid = subject(&mut tx, key)?;
            let id = tx.query_one(
                "INSERT INTO disputes (subject_id, opened_ms, record_kind, record_ref, furnisher) VALUES ($1, $2, $3, $4, $5) \
                 RETURNING dispute_id",
                &[
                    Param::Int(sid),
                    Param::Int(now_ms),
                    Param::Text(record_kind),
                    Param::Text(record_ref),
                    Param::OptText(furnisher.map(OrgId::as_str)),
                ],
                |r| r.int(0),
            )?
            .ok_or_else(|| corrupt("no dispute id returned"))?;
            record_step(&mut tx, sid, id, DisputeState::Open, now_ms, None)?;
            if furnisher.is_some() {
                record_step(&mut tx, sid, id, DisputeState::FurnisherAsked, now_ms, None)?;
            }
            id
        })
    }

    /// Records the next state of a dispute.
    pub fn dispute_step(&mut self, dispute_id: i64, state: DisputeState, now_ms: i64) -> Result<(), StoreError> {
        self.dispute_step_explained(dispute_id, state, now_ms, None)
    }

    /// Records the next state of a dispute with the explanation the decider gave.
    pub fn dispute_step_explained(
        &mut self,
        dispute_id: i64,
        state: DisputeState,
        now_ms: i64,
        explanation: Option<&str>,
    ) -> Result<(), StoreError> {
        transact!(self, |tx| {
            let sid = dispute_subject(&mut tx, dispute_id)?.ok_or(StoreError::UnknownDispute)?;
            record_step(&mut tx, sid, dispute_id, state, now_ms, explanation)?
        })
    }

    /// Records a new version of an organisation's policy (its body as given).
    pub fn put_policy(&mut self, org: &OrgId, name: &str, body: &str, now_ms: i64) -> Result<(), StoreError> {
        transact!(self, |tx| {
            let at = version_ms(
                &mut tx,
                "policies",
                "org_id = $1 AND name = $2",
                &[Param::Text(org.as_str()), Param::Text(name)],
                now_ms,
            )?;
            tx.execute(
                "INSERT INTO policies (org_id, name, recorded_ms, body) VALUES ($1, $2, $3, $4)",
                &[Param::Text(org.as_str()), Param::Text(name), Param::Int(at), Param::Text(body)],
            )?
        })?;
        Ok(())
    }

    /// The current version of an organisation's policy.
    pub fn policy(&mut self, org: &OrgId, name: &str) -> Result<Option<String>, StoreError> {
        fetch!(self, |tx| tx.query_one(
            "SELECT body FROM policies WHERE org_id = $1 AND name = $2 ORDER BY recorded_ms DESC LIMIT 1",
            &[Param::Text(org.as_str()), Param::Text(name)],
            |r| r.text(0),
        )?)
    }

    /// Attaches the subject's statement to a record (an empty text withdraws it).
    pub fn put_statement(
        &mut self,
        key: &SubjectKey,
        record_ref: &str,
        text: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        transact!(self, |tx| {
            let sid = subject(&mut tx, key)?;
            let at = version_ms(
                &mut tx,
                "statements",
                "subject_id = $1 AND record_ref = $2",
                &[Param::Int(sid), Param::Text(record_ref)],
                now_ms,
            )?;
            tx.execute(
                "INSERT INTO statements (subject_id, recorded_ms, record_ref, text) VALUES ($1, $2, $3, $4)",
                &[Param::Int(sid), Param::Int(at), Param::Text(record_ref), Param::Text(text)],
            )?
        })?;
        Ok(())
    }

    /// The subject's current statements: (record reference, text), by reference.
    pub fn statements(&mut self, key: &SubjectKey) -> Result<Vec<(String, String)>, StoreError> {
        let sid = self.subject_id(key)?.ok_or(StoreError::UnknownSubject)?;
        fetch!(self, |tx| {
            let mut out: Vec<(String, String)> = Vec::new();
            let sql = crate::read::PARTS[crate::read::STATEMENTS].select_one();
            tx.query(&sql, &[Param::Int(sid)], &mut |r| fold_statement(&mut out, r))?;
            out.retain(|(_, text)| !text.is_empty());
            out
        })
    }

    /// Records a merchant's service point (its body as given; an empty body removes it).
    pub fn put_service_point(&mut self, org: &OrgId, point: &str, body: &str, now_ms: i64) -> Result<(), StoreError> {
        transact!(self, |tx| {
            let at = version_ms(
                &mut tx,
                "service_points",
                "org_id = $1 AND point = $2",
                &[Param::Text(org.as_str()), Param::Text(point)],
                now_ms,
            )?;
            tx.execute(
                "INSERT INTO service_points (org_id, point, recorded_ms, body) VALUES ($1, $2, $3, $4)",
                &[Param::Text(org.as_str()), Param::Text(point), Param::Int(at), Param::Text(body)],
            )?
        })?;
        Ok(())
    }

    /// Every current service point: (organisation, point, body), by organisation and point.
    pub fn service_points(&mut self) -> Result<Vec<(String, String, String)>, StoreError> {
        transact!(self, |tx| {
            let mut out: Vec<(String, String, String)> = Vec::new();
            tx.query(
                "SELECT org_id, point, body FROM service_points ORDER BY org_id, point, recorded_ms",
                &[],
                &mut |r| {
                    let row = (r.text(0)?, r.text(1)?, r.text(2)?);
                    match out.last_mut() {
                        Some(last) if last.0 == row.0 && last.1 == row.1 => *last = row,
                        _ => out.push(row),
                    }
                    Ok(())
                },
            )?;
            out.retain(|(_, _, body)| !body.is_empty());
            out
        })
    }

    /// Registers (a new version of) an organisation's witness key: its name and public key.
    pub fn put_witness_key(
        &mut self,
        org: &OrgId,
        name: &str,
        public_key: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        transact!(self, |tx| {
            let at = version_ms(&mut tx, "witness_keys", "org_id = $1", &[Param::Text(org.as_str())], now_ms)?;
            tx.execute(
                "INSERT INTO witness_keys (org_id, recorded_ms, name, public_key) VALUES ($1, $2, $3, $4)",
                &[Param::Text(org.as_str()), Param::Int(at), Param::Text(name), Param::Text(public_key)],
            )?
        })?;
        Ok(())
    }

    /// An organisation's current witness key: (name, public key).
    pub fn witness_key(&mut self, org: &OrgId) -> Result<Option<(String, String)>, StoreError> {
        transact!(self, |tx| tx.query_one(
            "SELECT name, public_key FROM witness_keys WHERE org_id = $1 ORDER BY recorded_ms DESC LIMIT 1",
            &[Param::Text(org.as_str())],
            |r| Ok((r.text(0)?, r.text(1)?)),
        )?)
    }

    /// Keeps a checkpoint a witness countersigned (the note with every signature).
    pub fn put_cosignature(&mut self, size: u64, org: &OrgId, text: &str, now_ms: i64) -> Result<(), StoreError> {
        transact!(self, |tx| tx.execute(
            "INSERT INTO cosignatures (size, org_id, recorded_ms, text) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (size, org_id) DO UPDATE SET text = excluded.text, recorded_ms = excluded.recorded_ms",
            &[Param::Int(size as i64), Param::Text(org.as_str()), Param::Int(now_ms), Param::Text(text)],
        )?)?;
        Ok(())
    }

    /// The largest checkpoint a witness countersigned, as its note.
    pub fn latest_cosigned(&mut self) -> Result<Option<String>, StoreError> {
        transact!(self, |tx| tx.query_one(
            "SELECT text FROM cosignatures ORDER BY size DESC, recorded_ms DESC LIMIT 1",
            &[],
            |r| r.text(0),
        )?)
    }

    /// Keeps a model document under its version and records its deployment.
    pub fn deploy_model(&mut self, version: &str, document: &str, now_ms: i64) -> Result<(), StoreError> {
        transact!(self, |tx| {
            tx.execute(
                "INSERT INTO models (version, recorded_ms, document) VALUES ($1, $2, $3) ON CONFLICT (version) DO NOTHING",
                &[Param::Text(version), Param::Int(now_ms), Param::Text(document)],
            )?;
            let at = version_ms(&mut tx, "deployments", "1 = 1", &[], now_ms)?;
            tx.execute(
                "INSERT INTO deployments (recorded_ms, version) VALUES ($1, $2)",
                &[Param::Int(at), Param::Text(version)],
            )?
        })?;
        Ok(())
    }

    /// A model document by version.
    pub fn model_document(&mut self, version: &str) -> Result<Option<String>, StoreError> {
        transact!(self, |tx| tx.query_one(
            "SELECT document FROM models WHERE version = $1",
            &[Param::Text(version)],
            |r| r.text(0),
        )?)
    }

    /// The model deployed last: (version, document).
    pub fn current_model(&mut self) -> Result<Option<(String, String)>, StoreError> {
        transact!(self, |tx| tx.query_one(
            "SELECT m.version, m.document FROM deployments d JOIN models m ON m.version = d.version \
             ORDER BY d.recorded_ms DESC LIMIT 1",
            &[],
            |r| Ok((r.text(0)?, r.text(1)?)),
        )?)
    }

    /// Every organisation's every policy as it stands now: (organisation, name, body).
    pub fn current_policies(&mut self) -> Result<Vec<(OrgId, String, String)>, StoreError> {
        transact!(self, |tx| {
            let mut out: Vec<(OrgId, String, String)> = Vec::new();
            tx.query("SELECT org_id, name, body FROM policies ORDER BY org_id, name, recorded_ms", &[], &mut |r| {
                let row = (OrgId::parse(&r.text(0)?).map_err(corrupt)?, r.text(1)?, r.text(2)?);
                match out.last_mut() {
                    Some(last) if last.0 == row.0 && last.1 == row.1 => *last = row,
                    _ => out.push(row),
                }
                Ok(())
            })?;
            out
        })
    }

    /// Every version of an organisation's policy: (recorded, body), oldest first.
    pub fn policy_versions(&mut self, org: &OrgId, name: &str) -> Result<Vec<(i64, String)>, StoreError> {
        transact!(self, |tx| {
            let mut out = Vec::new();
            tx.query(
                "SELECT recorded_ms, body FROM policies WHERE org_id = $1 AND name = $2 ORDER BY recorded_ms",
                &[Param::Text(org.as_str()), Param::Text(name)],
                &mut |r| {
                    out.push((r.int(0)?, r.text(1)?));
                    Ok(())
                },
            )?;
            out
        })
    }

    /// A page of the disputes not yet decided (open, waiting for or answered by the furnisher,
    /// blocked), with whose each is, oldest first, after dispute `after`: the ombudsman's queue,
    /// or (with `furnisher`) what one furnisher is asked to verify. Read by index.
    pub fn undecided_disputes(
        &mut self,
        furnisher: Option<&OrgId>,
        after: i64,
        limit: u32,
    ) -> Result<Vec<(Dispute, SubjectKey)>, StoreError> {
        let filter = if furnisher.is_some() { "furnisher = $3 AND" } else { "" };
        let sql = format!(
            "{LATEST} FROM (SELECT * FROM disputes WHERE {filter} decided_ms IS NULL AND dispute_id > $1 \
             ORDER BY dispute_id LIMIT $2) d {LATEST_JOIN}"
        );
        let mut params = vec![Param::Int(after), Param::Int(i64::from(limit))];
        params.extend(furnisher.map(|f| Param::Text(f.as_str())));
        fetch!(self, |tx| latest_states(&mut tx, &sql, &params)?)
    }

    /// One dispute with its latest state and whose it is.
    pub fn dispute(&mut self, dispute_id: i64) -> Result<Option<(Dispute, SubjectKey)>, StoreError> {
        let sql = format!("{LATEST} FROM (SELECT * FROM disputes WHERE dispute_id = $1) d {LATEST_JOIN}");
        Ok(fetch!(self, |tx| latest_states(&mut tx, &sql, &[Param::Int(dispute_id)])?)?.pop())
    }

    /// Keeps what the person sent with a dispute of theirs.
    pub fn put_claim(&mut self, key: &SubjectKey, dispute_id: i64, claim: &StoredClaim) -> Result<(), StoreError> {
        transact!(self, |tx| {
            let sid = subject(&mut tx, key)?;
            let evidence = claim.evidence.as_ref();
            tx.execute(
                "INSERT INTO dispute_claims (subject_id, dispute_id, reason, text_sealed, evidence_type, evidence_sha256, \
                 evidence_sealed, claim_sha256) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[
                    Param::Int(sid),
                    Param::Int(dispute_id),
                    Param::Text(&claim.reason),
                    Param::Bytes(&claim.text_sealed),
                    Param::OptText(evidence.map(|e| e.media_type.as_str())),
                    Param::OptBytes(evidence.map(|e| &e.sha256[..])),
                    Param::OptBytes(evidence.map(|e| &e.sealed[..])),
                    Param::Bytes(&claim.claim_sha256),
                ],
            )?;
        })
    }

    /// What the person sent with one of their disputes, if they sent anything.
    pub fn claim(&mut self, key: &SubjectKey, dispute_id: i64) -> Result<Option<StoredClaim>, StoreError> {
        let sid = self.subject_id(key)?.ok_or(StoreError::UnknownSubject)?;
        fetch!(self, |tx| {
            let mut found = None;
            tx.query(
                "SELECT reason, text_sealed, evidence_type, evidence_sha256, evidence_sealed, claim_sha256 \
                 FROM dispute_claims WHERE subject_id = $1 AND dispute_id = $2",
                &[Param::Int(sid), Param::Int(dispute_id)],
                &mut |r| {
                    let hash = |b: Option<Vec<u8>>| -> Result<[u8; 32], StoreError> {
                        b.and_then(|b| b.try_into().ok()).ok_or_else(|| corrupt("a claim digest is not 32 bytes"))
                    };
                    let evidence = match (r.opt_text(2)?, r.opt_bytes(3)?, r.opt_bytes(4)?) {
                        (Some(t), sha, Some(sealed)) => Some(StoredEvidence {
                            media_type: candor_file::claim::MediaType::parse(&t)
                                .ok_or_else(|| corrupt("an evidence type this version does not know"))?,
                            sha256: hash(sha)?,
                            sealed,
                        }),
                        _ => None,
                    };
                    found = Some(StoredClaim {
                        reason: r.text(0)?,
                        text_sealed: r.opt_bytes(1)?.unwrap_or_default(),
                        evidence,
                        claim_sha256: hash(r.opt_bytes(5)?)?,
                    });
                    Ok(())
                },
            )?;
            found
        })
    }

    /// A dispute's steps, in order: each state, when it was recorded, and the explanation of a
    /// decision.
    pub fn dispute_steps(&mut self, dispute_id: i64) -> Result<Vec<(DisputeState, i64, Option<String>)>, StoreError> {
        fetch!(self, |tx| {
            let mut out = Vec::new();
            let Some(sid) = dispute_subject(&mut tx, dispute_id)? else { return Ok(out) };
            tx.query(
                "SELECT state, recorded_ms, explanation FROM dispute_steps WHERE subject_id = $1 AND dispute_id = $2 \
                 ORDER BY recorded_ms, seq",
                &[Param::Int(sid), Param::Int(dispute_id)],
                &mut |r| {
                    let state = DisputeState::parse(&r.text(0)?).map_err(corrupt)?;
                    out.push((state, r.int(1)?, r.opt_text(2)?));
                    Ok(())
                },
            )?;
            out
        })
    }

    /// When the bureau first received each record of the subject's file: reports by (account
    /// reference, month number), inquiries by (organisation, day), court records by case number.
    pub fn received(&mut self, key: &SubjectKey) -> Result<Received, StoreError> {
        let sid = self.subject_id(key)?.ok_or(StoreError::UnknownSubject)?;
        fetch!(self, |tx| {
            let mut out = Received::default();
            tx.query(
                "SELECT a.reference, r.month, MIN(r.recorded_ms) FROM reports r JOIN \
                 (SELECT DISTINCT subject_id, account_id, reference FROM account_versions WHERE subject_id = $1) a \
                 ON a.subject_id = r.subject_id AND a.account_id = r.account_id \
                 WHERE r.subject_id = $1 GROUP BY a.reference, r.month",
                &[Param::Int(sid)],
                &mut |r| {
                    out.reports.insert((r.text(0)?, r.int(1)?), r.int(2)?);
                    Ok(())
                },
            )?;
            tx.query(
                "SELECT org_id, day, MIN(recorded_ms) FROM inquiries WHERE subject_id = $1 GROUP BY org_id, day",
                &[Param::Int(sid)],
                &mut |r| {
                    out.inquiries.insert((r.text(0)?, r.int(1)?), r.int(2)?);
                    Ok(())
                },
            )?;
            tx.query(
                "SELECT case_number, MIN(recorded_ms) FROM court_records WHERE subject_id = $1 GROUP BY case_number",
                &[Param::Int(sid)],
                &mut |r| {
                    out.court_records.insert(r.text(0)?, r.int(1)?);
                    Ok(())
                },
            )?;
            out
        })
    }

    /// Registers a member of an overseer's staff, or issues them a new setup code: until they
    /// set up again, their passphrase and second factor no longer sign them in.
    pub fn put_staff(&mut self, staff: &StaffRow, now_ms: i64) -> Result<(), StoreError> {
        transact!(self, |tx| {
            tx.execute("DELETE FROM staff WHERE staff_id = $1", &[Param::Text(&staff.id)])?;
            tx.execute(
                "INSERT INTO staff (staff_id, org_id, name, setup_hash, setup_expires_ms, passphrase_hash, totp_sealed, \
                 last_step, active_ms, recorded_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                &[
                    Param::Text(&staff.id),
                    Param::Text(staff.org.as_str()),
                    Param::Text(&staff.name),
                    Param::OptText(staff.setup_hash.as_deref()),
                    Param::OptInt(staff.setup_expires_ms),
                    Param::OptText(staff.passphrase_hash.as_deref()),
                    Param::OptText(staff.totp_sealed.as_deref()),
                    Param::OptInt(staff.last_step),
                    Param::OptInt(staff.active_ms),
                    Param::Int(now_ms),
                ],
            )?;
        })
    }

    /// A member of staff by id.
    pub fn staff(&mut self, id: &str) -> Result<Option<StaffRow>, StoreError> {
        fetch!(self, |tx| {
            tx.query_one(
                "SELECT staff_id, org_id, name, setup_hash, setup_expires_ms, passphrase_hash, totp_sealed, last_step, \
                 active_ms FROM staff WHERE staff_id = $1",
                &[Param::Text(id)],
                |r| {
                    Ok(StaffRow {
                        id: r.text(0)?,
                        org: OrgId::parse(&r.text(1)?).map_err(corrupt)?,
                        name: r.text(2)?,
                        setup_hash: r.opt_text(3)?,
                        setup_expires_ms: r.opt_int(4)?,
                        passphrase_hash: r.opt_text(5)?,
                        totp_sealed: r.opt_text(6)?,
                        last_step: r.opt_int(7)?,
                        active_ms: r.opt_int(8)?,
                    })
                },
            )?
        })
    }

    /// Every dispute with its latest state and whose it is, oldest first (for walks over the
    /// whole store, which read every file anyway).
    pub fn all_disputes(&mut self) -> Result<Vec<(Dispute, SubjectKey)>, StoreError> {
        let sql = format!("{LATEST} FROM disputes d {LATEST_JOIN}");
        transact!(self, |tx| latest_states(&mut tx, &sql, &[])?)
    }

    /// The subject's disputes with their latest state, oldest first.
    pub fn disputes(&mut self, key: &SubjectKey) -> Result<Vec<Dispute>, StoreError> {
        let sid = self.subject_id(key)?.ok_or(StoreError::UnknownSubject)?;
        fetch!(self, |tx| {
            let mut out: Vec<Dispute> = Vec::new();
            let sql = crate::read::PARTS[crate::read::DISPUTES].select_one();
            tx.query(&sql, &[Param::Int(sid)], &mut |r| fold_dispute(&mut out, r))?;
            out
        })
    }
}

/// What a person sent with a dispute, as kept: the reason, their words sealed, the evidence
/// sealed with its type and digest, and the digest of the whole claim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredClaim {
    pub reason: String,
    pub text_sealed: Vec<u8>,
    pub evidence: Option<StoredEvidence>,
    pub claim_sha256: [u8; 32],
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEvidence {
    pub media_type: candor_file::claim::MediaType,
    pub sha256: [u8; 32],
    pub sealed: Vec<u8>,
}

/// A member of an overseer's staff as kept: set up with a one-time code (its keyed hash, until it
/// is used), then a passphrase (argon2) and a TOTP secret (sealed, hex) in force once active.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffRow {
    pub id: String,
    pub org: OrgId,
    pub name: String,
    pub setup_hash: Option<String>,
    pub setup_expires_ms: Option<i64>,
    pub passphrase_hash: Option<String>,
    pub totp_sealed: Option<String>,
    pub last_step: Option<i64>,
    pub active_ms: Option<i64>,
}

/// When the bureau first received each record of a subject's file, in ms since 1970.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Received {
    /// By (account reference, month number).
    pub reports: std::collections::HashMap<(String, i64), i64>,
    /// By (organisation, day number).
    pub inquiries: std::collections::HashMap<(String, i64), i64>,
    /// By case number.
    pub court_records: std::collections::HashMap<String, i64>,
}
