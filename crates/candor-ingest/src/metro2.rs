//! A Metro 2 file mapped onto the credit file.
//!
//! - The base segment's SSN identifies the subject (scheme `us_ssn`); its name and birth date are
//!   sealed. J1 and J2 segments name associated consumers: those liable for the account (ECOA
//!   codes 2 joint, 5 co-maker, 7 maker) get the account on their own file too, under the
//!   reference `ACCOUNT~J<n>`; authorised users and others are not liable and are not filed.
//! - The account is the consumer account number; its kind follows the account type (18 card,
//!   15 line, 26 mortgage, 29 rental, 4D telecom) or else the portfolio type (R card, C line,
//!   M mortgage, I and O loan). Amounts are whole dollars, stored in cents.
//! - The account status gives the month of the Date of Account Information; the 24-month payment
//!   history profile gives the months before it (derived reports, stored only where the file has
//!   no report for that month yet).
//! - Named Metro 2 checks, besides the general rules: `trailer_count_mismatch` (the trailer's
//!   base-record total disagrees with the file), `history_contradicts_status` (a charge-off whose
//!   history was never delinquent, or a current account charged off the month before),
//!   `unsupported_status` (DA/DF deletions, which must be sent as corrections).

use candor_file::batch::{Batch, Quarantined, ReportEntry};
use candor_file::ids::{NationalId, Scheme};
use candor_file::model::*;
use candor_metro2::{DataRecord, Record};

use crate::record::Builder;
use crate::{Context, Errors, IngestError};

const CENTS_PER_DOLLAR: i64 = 100;

fn err(record: usize, field: &str, rule: Option<&'static str>, message: impl Into<String>) -> IngestError {
    IngestError { record, field: Some(field.into()), rule, message: message.into() }
}

/// Days past due and status for an account status code (Metro 2 Exhibit 4).
fn status_of(code: &str, rating: &str) -> Option<(i64, Status)> {
    let by_rating = || match rating {
        "1" => 30,
        "2" => 60,
        "3" => 90,
        "4" => 120,
        "5" => 150,
        "6" | "G" | "L" => 180,
        _ => 0,
    };
    Some(match code {
        "11" => (0, Status::Open),
        "71" => (30, Status::Open),
        "78" => (60, Status::Open),
        "80" => (90, Status::Open),
        "82" => (120, Status::Open),
        "83" => (150, Status::Open),
        "84" => (180, Status::Open),
        "13" => (by_rating(), Status::Paid),
        "05" => (by_rating(), Status::Closed),
        "61" | "62" | "63" | "64" | "65" => (0, Status::Paid),
        "88" | "89" | "93" => (180, Status::Collection),
        "94" | "95" | "96" | "97" => (180, Status::ChargedOff),
        _ => return None,
    })
}

/// One month of the payment history profile: days past due and status, or `None` for no data.
fn history_month(c: u8) -> Option<(i64, Status)> {
    Some(match c {
        b'0' | b'E' => (0, Status::Open),
        b'1'..=b'6' => (i64::from(c - b'0') * 30, Status::Open),
        b'G' => (180, Status::Collection),
        b'H' | b'J' | b'K' | b'L' => (180, Status::ChargedOff),
        _ => return None,
    })
}

fn kind_of(base: &Record) -> AccountKind {
    match base.text("accountType") {
        "18" => AccountKind::Card,
        "15" => AccountKind::Line,
        "26" => AccountKind::Mortgage,
        "29" => AccountKind::Rental,
        "4D" => AccountKind::Telecom,
        _ => match base.text("portfolioType") {
            "R" => AccountKind::Card,
            "C" => AccountKind::Line,
            "M" => AccountKind::Mortgage,
            _ => AccountKind::Loan,
        },
    }
}

fn ssn(record: &Record) -> Result<NationalId, String> {
    NationalId::parse(Scheme::UsSsn, &format!("{:09}", record.int("socialSecurityNumber"))).map_err(|e| e.to_string())
}

fn full_name(record: &Record) -> String {
    [record.text("firstName"), record.text("middleName"), record.text("surname")]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ")
}

pub(crate) fn parse(bytes: &[u8], digest: [u8; 32], ctx: &mut Context<'_>, errors: &mut Errors) -> Option<Batch> {
    let file = match candor_metro2::read(bytes) {
        Ok(f) => f,
        Err(e) => {
            let field = e.field.map(str::to_owned);
            errors.push(IngestError { record: e.record, field, rule: None, message: e.to_string() });
            return None;
        }
    };
    let total = file.trailer.int("totalBaseRecords");
    if total != file.data.len() as i64 {
        errors.push(err(
            file.data.len() + 2,
            "totalBaseRecords",
            Some("trailer_count_mismatch"),
            format!("the trailer counts {total} base records, the file holds {}", file.data.len()),
        ));
    }
    let sender = ctx.sender.clone().unwrap_or_else(|| default_sender(&file));
    let notice = ctx.notice_attested;
    let mut b = Builder::new(ctx, Batch::new(digest, sender.clone(), "metro2"));
    for (i, data) in file.data.iter().enumerate() {
        data_record(i + 2, data, &sender, notice, &mut b, errors);
    }
    b.batch.records = file.data.len();
    Some(b.batch)
}

