//! Leaderboard ranking: the same players ranked four ways.
//!
//! Descending by the period's wager; ties broken by the periods in the order today, this week,
//! this month, all time (each descending), then by uid ascending, so the order is total and
//! stable. Rank = position + 1.

use std::cmp::Ordering;
use std::collections::HashMap;

use super::Amount;

/// A leaderboard period, named as in the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    Today,
    Weekly,
    Monthly,
    AllTime,
}

impl Period {
    pub const ALL: [Period; 4] = [
        Period::Today,
        Period::Weekly,
        Period::Monthly,
        Period::AllTime,
    ];

    /// The API name (`today`, `weekly`, `monthly`, `all_time`).
    pub fn api_name(self) -> &'static str {
        match self {
            Period::Today => "today",
            Period::Weekly => "weekly",
            Period::Monthly => "monthly",
            Period::AllTime => "all_time",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// The four wager figures of a player, as the upstream names them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Wagers {
    pub today: Amount,
    pub this_week: Amount,
    pub this_month: Amount,
    pub all_time: Amount,
}

impl Wagers {
    pub fn get(&self, period: Period) -> Amount {
        match period {
            Period::Today => self.today,
            Period::Weekly => self.this_week,
            Period::Monthly => self.this_month,
            Period::AllTime => self.all_time,
        }
    }
}

/// One player of the upstream document.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Player {
    pub uid: String,
    pub name: String,
    pub wagered: Wagers,
}

/// The total order of the leaderboard for `period`.
pub fn compare(period: Period, a: &Player, b: &Player) -> Ordering {
    let w = |p: &Player, per: Period| p.wagered.get(per);
    w(b, period)
        .cmp(&w(a, period))
        .then_with(|| {
            Period::ALL
                .iter()
                .map(|&per| w(b, per).cmp(&w(a, per)))
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
        })
        .then_with(|| a.uid.cmp(&b.uid))
}

/// Players with their order in each period, built once per sync.
#[derive(Debug, Default)]
pub struct Rankings {
    pub players: Vec<Player>,
    /// For each period, indices into `players` from rank 1 down.
    order: [Vec<u32>; 4],
    /// For each period, the rank (1-based) of each player by index.
    rank: [Vec<u32>; 4],
    by_uid: HashMap<String, u32>,
}

impl Rankings {
    pub fn new(players: Vec<Player>) -> Self {
        let mut order: [Vec<u32>; 4] = Default::default();
        let mut rank: [Vec<u32>; 4] = Default::default();
        for period in Period::ALL {
            let mut idx: Vec<u32> = (0..players.len() as u32).collect();
            idx.sort_by(|&a, &b| compare(period, &players[a as usize], &players[b as usize]));
            let mut r = vec![0u32; players.len()];
            for (pos, &i) in idx.iter().enumerate() {
                r[i as usize] = pos as u32 + 1;
            }
            order[period.index()] = idx;
            rank[period.index()] = r;
        }
        let by_uid = players
            .iter()
            .enumerate()
            .map(|(i, p)| (p.uid.clone(), i as u32))
            .collect();
        Self {
            players,
            order,
            rank,
            by_uid,
        }
    }

    pub fn len(&self) -> usize {
        self.players.len()
    }

    pub fn is_empty(&self) -> bool {
        self.players.is_empty()
    }

    /// Players of `period` in rank order.
    pub fn ranked(&self, period: Period) -> impl Iterator<Item = (u32, &Player)> + '_ {
        self.order[period.index()]
            .iter()
            .enumerate()
            .map(|(pos, &i)| (pos as u32 + 1, &self.players[i as usize]))
    }

    /// A slice of rank order: `offset` entries skipped, at most `limit` returned.
    pub fn page(
        &self,
        period: Period,
        offset: usize,
        limit: usize,
    ) -> impl Iterator<Item = (u32, &Player)> + '_ {
        self.ranked(period).skip(offset).take(limit)
    }

    pub fn get(&self, uid: &str) -> Option<&Player> {
        self.by_uid.get(uid).map(|&i| &self.players[i as usize])
    }

    pub fn rank_of(&self, uid: &str, period: Period) -> Option<u32> {
        self.by_uid
            .get(uid)
            .map(|&i| self.rank[period.index()][i as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(uid: &str, today: &str, week: &str, month: &str, all: &str) -> Player {
        let a = |s: &str| Amount::parse_number(s).unwrap();
        Player {
            uid: uid.into(),
            name: uid.into(),
            wagered: Wagers {
                today: a(today),
                this_week: a(week),
                this_month: a(month),
                all_time: a(all),
            },
        }
    }

    #[test]
    fn ties_break_by_other_periods_then_uid() {
        let r = Rankings::new(vec![
            p("c", "0", "10", "50", "100"),
            p("b", "5", "10", "50", "100"),
            p("a", "5", "10", "50", "100"),
            p("d", "0", "10", "50", "200"),
        ]);
        let monthly: Vec<&str> = r
            .ranked(Period::Monthly)
            .map(|(_, p)| p.uid.as_str())
            .collect();
        // Equal month: today decides (a, b at 5), then week (equal), all time (d over c), uid (a before b).
        assert_eq!(monthly, vec!["a", "b", "d", "c"]);
        assert_eq!(r.rank_of("d", Period::Monthly), Some(3));
        let all: Vec<&str> = r
            .ranked(Period::AllTime)
            .map(|(_, p)| p.uid.as_str())
            .collect();
        assert_eq!(all, vec!["d", "a", "b", "c"]);
    }

    #[test]
    fn decimals_compare_exactly() {
        let r = Rankings::new(vec![
            p("x", "0.0001", "0", "0", "0"),
            p("y", "0.00009", "0", "0", "0"),
        ]);
        assert_eq!(r.ranked(Period::Today).next().unwrap().1.uid, "x");
        assert_eq!(r.page(Period::Today, 1, 10).count(), 1);
        assert_eq!(r.page(Period::Today, 5, 10).count(), 0);
    }
}
