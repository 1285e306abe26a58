//! What the two lists (`/api/v1/feedback`, `/api/v1/cases`) share: the page size asked for,
//! where a page starts (the cursor), the text filters, and turning one more row than asked
//! into the page and its next cursor, with each customer's number masked.

use axum::Json;
use serde_json::{Value, json};

use super::cursor::{self, Position};
use crate::domain::phone::mask;

const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// `limit`: a whole number from 1 to [`MAX_LIMIT`]; none is 50.
pub fn limit(value: Option<&str>) -> Result<i64, String> {
    let Some(v) = value else {
        return Ok(DEFAULT_LIMIT);
    };
    v.parse::<i64>()
        .ok()
        .filter(|n| (1..=MAX_LIMIT).contains(n))
        .ok_or_else(|| format!("limit: expected a whole number from 1 to {MAX_LIMIT}, got {v:?}"))
}

/// `cursor`: a `next_cursor` this API gave, or none for the first page.
pub fn after(value: Option<&str>) -> Result<Option<Position>, String> {
    value.map(cursor::decode).transpose()
}

/// A text filter as given: PostgreSQL's text cannot hold a NUL (the query would fail, a 500).
pub fn text<'a>(name: &str, value: Option<&'a str>) -> Result<Option<&'a str>, String> {
    match value {
        Some(v) if v.contains('\0') => Err(format!("{name}: must not contain a NUL character")),
        other => Ok(other),
    }
}

/// A row as the list's query returns it: its place in the order, the number to mask, and
/// the item as served.
pub struct Row {
    pub at: Position,
    pub customer_phone: String,
    pub item: Value,
}

/// `rows` holds up to `limit + 1` rows, one more than asked: whether there is a next page,
/// without a count.
pub fn answer(mut rows: Vec<Row>, limit: i64) -> Json<Value> {
    let limit = usize::try_from(limit).unwrap_or(0);
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_cursor = more
        .then(|| rows.last())
        .flatten()
        .map(|last| cursor::encode(last.at));
    let items: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            let mut item = r.item;
            item["customer_phone"] = json!(mask(&r.customer_phone));
            item
        })
        .collect();
    Json(json!({ "items": items, "next_cursor": next_cursor }))
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    fn row(id: i64) -> Row {
        Row {
            at: Position {
                at: Utc.timestamp_opt(1_700_000_000 + id, 0).unwrap(),
                survey_id: id,
            },
            customer_phone: "+8613800138000".into(),
            item: json!({ "id": id }),
        }
    }

    #[test]
    fn one_row_more_than_asked_is_a_next_cursor_at_the_last_row_served() {
        let Json(page) = answer((1..=3).map(row).collect(), 2);
        assert_eq!(page["items"].as_array().unwrap().len(), 2);
        assert_eq!(page["next_cursor"], json!(cursor::encode(row(2).at)));
        let Json(last) = answer((1..=2).map(row).collect(), 2);
        assert_eq!(last["next_cursor"], Value::Null);
    }

    #[test]
    fn every_number_served_is_masked() {
        let Json(page) = answer(vec![row(1)], 5);
        let shown = page["items"][0]["customer_phone"].as_str().unwrap();
        assert_eq!(shown, mask("+8613800138000"));
        assert!(!shown.contains("13800138000"));
    }

    #[test]
    fn the_limit_is_one_to_two_hundred_and_fifty_unless_asked() {
        assert_eq!(limit(None), Ok(50));
        assert_eq!(limit(Some("1")), Ok(1));
        assert_eq!(limit(Some("200")), Ok(200));
        for bad in ["0", "201", "-1", "ten", ""] {
            assert!(
                limit(Some(bad)).unwrap_err().starts_with("limit:"),
                "{bad:?}"
            );
        }
    }
}
