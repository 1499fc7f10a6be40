//! Account rules: what a valid username, email, password and bonus code look like, what a
//! Telegram public name (`@name`) looks like, and how a player's name is masked on public views. Pure functions, unit-tested here.

/// Shortest accepted password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest accepted password, in characters (bounds the work of hashing an attacker's input).
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// The JSON-schema pattern of a username (what [`validate_username`] accepts).
pub const USERNAME_PATTERN: &str = "^[A-Za-z0-9_.-]{3,32}$";
/// The JSON-schema pattern of an email (what [`validate_email`] accepts, up to 254 characters).
pub const EMAIL_PATTERN: &str = "^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\\.)+[A-Za-z]{2,}$";

/// A username: 3–32 characters from ASCII letters, digits, `_`, `-` and `.`.
pub fn validate_username(name: &str) -> Result<(), String> {
    let len = name.chars().count();
    if !(3..=32).contains(&len) {
        return Err("username must be 3 to 32 characters long".into());
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err("username may contain only letters, digits, '_', '-' and '.'".into());
    }
    Ok(())
}

/// An email address of the usual shape `local@domain.tld` ([`EMAIL_PATTERN`]): one `@`, a
/// local part of dot-separated atoms, a domain of dot-separated labels of letters, digits and
/// inner `-`, ending in a top-level domain of two or more letters.
pub fn validate_email(email: &str) -> Result<(), String> {
    let bad = || Err(format!("{email:?} is not a valid email address"));
    if email.len() > 254 {
        return Err("email must be at most 254 characters long".into());
    }
    let Some((local, domain)) = email.split_once('@') else {
        return bad();
    };
    let local_ok = !local.is_empty()
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
    if local_ok && domain_ok {
        Ok(())
    } else {
        bad()
    }
}

/// A password: [`MIN_PASSWORD_CHARS`] to [`MAX_PASSWORD_CHARS`] characters.
pub fn validate_password(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(format!(
            "password must be at least {MIN_PASSWORD_CHARS} characters long"
        ));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(format!(
            "password must be at most {MAX_PASSWORD_CHARS} characters long"
        ));
    }
    Ok(())
}

/// A bonus code: 4–16 uppercase letters (A–Z) or digits.
pub fn validate_bonus_code(code: &str) -> Result<(), String> {
    if (4..=16).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        Ok(())
    } else {
        Err("code must be 4 to 16 uppercase letters or digits".into())
    }
}

/// A name as shown for a player who chose privacy: the first two and the last two characters
/// with `***` between (`Lucky_Puma` -> `Lu***ma`); short names keep less (`Bob` -> `B***`).
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    match chars.len() {
        0 => "***".into(),
        1..=3 => format!("{}***", chars[0]),
        4..=5 => format!("{}***{}", chars[0], chars[chars.len() - 1]),
        n => format!(
            "{}***{}",
            chars[..2].iter().collect::<String>(),
            chars[n - 2..].iter().collect::<String>()
        ),
    }
}

/// A Telegram public name (of a user, group or channel), without its `@`: 5 to 32 ASCII
/// letters, digits and `_`. The config's forward channels and `/user_info @name` use it.
pub fn is_telegram_username(name: &str) -> bool {
    (5..=32).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn telegram_usernames() {
        for good in ["goated", "Goated_VIPs", "a2345", &"x".repeat(32)] {
            assert!(is_telegram_username(good), "{good}");
        }
        for bad in [
            "",
            "abcd",
            "@goated",
            "goated-vips",
            "goated vips",
            "gœated",
            &"x".repeat(33),
        ] {
            assert!(!is_telegram_username(bad), "{bad}");
        }
    }

    #[test]
    fn usernames() {
        for ok in ["abc", "Lucky_Puma", "a.b-c_d", &"x".repeat(32)] {
            assert!(validate_username(ok).is_ok(), "{ok}");
        }
        for bad in ["ab", "", &"x".repeat(33), "has space", "ünï", "a/b", "a@b"] {
            assert!(validate_username(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails() {
        for ok in ["a@b.co", "first.last+tag@sub.example.org", "x_y@a-b.io"] {
            assert!(validate_email(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "plain",
            "@b.co",
            "a@",
            "a@b",
            "a@@b.co",
            "a b@c.co",
            "a@b..co",
            "a@-b.co",
            ".a@b.co",
            "a..b@c.co",
            "a@b.c0",
            "a@b.c",
        ] {
            assert!(validate_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords() {
        assert!(validate_password("0123456789").is_ok());
        assert!(validate_password("éééééééééé").is_ok());
        assert!(validate_password("012345678").is_err());
        assert!(validate_password(&"x".repeat(2000)).is_err());
    }

    #[test]
    fn bonus_codes() {
        assert!(validate_bonus_code("GOAT").is_ok());
        assert!(validate_bonus_code("VIP2026BONUS").is_ok());
        for bad in ["GOA", "goat", "GOAT-1", &"A".repeat(17), "ÄBCD"] {
            assert!(validate_bonus_code(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn masking() {
        assert_eq!(mask_name("LuckyPuma"), "Lu***ma");
        assert_eq!(mask_name("Lucky_Puma"), "Lu***ma");
        assert_eq!(mask_name("Bob"), "B***");
        assert_eq!(mask_name("Anna"), "A***a");
        assert_eq!(mask_name(""), "***");
        assert_eq!(mask_name("Ünïcødé"), "Ün***dé");
    }
}
