//! Values written into SQL text. `CREATE TABLE … AS` takes no bind parameters, so the
//! rebuild's statements carry the basis and the survey id bounds as literals.

/// `sql` with each `$n` replaced by `values[n - 1]`, in one pass (a value may hold a `$`).
pub(super) fn inline(sql: &str, values: &[String]) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let digits = rest[at + 1..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        let n: usize = rest[at + 1..at + 1 + digits].parse().unwrap_or(0);
        match values.get(n.wrapping_sub(1)) {
            Some(value) if digits > 0 => out.push_str(value),
            _ => out.push_str(&rest[at..at + 1 + digits]),
        }
        rest = &rest[at + 1 + digits..];
    }
    out.push_str(rest);
    out
}

/// A string constant; with `standard_conforming_strings` (on since PostgreSQL 9.1) only the
/// quote needs doubling.
pub(super) fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

pub(super) fn array(values: &[String]) -> String {
    let items: Vec<String> = values.iter().map(|v| literal(v)).collect();
    format!("ARRAY[{}]::text[]", items.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_inlined_as_quoted_literals_in_one_pass() {
        let values = [
            literal("Asia/Shanghai"),
            array(&["it's".into(), "$2".into()]),
        ];
        assert_eq!(
            inline("zone $1, ids $2, $3 and $ stay", &values),
            "zone 'Asia/Shanghai', ids ARRAY['it''s', '$2']::text[], $3 and $ stay"
        );
        assert_eq!(array(&[]), "ARRAY[]::text[]");
    }
}
