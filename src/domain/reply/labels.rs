//! Answer labels: words a question's configuration gives a number (`非常满意` = 5,
//! `very likely` = 10), so that a customer who answers in the question's own words is read
//! as its number. Passed in with the question: the parser reads no configuration itself.

use super::normalise;

/// A question's labels in every configured language, matched as `normalise`d text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Labels {
    /// Longest first, so that `非常不满意` wins over `不满意` and `不满意` over `满意`.
    by_text: Vec<(String, i32)>,
}

/// Why a label cannot be used; config names the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    #[error("a label must have words, got {0:?}")]
    Empty(String),
    #[error("{0:?} is given two numbers, {1} and {2}")]
    Conflict(String, i32, i32),
}

impl Labels {
    /// Labels as configured (any language, any width or case). The same words twice must
    /// mean the same number: a reply is read with every language's labels at once, as a
    /// customer may answer in either.
    pub fn new<'a>(pairs: impl IntoIterator<Item = (&'a str, i32)>) -> Result<Self, LabelError> {
        let mut by_text: Vec<(String, i32)> = Vec::new();
        for (label, value) in pairs {
            let text = normalise(label);
            if text.is_empty() {
                return Err(LabelError::Empty(label.to_owned()));
            }
            match by_text.iter().find(|(t, _)| *t == text) {
                Some((_, v)) if *v != value => {
                    return Err(LabelError::Conflict(label.to_owned(), *v, value));
                }
                Some(_) => {}
                None => by_text.push((text, value)),
            }
        }
        by_text.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        Ok(Self { by_text })
    }

    /// No labels: a question whose answers are only numbers.
    pub const fn none() -> Self {
        Self {
            by_text: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.by_text.is_empty()
    }

    /// The whole of `norm` as a label.
    pub(super) fn exactly(&self, norm: &str) -> Option<i32> {
        self.by_text
            .iter()
            .find(|(t, _)| t == norm)
            .map(|(_, v)| *v)
    }

    /// The longest label `rest` starts with, and its length in bytes. A label in Latin
    /// letters must end at a word's end: `satisfied` is not read inside `satisfiedly`.
    pub(super) fn at(&self, rest: &str) -> Option<(usize, i32)> {
        self.by_text
            .iter()
            .find(|(t, _)| {
                rest.starts_with(t.as_str())
                    && !(t.ends_with(|c: char| c.is_ascii_alphanumeric())
                        && rest[t.len()..].starts_with(|c: char| c.is_ascii_alphanumeric()))
            })
            .map(|(t, v)| (t.len(), *v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn satisfaction() -> Labels {
        Labels::new([
            ("非常满意", 5),
            ("满意", 4),
            ("一般", 3),
            ("不满意", 2),
            ("非常不满意", 1),
            ("Very Satisfied", 5),
            ("satisfied", 4),
        ])
        .unwrap()
    }

    #[test]
    fn the_longest_label_wins() {
        let l = satisfaction();
        assert_eq!(l.at("非常不满意！"), Some(("非常不满意".len(), 1)));
        assert_eq!(l.at("不满意"), Some(("不满意".len(), 2)));
        assert_eq!(l.at("满意，谢谢"), Some(("满意".len(), 4)));
        assert_eq!(l.at("very satisfied"), Some((14, 5)));
        assert_eq!(l.at("satisfiedly"), None);
        assert_eq!(l.at("很满意"), None);
    }

    #[test]
    fn labels_are_matched_folded() {
        let l = satisfaction();
        assert_eq!(l.exactly(&normalise("ＶＥＲＹ  satisfied")), Some(5));
        assert_eq!(l.exactly("满意"), Some(4));
        assert_eq!(l.exactly("满意吗"), None);
    }

    #[test]
    fn a_label_without_words_or_with_two_numbers_is_refused() {
        assert_eq!(
            Labels::new([("！", 5)]),
            Err(LabelError::Empty("！".into()))
        );
        assert_eq!(
            Labels::new([("满意", 4), ("滿意", 5)]),
            Err(LabelError::Conflict("滿意".into(), 4, 5))
        );
        assert!(Labels::new([("满意", 4), ("满意", 4)]).is_ok());
    }
}
