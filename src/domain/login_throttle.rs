//! The per-account login throttle's rule: the first [`FREE_FAILURES`] failed logins of a name
//! cost nothing more; each one after waits twice as long as the one before, from
//! [`FIRST_WAIT`] up to [`MAX_WAIT`], whatever the address they come from. Failures are
//! forgotten on a success, or [`FORGET_AFTER`] after the last one. Pure; the service stores
//! the state in PostgreSQL so that every daemon applies the same throttle.

use chrono::{DateTime, Duration, Utc};

/// Failed logins of one name before it has to wait.
pub const FREE_FAILURES: u32 = 5;
/// The wait after the [`FREE_FAILURES`]th failure; each further failure doubles it.
pub const FIRST_WAIT: Duration = Duration::seconds(30);
/// The longest wait.
pub const MAX_WAIT: Duration = Duration::minutes(15);
/// Failures this old (counted from the last one) no longer count.
pub const FORGET_AFTER: Duration = Duration::hours(24);

/// What is remembered of a name's failed logins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginFailures {
    pub count: u32,
    pub last_at: DateTime<Utc>,
    /// No login with this name is checked before then.
    pub locked_until: Option<DateTime<Utc>>,
}

/// Whether a login may be checked now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginAttempt {
    /// Check it; the attempt is counted as a failure already (`failures` is the new state, to
    /// store before checking), so that parallel attempts cannot slip past the count together.
    /// A success forgets every failure.
    Allowed(LoginFailures),
    /// Refused without checking: try again after this long.
    Wait(Duration),
}

/// The wait that follows `failures` failed logins, if any.
pub fn wait_after(failures: u32) -> Option<Duration> {
    let doublings = failures.checked_sub(FREE_FAILURES)?;
    // 2^5 × 30 s is past the cap already: no need to compute beyond.
    let wait = FIRST_WAIT * 2i32.pow(doublings.min(10));
    Some(wait.min(MAX_WAIT))
}

/// Claims a login attempt of a name whose failures are `known`, at `now`.
pub fn claim(known: Option<&LoginFailures>, now: DateTime<Utc>) -> LoginAttempt {
    if let Some(until) = known.and_then(|k| k.locked_until).filter(|u| *u > now) {
        return LoginAttempt::Wait(until - now);
    }
    let count = match known {
        Some(k) if now - k.last_at < FORGET_AFTER => k.count.saturating_add(1),
        _ => 1,
    };
    LoginAttempt::Allowed(LoginFailures {
        count,
        last_at: now,
        locked_until: wait_after(count).map(|w| now + w),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn waits_double_after_five_failures_up_to_fifteen_minutes() {
        let waits: Vec<_> = (1..=12)
            .map(|n| wait_after(n).map(|w| w.num_seconds()))
            .collect();
        assert_eq!(
            waits,
            [
                None,
                None,
                None,
                None,
                Some(30),
                Some(60),
                Some(120),
                Some(240),
                Some(480),
                Some(900),
                Some(900),
                Some(900)
            ]
        );
        assert_eq!(wait_after(u32::MAX), Some(MAX_WAIT));
    }

    #[test]
    fn the_fifth_attempt_is_checked_and_the_sixth_waits() {
        let mut state = None;
        for n in 1..=5 {
            match claim(state.as_ref(), at(n)) {
                LoginAttempt::Allowed(f) => {
                    assert_eq!(f.count, n as u32);
                    state = Some(f);
                }
                LoginAttempt::Wait(w) => panic!("attempt {n} waits {w}"),
            }
        }
        // The fifth set a 30 s wait from its own time (5 s).
        assert_eq!(
            claim(state.as_ref(), at(6)),
            LoginAttempt::Wait(Duration::seconds(29))
        );
        // After the wait, one more attempt, then twice as long.
        let LoginAttempt::Allowed(f) = claim(state.as_ref(), at(35)) else {
            panic!("still waiting after the wait");
        };
        assert_eq!((f.count, f.locked_until), (6, Some(at(95))));
    }

    #[test]
    fn old_failures_are_forgotten() {
        let old = LoginFailures {
            count: 9,
            last_at: at(0),
            locked_until: Some(at(900)),
        };
        let later = at(0) + FORGET_AFTER;
        assert_eq!(
            claim(Some(&old), later),
            LoginAttempt::Allowed(LoginFailures {
                count: 1,
                last_at: later,
                locked_until: None
            })
        );
    }
}
