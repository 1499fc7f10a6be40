//! Race sync benchmark (run with `cargo bench --bench race_sync`): the work a sync does for the
//! live races, on a fresh database per race count. `BENCH_RACES` (default `0,5,10`) live races,
//! two in five measured by the upstream's month (`this_month`) and the rest by deltas of
//! all-time (their start figures captured by the first sync), over `BENCH_PLAYERS` (default
//! 60,000) players. For each race count it prints the median and range of `BENCH_RUNS`
//! (default 5) runs of:
//!
//! - applying one sync (`db::leaderboard::store_sync`: the players and every live race's
//!   standings, in one transaction) where every player wagered since the last one (every row
//!   changes), and where one player in twenty did;
//! - the follower's `Races::load` of those standings (what each instance does after a sync).
//!
//! It prints figures; it asserts nothing about speed.

mod support;

use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal::Decimal;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use goatedvips::board::Board;
use goatedvips::clock::ManualClock;
use goatedvips::config::{self, ConfigSource};
use goatedvips::db::{self, leaderboard, races::defs, Pool};
use goatedvips::domain::leaderboard::{Player, Wagers};
use goatedvips::domain::race::RaceSettings;
use goatedvips::domain::race_def::RaceDef;
use goatedvips::domain::Amount;
use goatedvips::races::Races;
use support::{admin_url, connect, create_db};

