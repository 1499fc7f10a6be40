//! Small text helpers shared by the bot and the site's pages.

/// `s` with its first character in upper case (a service's message turned into a sentence).
pub fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
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
}
