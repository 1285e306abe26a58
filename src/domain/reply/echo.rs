//! A reply that pastes the question back before answering it (`您的问题解决了吗？回复1=是，
//! 2=否。1`), as customers who answer by quoting do. The question's legend (`1=是`, `5分=非常
//! 满意`) is what gives the pasted part away: a customer's own sentence does not define its
//! numbers. What follows the pasted part is the answer, read as if sent alone.

/// The answer after a pasted question, if `norm` (a `normalise`d reply) is one: the text
/// after the last sentence end that closes a part holding both a question and a legend, with
/// the opt-out hint that ends the survey's SMS (`回TD退订`) dropped from its head.
pub(super) fn answer_after(norm: &str) -> Option<&str> {
    // A full stop ends a sentence only before a space: `4.5` is a number.
    let ends_sentence = |i: usize, c: char| match c {
        '。' | '?' | ')' => true,
        '.' => norm[i + 1..].starts_with(' '),
        _ => false,
    };
    let end = norm
        .char_indices()
        .rev()
        .filter(|&(i, c)| ends_sentence(i, c))
        .map(|(i, c)| i + c.len_utf8())
        .find(|&end| pasted(&norm[..end]))?;
    let rest = norm[end..].trim_start();
    let rest = HINTS
        .iter()
        .find_map(|hint| rest.strip_prefix(hint))
        .unwrap_or(rest)
        .trim_start();
    (!rest.is_empty()).then_some(rest)
}

/// The survey's opt-out hints, as `normalise` leaves them.
const HINTS: &[&str] = &[
    "回td退订",
    "回复td退订",
    "reply stop to opt out",
    "reply td to opt out",
];

fn pasted(part: &str) -> bool {
    let legend = part.contains('=');
    let question = ["吗", "?", "reply", "回复"]
        .iter()
        .any(|q| part.contains(q));
    legend && question
}

#[cfg(test)]
mod tests {
    use super::super::normalise;
    use super::answer_after;

    fn after(text: &str) -> Option<String> {
        answer_after(&normalise(text)).map(str::to_owned)
    }

    #[test]
    fn the_answer_after_a_pasted_question_is_what_is_read() {
        assert_eq!(
            after("您的问题解决了吗？回复1=是，2=否。1").as_deref(),
            Some("1")
        );
        assert_eq!(
            after("您对本次服务满意吗？请回复1-5分（5分=非常满意）。 4分").as_deref(),
            Some("4分")
        );
        assert_eq!(
            after("问题解决了吗（1=是，2=否）？服务满意度1-5分（5=非常满意）？请一起回复，如：1 5。回TD退订 1 5")
                .as_deref(),
            Some("1 5")
        );
        assert_eq!(
            after("Was your problem solved? Reply 1 = yes, 2 = no. 2").as_deref(),
            Some("2")
        );
    }

    #[test]
    fn a_reply_without_a_pasted_legend_is_left_as_it_is() {
        assert_eq!(after("满意吗？5"), None);
        assert_eq!(after("解决了。谢谢"), None);
        assert_eq!(after("您的问题解决了吗？回复1=是，2=否。"), None);
        assert_eq!(after("5"), None);
        assert_eq!(after("回复1=是，2=否。4.5").as_deref(), Some("4.5"));
    }
}