fn env_list(name: &str, default: &str) -> Vec<usize> {
    std::env::var(name)
        .unwrap_or_else(|_| default.into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

fn env_num(name: &str, default: usize) -> usize {
    env_list(name, &default.to_string())
        .first()
        .copied()
        .unwrap_or(default)
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// `n` players with figures that differ from one another (cents).
fn players(n: usize) -> Vec<Player> {
    (0..n)
        .map(|i| {
            let cents = |k: usize| Amount(Decimal::new((i * k % 1_000_003 + 1) as i64, 2));
            Player {
                uid: format!("bench{i:07}"),
                name: format!("player_{i}"),
                wagered: Wagers {
                    today: cents(7),
                    this_week: cents(31),
                    this_month: cents(101),
                    all_time: cents(1009),
                },
            }
        })
        .collect()
}

/// Every `every`-th player wagers 12.34 more.
fn wager(players: &mut [Player], every: usize) {
    let more = Decimal::new(1234, 2);
    for p in players.iter_mut().step_by(every) {
        let w = &mut p.wagered;
        for a in [
            &mut w.today,
            &mut w.this_week,
            &mut w.this_month,
            &mut w.all_time,
        ] {
            a.0 += more;
        }
    }
}

/// Race `k` of the benchmark: every fifth and fifth-but-two is December in UTC (the
/// upstream's month), the others windows of three days starting on December 10th.
fn race(k: usize) -> RaceDef {
    let month = k % 5 == 0 || k % 5 == 2;
    let (starts_at, ends_at) = if month {
        (at("2026-12-01T00:00:00Z"), at("2027-01-01T00:00:00Z"))
    } else {
        let start = at("2026-12-10T00:00:00Z") + Duration::hours(k as i64);
        (start, start + Duration::days(3))
    };
    RaceDef {
        id: format!("bench-{k}"),
        title: format!("Bench {k}"),
        starts_at,
        ends_at,
        timezone: chrono_tz::UTC,
        settings: RaceSettings {
            prize_pool: Decimal::from(2500),
            currency: "USD".into(),
            prize_percentages: vec![Decimal::from(50), Decimal::from(30), Decimal::from(20)],
            min_wager: Decimal::ZERO,
        },
        description: String::new(),
        public: true,
        recurrence: None,
        series: None,
        cancelled_at: None,
        closed_at: None,
    }
}

fn median_and_range(mut ms: Vec<f64>) -> String {
    ms.sort_by(f64::total_cmp);
    format!(
        "{:.0} ms (runs {:.0}–{:.0})",
        ms[ms.len() / 2],
        ms[0],
        ms[ms.len() - 1]
    )
}

/// One race count on a fresh database: returns the printed line's figures.
async fn bench(url: &str, dir: &std::path::Path, races: usize, n: usize, runs: usize) {
    let path = dir.join(format!("bench-{races}.toml"));
    std::fs::write(
        &path,
        format!(
            "[server]\nenvironment = \"development\"\n[database]\nurl = \"{url}\"\npool_size = 4\n[log]\nfile = \"{}\"\nstderr = false\n",
            dir.join("bench.log").display()
        ),
    )
    .unwrap();
    let loaded = config::load_with_env(
        &ConfigSource::Explicit(path),
        &std::collections::HashMap::from([("GOATEDVIPS_ENV_FILE".into(), String::new())]),
    )
    .expect("benchmark config");
    let log = slog::Logger::root(slog::Discard, slog::o!());
    let pool: Pool = db::connect(&loaded.config.database, &log, |_, _| {})
        .await
        .unwrap();
    db::migrate::run(&pool, &log).await.unwrap();
    let created = at("2026-12-09T00:00:00Z");
    {
        let conn = pool.get().await.unwrap();
        for k in 0..races {
            defs::insert(&*conn, &race(k), "bench", created)
                .await
                .unwrap();
        }
    }
    let tz = chrono_tz::UTC;
    let mut taken_at = Utc.with_ymd_and_hms(2026, 12, 10, 12, 0, 0).unwrap();
    let mut everyone = players(n);
    // The first sync after the starts: the delta races capture their start figures.
    let started = Instant::now();
    leaderboard::store_sync(&pool, taken_at, "bench", &everyone, 0, tz)
        .await
        .unwrap();
    let first = started.elapsed().as_secs_f64() * 1000.0;

    let clock = ManualClock::new(taken_at);
    let shared = Arc::new(arc_swap::ArcSwap::from_pointee(loaded));
    let service = Races::new(pool.clone(), shared, clock, Arc::new(Board::default()));
    let (mut all, mut some, mut load) = (Vec::new(), Vec::new(), Vec::new());
    let mut rows = 0;
    for _ in 0..runs {
        for (every, times) in [(1, &mut all), (20, &mut some)] {
            wager(&mut everyone, every);
            taken_at += Duration::seconds(60);
            let t = Instant::now();
            leaderboard::store_sync(&pool, taken_at, "bench", &everyone, 0, tz)
                .await
                .unwrap();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let t = Instant::now();
        let data = service.load(HashSet::new()).await.unwrap();
        load.push(t.elapsed().as_secs_f64() * 1000.0);
        rows = data.open.iter().map(|r| r.players.len()).sum::<usize>();
    }
    let months = (0..races).filter(|k| k % 5 == 0 || k % 5 == 2).count();
    println!(
        "{races} races ({months} this_month, {} deltas) × {n} players = {rows} standings rows",
        races - months
    );
    println!("  first sync after the starts (start figures captured): {first:.0} ms");
    println!(
        "  one sync, every player wagered:        {}",
        median_and_range(all)
    );
    println!(
        "  one sync, one player in twenty wagered: {}",
        median_and_range(some)
    );
    println!(
        "  Races::load of the standings:           {}",
        median_and_range(load)
    );
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("race sync benchmark: run it with `cargo bench --bench race_sync`");
        return;
    }
    let counts = env_list("BENCH_RACES", "0,5,10");
    let n = env_num("BENCH_PLAYERS", 60_000);
    let runs = env_num("BENCH_RUNS", 5).max(1);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let admin_url = admin_url();
        let admin = connect(&admin_url).await;
        let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
        println!(
            "goatedvips {} race sync ({}), {runs} runs, {cores} cores",
            env!("CARGO_PKG_VERSION"),
            if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            }
        );
        let dir = tempfile::tempdir().unwrap();
        for races in counts {
            let (name, url) = create_db(&admin, &admin_url).await;
            bench(&url, dir.path(), races, n, runs).await;
            let _ = admin
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
        }
    });
}