/// The furnisher a file names in its first base record's identification number, when the
/// submitter does not say.
fn default_sender(file: &candor_metro2::File) -> Organisation {
    let ident = file.data.first().map_or("", |d| d.base.text("identificationNumber"));
    let slug: String =
        ident.to_ascii_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).take(50).collect();
    let id = OrgId::parse(&format!("metro2-{slug}"))
        .unwrap_or_else(|_| OrgId::parse("metro2").unwrap_or_else(|_| unreachable!()));
    Organisation { id, kind: OrgKind::Lender, name: file.header.text("reporterName").to_owned() }
}

fn data_record(
    no: usize,
    data: &DataRecord,
    sender: &Organisation,
    notice: bool,
    b: &mut Builder<'_, '_>,
    errors: &mut Errors,
) {
    let base = &data.base;
    let id = match ssn(base) {
        Ok(id) => id,
        Err(e) => return errors.push(err(no, "socialSecurityNumber", None, e)),
    };
    let key = b.subject(&id);
    b.seal_details(key, Some(&full_name(base)), base.date("dateBirth"));
    if let Ok(state) = crate::record::parse_region(base.text("state")) {
        b.set_region(key, state);
    }

    let code = base.text("accountStatus");
    let Some((dpd, status)) = status_of(code, base.text("paymentRating")) else {
        let rule = matches!(code, "DA" | "DF").then_some("unsupported_status");
        return errors.push(err(no, "accountStatus", rule, format!("account status {code:?} is not one Candor files")));
    };
    let Some(opened) = base.date("dateOpened") else { return errors.push(err(no, "dateOpened", None, "required")) };
    let Some(as_of) = base.date("dateAccountInformation") else {
        return errors.push(err(no, "dateAccountInformation", None, "required"));
    };
    let reference = match parse_reference(base.text("consumerAccountNumber")) {
        Ok(r) => r,
        Err(e) => return errors.push(err(no, "consumerAccountNumber", None, e.to_string())),
    };
    let history = base.text("paymentHistoryProfile").as_bytes().to_vec();
    let ever_late = history.iter().any(|c| matches!(c, b'1'..=b'6' | b'G' | b'H' | b'J' | b'K' | b'L'));
    if (code == "97" || code == "64") && !ever_late && !history.is_empty() {
        errors.push(err(
            no,
            "paymentHistoryProfile",
            Some("history_contradicts_status"),
            "charged off but never reported late",
        ));
    }
    if code == "11" && history.first() == Some(&b'L') {
        errors.push(err(
            no,
            "paymentHistoryProfile",
            Some("history_contradicts_status"),
            "current, but charged off the month before",
        ));
    }

    let revolving = matches!(base.text("portfolioType"), "R" | "C");
    let limit = if revolving { base.int("creditLimit") } else { base.int("highestCredit") };
    let since = base.date("dateFirstDelinquency");
    let month = YearMonth::of(as_of);
    let report = Report {
        month,
        balance_minor: base.int("currentBalance") * CENTS_PER_DOLLAR,
        limit_minor: limit * CENTS_PER_DOLLAR,
        paid_minor: base.int("actualPaymentAmount") * CENTS_PER_DOLLAR,
        dpd: Dpd::parse(dpd).unwrap_or(Dpd::CURRENT),
        status,
        delinquent_since: if dpd > 0 || matches!(status, Status::ChargedOff | Status::Collection) {
            since
        } else {
            None
        },
    };
    let account = Account {
        furnisher: sender.id.clone(),
        reference: reference.clone(),
        kind: kind_of(base),
        opened,
        currency: usd(),
    };

    // The primary consumer, then every liable associated consumer, get the account.
    let mut holders = vec![(key, reference.clone())];
    for (n, segment) in data.segments.iter().filter(|s| matches!(s.layout.name, "j1" | "j2")).enumerate() {
        if !matches!(segment.text("ecoaCode"), "2" | "5" | "7") {
            continue;
        }
        match ssn(segment) {
            Ok(id) => {
                let k = b.subject(&id);
                b.seal_details(k, Some(&full_name(segment)), segment.date("dateBirth"));
                holders.push((k, format!("{reference}~J{}", n + 1)));
            }
            Err(e) => errors.push(err(no, &format!("{}.socialSecurityNumber", segment.layout.name), None, e)),
        }
    }
    for (i, (holder, reference)) in holders.into_iter().enumerate() {
        b.account(holder, Account { reference: reference.clone(), ..account.clone() });
        b.report(no, holder, reference.clone(), report.clone(), (notice, i == 0), errors);
        let mut held = 0;
        for (back, &c) in history.iter().enumerate() {
            let Some((dpd, status)) = history_month(c) else { continue };
            let month = month.plus(-(back as i32) - 1);
            if month < YearMonth::of(opened) {
                continue;
            }
            let negative = dpd > 0 || status != Status::Open;
            let derived = Report {
                month,
                balance_minor: 0,
                limit_minor: report.limit_minor,
                paid_minor: 0,
                dpd: Dpd::parse(dpd).unwrap_or(Dpd::CURRENT),
                status,
                delinquent_since: negative.then(|| since.unwrap_or_else(|| month.first_day())),
            };
            if negative && !notice {
                held += 1;
                continue;
            }
            b.batch.reports.push(ReportEntry {
                record: no,
                subject: holder,
                reference: reference.clone(),
                report: derived,
                derived: true,
            });
        }
        if held > 0 {
            b.batch.quarantined.push(Quarantined {
                record: no,
                subject: holder,
                rule: "negative_without_notice",
                message: format!("{held} negative months of the payment history of account `{reference}` held back: no attestation that the person was notified beforehand"),
            });
        }
    }
}

fn usd() -> Currency {
    Currency::parse("USD").unwrap_or_else(|_| unreachable!("a valid literal code"))
}
