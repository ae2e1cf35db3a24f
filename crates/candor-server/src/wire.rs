//! The JSON the API answers with, made from the bureau's types by hand: the only place a wire
//! shape is written, so a change to one is a change here.

use candor_bureau::consent::Given;
use candor_bureau::dispute::DisputeView;
use candor_bureau::gate::ReportedFile;
use candor_bureau::score::Scoring;
use candor_bureau::subject::LeafAbout;
use candor_file::model::{Consent, OrgId};
use serde_json::{json, Value};

/// Whether a dispute or statement reference names this account (alone or with a month).
fn names_account(reference: &str, account: &str) -> bool {
    reference.split_whitespace().next() == Some(account)
}

pub fn file(report: &ReportedFile) -> Value {
    let file = &report.file;
    let accounts: Vec<Value> = file
        .accounts
        .iter()
        .map(|h| {
            let reference = h.account.reference.as_str();
            let statement = report.statements.iter().find(|(r, _)| names_account(r, reference));
            json!({
                "disputed": report.disputed.iter().any(|r| names_account(r, reference)),
                "statement": statement.map(|(_, t)| t),
                "furnisher": h.account.furnisher.as_str(), "account": reference, "kind": h.account.kind.as_str(),
                "opened": h.account.opened.to_string(), "currency": h.account.currency.as_str(),
                "reports": h.reports.iter().map(|r| json!({
                    "month": r.month.to_string(), "balance_minor": r.balance_minor, "limit_minor": r.limit_minor,
                    "paid_minor": r.paid_minor, "dpd": r.dpd.days(), "status": r.status.as_str(),
                    "delinquent_since": r.delinquent_since.map(|d| d.to_string()),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "accounts": accounts,
        "inquiries": file.inquiries.iter().map(|i| json!({"org": i.org.as_str(), "date": i.date.to_string(), "purpose": i.purpose.as_str()})).collect::<Vec<_>>(),
        "court_records": file.court_records.iter().map(|c| json!({
            "court": c.court.as_str(), "case": c.case_number, "amount_minor": c.amount_minor, "currency": c.currency.as_str(),
            "grounds": c.grounds, "listed": c.listed.to_string(),
        })).collect::<Vec<_>>(),
    })
}

fn reasons(list: &[candor_scorecard::Reason]) -> Value {
    json!(list.iter().map(|r| json!({"code": r.code, "sentence": r.sentence})).collect::<Vec<_>>())
}

pub fn scoring(s: &Scoring) -> Value {
    json!({"score": s.score, "pd": s.pd, "model_version": s.model_version, "reasons": reasons(&s.reasons)})
}

/// A score (or decision) given to a lender or merchant.
pub fn given(g: &Given) -> Value {
    let mut body = scoring(&g.scoring);
    body["disputed_records"] = json!(g.report.disputed);
    body["statements"] =
        json!(g.report.statements.iter().map(|(r, t)| json!({"record_ref": r, "text": t})).collect::<Vec<_>>());
    if let Some((name, version, band)) = &g.decision {
        body["decision"] = json!(band.decision.as_str());
        body["limit_minor"] = json!(band.decision.limit_minor());
        body["policy"] = json!({"name": name, "version": version});
    }
    if let Some(adverse) = g.adverse_action_reasons() {
        body["adverse_action_reasons"] = reasons(adverse);
    }
    body["leaf"] = json!(g.leaf);
    body
}

pub fn consent(c: &Consent) -> Value {
    json!({"org": c.org.as_str(), "purpose": c.purpose.as_str(), "granted": c.granted.to_string(), "until": c.until.to_string(), "revoked": c.revoked.map(|d| d.to_string())})
}

pub fn dispute(v: &DisputeView) -> Value {
    let d = &v.dispute;
    json!({
        "id": d.id, "record_kind": d.record_kind, "record_ref": d.record_ref,
        "state": v.state.as_str(), "furnisher": d.furnisher.as_ref().map(OrgId::as_str),
        "opened_ms": d.opened_ms, "due_ms": v.due_ms, "overdue": v.overdue,
    })
}

/// A notification to an organisation, as the log holds it, with its leaf index.
pub fn notification(index: i64, n: &candor_log::leaf::Notification) -> Value {
    let mut v = serde_json::to_value(candor_bureau::Leaf::Notification(n.clone())).unwrap_or(Value::Null);
    v["leaf"] = json!(index);
    v
}

/// A leaf about the person, as the log holds it, with its index (and, for a decision the
/// ombudsman overrode, that it was).
pub fn leaf_about(l: &LeafAbout) -> Value {
    let mut entry = serde_json::to_value(&l.leaf).unwrap_or(Value::Null);
    entry["leaf"] = json!(l.index);
    if l.overridden {
        entry["overridden"] = json!(true);
    }
    entry
}
