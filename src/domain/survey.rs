//! The survey's questions and the texts around them, as configured (DESIGN.md §3), and
//! the outbound SMS built from them.

use std::collections::BTreeMap;

use super::reply::Labels;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuestionKind {
    YesNo,
    Scale { min: i32, max: i32 },
    Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Fcr,
    Csat,
    Nps,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    pub id: String,
    pub kind: QuestionKind,
    pub metric: Option<Metric>,
    /// Text per language tag, keys as configured (`zh-CN`, `en`).
    pub text: BTreeMap<String, String>,
    /// Asked in one SMS together with the next question, and answered in one reply (the
    /// compact survey: a yes/no followed by a 1–5 scale, `domain::reply::compact`). Each
    /// keeps its own id, answer and re-prompt.
    pub with_next: bool,
    /// Words that answer with a number (`非常满意` = 5), every language's at once: a scale
    /// question's `labels.<language>` in config. Empty on other kinds.
    pub labels: Labels,
}

/// Texts that wrap the questions, per language (`[survey.wording.<language>]` in config).
#[derive(Debug, Clone, PartialEq, Default, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Wording {
    /// How to stop further SMS (`回TD退订`); ends the first message.
    pub unsubscribe_hint: String,
    pub reprompt_yes_no: String,
    /// With `{min}` and `{max}` standing for the scale's bounds.
    pub reprompt_scale: String,
    /// What a reply to two questions asked together must carry (`with_next`): needed only
    /// by a survey that has such a pair.
    #[serde(default)]
    pub reprompt_pair: String,
    pub reprompt_text: String,
    pub thank_you: String,
    pub opted_out: String,
    pub opted_in: String,
    /// With `{hotline}` standing for `survey.hotline`.
    pub help: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SurveyDefinition {
    pub questions: Vec<Question>,
    /// The sender's signature in brackets (`【小蓝钱包】`), required on SMS to mainland China.
    pub signature: String,
    pub wording: BTreeMap<String, Wording>,
    pub default_language: String,
}

impl SurveyDefinition {
    /// The configured language that serves `requested`: the same tag (case-insensitive),
    /// else one with the same primary language (`zh` for `zh-Hans-CN`), else the default.
    pub fn language_for<'a>(&'a self, requested: &str) -> &'a str {
        let configured = || self.questions[0].text.keys();
        let primary = |tag: &str| tag.split('-').next().unwrap_or(tag).to_ascii_lowercase();
        configured()
            .find(|k| k.eq_ignore_ascii_case(requested))
            .or_else(|| configured().find(|k| primary(k) == primary(requested)))
            .map_or(self.default_language.as_str(), String::as_str)
    }

    /// The text question `index` is sent with in `language`, falling back to the default
    /// language (which every question has: config refuses to start otherwise). A question
    /// asked with the next one is sent with both texts, joined as one message.
    pub fn question_text(&self, index: usize, language: &str) -> String {
        let own = self.own_text(index, language);
        if !self.questions[index].with_next {
            return own.to_owned();
        }
        let next = self.own_text(index + 1, language);
        let separator = if ends_with_cjk(own) { "" } else { " " };
        format!("{own}{separator}{next}")
    }

    fn own_text(&self, index: usize, language: &str) -> &str {
        let texts = &self.questions[index].text;
        texts
            .get(self.language_for(language))
            .or_else(|| texts.get(&self.default_language))
            .map_or("", String::as_str)
    }

    /// The question asked after question `index` has been answered or skipped: the one
    /// after its pair, if it is asked with the next.
    pub fn next_after(&self, index: usize) -> usize {
        if self.questions.get(index).is_some_and(|q| q.with_next) {
            index + 2
        } else {
            index + 1
        }
    }

    /// Whether question `index` is ever sent as a message of its own: not the second of a
    /// pair, which goes out inside its first's message.
    pub fn sent_alone(&self, index: usize) -> bool {
        index == 0 || !self.questions[index - 1].with_next
    }

    /// The wording for `language`, or the default language's.
    pub fn wording(&self, language: &str) -> &Wording {
        self.wording
            .get(self.language_for(language))
            .or_else(|| self.wording.get(&self.default_language))
            .expect("config guarantees wording in the default language")
    }

    /// What a re-prompt for question `index` says is expected.
    pub fn reprompt(&self, index: usize, language: &str) -> String {
        let w = self.wording(language);
        match self.questions[index].kind {
            QuestionKind::YesNo => w.reprompt_yes_no.clone(),
            QuestionKind::Scale { min, max } => w
                .reprompt_scale
                .replace("{min}", &min.to_string())
                .replace("{max}", &max.to_string()),
            QuestionKind::Text => w.reprompt_text.clone(),
        }
    }

    /// What a re-prompt for two questions asked together says is expected: both (the one
    /// pair config allows is a yes/no and a 1–5 scale, so one text serves every pair).
    pub fn reprompt_pair(&self, language: &str) -> String {
        self.wording(language).reprompt_pair.clone()
    }

    /// Every SMS to mainland China carries the sender's signature in front.
    pub fn signed(&self, text: &str, mainland_china: bool) -> String {
        if mainland_china {
            format!("{}{text}", self.signature)
        } else {
            text.to_owned()
        }
    }

    /// The first SMS: question 1 itself, no separate greeting. Numbers in mainland China
    /// get the bracketed signature in front; every first message ends with the hint.
    pub fn first_message(&self, language: &str, mainland_china: bool) -> String {
        let language = self.language_for(language);
        let question = &self.question_text(0, language);
        let hint = self
            .wording
            .get(language)
            .or_else(|| self.wording.get(&self.default_language))
            .map_or("", |w| w.unsubscribe_hint.as_str());
        let signature = if mainland_china {
            self.signature.as_str()
        } else {
            ""
        };
        let separator = if hint.is_empty() || ends_with_cjk(question) {
            ""
        } else {
            " "
        };
        format!("{signature}{question}{separator}{hint}")
    }
}

