//! National identifiers, parsed and checked per scheme, and the keyed hash that stands for them.
//!
//! A [`NationalId`] exists only between the edge that received it and [`Keys::subject_key`]: the
//! number itself is never stored, logged or shown. Its `Debug` and `Display` print the masked
//! form. What is kept is the [`SubjectKey`] (HMAC-SHA-256 under the bureau's identity key), the
//! masked last four characters, and a coarse region for aggregate statistics.

use std::fmt;

use time::{Date, Month};

/// Which numbering a national identifier follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scheme {
    /// Mainland China resident identity card number: 18 characters, region, birth date, check.
    CnRid,
    /// United States Social Security number.
    UsSsn,
    /// Any other issuer: 6 to 24 characters from A–Z and 0–9.
    Generic,
}

impl Scheme {
    pub fn parse(text: &str) -> Result<Scheme, IdError> {
        match text {
            "cn_rid" => Ok(Scheme::CnRid),
            "us_ssn" => Ok(Scheme::UsSsn),
            "generic" => Ok(Scheme::Generic),
            other => Err(IdError::UnknownScheme(other.chars().take(20).collect())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::CnRid => "cn_rid",
            Scheme::UsSsn => "us_ssn",
            Scheme::Generic => "generic",
        }
    }
}

/// Why a number is not a valid identifier. The messages never repeat the number.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("unknown identifier scheme `{0}` (expected cn_rid, us_ssn or generic)")]
    UnknownScheme(String),
    #[error("a {scheme} number has {expected}, this one has {found} characters")]
    Length { scheme: &'static str, expected: &'static str, found: usize },
    #[error("a {scheme} number may hold only {allowed}")]
    Charset { scheme: &'static str, allowed: &'static str },
    #[error("the region code is not a mainland China province")]
    Region,
    #[error("the birth date in the number is not a valid date from 1900 on")]
    BirthDate,
    #[error("the check character does not match (ISO 7064 MOD 11-2)")]
    CheckDigit,
    #[error("{0}")]
    Impossible(&'static str),
}

#[derive(Clone, PartialEq, Eq)]
pub struct NationalId {
    scheme: Scheme,
    /// Canonical form: CN upper-case with `X`, SSN nine digits, generic upper-case.
    number: String,
}

/// Two-digit province prefixes of mainland China resident identity numbers.
const CN_PROVINCES: [u8; 34] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63,
    64, 65, 71, 81, 82,
];
const CN_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CN_CHECK: [u8; 11] = *b"10X98765432";

impl NationalId {
    pub fn parse(scheme: Scheme, raw: &str) -> Result<NationalId, IdError> {
        let number = match scheme {
            Scheme::CnRid => parse_cn(raw)?,
            Scheme::UsSsn => parse_ssn(raw)?,
            Scheme::Generic => parse_generic(raw)?,
        };
        Ok(NationalId { scheme, number })
    }

    /// Parses a scheme's name and a number as they arrive in text. The error says which of the
    /// two is wrong: `scheme` for an unknown scheme, `number` otherwise.
    pub fn parse_text(scheme: &str, number: &str) -> Result<NationalId, (&'static str, IdError)> {
        let scheme = Scheme::parse(scheme).map_err(|e| ("scheme", e))?;
        NationalId::parse(scheme, number).map_err(|e| ("number", e))
    }

    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The last four characters, the rest as `*`: what a person may be shown to recognise a file.
    pub fn masked(&self) -> String {
        let keep = self.number.len().saturating_sub(4);
        format!("{}{}", "*".repeat(keep), &self.number[keep..])
    }

    /// A coarse region for aggregate statistics: the resident ID's six-digit division. Other
    /// schemes carry none in the number.
    pub fn region(&self) -> Option<String> {
        (self.scheme == Scheme::CnRid).then(|| self.number[..6].to_owned())
    }

    /// The birth date a resident ID carries.
    pub fn birth_date(&self) -> Option<Date> {
        (self.scheme == Scheme::CnRid).then(|| cn_birth(&self.number)).flatten()
    }

    /// The canonical number, only for the keyed hash.
    pub(crate) fn canonical(&self) -> &str {
        &self.number
    }
}

impl fmt::Debug for NationalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NationalId({}, {})", self.scheme.as_str(), self.masked())
    }
}

impl fmt::Display for NationalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.scheme.as_str(), self.masked())
    }
}

fn parse_cn(raw: &str) -> Result<String, IdError> {
    let number = raw.trim().to_ascii_uppercase();
    let bytes = number.as_bytes();
    if bytes.len() != 18 {
        return Err(IdError::Length { scheme: "cn_rid", expected: "18", found: raw.trim().chars().count() });
    }
    let check = bytes[17];
    if !bytes[..17].iter().all(u8::is_ascii_digit) || !(check.is_ascii_digit() || check == b'X') {
        return Err(IdError::Charset { scheme: "cn_rid", allowed: "17 digits and a digit or X" });
    }
    let province = (bytes[0] - b'0') * 10 + (bytes[1] - b'0');
    if !CN_PROVINCES.contains(&province) {
        return Err(IdError::Region);
    }
    if cn_birth(&number).is_none() {
        return Err(IdError::BirthDate);
    }
    let sum: u32 = bytes[..17].iter().zip(CN_WEIGHTS).map(|(&b, w)| u32::from(b - b'0') * w).sum();
    if CN_CHECK[(sum % 11) as usize] != check {
        return Err(IdError::CheckDigit);
    }
    Ok(number)
}

