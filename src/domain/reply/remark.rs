//! A clear answer with a remark around it (issue 18): `8分，挺好的`, `4分 等了很久`,
//! `没解决，还是扣款失败`, `no, the app still crashes`, `应该是4吧`, `非常满意`. Read only
//! when the strict forms of DESIGN.md §3 do not read, so every one of those reads as before.
//!
//! The remark is kept whole as the reply's raw text; here it only must not change the answer.
//! It does when it names a second number (`4分，也可能3分`), a label that disagrees
//! (`1分 非常满意`), negates the answer (`不是很满意`, `not 5`), makes it a condition or a
//! bound (`如果解决了就5分`, `至少4分`), asks (`满意吗`), mentions a keyword (`stop 5`), or,
//! to a yes, says "but" (`是的，但是没解决`). Softeners that name no other number (`吧`,
//! `应该是`, `maybe`) change nothing on a scale; on a yes/no question they make a yes a guess.

mod scan;

use scan::Piece;

use super::{Labels, is_filler, is_separator, polarity, words};

/// A score in `min..=max` read from the scores and labels the reply mentions.
pub(super) fn scale(norm: &str, min: i32, max: i32, labels: &Labels) -> Option<i32> {
    let pieces = scan::pieces(norm, i64::from(max), min == 1 && max == 5, labels);
    if pieces.contains(&Piece::Doubt) || negated(&pieces) || intensified(&pieces, min, max) {
        return None;
    }
    let mut scores: Vec<i64> = pieces
        .iter()
        .filter_map(|p| match p {
            Piece::Score(v) => Some(*v),
            _ => None,
        })
        .collect();
    // The same score twice is said twice, not two scores (`5分 5分`).
    scores.dedup();
    let named: Vec<i32> = pieces
        .iter()
        .filter_map(|p| match p {
            Piece::Label(v) => Some(*v),
            _ => None,
        })
        .collect();
    // A label denied in scorn says "low", and how low only the score says.
    let middle = (i64::from(min) + i64::from(max)) / 2;
    if pieces.contains(&Piece::Denied) && !matches!(scores.as_slice(), [s] if *s <= middle) {
        return None;
    }
    let value = match scores.as_slice() {
        [] => {
            let first = *named.first()?;
            named.iter().all(|v| *v == first).then_some(first)?
        }
        // A number with a label beside it: the number, if the label is near enough to it
        // to be its description ("满意，5分"), else the two disagree ("1分 非常满意").
        // i64: a configured scale may span the whole of i32.
        [score] => {
            let slack = (i64::from(max) - i64::from(min)) / 4;
            let near = named.iter().all(|v| (i64::from(*v) - score).abs() <= slack);
            near.then(|| i32::try_from(*score).ok()).flatten()?
        }
        _ => return None,
    };
    (min..=max).contains(&value).then_some(value)
}

/// A label between the scale's ends with an intensifier before it that made no label of
/// its own (`好满意呀` where `好满意` is not configured, `太不满意`): the customer said more
/// than the label's number, and how much more only they know. A configured one (`很满意`,
/// `挺满意`) is a label and never reaches here.
fn intensified(pieces: &[Piece], min: i32, max: i32) -> bool {
    pieces
        .windows(2)
        .any(|pair| matches!(pair, [Piece::Intensifier, Piece::Label(v)] if *v > min && *v < max))
}

/// A label directly after a negation, intensifiers between allowed (`不是很满意`, `not very
/// satisfied`), or a score with a negation anywhere before it in its clause: the verb may
/// stand between (`不会给5分`, `I wouldn't give 5`, `没有到5分`).
fn negated(pieces: &[Piece]) -> bool {
    pieces.iter().enumerate().any(|(i, p)| {
        let before = pieces[..i].iter().rev();
        match p {
            Piece::Label(_) => {
                before.copied().find(|q| *q != Piece::Intensifier) == Some(Piece::Not)
            }
            Piece::Score(_) => before
                .take_while(|q| **q != Piece::Break)
                .any(|q| *q == Piece::Not),
            _ => false,
        }
    })
}

