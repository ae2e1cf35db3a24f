//! Where every field of every Metro 2 record and segment sits, as data.
//!
//! The tables list fields in file order with their lengths only: starts are the running sum, so a
//! table cannot have gaps or overlaps. Positions count from the record's own descriptor word, as
//! the Metro 2 manual numbers them. Field names are the peer's JSON names (`moov-io/metro2`), so
//! one table drives the fixed-width reader, the writer and the JSON form.

use std::sync::LazyLock;

/// Length of a character-format ("426") base, header or trailer record.
pub const CHARACTER_LEN: usize = 426;
/// Length of a packed-format ("366") base, header or trailer record.
pub const PACKED_LEN: usize = 366;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Alphanumeric, left-justified, blank-filled; read with trailing blanks removed.
    Text,
    /// Unsigned decimal digits, right-justified, zero-filled.
    Number,
    /// `MMDDYYYY`; all zeros (or blanks) is no date.
    Date,
    /// `MMDDYYYYHHMMSS`; all zeros (or blanks) is no time stamp.
    Timestamp,
    /// Big-endian binary integer (packed format).
    PackedNumber,
    /// `0x00`, the date `MMDDYYYY` as a 3-byte big-endian integer, `0x73` (packed format, as the
    /// peer writes it); all zero bytes is no date.
    PackedDate,
    /// `0x00`, `MMDDYYYYHHMMSS` as a 6-byte big-endian integer, `0x73`.
    PackedTimestamp,
}

#[derive(Clone, Copy, Debug)]
pub struct Field {
    /// The peer's JSON name; empty for reserved filler.
    pub name: &'static str,
    pub start: usize,
    pub len: usize,
    pub kind: Kind,
    /// Left out of the JSON form when empty (the peer's `omitempty`).
    pub omit_empty: bool,
    /// The Metro 2 manual marks the field required.
    pub required: bool,
}

impl Field {
    pub fn is_reserved(&self) -> bool {
        self.name.is_empty()
    }
}

pub struct Layout {
    /// What the record or segment is called in errors and in the JSON form ("base", "j1", ...).
    pub name: &'static str,
    /// Segment identifier as it appears in the file (`J1`, ...), or empty for records.
    pub id: &'static str,
    pub len: usize,
    pub fields: Vec<Field>,
}

/// A layout shows as its name: the table itself is never what a message is about.
impl std::fmt::Debug for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Layout({})", self.name)
    }
}

