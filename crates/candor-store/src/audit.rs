//! The audit of what people and the ombudsman change — enrolments, activation codes, freezes,
//! consents, statements, dispute steps — and of model deployments and the operator's scoring
//! switch, against the log: every row has the
//! leaf that recorded it and every such leaf its row. The two are compared as multisets of what
//! each says (who, and what changed), so a row added, altered or removed behind the bureau's
//! back, or a leaf without its change, shows.

use std::collections::BTreeMap;

use candor_log::Leaf;

use crate::conn::Tx;
use crate::{from_day_number, StoreError};

/// A leaf as the audit reads it: its index, the subject it is about (the store's id), the leaf.
pub(crate) type AuditedLeaf = (i64, Option<i64>, Leaf);

/// What a row or a leaf says, by table: the items each side holds, counted.
#[derive(Default)]
struct Sides {
    /// table → item → (rows, leaves)
    counts: BTreeMap<&'static str, BTreeMap<String, (i64, i64)>>,
}

impl Sides {
    fn row(&mut self, table: &'static str, item: String) {
        self.counts.entry(table).or_default().entry(item).or_default().0 += 1;
    }

    fn leaf(&mut self, table: &'static str, item: String) {
        self.counts.entry(table).or_default().entry(item).or_default().1 += 1;
    }

    fn problems(self) -> Vec<String> {
        let mut out = Vec::new();
        for (table, items) in self.counts {
            let (mut unlogged, mut missing) = (0, 0);
            for (rows, leaves) in items.values() {
                if rows > leaves {
                    unlogged += rows - leaves;
                } else {
                    missing += leaves - rows;
                }
            }
            if unlogged > 0 {
                out.push(format!("{table}: {unlogged} change(s) with no leaf in the log"));
            }
            if missing > 0 {
                out.push(format!("{table}: {missing} leaf(s) whose change is not in the store"));
            }
        }
        out
    }
}

fn day_text(day: i64) -> Result<String, StoreError> {
    Ok(from_day_number(day)?.to_string())
}

/// Every discrepancy between the person-level tables and the leaves that record them.
pub(crate) fn records_against_leaves<T: Tx>(tx: &mut T, leaves: &[AuditedLeaf]) -> Result<Vec<String>, StoreError> {
    let mut sides = Sides::default();
    let sid = |s: &Option<i64>| s.map_or_else(|| "?".to_owned(), |s| s.to_string());
    // Dispute steps are keyed by dispute: each leaf says which steps it recorded.
    for (_, subject, leaf) in leaves {
        let s = sid(subject);
        match leaf {
            Leaf::Enrolment(_) | Leaf::Reenrolment(_) => sides.leaf("enrolments", format!("{s} enrolled")),
            Leaf::ActivationIssued(a) => sides.leaf("activation_codes", format!("{s} {}", a.expires_ms)),
            Leaf::ScoringSwitched(w) => sides.leaf("scoring_switch", w.suspended.to_string()),
            Leaf::Withdrawal(_) => sides.leaf("enrolments", format!("{s} withdrawn")),
            Leaf::FreezePlaced(_) => sides.leaf("freezes", format!("{s} 1")),
            Leaf::FreezeLifted(_) => sides.leaf("freezes", format!("{s} 0")),
            Leaf::ConsentGranted(c) | Leaf::ConsentRevoked(c) => sides.leaf(
                "consents",
                format!(
                    "{s} {} {} {} {} {}",
                    c.org,
                    c.purpose,
                    c.granted,
                    c.until,
                    c.revoked.as_deref().unwrap_or("-")
                ),
            ),
            Leaf::Statement(st) => sides.leaf("statements", format!("{s} {} {}", st.record_ref, st.withdrawn)),
            Leaf::DisputeOpened(d) => {
                for state in ["open", "furnisher_asked"] {
                    sides.leaf("dispute_steps", format!("{} {state}", d.dispute));
                }
                if d.blocked {
                    sides.leaf("dispute_steps", format!("{} blocked", d.dispute));
                }
            }
            Leaf::ReviewRequested(r) => sides.leaf("dispute_steps", format!("{} open", r.dispute)),
            Leaf::DisputeAnswered(a) => sides.leaf("dispute_steps", format!("{} {}", a.dispute, a.answer)),
            Leaf::DisputeSuppressed(d) => sides.leaf("dispute_steps", format!("{} suppressed", d.dispute)),
            Leaf::DisputeDecided(d) => sides.leaf("dispute_steps", format!("{} {}", d.dispute, d.outcome)),
            Leaf::ModelDeployed(m) => sides.leaf("deployments", m.version.clone()),
            _ => {}
        }
    }
    tx.query("SELECT subject_id, passphrase_hash FROM enrolments", &[], &mut |r| {
        let what = if r.opt_text(1)?.is_some() { "enrolled" } else { "withdrawn" };
        sides.row("enrolments", format!("{} {what}", r.int(0)?));
        Ok(())
    })?;
    tx.query("SELECT subject_id, placed FROM freezes", &[], &mut |r| {
        sides.row("freezes", format!("{} {}", r.int(0)?, r.int(1)?));
        Ok(())
    })?;
    tx.query("SELECT subject_id, org_id, purpose, granted, until, revoked FROM consents", &[], &mut |r| {
        let revoked = r.opt_int(5)?.map(day_text).transpose()?;
        sides.row(
            "consents",
            format!(
                "{} {} {} {} {} {}",
                r.int(0)?,
                r.text(1)?,
                r.text(2)?,
                day_text(r.int(3)?)?,
                day_text(r.int(4)?)?,
                revoked.as_deref().unwrap_or("-")
            ),
        );
        Ok(())
    })?;
    tx.query("SELECT subject_id, record_ref, text FROM statements", &[], &mut |r| {
        sides.row("statements", format!("{} {} {}", r.int(0)?, r.text(1)?, r.text(2)?.is_empty()));
        Ok(())
    })?;
    tx.query("SELECT dispute_id, state FROM dispute_steps", &[], &mut |r| {
        sides.row("dispute_steps", format!("{} {}", r.int(0)?, r.text(1)?));
        Ok(())
    })?;
    tx.query("SELECT subject_id, expires_ms FROM activation_codes", &[], &mut |r| {
        sides.row("activation_codes", format!("{} {}", r.int(0)?, r.int(1)?));
        Ok(())
    })?;
    tx.query("SELECT suspended FROM scoring_switch", &[], &mut |r| {
        sides.row("scoring_switch", (r.int(0)? == 1).to_string());
        Ok(())
    })?;
    tx.query("SELECT version FROM deployments", &[], &mut |r| {
        sides.row("deployments", r.text(0)?);
        Ok(())
    })?;
    Ok(sides.problems())
}