/// Whether the reply itself puts a yes or no in doubt: partial (`解决了一部分`), unsure
/// (`应该解决了吧`), a question, a keyword inside it.
pub(super) fn doubts_a_yes_or_no(norm: &str) -> bool {
    scan::doubts_a_yes_or_no(norm)
}

/// A yes or no in the reply's first clause that says more than politeness, and a remark
/// after it that does not take it back; or, when the reply opens with the remark, a last
/// clause that is wholly the answer.
pub(super) fn yes_no(norm: &str) -> Option<bool> {
    if scan::doubts_a_yes_or_no(norm) {
        return None;
    }
    // "not yet, still waiting": "not" alone, the first word, says nothing.
    let norm = super::english_no_phrases(norm);
    let (answer, remark) = head(&norm).or_else(|| tail(&norm))?;
    let (yes, no) = polarities(remark);
    let taken_back = if answer {
        no || scan::contrasts(remark)
    } else {
        yes
    };
    (!taken_back).then_some(answer)
}

/// The answer of the first clause that is not politeness, and the text after it: the
/// clause as a whole (`1`, `没有`), or the start of it if that is an unmistakable answer
/// (`解决了谢谢`, `是的解决了`). A single `是`, `不` or `对` at the start is not: `不知道`,
/// `对不起`, `是不是`.
fn head(norm: &str) -> Option<(bool, &str)> {
    let mut rest = norm;
    loop {
        rest = rest.trim_start_matches(is_separator);
        if rest.is_empty() {
            return None;
        }
        let end = rest.find(is_separator).unwrap_or(rest.len());
        let (clause, after) = rest.split_at(end);
        if is_filler(clause) {
            rest = after;
            continue;
        }
        if let Some(answer) = super::yes_no(clause) {
            return Some((answer, after));
        }
        let (len, answer) = scan::unmistakable_start(clause)?;
        return Some((answer, &rest[len..]));
    }
}

/// The answer a reply closes with after a remark (`别再扣款了！没解决`, `等了好久，不过解决了`),
/// and the remark before it, which is weighed as one after the answer would be: `钱还没到，
/// 解决了` takes its own yes back.
fn tail(norm: &str) -> Option<(bool, &str)> {
    const BUT: &[&str] = &[
        "不过", "但是", "可是", "还好", "最后", "总算", "终于", "后来", "但",
    ];
    // Thanks after the answer close the message, not the answer (`…，事情已经办好了，谢谢。`).
    let mut trimmed = norm.trim_end_matches(is_separator);
    while let Some((before, last)) = last_clause(trimmed)
        && is_filler(last)
    {
        trimmed = before.trim_end_matches(is_separator);
    }
    let (before, last) = last_clause(trimmed)?;
    let last = BUT
        .iter()
        .find_map(|b| last.strip_prefix(b))
        .unwrap_or(last);
    // A "no" start may go on about what still fails (`…，还是没取消掉`); a "yes" may not,
    // as that could be a "but" of its own.
    let answer = super::yes_no(last).or_else(|| {
        let (len, answer) = scan::unmistakable_start(last)?;
        let rest = &last[len..];
        (!answer || rest.is_empty() || is_filler(rest)).then_some(answer)
    })?;
    Some((answer, before))
}

/// The text before the last separator, and the clause after it.
fn last_clause(text: &str) -> Option<(&str, &str)> {
    let (start, separator) = text.char_indices().rev().find(|(_, c)| is_separator(*c))?;
    Some((&text[..start], &text[start + separator.len_utf8()..]))
}

/// Whether the remark says yes and whether it says no, anywhere in it.
fn polarities(remark: &str) -> (bool, bool) {
    let (rest, no_phrase) = scan::take_no_phrases(remark);
    let yes_phrase = scan::has_yes_phrase(&rest);
    let said = |want: bool| words(&rest).any(|w| polarity(w) == Some(want));
    (yes_phrase || said(true), no_phrase || said(false))
}