/// Chinese text (or its full-width punctuation) takes no space before the next sentence;
/// Latin text does.
fn ends_with_cjk(text: &str) -> bool {
    text.chars().last().is_some_and(|c| !c.is_ascii())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn definition() -> SurveyDefinition {
        let text = |zh: &str, en: &str| {
            BTreeMap::from([
                ("zh-CN".to_owned(), zh.to_owned()),
                ("en".to_owned(), en.to_owned()),
            ])
        };
        SurveyDefinition {
            questions: vec![Question {
                id: "resolved".into(),
                kind: QuestionKind::YesNo,
                metric: Some(Metric::Fcr),
                text: text(
                    "您的问题解决了吗？回复1=是，2=否。",
                    "Was your problem solved? Reply 1 = yes, 2 = no.",
                ),
                with_next: false,
                labels: Default::default(),
            }],
            signature: "【小蓝钱包】".into(),
            wording: BTreeMap::from([
                (
                    "zh-CN".to_owned(),
                    Wording {
                        unsubscribe_hint: "回TD退订".into(),
                        ..Default::default()
                    },
                ),
                (
                    "en".to_owned(),
                    Wording {
                        unsubscribe_hint: "Reply TD to unsubscribe.".into(),
                        ..Default::default()
                    },
                ),
            ]),
            default_language: "zh-CN".into(),
        }
    }

    #[test]
    fn a_mainland_first_message_has_signature_question_and_hint() {
        let text = definition().first_message("zh-CN", true);
        assert_eq!(
            text,
            "【小蓝钱包】您的问题解决了吗？回复1=是，2=否。回TD退订"
        );
    }

    #[test]
    fn an_english_message_abroad_has_no_signature_and_a_spaced_hint() {
        let text = definition().first_message("en", false);
        assert_eq!(
            text,
            "Was your problem solved? Reply 1 = yes, 2 = no. Reply TD to unsubscribe."
        );
    }

    #[test]
    fn an_english_message_to_a_mainland_number_still_carries_the_signature() {
        assert!(
            definition()
                .first_message("en", true)
                .starts_with("【小蓝钱包】Was")
        );
    }

    #[test]
    fn a_question_asked_with_the_next_is_sent_as_both_and_skipped_past_as_one() {
        let mut d = definition();
        let mut score = d.questions[0].clone();
        score.id = "satisfaction".into();
        score.text = BTreeMap::from([
            ("zh-CN".to_owned(), "满意度1-5分？".to_owned()),
            ("en".to_owned(), "Rate us 1-5.".to_owned()),
        ]);
        d.questions.push(score);
        d.questions[0].with_next = true;
        assert_eq!(
            d.first_message("zh-CN", true),
            "【小蓝钱包】您的问题解决了吗？回复1=是，2=否。满意度1-5分？回TD退订"
        );
        assert_eq!(
            d.question_text(0, "en"),
            "Was your problem solved? Reply 1 = yes, 2 = no. Rate us 1-5."
        );
        assert_eq!((d.next_after(0), d.next_after(1)), (2, 2));
        assert!(d.sent_alone(0) && !d.sent_alone(1));
    }

    #[test]
    fn languages_match_by_tag_then_primary_language_then_default() {
        let d = definition();
        assert_eq!(d.language_for("zh-cn"), "zh-CN");
        assert_eq!(d.language_for("zh-Hans-CN"), "zh-CN");
        assert_eq!(d.language_for("en-GB"), "en");
        assert_eq!(d.language_for("fr"), "zh-CN");
        assert!(d.first_message("fr", true).contains("您的问题"));
    }
}