fn cn_birth(number: &str) -> Option<Date> {
    let year: i32 = number.get(6..10)?.parse().ok()?;
    let month: u8 = number.get(10..12)?.parse().ok()?;
    let day: u8 = number.get(12..14)?.parse().ok()?;
    if year < 1900 {
        return None;
    }
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

fn parse_ssn(raw: &str) -> Result<String, IdError> {
    let trimmed = raw.trim();
    let digits: String = trimmed.chars().filter(|&c| c != '-').collect();
    // By bytes: the input may hold any character, and a slice of a string must not split one.
    let bytes = trimmed.as_bytes();
    let dashed_ok = !trimmed.contains('-') || (bytes.len() == 11 && bytes[3] == b'-' && bytes[6] == b'-');
    let charset = IdError::Charset { scheme: "us_ssn", allowed: "digits, optionally as AAA-GG-SSSS" };
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(charset);
    }
    if digits.len() != 9 {
        return Err(IdError::Length { scheme: "us_ssn", expected: "9 digits", found: digits.len() });
    }
    if !dashed_ok {
        return Err(charset);
    }
    let area = &digits[0..3];
    if area == "000" || area == "666" || area.starts_with('9') {
        return Err(IdError::Impossible("an SSN area number is never 000, 666 or 900-999"));
    }
    if &digits[3..5] == "00" {
        return Err(IdError::Impossible("an SSN group number is never 00"));
    }
    if &digits[5..9] == "0000" {
        return Err(IdError::Impossible("an SSN serial number is never 0000"));
    }
    // Numbers printed on sample cards and in advertising, voided by the SSA.
    if digits == "078051120" || digits == "219099999" {
        return Err(IdError::Impossible("this SSN was published as a sample and voided"));
    }
    Ok(digits)
}

fn parse_generic(raw: &str) -> Result<String, IdError> {
    let number = raw.trim().to_ascii_uppercase();
    if !(6..=24).contains(&number.len()) {
        return Err(IdError::Length { scheme: "generic", expected: "6 to 24", found: raw.trim().chars().count() });
    }
    if !number.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
        return Err(IdError::Charset { scheme: "generic", allowed: "letters A-Z and digits" });
    }
    Ok(number)
}

/// The stored stand-in for a national identifier: HMAC-SHA-256 of scheme and number.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubjectKey(pub [u8; 32]);

impl fmt::Debug for SubjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SubjectKey({})", &hex::encode(self.0)[..12])
    }
}

impl SubjectKey {
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(scheme: Scheme, raw: &str, expected: Result<&str, &str>) {
        let got = NationalId::parse(scheme, raw).map(|id| id.masked()).map_err(|e| e.to_string());
        assert_eq!(
            got.as_deref().map_err(String::as_str),
            expected.map(str::to_owned).as_deref().map_err(|e| *e),
            "{raw}"
        );
    }

    #[test]
    fn resident_ids() {
        check(Scheme::CnRid, "11010519491231002X", Ok("**************002X"));
        check(Scheme::CnRid, "11010519491231002x", Ok("**************002X"));
        check(Scheme::CnRid, "110105194912310021", Err("the check character does not match (ISO 7064 MOD 11-2)"));
        check(Scheme::CnRid, "99010519491231002X", Err("the region code is not a mainland China province"));
        check(
            Scheme::CnRid,
            "11010519491331002X",
            Err("the birth date in the number is not a valid date from 1900 on"),
        );
        check(Scheme::CnRid, "1101051949123100", Err("a cn_rid number has 18, this one has 16 characters"));
        check(Scheme::CnRid, "1101051949123100AX", Err("a cn_rid number may hold only 17 digits and a digit or X"));
        let id = NationalId::parse(Scheme::CnRid, "11010519491231002X").expect("valid");
        assert_eq!(id.region().as_deref(), Some("110105"));
        assert_eq!(id.birth_date(), Date::from_calendar_date(1949, Month::December, 31).ok());
    }

    #[test]
    fn social_security_numbers() {
        check(Scheme::UsSsn, "123-45-6789", Ok("*****6789"));
        check(Scheme::UsSsn, "123456789", Ok("*****6789"));
        check(Scheme::UsSsn, "666-45-6789", Err("an SSN area number is never 000, 666 or 900-999"));
        check(Scheme::UsSsn, "912-45-6789", Err("an SSN area number is never 000, 666 or 900-999"));
        check(Scheme::UsSsn, "123-00-6789", Err("an SSN group number is never 00"));
        check(Scheme::UsSsn, "123-45-0000", Err("an SSN serial number is never 0000"));
        check(Scheme::UsSsn, "078-05-1120", Err("this SSN was published as a sample and voided"));
        check(Scheme::UsSsn, "12-345-6789", Err("a us_ssn number may hold only digits, optionally as AAA-GG-SSSS"));
        // A character of two bytes where a dash goes, or among the digits: refused, no panic.
        check(
            Scheme::UsSsn,
            "123-4\u{5f3}6789",
            Err("a us_ssn number may hold only digits, optionally as AAA-GG-SSSS"),
        );
        check(
            Scheme::UsSsn,
            "123\u{5f3}45\u{5f3}6789",
            Err("a us_ssn number may hold only digits, optionally as AAA-GG-SSSS"),
        );
        check(Scheme::UsSsn, "12345678", Err("a us_ssn number has 9 digits, this one has 8 characters"));
    }

    #[test]
    fn generic_numbers_and_no_leaks() {
        check(Scheme::Generic, "ab12cd34", Ok("****CD34"));
        check(Scheme::Generic, "ab-12", Err("a generic number has 6 to 24, this one has 5 characters"));
        let id = NationalId::parse(Scheme::UsSsn, "123-45-6789").expect("valid");
        assert!(!format!("{id:?} {id}").contains("12345"), "the number leaked into Debug or Display");
    }
}
