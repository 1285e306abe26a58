//! The reply parser on any text: no panic, and every outcome is one the conversation can act
//! on (a keyword, an answer of the question's own kind and range, or not understood).
#![no_main]

use libfuzzer_sys::fuzz_target;
use postcall::domain::{
    reply::{self, AnswerValue, Labels, Reply},
    survey::QuestionKind,
};

fuzz_target!(|input: (u8, i32, i32, &str)| {
    let (which, a, b, text) = input;
    let kind = match which % 4 {
        0 => QuestionKind::YesNo,
        1 => QuestionKind::Scale { min: 1, max: 5 },
        // Any configured range, also the degenerate and extreme ones.
        2 => QuestionKind::Scale {
            min: a.min(b),
            max: a.max(b),
        },
        _ => QuestionKind::Text,
    };
    // The shipped satisfaction labels, also on scales they do not fit: never out of range.
    let labels = Labels::new([("非常满意", 5), ("满意", 4), ("一般", 3), ("very likely", 10)])
        .expect("the labels are valid");
    let keyword = reply::keyword(text);
    match reply::parse(text, &kind, &labels) {
        Reply::Keyword(k) => assert_eq!(keyword, Some(k), "{text:?}"),
        Reply::Answer(AnswerValue::YesNo(_)) => assert_eq!(kind, QuestionKind::YesNo),
        Reply::Answer(AnswerValue::Scale(v)) => match kind {
            QuestionKind::Scale { min, max } => assert!((min..=max).contains(&v), "{v}"),
            _ => panic!("a scale answer to {kind:?}"),
        },
        Reply::Answer(AnswerValue::Text(t)) => {
            assert_eq!(kind, QuestionKind::Text);
            assert!(!t.trim().is_empty() && text.contains(t.as_str()));
        }
        Reply::NotUnderstood => {}
    }
});