/// Layouts are singletons: two are the same layout only if they are the same table.
impl PartialEq for Layout {
    fn eq(&self, other: &Layout) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Eq for Layout {}

impl Layout {
    pub fn field(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }
}

/// How a field is declared in a table: name, length, kind, flags.
type Spec = (&'static str, usize, Kind, u8);
const REQ: u8 = 1;
const OMIT: u8 = 2;

fn build(name: &'static str, id: &'static str, first: usize, specs: &[Spec]) -> Layout {
    let mut start = first;
    let fields = specs
        .iter()
        .map(|&(name, len, kind, flags)| {
            let field = Field { name, start, len, kind, omit_empty: flags & OMIT != 0, required: flags & REQ != 0 };
            start += len;
            field
        })
        .collect();
    Layout { name, id, len: start, fields }
}

use Kind::*;

fn header_specs(reserved: usize) -> Vec<Spec> {
    vec![
        ("recordIdentifier", 6, Text, REQ),
        ("cycleIdentifier", 2, Text, OMIT),
        ("innovisProgramIdentifier", 10, Text, OMIT),
        ("equifaxProgramIdentifier", 10, Text, OMIT),
        ("experianProgramIdentifier", 5, Text, OMIT),
        ("transUnionProgramIdentifier", 10, Text, OMIT),
        ("activityDate", 8, Date, REQ),
        ("dateCreated", 8, Date, REQ),
        ("programDate", 8, Date, 0),
        ("programRevisionDate", 8, Date, 0),
        ("reporterName", 40, Text, REQ),
        ("reporterAddress", 96, Text, REQ),
        ("reporterTelephoneNumber", 10, Number, 0),
        ("softwareVendorName", 40, Text, OMIT),
        ("softwareVersionNumber", 5, Text, OMIT),
        ("prbcProgramIdentifier", 10, Text, OMIT),
        ("", reserved, Text, 0),
    ]
}

const TRAILER_TOTALS: [(&str, u8); 43] = [
    ("totalStatusCodeDF", 0),
    ("totalConsumerSegmentsJ1", 0),
    ("totalConsumerSegmentsJ2", 0),
    ("blockCount", REQ),
    ("totalStatusCodeDA", 0),
    ("totalStatusCode05", 0),
    ("totalStatusCode11", 0),
    ("totalStatusCode13", 0),
    ("totalStatusCode61", 0),
    ("totalStatusCode62", 0),
    ("totalStatusCode63", 0),
    ("totalStatusCode64", 0),
    ("totalStatusCode65", 0),
    ("totalStatusCode71", 0),
    ("totalStatusCode78", 0),
    ("totalStatusCode80", 0),
    ("totalStatusCode82", 0),
    ("totalStatusCode83", 0),
    ("totalStatusCode84", 0),
    ("totalStatusCode88", 0),
    ("totalStatusCode89", 0),
    ("totalStatusCode93", 0),
    ("totalStatusCode94", 0),
    ("totalStatusCode95", 0),
    ("totalStatusCode96", 0),
    ("totalStatusCode97", 0),
    ("totalECOACodeZ", 0),
    ("totalEmploymentSegments", 0),
    ("totalOriginalCreditorSegments", 0),
    ("totalPurchasedToSegments", 0),
    ("totalMortgageInformationSegments", 0),
    ("totalPaymentInformationSegments", 0),
    ("totalChangeSegments", 0),
    ("totalSocialNumbersAllSegments", 0),
    ("totalSocialNumbersBaseSegments", 0),
    ("totalSocialNumbersJ1Segments", 0),
    ("totalSocialNumbersJ2Segments", 0),
    ("totalDatesBirthAllSegments", 0),
    ("totalDatesBirthBaseSegments", 0),
    ("totalDatesBirthJ1Segments", 0),
    ("totalDatesBirthJ2Segments", 0),
    ("totalTelephoneNumbersAllSegments", 0),
    ("", 0),
];

fn trailer_specs(width: usize, number: Kind, reserved_tail: usize) -> Vec<Spec> {
    let mut specs =
        vec![("recordIdentifier", 7, Text, REQ), ("totalBaseRecords", width, number, REQ), ("", width, Text, 0)];
    for &(name, flags) in &TRAILER_TOTALS {
        if name.is_empty() {
            specs.push(("", reserved_tail, Number, 0));
        } else {
            specs.push((name, width, number, flags));
        }
    }
    specs
}

/// Field lengths of the base segment that shrink in the packed format.
fn base_specs(packed: bool) -> Vec<Spec> {
    let (date, stamp, money, phone, ssn) = if packed {
        ((5, PackedDate), (8, PackedTimestamp), (5, PackedNumber), (6, PackedNumber), (5, PackedNumber))
    } else {
        ((8, Date), (14, Timestamp), (9, Number), (10, Number), (9, Number))
    };
    vec![
        ("processingIndicator", 1, Number, 0),
        ("timeStamp", stamp.0, stamp.1, 0),
        ("correctionIndicator", 1, Number, OMIT),
        ("identificationNumber", 20, Text, REQ),
        ("cycleIdentifier", 2, Text, OMIT),
        ("consumerAccountNumber", 30, Text, REQ),
        ("portfolioType", 1, Text, REQ),
        ("accountType", 2, Text, REQ),
        ("dateOpened", date.0, date.1, REQ),
        ("creditLimit", money.0, money.1, OMIT),
        ("highestCredit", money.0, money.1, 0),
        ("termsDuration", 3, Text, REQ),
        ("termsFrequency", 1, Text, OMIT),
        ("scheduledMonthlyPaymentAmount", money.0, money.1, OMIT),
        ("actualPaymentAmount", money.0, money.1, OMIT),
        ("accountStatus", 2, Text, REQ),
        ("paymentRating", 1, Text, OMIT),
        ("paymentHistoryProfile", 24, Text, REQ),
        ("specialComment", 2, Text, OMIT),
        ("complianceConditionCode", 2, Text, OMIT),
        ("currentBalance", money.0, money.1, 0),
        ("amountPastDue", money.0, money.1, OMIT),
        ("originalChargeOffAmount", money.0, money.1, OMIT),
        ("dateAccountInformation", date.0, date.1, REQ),
        ("dateFirstDelinquency", date.0, date.1, OMIT),
        ("dateClosed", date.0, date.1, OMIT),
        ("dateLastPayment", date.0, date.1, OMIT),
        ("interestTypeIndicator", 1, Text, 0),
        ("", 17, Text, 0),
        ("surname", 25, Text, REQ),
        ("firstName", 20, Text, REQ),
        ("middleName", 20, Text, OMIT),
        ("generationCode", 1, Text, OMIT),
        ("socialSecurityNumber", ssn.0, ssn.1, 0),
        ("dateBirth", date.0, date.1, 0),
        ("telephoneNumber", phone.0, phone.1, 0),
        ("ecoaCode", 1, Text, REQ),
        ("consumerInformationIndicator", 2, Text, OMIT),
        ("countryCode", 2, Text, 0),
        ("firstLineAddress", 32, Text, REQ),
        ("secondLineAddress", 32, Text, OMIT),
        ("city", 20, Text, REQ),
        ("state", 2, Text, REQ),
        ("zipCode", 9, Text, REQ),
        ("addressIndicator", 1, Text, 0),
        ("residenceCode", 1, Text, 0),
    ]
}

/// The consumer fields J1 and J2 share.
const ASSOCIATED: [Spec; 10] = [
    ("segmentIdentifier", 2, Text, REQ),
    ("", 1, Text, 0),
    ("surname", 25, Text, REQ),
    ("firstName", 20, Text, 0),
    ("middleName", 20, Text, OMIT),
    ("generationCode", 1, Text, OMIT),
    ("socialSecurityNumber", 9, Number, 0),
    ("dateBirth", 8, Date, 0),
    ("telephoneNumber", 10, Number, 0),
    ("ecoaCode", 1, Text, REQ),
];

fn j1_specs() -> Vec<Spec> {
    let mut specs = ASSOCIATED.to_vec();
    specs.extend([("consumerInformationIndicator", 2, Text, OMIT), ("", 1, Text, 0)]);
    specs
}

fn j2_specs() -> Vec<Spec> {
    let mut specs = ASSOCIATED.to_vec();
    specs.extend([
        ("consumerInformationIndicator", 2, Text, OMIT),
        ("countryCode", 2, Text, 0),
        ("firstLineAddress", 32, Text, REQ),
        ("secondLineAddress", 32, Text, OMIT),
        ("city", 20, Text, REQ),
        ("state", 2, Text, REQ),
        ("zipCode", 9, Text, REQ),
        ("addressIndicator", 1, Text, 0),
        ("residenceCode", 1, Text, 0),
        ("", 2, Text, 0),
    ]);
    specs
}

pub static HEADER: LazyLock<Layout> = LazyLock::new(|| build("header", "", 4, &header_specs(146)));
pub static PACKED_HEADER: LazyLock<Layout> = LazyLock::new(|| build("header", "", 4, &header_specs(86)));
pub static TRAILER: LazyLock<Layout> = LazyLock::new(|| build("trailer", "", 4, &trailer_specs(9, Number, 19)));
pub static PACKED_TRAILER: LazyLock<Layout> =
    LazyLock::new(|| build("trailer", "", 4, &trailer_specs(5, PackedNumber, 135)));
pub static BASE: LazyLock<Layout> = LazyLock::new(|| build("base", "", 4, &base_specs(false)));
pub static PACKED_BASE: LazyLock<Layout> = LazyLock::new(|| build("base", "", 4, &base_specs(true)));

pub static J1: LazyLock<Layout> = LazyLock::new(|| build("j1", "J1", 0, &j1_specs()));
pub static J2: LazyLock<Layout> = LazyLock::new(|| build("j2", "J2", 0, &j2_specs()));
pub static K1: LazyLock<Layout> = LazyLock::new(|| {
    build(
        "k1",
        "K1",
        0,
        &[
            ("segmentIdentifier", 2, Text, REQ),
            ("originalCreditorName", 30, Text, REQ),
            ("creditorClassification", 2, Number, REQ),
        ],
    )
});
pub static K2: LazyLock<Layout> = LazyLock::new(|| {
    build(
        "k2",
        "K2",
        0,
        &[
            ("segmentIdentifier", 2, Text, REQ),
            ("purchasedIndicator", 1, Number, REQ),
            ("purchasedName", 30, Text, REQ),
            ("", 1, Text, 0),
        ],
    )
});
pub static K3: LazyLock<Layout> = LazyLock::new(|| {
    build(
        "k3",
        "K3",
        0,
        &[
            ("segmentIdentifier", 2, Text, REQ),
            ("agencyIdentifier", 2, Number, OMIT),
            ("accountNumber", 18, Text, OMIT),
            ("mortgageIdentificationNumber", 18, Text, 0),
        ],
    )
});
pub static K4: LazyLock<Layout> = LazyLock::new(|| {
    build(
        "k4",
        "K4",
        0,
        &[
            ("segmentIdentifier", 2, Text, REQ),
            ("specializedPaymentIndicator", 2, Number, REQ),
            ("deferredPaymentStartDate", 8, Date, OMIT),
            ("balloonPaymentDueDate", 8, Date, OMIT),
            ("balloonPaymentAmount", 9, Number, OMIT),
            ("", 1, Text, 0),
        ],
    )
});
pub static L1: LazyLock<Layout> = LazyLock::new(|| {
    build(
        "l1",
        "L1",
        0,
        &[
            ("segmentIdentifier", 2, Text, REQ),
            ("changeIndicator", 1, Number, REQ),
            ("newConsumerAccountNumber", 30, Text, OMIT),
            ("newIdentificationNumber", 20, Text, OMIT),
            ("", 1, Text, 0),
        ],
    )
});
pub static N1: LazyLock<Layout> = LazyLock::new(|| {
    build(
        "n1",
        "N1",
        0,
        &[
            ("segmentIdentifier", 2, Text, REQ),
            ("employerName", 30, Text, REQ),
            ("firstLineEmployerAddress", 32, Text, 0),
            ("secondLineEmployerAddress", 32, Text, 0),
            ("employerCity", 20, Text, 0),
            ("employerState", 2, Text, 0),
            ("zipCode", 9, Text, 0),
            ("occupation", 18, Text, OMIT),
            ("", 1, Text, 0),
        ],
    )
});

/// The appended segments in the order a record carries them.
pub fn segments() -> [&'static Layout; 8] {
    [&J1, &J2, &K1, &K2, &K3, &K4, &L1, &N1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_lengths_match_the_manual() {
        assert_eq!(HEADER.len, CHARACTER_LEN);
        assert_eq!(TRAILER.len, CHARACTER_LEN);
        assert_eq!(BASE.len, CHARACTER_LEN);
        assert_eq!(PACKED_HEADER.len, PACKED_LEN);
        assert_eq!(PACKED_TRAILER.len, PACKED_LEN);
        assert_eq!(PACKED_BASE.len, PACKED_LEN);
        let lens: Vec<usize> = segments().iter().map(|l| l.len).collect();
        assert_eq!(lens, [100, 200, 34, 34, 40, 30, 54, 146]);
    }

    #[test]
    fn spot_positions_agree_with_the_manual() {
        let at = |layout: &Layout, name: &str| layout.fields[layout.field(name).expect(name)].start;
        assert_eq!(at(&BASE, "accountStatus"), 123);
        assert_eq!(at(&BASE, "surname"), 231);
        assert_eq!(at(&BASE, "residenceCode"), 425);
        assert_eq!(at(&PACKED_BASE, "surname"), 182);
        assert_eq!(at(&PACKED_BASE, "ecoaCode"), 264);
        assert_eq!(at(&TRAILER, "totalTelephoneNumbersAllSegments"), 398);
        assert_eq!(at(&PACKED_TRAILER, "totalTelephoneNumbersAllSegments"), 226);
        assert_eq!(at(&HEADER, "reporterTelephoneNumber"), 215);
        assert_eq!(at(&J2, "zipCode"), 187);
        assert_eq!(at(&N1, "occupation"), 127);
    }
}
