//! Follow-up cases (售后跟踪): every detractor survey opens one, and someone on the hotline
//! works it: calls the customer back (`contacted`), then settles it (`resolved`), or gives up
//! reaching them (`unreachable`). Which moves are legal, and why the others are refused, in
//! words a caller of the API can act on; and the figures the scores carry per group.

use std::{fmt, str::FromStr};

use super::lifecycle::{Unknown, spelled};

/// `follow_up_cases.state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaseState {
    /// Opened by the survey's first detractor answer; nobody has called back yet.
    Open,
    /// The customer was reached.
    Contacted,
    /// Settled after contact; closed for good.
    Resolved,
    /// Tried and not reached. Not final: a customer reached later makes it `contacted`.
    Unreachable,
}

spelled!(CaseState, "follow-up state", {
    Open => "open",
    Contacted => "contacted",
    Resolved => "resolved",
    Unreachable => "unreachable",
});

/// Why a move is not allowed (the API's 409 says this).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the case is already {0}")]
    Already(CaseState),
    #[error("the case is resolved, which is final; a new detractor survey opens a new case")]
    Closed,
    #[error("a case is resolved only after the customer was reached: move it to contacted first")]
    NotReached,
    #[error("the customer was already reached: a contacted case is resolved, not unreachable")]
    Reached,
    #[error("a case never goes back to open")]
    Reopened,
}

impl CaseState {
    /// Whether the case may move from `self` to `to`, and if not, why.
    pub fn move_to(self, to: CaseState) -> Result<(), Refused> {
        use CaseState::*;
        match (self, to) {
            (Open, Open)
            | (Contacted, Contacted)
            | (Resolved, Resolved)
            | (Unreachable, Unreachable) => Err(Refused::Already(to)),
            (Resolved, _) => Err(Refused::Closed),
            (_, Open) => Err(Refused::Reopened),
            (Open | Unreachable, Contacted) | (Open, Unreachable) | (Contacted, Resolved) => Ok(()),
            (Open | Unreachable, Resolved) => Err(Refused::NotReached),
            (Contacted, Unreachable) => Err(Refused::Reached),
        }
    }

    /// The states a case in `self` may move to, in the order of [`CaseState::ALL`].
    pub fn next(self) -> Vec<CaseState> {
        Self::ALL
            .iter()
            .copied()
            .filter(|&to| self.move_to(to).is_ok())
            .collect()
    }
}

/// A group's follow-up figures, as the scores carry them (DESIGN.md §5).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Figures {
    /// Surveys with a detractor answer: one case each.
    pub detractors: u64,
    /// Of those, cases whose customer was reached (contacted, then maybe resolved).
    pub contacted: u64,
    pub resolved: u64,
    /// From the first detractor answer to the first contact, over the contacted cases;
    /// `None` when none was contacted.
    pub median_hours_to_contact: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::{CaseState::*, *};

    /// Every pair, from the row's state to the column's: `ok` or the refusal.
    #[test]
    fn every_move_is_allowed_or_refused_with_its_reason() {
        let table: [(CaseState, CaseState, Result<(), Refused>); 16] = [
            (Open, Open, Err(Refused::Already(Open))),
            (Open, Contacted, Ok(())),
            (Open, Resolved, Err(Refused::NotReached)),
            (Open, Unreachable, Ok(())),
            (Contacted, Open, Err(Refused::Reopened)),
            (Contacted, Contacted, Err(Refused::Already(Contacted))),
            (Contacted, Resolved, Ok(())),
            (Contacted, Unreachable, Err(Refused::Reached)),
            (Resolved, Open, Err(Refused::Closed)),
            (Resolved, Contacted, Err(Refused::Closed)),
            (Resolved, Resolved, Err(Refused::Already(Resolved))),
            (Resolved, Unreachable, Err(Refused::Closed)),
            (Unreachable, Open, Err(Refused::Reopened)),
            (Unreachable, Contacted, Ok(())),
            (Unreachable, Resolved, Err(Refused::NotReached)),
            (Unreachable, Unreachable, Err(Refused::Already(Unreachable))),
        ];
        for (from, to, expected) in table {
            assert_eq!(from.move_to(to), expected, "{from} → {to}");
        }
    }

    #[test]
    fn next_lists_the_allowed_moves() {
        assert_eq!(Open.next(), [Contacted, Unreachable]);
        assert_eq!(Contacted.next(), [Resolved]);
        assert_eq!(Unreachable.next(), [Contacted]);
        assert_eq!(Resolved.next(), []);
    }

    #[test]
    fn every_refusal_says_what_to_do_or_why_not_in_words() {
        assert_eq!(
            Open.move_to(Resolved).unwrap_err().to_string(),
            "a case is resolved only after the customer was reached: move it to contacted first"
        );
        assert_eq!(
            Contacted.move_to(Contacted).unwrap_err().to_string(),
            "the case is already contacted"
        );
    }

    /// The CHECK list as the migration states it: a state spelled otherwise could never be
    /// written, and a stored one missing here could never be read.
    #[test]
    fn states_are_the_check_list() {
        let migration = include_str!("../../migrations/20261203000004_follow_up.sql");
        let start = migration.find("state IN").unwrap();
        let list = &migration[start..];
        let list = &list[list.find('(').unwrap() + 1..list.find(')').unwrap()];
        let stored: Vec<&str> = list
            .split(',')
            .map(|s| s.trim().trim_matches('\''))
            .collect();
        let ours: Vec<&str> = CaseState::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(ours, stored);
        for &s in CaseState::ALL {
            assert_eq!(s.as_str().parse::<CaseState>(), Ok(s));
        }
        assert!("closed".parse::<CaseState>().is_err());
    }
}
