//! The credit file's records as typed values: organisations, accounts and their monthly reports,
//! inquiries, court records, consents, disputes. Every field is parsed at the edge into one of
//! these types; inside, a value of the type is valid.

use std::fmt;

use time::{Date, Month};

/// Parse errors of the small value types, each saying what was expected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("expected {expected}, found {found:?}")]
pub struct ValueError {
    pub expected: &'static str,
    pub found: String,
}

fn bad(expected: &'static str, found: &str) -> ValueError {
    ValueError { expected, found: found.chars().take(40).collect() }
}

/// `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Result<Date, ValueError> {
    let err = || bad("a date YYYY-MM-DD", text);
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(err());
    }
    let num = |r: std::ops::Range<usize>| -> Result<u16, ValueError> {
        let s = &text[r];
        if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse().map_err(|_| err())
        } else {
            Err(err())
        }
    };
    let month = Month::try_from(num(5..7)? as u8).map_err(|_| err())?;
    Date::from_calendar_date(i32::from(num(0..4)?), month, num(8..10)? as u8).map_err(|_| err())
}

/// A calendar month, counted from year 0 so that differences are month counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth(pub i32);

impl YearMonth {
    pub fn new(year: i32, month: u8) -> YearMonth {
        YearMonth(year * 12 + i32::from(month) - 1)
    }

    pub fn of(date: Date) -> YearMonth {
        YearMonth::new(date.year(), u8::from(date.month()))
    }

    /// `YYYY-MM`.
    pub fn parse(text: &str) -> Result<YearMonth, ValueError> {
        let err = || bad("a month YYYY-MM", text);
        let b = text.as_bytes();
        if b.len() != 7 || b[4] != b'-' || !text[..4].bytes().chain(text[5..].bytes()).all(|c| c.is_ascii_digit()) {
            return Err(err());
        }
        let year: i32 = text[..4].parse().map_err(|_| err())?;
        let month: u8 = text[5..].parse().map_err(|_| err())?;
        if !(1..=12).contains(&month) {
            return Err(err());
        }
        Ok(YearMonth::new(year, month))
    }

    pub fn year(self) -> i32 {
        self.0.div_euclid(12)
    }

    pub fn month(self) -> u8 {
        (self.0.rem_euclid(12) + 1) as u8
    }

    pub fn plus(self, months: i32) -> YearMonth {
        YearMonth(self.0 + months)
    }

    pub fn first_day(self) -> Date {
        let month = Month::try_from(self.month()).unwrap_or(Month::January);
        Date::from_calendar_date(self.year(), month, 1).unwrap_or(Date::MIN)
    }

    pub fn last_day(self) -> Date {
        self.plus(1).first_day().previous_day().unwrap_or(Date::MIN)
    }

    /// The last complete month on `date`: its own month on its last day, else the one before.
    /// Features describe the file up to the end of this month, so a score does not move with
    /// the calendar alone between one month's end and the next.
    pub fn last_complete(date: Date) -> YearMonth {
        let month = YearMonth::of(date);
        if date == month.last_day() {
            month
        } else {
            month.plus(-1)
        }
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), self.month())
    }
}

/// ISO 4217 currency code: three upper-case letters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    pub fn parse(text: &str) -> Result<Currency, ValueError> {
        let b = text.as_bytes();
        if b.len() == 3 && b.iter().all(u8::is_ascii_uppercase) {
            Ok(Currency([b[0], b[1], b[2]]))
        } else {
            Err(bad("an ISO 4217 currency code such as CNY or USD", text))
        }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

/// An amount in the currency's minor unit (cents, fen). Never negative in a credit file.
pub fn parse_minor(value: i64) -> Result<i64, ValueError> {
    const MAX_MINOR: i64 = 1_000_000_000_000_000; // 10^15 minor units: beyond any consumer obligation
    if (0..=MAX_MINOR).contains(&value) {
        Ok(value)
    } else {
        Err(bad("an amount in minor units from 0 to 10^15", &value.to_string()))
    }
}

/// Named string values: one enum per field, parsed from its snake_case name.
macro_rules! named {
    ($(#[$doc:meta])* $name:ident, $what:literal, { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn parse(text: &str) -> Result<$name, ValueError> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(bad($what, text)),
                }
            }

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }
    };
}

