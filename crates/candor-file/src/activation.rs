//! One-time activation codes: what the bureau issues a person out of band — printed on a
//! letter to their address, or handed over by a furnisher who already knows them — so that only
//! the holder of the code, not anyone who knows their national identifier, can enrol.
//!
//! A code is 20 characters of Crockford's base32 (100 bits), shown in groups of four. It is
//! read leniently (case, spaces, dashes, and the look-alikes O/0 and I/L/1 do not matter) and
//! stored only as a keyed hash bound to the person (see [`crate::secret::Keys::activation_hash`]).

use std::fmt;

/// Characters of a code.
pub const CODE_CHARS: usize = 20;

/// Bytes of randomness a code is made from (the first 100 bits are used).
pub const RANDOM_BYTES: usize = 13;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// An activation code, normalised to its 20 characters.
#[derive(Clone, PartialEq, Eq)]
pub struct ActivationCode(String);

impl ActivationCode {
    /// A code from fresh randomness (the caller's: this crate has none).
    pub fn from_random(random: [u8; RANDOM_BYTES]) -> ActivationCode {
        let mut bits: u128 = 0;
        for b in random {
            bits = (bits << 8) | u128::from(b);
        }
        // 104 bits: keep the top 100, five at a time.
        let code = (0..CODE_CHARS).map(|i| ALPHABET[((bits >> (99 - 5 * i)) & 31) as usize] as char).collect();
        ActivationCode(code)
    }

    /// A code as a person types it.
    pub fn parse(text: &str) -> Result<ActivationCode, &'static str> {
        let mut code = String::with_capacity(CODE_CHARS);
        for c in text.chars() {
            let c = match c.to_ascii_uppercase() {
                ' ' | '-' => continue,
                'O' => '0',
                'I' | 'L' => '1',
                c if c.is_ascii() && ALPHABET.contains(&(c as u8)) => c,
                _ => return Err("an activation code is 20 letters and digits, as printed"),
            };
            code.push(c);
        }
        if code.len() != CODE_CHARS {
            return Err("an activation code is 20 letters and digits, as printed");
        }
        Ok(ActivationCode(code))
    }

    /// The 20 characters, as hashed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// In groups of four, as printed: `ABCD-EFGH-JKMN-PQRS-TVWX`.
impl fmt::Display for ActivationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let groups: Vec<&str> = (0..CODE_CHARS / 4).map(|i| &self.0[4 * i..4 * i + 4]).collect();
        f.write_str(&groups.join("-"))
    }
}

/// Never printed by accident: a code is a secret until used.
impl fmt::Debug for ActivationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ActivationCode(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_reads_back_as_printed_and_leniently() {
        let code = ActivationCode::from_random([0xA5; RANDOM_BYTES]);
        let printed = code.to_string();
        assert_eq!(printed.len(), CODE_CHARS + 4);
        assert_eq!(ActivationCode::parse(&printed), Ok(code.clone()));
        assert_eq!(ActivationCode::parse(&printed.to_lowercase().replace('-', " ")), Ok(code.clone()));
        let looks_alike = ActivationCode::parse("O0IL 1111 2222 3333 4444").expect("look-alikes");
        assert_eq!(looks_alike.as_str(), "00111111222233334444");
        assert!(ActivationCode::parse(&printed[..20]).is_err(), "too short");
        assert!(ActivationCode::parse("UUUU-0000-0000-0000-0000").is_err(), "U is not in the alphabet");
        assert!(ActivationCode::parse("ÄBCD-0000-0000-0000-0000").is_err());
        assert_eq!(format!("{code:?}"), "ActivationCode(..)");
    }

    #[test]
    fn every_bit_of_randomness_used_moves_the_code() {
        let zero = ActivationCode::from_random([0; RANDOM_BYTES]);
        assert_eq!(zero.as_str(), "0".repeat(CODE_CHARS));
        let mut seen = std::collections::BTreeSet::new();
        for bit in 0..100 {
            let mut r = [0u8; RANDOM_BYTES];
            r[bit / 8] |= 0x80 >> (bit % 8);
            assert!(seen.insert(ActivationCode::from_random(r).0), "bit {bit} made a code seen before");
        }
    }
}
