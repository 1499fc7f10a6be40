//! A race's progress chart: its five leaders (at the last stored point) over the race's days,
//! read from `db::races::progress` once per snapshot and kept as SVG markup until the data
//! changes. Names of players who chose privacy are masked.

use chrono::{DateTime, Utc};
use std::collections::HashSet;
use std::sync::Arc;

use super::Races;
use crate::board::Snapshot;
use crate::db::leaderboard::conn;
use crate::db::races::progress::{self as store, ProgressPoint};
use crate::db::DbError;
use crate::domain::accounts::mask_name;
use crate::memo::Memo;
use crate::web::chart::{race_lines, RaceLine};

/// Lines drawn per chart.
pub const LEADERS: usize = 5;

/// Charts drawn per race, each for the snapshot's sync it was drawn for.
pub type ProgressCharts = Memo<String, Option<i64>, String>;

/// The lines of the `LEADERS` players ranked first at the last point, each over every point
/// it appears in, names masked for the players in `masked`.
pub fn leader_lines(points: &[ProgressPoint], masked: &HashSet<String>) -> Vec<RaceLine> {
    let Some(last) = points.last().map(|p| p.taken_at) else {
        return Vec::new();
    };
    let mut leaders: Vec<&ProgressPoint> = points.iter().filter(|p| p.taken_at == last).collect();
    leaders.sort_by_key(|p| p.rank);
    leaders
        .into_iter()
        .take(LEADERS)
        .map(|leader| RaceLine {
            name: if masked.contains(&leader.uid) {
                mask_name(&leader.name)
            } else {
                leader.name.clone()
            },
            points: points
                .iter()
                .filter(|p| p.uid == leader.uid)
                .map(|p| (p.taken_at, p.wagered))
                .collect(),
        })
        .collect()
}

impl Races {
    /// The progress chart of race `id` titled `title`, over `[start, end)` (the end drawn at
    /// `now` while the race runs), drawn once per snapshot.
    pub async fn progress_chart(
        &self,
        snap: &Snapshot,
        id: &str,
        title: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Arc<String>, DbError> {
        let sync = snap.sync.as_ref().map(|s| s.id);
        if let Some(chart) = self.charts.get(&id.to_string(), &sync) {
            return Ok(chart);
        }
        let points = {
            let conn = conn(&self.pool).await?;
            store::of_race(&*conn, id).await?
        };
        let lines = leader_lines(&points, &snap.race.masked);
        let drawn_to = end.min(self.clock.now()).max(start);
        let chart = race_lines(
            &format!("{title}: the leaders over time"),
            &lines,
            start,
            drawn_to,
            &format!("race-{id}"),
        )
        .into_string();
        Ok(self.charts.put(id.to_string(), sync, chart))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    fn point(minute: i64, rank: i32, uid: &str, wagered: i64) -> ProgressPoint {
        ProgressPoint {
            taken_at: DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::minutes(minute),
            rank,
            uid: uid.into(),
            name: format!("name-{uid}"),
            wagered: Decimal::from(wagered),
        }
    }

    #[test]
    fn the_leaders_at_the_end_with_their_whole_lines() {
        let mut points = Vec::new();
        for (minute, order) in [
            (0, ["a", "b", "c", "d", "e", "f"]),
            (60, ["f", "a", "b", "c", "d", "e"]),
        ] {
            for (i, uid) in order.iter().enumerate() {
                points.push(point(
                    minute,
                    i as i32 + 1,
                    uid,
                    1000 - i as i64 * 100 + minute,
                ));
            }
        }
        let masked: HashSet<String> = ["a".to_string()].into();
        let lines = leader_lines(&points, &masked);
        assert_eq!(lines.len(), LEADERS);
        assert_eq!(lines[0].name, "name-f");
        assert_eq!(lines[0].points.len(), 2, "f was 6th before: its whole line");
        assert_ne!(lines[1].name, "name-a", "masked");
        assert!(
            !lines.iter().any(|l| l.name == "name-e"),
            "e is 6th at the end"
        );
    }
}