named!(
    /// What an organisation is to the bureau. Lenders, utilities, landlords and rental services
    /// furnish; courts list enforcement records; lenders and merchants read with consent; the
    /// ombudsman, auditors and the operator oversee.
    OrgKind, "an organisation kind: lender, merchant, utility, landlord, rental_service, court, ombudsman, auditor or operator", {
    Lender = "lender", Merchant = "merchant", Utility = "utility", Landlord = "landlord",
    RentalService = "rental_service", Court = "court", Ombudsman = "ombudsman", Auditor = "auditor",
    Operator = "operator",
});

impl OrgKind {
    /// Sends accounts and monthly reports.
    pub fn furnishes(self) -> bool {
        matches!(self, OrgKind::Lender | OrgKind::Utility | OrgKind::Landlord | OrgKind::RentalService)
    }

    /// May ask for scores and decisions, with the person's consent.
    pub fn reads(self) -> bool {
        matches!(self, OrgKind::Lender | OrgKind::Merchant)
    }
}

named!(
    /// What kind of obligation an account is. Cards and lines are revolving.
    AccountKind, "an account kind: loan, mortgage, card, line, utility, telecom, rent or rental", {
    Loan = "loan", Mortgage = "mortgage", Card = "card", Line = "line", Utility = "utility",
    Telecom = "telecom", Rent = "rent", Rental = "rental",
});

named!(
    /// The state of an account in a monthly report.
    Status, "a status: open, paid, closed, charged_off or collection", {
    Open = "open", Paid = "paid", Closed = "closed", ChargedOff = "charged_off", Collection = "collection",
});

named!(
    /// Why someone reads a file or asks for a consent.
    Purpose, "a purpose: credit_application, account_review, deposit_waiver or tenancy", {
    CreditApplication = "credit_application", AccountReview = "account_review",
    DepositWaiver = "deposit_waiver", Tenancy = "tenancy",
});

named!(
    /// How a court enforcement record ended.
    Closure, "an outcome: performed or revoked", { Performed = "performed", Revoked = "revoked" });

named!(
    /// Where a dispute stands. It opens, the furnisher is asked to verify, and it ends verified,
    /// corrected, deleted, or suppressed when the furnisher does not answer in time.
    /// A request for human review of a decision is a dispute of the decision, ending upheld or
    /// overridden.
    DisputeState, "a dispute state: open, furnisher_asked, blocked, furnisher_verified, furnisher_corrected, verified, corrected, deleted, suppressed, upheld or overridden", {
    Open = "open", FurnisherAsked = "furnisher_asked", Blocked = "blocked", FurnisherVerified = "furnisher_verified",
    FurnisherCorrected = "furnisher_corrected", Verified = "verified", Corrected = "corrected",
    Deleted = "deleted", Suppressed = "suppressed", Upheld = "upheld", Overridden = "overridden",
});

named!(
    /// What a person says is wrong with a record they dispute.
    ClaimReason, "a reason: not_mine, never_late, wrong_amount, paid, closed, duplicate or other", {
    NotMine = "not_mine", NeverLate = "never_late", WrongAmount = "wrong_amount", Paid = "paid",
    Closed = "closed", Duplicate = "duplicate", Other = "other",
});

impl AccountKind {
    pub fn is_revolving(self) -> bool {
        matches!(self, AccountKind::Card | AccountKind::Line)
    }

    /// Obligations outside bank credit: what people without bank history do meet.
    pub fn is_alternative(self) -> bool {
        matches!(self, AccountKind::Utility | AccountKind::Telecom | AccountKind::Rent | AccountKind::Rental)
    }
}

/// Days past due, in the 30-day buckets bureaus report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dpd(u16);

impl Dpd {
    pub const CURRENT: Dpd = Dpd(0);

    pub fn parse(days: i64) -> Result<Dpd, ValueError> {
        match days {
            0 | 30 | 60 | 90 | 120 | 150 | 180 => Ok(Dpd(days as u16)),
            _ => {
                Err(bad("days past due as a bucket: 0, 30, 60, 90, 120, 150 or 180 (180 and more)", &days.to_string()))
            }
        }
    }

    pub fn days(self) -> u16 {
        self.0
    }
}

