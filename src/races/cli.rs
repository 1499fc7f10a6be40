//! The `goatedvips race …` commands: create, list and cancel races from the command line,
//! through the same service (and the same rules, audit and notification of every daemon) as
//! the API and the `/admin` form; the actor is `cli:<uid>`.

use chrono::{DateTime, Utc};

use super::{RaceError, Races};
use crate::accounts::Actor;
use crate::clock::{Clock, SystemClock};
use crate::config::SharedConfig;
use crate::db::Pool;
use crate::domain::race::distribution;
use crate::domain::race_def::{plain, RaceDef};
use crate::domain::race_draft::{percentages_from_text, RaceDraft};

/// The exit codes of `goatedvips race`, for its help.
pub const EXIT_CODES: &str = "A value that is refused is named with what was wrong.\n\
     Exit codes: 0 done, 1 refused (a bad value, no such race, or a state that forbids it) or \
     failed, 2 usage error, 78 invalid configuration.";

/// How many closed or cancelled races `race list` shows after the open ones.
const FINISHED_LISTED: i64 = 10;

/// One `race` subcommand.
#[derive(Debug, clap::Subcommand)]
pub enum RaceCommand {
    /// Create a race (audited; every running daemon shows it at once)
    #[command(
        after_help = "Times are RFC 3339 (2026-12-05T00:00:00-05:00) or a local time \
                            (2026-12-05T00:00) in --timezone. A window that is not exactly \
                            the upstream's month or week cannot start in the past: its wager \
                            is measured from its start."
    )]
    Create(Box<NewRace>),
    /// List the open races (listed or hidden) and the ones finished last
    List,
    /// Cancel a scheduled, live or closing race: nobody is paid, a recurrence ends (audited)
    Cancel {
        /// The race's id, as `race list` shows it
        id: String,
    },
}

/// The options of `race create`.
#[derive(Debug, clap::Args)]
pub struct NewRace {
    /// One line, at most 120 characters
    #[arg(long)]
    title: String,
    /// When it starts
    #[arg(long, value_name = "TIME")]
    starts_at: String,
    /// When it ends (not included)
    #[arg(long, value_name = "TIME")]
    ends_at: String,
    /// The prize pool, a decimal number such as 2500
    #[arg(long, value_name = "AMOUNT")]
    prize_pool: String,
    /// The share of the pool of each paid place, first place first: 50,30,20
    #[arg(long, value_name = "LIST")]
    percentages: String,
    /// The race wager needed to be ranked [default: 0]
    #[arg(long, value_name = "AMOUNT")]
    min_wager: Option<String>,
    /// The IANA time zone of the window [default: race.timezone]
    #[arg(long, value_name = "ZONE")]
    timezone: Option<String>,
    /// The currency code [default: race.currency]
    #[arg(long)]
    currency: Option<String>,
    /// monthly or weekly: the next race like it is created when it closes
    #[arg(long)]
    recurrence: Option<String>,
    /// Not listed on /races (reachable by its id only)
    #[arg(long)]
    hidden: bool,
    /// Plain text shown on the race page
    #[arg(long)]
    description: Option<String>,
}

impl From<NewRace> for RaceDraft {
    fn from(r: NewRace) -> Self {
        RaceDraft {
            title: Some(r.title),
            starts_at: Some(r.starts_at),
            ends_at: Some(r.ends_at),
            timezone: r.timezone,
            prize_pool: Some(r.prize_pool),
            currency: r.currency,
            prize_percentages: Some(percentages_from_text(&r.percentages)),
            min_wager: r.min_wager,
            description: r.description,
            recurrence: r.recurrence,
            public: Some(!r.hidden),
        }
    }
}

/// Runs one command on the database of `pool`; `Ok` carries what to print.
pub async fn run(
    pool: Pool,
    config: SharedConfig,
    command: RaceCommand,
) -> Result<String, RaceError> {
    let clock = std::sync::Arc::new(SystemClock);
    let now = clock.now();
    // No snapshot here: the daemons' followers load the change.
    let races = Races::new(pool, config, clock, std::sync::Arc::default());
    let actor = Actor::cli();
    match command {
        RaceCommand::List => {
            let open = races.open_definitions().await?;
            let finished = races.finished_definitions(FINISHED_LISTED).await?;
            Ok(table(&open, &finished, now))
        }
        RaceCommand::Cancel { id } => {
            let was = races.definition(&id).await?.state(now);
            let def = races.cancel(&id, &actor).await?;
            Ok(format!(
                "cancelled race {} ({}; it was {}): it never closes and nobody is paid\n",
                def.id,
                def.display_title(),
                was.name()
            ))
        }
        RaceCommand::Create(race) => {
            let def = races.create(&(*race).into(), &actor).await?;
            Ok(created(&def, now))
        }
    }
}

/// `2026-12-05 00:00` in the race's own time zone.
fn local(t: DateTime<Utc>, def: &RaceDef) -> String {
    t.with_timezone(&def.timezone)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// What `race create` prints: the id first, then the race as stored.
fn created(def: &RaceDef, now: DateTime<Utc>) -> String {
    let s = &def.settings;
    let prizes: Vec<String> = distribution(s.prize_pool, &s.prize_percentages)
        .iter()
        .map(|p| format!("#{} {} ({} %)", p.rank, plain(p.amount.0), plain(p.percent)))
        .collect();
    let mut out = format!("created race {} ({})\n", def.id, def.state(now).name());
    out.push_str(&format!("  title:      {}\n", def.title));
    out.push_str(&format!(
        "  window:     {} to {} {}\n",
        local(def.starts_at, def),
        local(def.ends_at, def),
        def.timezone.name()
    ));
    out.push_str(&format!(
        "  prize pool: {} {}: {}\n",
        plain(s.prize_pool),
        s.currency,
        prizes.join(", ")
    ));
    out.push_str(&format!("  min wager:  {}\n", plain(s.min_wager)));
    out.push_str(&format!(
        "  shown:      {}\n",
        if def.public { "listed" } else { "hidden" }
    ));
    out.push_str(&format!(
        "  repeats:    {}\n",
        def.recurrence.map_or("no", |r| r.name())
    ));
    out.push_str(&format!("  page:       /race/{}\n", def.id));
    out
}

/// What `race list` prints: a table of the open races, then the ones finished last.
fn table(open: &[RaceDef], finished: &[RaceDef], now: DateTime<Utc>) -> String {
    let header = [
        "ID", "TITLE", "STATUS", "STARTS", "ENDS", "ZONE", "POOL", "SPLIT %", "SHOWN", "REPEATS",
    ];
    let rows: Vec<[String; 10]> = open
        .iter()
        .chain(finished)
        .map(|d| {
            let s = &d.settings;
            [
                d.id.clone(),
                d.display_title(),
                d.state(now).name().to_string(),
                local(d.starts_at, d),
                local(d.ends_at, d),
                d.timezone.name().to_string(),
                format!("{} {}", plain(s.prize_pool), s.currency),
                s.prize_percentages
                    .iter()
                    .map(|p| plain(*p))
                    .collect::<Vec<_>>()
                    .join(","),
                (if d.public { "listed" } else { "hidden" }).to_string(),
                d.recurrence.map_or("no", |r| r.name()).to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let padded: Vec<String> = cells.zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut out = line(&mut header.iter().copied());
    for row in &rows {
        out.push_str(&line(&mut row.iter().map(String::as_str)));
    }
    out.push_str(&format!(
        "{} open race(s); {} finished shown (times in each race's zone)\n",
        open.len(),
        finished.len()
    ));
    out
}
