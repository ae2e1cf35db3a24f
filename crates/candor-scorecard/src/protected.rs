//! Protected attributes: what a credit score must not be built on (sex, age, marital status,
//! nationality, ethnicity, religion), recognised by a column's name. Equal-credit laws (ECOA and
//! Regulation B, the EU's consumer-credit and anti-discrimination rules, China's personal
//! information law on sensitive data) forbid deciding on them; a column that looks like one is
//! kept out of a scorecard unless the analyst says otherwise.

/// The words in a column name that mark it, and the attribute each stands for.
const MARKS: &[(&str, &str)] = &[
    ("personal_status", "marital status and sex"),
    ("sex", "sex"),
    ("gender", "sex"),
    ("age", "age"),
    ("birth", "age"),
    ("dob", "age"),
    ("marital", "marital status"),
    ("marriage", "marital status"),
    ("married", "marital status"),
    ("nationality", "nationality"),
    ("citizenship", "nationality"),
    ("foreign", "nationality"),
    ("ethnic", "ethnicity"),
    ("ethnicity", "ethnicity"),
    ("race", "ethnicity"),
    ("religion", "religion"),
    ("religious", "religion"),
];

/// The protected attribute a column's name says it holds, if any: a whole word of the name
/// (split at anything not a letter or digit, and where lower case turns to upper), so
/// `age_in_years`, `ApplicantAge` and `SEX` are caught and `mortgage` or `usage` are not.
pub fn looks_protected(name: &str) -> Option<&'static str> {
    let words = name_words(name);
    let joined = words.join("_");
    MARKS.iter().find_map(|(mark, what)| {
        let hit = if mark.contains('_') { joined.contains(mark) } else { words.iter().any(|w| w == mark) };
        hit.then_some(*what)
    })
}

/// A column name's words, in lower case: split at anything not a letter or digit, and where
/// lower case turns to upper (`ApplicantAge` is `applicant`, `age`).
pub(crate) fn name_words(name: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut last_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            words.push(std::mem::take(&mut current));
            last_lower = false;
            continue;
        }
        if c.is_uppercase() && last_lower {
            words.push(std::mem::take(&mut current));
        }
        last_lower = c.is_lowercase();
        current.extend(c.to_lowercase());
    }
    words.push(current);
    words.retain(|w| !w.is_empty());
    words
}

#[cfg(test)]
mod tests {
    use super::looks_protected;

    #[test]
    fn names_that_say_a_protected_attribute_are_caught_and_others_not() {
        for (name, what) in [
            ("age_in_years", "age"),
            ("ApplicantAge", "age"),
            ("AGE", "age"),
            ("SEX", "sex"),
            ("personal_status_and_sex", "marital status and sex"),
            ("foreign_worker", "nationality"),
            ("MARRIAGE", "marital status"),
            ("days_birth", "age"),
            ("Ethnicity", "ethnicity"),
        ] {
            assert_eq!(looks_protected(name), Some(what), "{name}");
        }
        for name in ["mortgage", "usage", "percentage", "average_balance", "page_views", "duration_in_month", "purpose"]
        {
            assert_eq!(looks_protected(name), None, "{name}");
        }
    }
}
