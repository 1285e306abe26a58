//! How the per-survey pass is cut into parts that run side by side: ranges of survey ids.

use std::num::NonZeroU32;

use sqlx::{Postgres, Transaction};

/// Survey ids `from <= id < to`. The first range is open below and the last open above, so
/// the ranges of one split cover every survey, whatever was sent after the bounds were read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Range {
    from: Option<i64>,
    to: Option<i64>,
}

impl Range {
    /// Every survey: the single pass.
    pub(super) const ALL: Range = Range {
        from: None,
        to: None,
    };

    /// The SQL condition that keeps `column` in the range.
    pub(super) fn condition(&self, column: &str) -> String {
        match (self.from, self.to) {
            (None, None) => "true".to_owned(),
            (Some(from), None) => format!("{column} >= {from}"),
            (None, Some(to)) => format!("{column} < {to}"),
            (Some(from), Some(to)) => format!("{column} >= {from} AND {column} < {to}"),
        }
    }
}

/// The lowest and highest id of a sent survey, read from the primary key's two ends.
pub(super) async fn sent_bounds(
    tx: &mut Transaction<'_, Postgres>,
) -> sqlx::Result<Option<(i64, i64)>> {
    let (lo, hi): (Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT min(id), max(id) FROM surveys WHERE sent_at IS NOT NULL")
            .fetch_one(&mut **tx)
            .await?;
    Ok(lo.zip(hi))
}

/// `parts` ranges over equal spans of ids between `bounds` (sent surveys' ids are dense
/// enough that equal spans hold about equal surveys: BENCHMARKS.md, aggregate); fewer when
/// there are fewer ids than parts, one when there is no sent survey.
pub(super) fn split(bounds: Option<(i64, i64)>, parts: NonZeroU32) -> Vec<Range> {
    let Some((lo, hi)) = bounds else {
        return vec![Range::ALL];
    };
    let span = i128::from(hi) - i128::from(lo) + 1;
    let parts = i128::from(parts.get());
    let mut points: Vec<i64> = (1..parts)
        .map(|k| (i128::from(lo) + span * k / parts) as i64)
        .filter(|&point| point > lo)
        .collect();
    points.dedup();
    let froms = std::iter::once(None).chain(points.iter().copied().map(Some));
    let tos = points
        .iter()
        .copied()
        .map(Some)
        .chain(std::iter::once(None));
    froms
        .zip(tos)
        .map(|(from, to)| Range { from, to })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).unwrap()
    }

    fn conditions(ranges: &[Range]) -> Vec<String> {
        ranges.iter().map(|r| r.condition("id")).collect()
    }

    #[test]
    fn equal_spans_open_at_both_ends() {
        assert_eq!(
            conditions(&split(Some((1, 100)), parts(2))),
            ["id < 51", "id >= 51"]
        );
        assert_eq!(
            conditions(&split(Some((1, 9)), parts(3))),
            ["id < 4", "id >= 4 AND id < 7", "id >= 7"]
        );
    }

    #[test]
    fn one_part_or_no_survey_is_the_single_pass() {
        assert_eq!(split(Some((1, 100)), parts(1)), [Range::ALL]);
        assert_eq!(split(None, parts(4)), [Range::ALL]);
        assert_eq!(Range::ALL.condition("s.id"), "true");
    }

    #[test]
    fn fewer_ids_than_parts_give_fewer_ranges() {
        assert_eq!(
            conditions(&split(Some((7, 7)), parts(4))),
            ["true"],
            "one id"
        );
        assert_eq!(
            conditions(&split(Some((7, 8)), parts(4))),
            ["id < 8", "id >= 8"]
        );
    }

    #[test]
    fn the_widest_ids_do_not_overflow() {
        let ranges = split(Some((i64::MIN, i64::MAX)), parts(2));
        assert_eq!(conditions(&ranges), ["id < 0", "id >= 0"]);
    }
}
