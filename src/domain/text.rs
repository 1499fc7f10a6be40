//! Small text helpers shared by the bot and the site's pages.

/// `s` with its first character in upper case (a service's message turned into a sentence).
pub fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// `n` and the noun, singular for 1 (`1 winner`, `5 winners`; nouns with a plain `s` plural).
pub fn count(n: impl Into<i64>, noun: &str) -> String {
    let n = n.into();
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_character_only_goes_up() {
        assert_eq!(capitalise("this code is used"), "This code is used");
        assert_eq!(capitalise("ésta"), "Ésta");
        assert_eq!(capitalise(""), "");
        assert_eq!(capitalise("ß x"), "SS x");
    }

    #[test]
    fn counts_are_singular_for_one_only() {
        assert_eq!(count(1u32, "winner"), "1 winner");
        assert_eq!(count(0u32, "place"), "0 places");
        assert_eq!(count(5u32, "winner"), "5 winners");
    }
}