/// An organisation's identifier, chosen at registration: 1–64 of `a-z 0-9 - _ .`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrgId(String);

impl OrgId {
    pub fn parse(text: &str) -> Result<OrgId, ValueError> {
        let ok = (1..=64).contains(&text.len())
            && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.'));
        if ok {
            Ok(OrgId(text.to_owned()))
        } else {
            Err(bad("an organisation id of 1-64 characters from a-z, 0-9, '-', '_', '.'", text))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A furnisher's reference for an account or a court's case number: 1–64 printable characters.
pub fn parse_reference(text: &str) -> Result<String, ValueError> {
    let ok = (1..=64).contains(&text.chars().count()) && !text.chars().any(char::is_control);
    if ok {
        Ok(text.to_owned())
    } else {
        Err(bad("a reference of 1-64 printable characters", text))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Organisation {
    pub id: OrgId,
    pub kind: OrgKind,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub furnisher: OrgId,
    pub reference: String,
    pub kind: AccountKind,
    pub opened: Date,
    pub currency: Currency,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub month: YearMonth,
    pub balance_minor: i64,
    /// Credit limit (revolving) or original amount (instalment); 0 where neither applies.
    pub limit_minor: i64,
    pub paid_minor: i64,
    pub dpd: Dpd,
    pub status: Status,
    /// Date of first delinquency of the current episode, required when delinquent.
    pub delinquent_since: Option<Date>,
}

impl Report {
    /// Negative information: a delinquency, a charge-off or a collection.
    pub fn is_negative(&self) -> bool {
        self.dpd > Dpd::CURRENT || matches!(self.status, Status::ChargedOff | Status::Collection)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inquiry {
    pub org: OrgId,
    pub date: Date,
    pub purpose: Purpose,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CourtRecord {
    pub court: OrgId,
    pub case_number: String,
    pub amount_minor: i64,
    pub currency: Currency,
    pub grounds: String,
    pub listed: Date,
    pub closed: Option<(Date, Closure)>,
}

/// A subject's permission for an organisation to read the file for a purpose, from `granted`
/// to `until` (inclusive), unless revoked earlier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Consent {
    pub org: OrgId,
    pub purpose: Purpose,
    pub granted: Date,
    pub until: Date,
    pub revoked: Option<Date>,
}

impl Consent {
    pub fn is_live_on(&self, day: Date) -> bool {
        self.granted <= day && day <= self.until && self.revoked.is_none_or(|r| day < r)
    }
}

/// A subject's dispute of one record of the file, with where it stands now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dispute {
    pub id: i64,
    /// What is disputed: `account`, `report`, `inquiry` or `court_record`.
    pub record_kind: String,
    /// Which one, e.g. the account reference and month.
    pub record_ref: String,
    pub opened_ms: i64,
    pub state: DisputeState,
    /// Who is asked to verify the record (none for a review of a decision).
    pub furnisher: Option<OrgId>,
}

/// One account with its monthly reports in month order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountHistory {
    pub account: Account,
    pub reports: Vec<Report>,
}

/// A subject's file as the bureau knew it at a time, after retention: what features, reports and
/// scores read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubjectFile {
    pub accounts: Vec<AccountHistory>,
    pub inquiries: Vec<Inquiry>,
    pub court_records: Vec<CourtRecord>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_values_parse_and_refuse() {
        assert_eq!(YearMonth::parse("2026-09").map(|m| m.to_string()), Ok("2026-09".into()));
        assert_eq!(
            YearMonth::parse("2026-13").map_err(|e| e.to_string()),
            Err("expected a month YYYY-MM, found \"2026-13\"".into())
        );
        assert_eq!(YearMonth::new(2026, 1).plus(-1).to_string(), "2025-12");
        assert!(parse_date("2026-02-29").is_err());
        assert!(parse_date("2024-02-29").is_ok());
        assert!(Currency::parse("cny").is_err());
        assert!(Dpd::parse(45).is_err());
        assert_eq!(Status::parse("charged_off"), Ok(Status::ChargedOff));
        assert!(Status::parse("religion").is_err());
        assert!(OrgId::parse("Bank One").is_err());
        assert!(parse_minor(-1).is_err());
    }
}
