//! Which leaderboard period a request asks for: the `period` parameter, or the old app's
//! `timeframe` (`daily|weekly|monthly|all_time`), which old overlays and scripts still send.
//! An unknown value of either, or the two naming different periods, is refused with a message
//! that lists the allowed values: silently serving the monthly board instead would show an
//! old overlay the wrong numbers without a sign.

use super::leaderboard::Period;

/// The values `period` takes.
pub const PERIOD_VALUES: [&str; 4] = ["today", "weekly", "monthly", "all_time"];

/// The values the old `timeframe` takes (`today` too, so that a hand-edited URL that mixes
/// the two vocabularies still works).
pub const TIMEFRAME_VALUES: [&str; 5] = ["daily", "today", "weekly", "monthly", "all_time"];

/// Why the period parameters were refused; `Display` is the message for the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodParamError {
    #[error("unknown period {0:?}; allowed values: today, weekly, monthly, all_time")]
    UnknownPeriod(String),
    #[error("unknown timeframe {0:?}; allowed values: daily, weekly, monthly, all_time")]
    UnknownTimeframe(String),
    #[error("period={period} and timeframe={timeframe} name different periods; give one of them")]
    Disagree { period: String, timeframe: String },
}

impl PeriodParamError {
    /// The parameter at fault, for the error's wording.
    pub fn parameter(&self) -> &'static str {
        match self {
            Self::UnknownPeriod(_) | Self::Disagree { .. } => "period",
            Self::UnknownTimeframe(_) => "timeframe",
        }
    }
}

fn by_period_name(name: &str) -> Option<Period> {
    Period::ALL.into_iter().find(|p| p.api_name() == name)
}

fn by_timeframe_name(name: &str) -> Option<Period> {
    match name {
        "daily" => Some(Period::Today),
        other => by_period_name(other),
    }
}

/// The period named by `period` and/or `timeframe` (absent or empty: not given); monthly when
/// neither is given.
pub fn period_from_params(
    period: Option<&str>,
    timeframe: Option<&str>,
) -> Result<Period, PeriodParamError> {
    fn given(v: Option<&str>) -> Option<&str> {
        v.filter(|s| !s.is_empty())
    }
    let from_period = given(period)
        .map(|v| by_period_name(v).ok_or_else(|| PeriodParamError::UnknownPeriod(v.into())))
        .transpose()?;
    let from_timeframe = given(timeframe)
        .map(|v| by_timeframe_name(v).ok_or_else(|| PeriodParamError::UnknownTimeframe(v.into())))
        .transpose()?;
    match (from_period, from_timeframe) {
        (Some(p), Some(t)) if p != t => Err(PeriodParamError::Disagree {
            period: given(period).unwrap_or_default().into(),
            timeframe: given(timeframe).unwrap_or_default().into(),
        }),
        (Some(p), _) | (None, Some(p)) => Ok(p),
        (None, None) => Ok(Period::Monthly),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn either_parameter_names_the_period() {
        assert_eq!(period_from_params(None, None), Ok(Period::Monthly));
        assert_eq!(period_from_params(Some(""), Some("")), Ok(Period::Monthly));
        assert_eq!(period_from_params(Some("weekly"), None), Ok(Period::Weekly));
        assert_eq!(period_from_params(None, Some("daily")), Ok(Period::Today));
        assert_eq!(period_from_params(None, Some("today")), Ok(Period::Today));
        assert_eq!(
            period_from_params(None, Some("all_time")),
            Ok(Period::AllTime)
        );
        assert_eq!(
            period_from_params(Some("today"), Some("daily")),
            Ok(Period::Today)
        );
    }

    #[test]
    fn unknown_values_and_disagreements_are_refused_with_the_allowed_values() {
        let e = period_from_params(Some("Weekly"), None).unwrap_err();
        assert_eq!(e.parameter(), "period");
        assert!(e.to_string().contains("today, weekly, monthly, all_time"));
        let e = period_from_params(None, Some("yearly")).unwrap_err();
        assert_eq!(e.parameter(), "timeframe");
        assert!(e.to_string().contains("daily, weekly, monthly, all_time"));
        // `daily` is the old vocabulary only.
        assert!(period_from_params(Some("daily"), None).is_err());
        let e = period_from_params(Some("weekly"), Some("monthly")).unwrap_err();
        assert!(e.to_string().contains("different periods"), "{e}");
    }
}
