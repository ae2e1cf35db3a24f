//! Free text from outside (names, grounds, statements, descriptions) as the bureau accepts it:
//! no NUL or other control characters, which truncate or corrupt what other systems read, and no
//! bidirectional controls, which make text display as something other than what it says.

/// Why a text is refused, or `Ok` for text the bureau keeps as it is. `newlines` allows line
/// breaks (a person's statement); fields of one line never have them.
pub fn check(text: &str, newlines: bool) -> Result<(), &'static str> {
    for c in text.chars() {
        if c == '\n' && newlines {
            continue;
        }
        if c.is_control() {
            return Err("text may not hold NUL or other control characters");
        }
        if is_bidi_control(c) {
            return Err("text may not hold bidirectional control characters");
        }
    }
    Ok(())
}

/// The characters that reorder how text is shown (Unicode's bidirectional embeddings,
/// overrides, isolates and marks).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn controls_and_bidi_overrides_are_refused_and_ordinary_text_kept() {
        assert_eq!(check("朝阳区人民法院 — Court No. 3", false), Ok(()));
        assert_eq!(check("paid late\nbecause of a hospital stay", true), Ok(()));
        assert!(check("two\nlines", false).is_err());
        assert!(check("nul\0here", true).is_err());
        assert!(check("bell\u{7}", true).is_err());
        assert!(check("c1\u{85}", true).is_err());
        assert!(check("evil\u{202E}txt.exe", true).is_err(), "right-to-left override");
        assert!(check("isolate\u{2067}", true).is_err());
        assert!(check("mark\u{200F}", true).is_err());
    }
}
