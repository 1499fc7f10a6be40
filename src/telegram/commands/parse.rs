//! Recognising a command in a message's text: `/name args` and `/name@OurBot args`, never a
//! command addressed to another bot.

/// A command in a message: its name (lowercase, without `/` and `@bot`) and the rest.
#[derive(Debug, Clone, PartialEq)]
pub struct Command<'a> {
    pub name: String,
    pub args: &'a str,
    /// Written `/name@OurBot`: addressed to us by name (in a group, others see it too).
    pub addressed: bool,
}

/// Reads `/name[@bot] args`. A command addressed to another bot (`/x@OtherBot`) is not ours;
/// when `bot_username` is not configured any addressee is accepted.
pub fn parse_command<'a>(text: &'a str, bot_username: &str) -> Option<Command<'a>> {
    let text = text.trim_start();
    let rest = text.strip_prefix('/')?;
    let (head, args) = rest
        .split_once(char::is_whitespace)
        .map_or((rest, ""), |(h, a)| (h, a.trim()));
    let (name, addressee) = head
        .split_once('@')
        .map_or((head, None), |(n, b)| (n, Some(b)));
    if let Some(bot) = addressee {
        if !bot_username.is_empty() && !bot.eq_ignore_ascii_case(bot_username) {
            return None;
        }
    }
    if name.is_empty()
        || name.len() > 32
        || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return None;
    }
    Some(Command {
        name: name.to_ascii_lowercase(),
        args,
        addressed: addressee.is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_parsed_with_and_without_the_bot_name() {
        let c = parse_command("/verify LuckyLlama", "GoatedVIPsBot").unwrap();
        assert_eq!((c.name.as_str(), c.args), ("verify", "LuckyLlama"));
        let c = parse_command("/leaderboard@GoatedVIPsBot", "GoatedVIPsBot").unwrap();
        assert_eq!((c.name.as_str(), c.args), ("leaderboard", ""));
        let c = parse_command("/Start@goatedvipsbot  ABC123 ", "GoatedVIPsBot").unwrap();
        assert_eq!((c.name.as_str(), c.args), ("start", "ABC123"));
        assert_eq!(
            parse_command("/leaderboard@OtherBot", "GoatedVIPsBot"),
            None
        );
        assert!(parse_command("/leaderboard@OtherBot", "").is_some());
        assert!(
            parse_command("/x@GoatedVIPsBot", "GoatedVIPsBot")
                .unwrap()
                .addressed
        );
        assert!(!parse_command("/x", "GoatedVIPsBot").unwrap().addressed);
        for text in ["hello", "", "/", "/ x", "/a-b", "//x"] {
            assert_eq!(parse_command(text, "GoatedVIPsBot"), None, "{text:?}");
        }
    }
}
