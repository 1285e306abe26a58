use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};

use super::*;
use crate::domain::{
    lifecycle::{MessagePurpose, SurveyState},
    survey::{Question, QuestionKind, SurveyDefinition, Wording},
};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap()
}

fn definition() -> SurveyDefinition {
    let question = |id: &str, kind| Question {
        id: id.into(),
        kind,
        metric: None,
        text: BTreeMap::from([("en".to_owned(), format!("{id}?"))]),
        with_next: false,
        labels: Default::default(),
    };
    SurveyDefinition {
        questions: vec![
            question("resolved", QuestionKind::YesNo),
            question("comment", QuestionKind::Text),
        ],
        signature: "【x】".into(),
        wording: BTreeMap::from([("en".to_owned(), Wording::default())]),
        default_language: "en".into(),
    }
}

fn survey(state: SurveyState, question: i32) -> Current {
    Current {
        id: 7,
        call_id: "c-1".into(),
        state,
        language: "en".into(),
        question_index: question,
        reprompted: false,
        answered: Vec::new(),
        expires_at: (state == SurveyState::Open).then(|| t0() + TimeDelta::hours(24)),
        agent_id: "agent-7".into(),
        queue: "payment".into(),
        updated_at: None,
    }
}

fn sms(body: &str) -> Inbound<'_> {
    Inbound {
        provider: "console",
        provider_message_id: "m-1",
        from: "+4915112345678",
        to: None,
        body,
        received_at: t0() + TimeDelta::hours(1),
        other_signature: None,
    }
}

#[test]
fn an_answer_is_written_by_the_guarded_statement() {
    let (def, current, sms) = (definition(), survey(SurveyState::Open, 0), sms("yes"));
    let plan = reply(&Texts::free(&def), Some(&current), &sms);
    assert_eq!(plan.outcome, ReplyOutcome::Answer);
    assert!(plan.guardable());
    let (id, progress) = plan.write.survey.as_ref().unwrap();
    assert_eq!(
        (*id, progress.state, progress.question_index),
        (7, SurveyState::Open, 1)
    );
    assert_eq!(plan.write.answers[0].value, json!(true));
    let purposes: Vec<_> = plan.write.send.iter().map(|m| m.purpose).collect();
    assert_eq!(purposes, [MessagePurpose::FollowUp]);
}

#[test]
fn a_reply_to_a_survey_still_sending_opens_it() {
    let (def, current, sms) = (definition(), survey(SurveyState::Sending, 0), sms("no"));
    let plan = reply(&Texts::free(&def), Some(&current), &sms);
    assert_eq!(
        plan.write.survey.as_ref().unwrap().1.state,
        SurveyState::Open
    );
}

#[test]
fn the_last_answer_completes_and_announces_under_the_lock() {
    let (def, current, sms) = (definition(), survey(SurveyState::Open, 1), sms("great"));
    let plan = reply(&Texts::free(&def), Some(&current), &sms);
    assert_eq!(plan.outcome, ReplyOutcome::Answer);
    assert_eq!(
        plan.write.survey.as_ref().unwrap().1.state,
        SurveyState::Completed
    );
    let keys: Vec<_> = plan.write.announce.iter().map(|a| a.routing_key).collect();
    assert_eq!(keys, ["survey.completed"]);
    assert!(!plan.guardable(), "events are written by the locked path");
}

#[test]
fn an_opt_out_is_a_keyword_for_the_locked_path() {
    let (def, current, sms) = (definition(), survey(SurveyState::Open, 0), sms("STOP"));
    let plan = reply(&Texts::free(&def), Some(&current), &sms);
    assert_eq!(plan.outcome, ReplyOutcome::Keyword);
    assert!(plan.write.opt_out && !plan.guardable());
    assert_eq!(
        plan.write.survey.as_ref().unwrap().1.state,
        SurveyState::OptedOut
    );
}

#[test]
fn a_reply_after_the_end_is_late() {
    let (def, current, sms) = (definition(), survey(SurveyState::Expired, 0), sms("yes"));
    let plan = reply(&Texts::free(&def), Some(&current), &sms);
    assert_eq!(plan.outcome, ReplyOutcome::Late);
    assert!(plan.write.answers[0].late);
    assert!(plan.write.send.is_empty() && plan.guardable());
}

#[test]
fn a_phone_without_a_survey_gets_an_answer_only_to_a_keyword() {
    let def = definition();
    let hello = sms("hello");
    let plan = reply(&Texts::free(&def), None, &hello);
    assert_eq!(plan.outcome, ReplyOutcome::Unsolicited);
    assert!(plan.write.send.is_empty() && !plan.guardable());
    let stop = sms("STOP");
    let plan = reply(&Texts::free(&def), None, &stop);
    assert_eq!(plan.outcome, ReplyOutcome::Keyword);
    assert!(plan.write.opt_out && plan.write.survey.is_none());
    let purposes: Vec<_> = plan.write.send.iter().map(|m| m.purpose).collect();
    assert_eq!(purposes, [MessagePurpose::OptOutConfirmation]);
}

#[test]
fn a_reply_under_another_signature_is_unsolicited_even_with_a_survey_open() {
    let def = definition();
    let current = survey(SurveyState::Open, 0);
    for body in ["yes", "TD", "HELP"] {
        let sms = Inbound {
            other_signature: Some("别家银行"),
            ..sms(body)
        };
        let plan = reply(&Texts::free(&def), Some(&current), &sms);
        assert_eq!(plan.outcome, ReplyOutcome::Unsolicited, "{body}");
        let w = &plan.write;
        assert!(w.survey.is_none() && w.answers.is_empty(), "{body}");
        assert!(w.send.is_empty() && !w.opt_out && !w.opt_in, "{body}");
        assert!(w.announce.is_empty() && !plan.guardable(), "{body}");
    }
}

#[test]
fn the_same_reply_under_our_signature_answers_the_survey() {
    let (def, current, sms) = (definition(), survey(SurveyState::Open, 0), sms("yes"));
    let plan = reply(&Texts::free(&def), Some(&current), &sms);
    assert_eq!(plan.outcome, ReplyOutcome::Answer);
}

#[test]
fn a_follow_up_too_long_for_a_mainland_sms_is_left_out_and_reported() {
    let mut def = definition();
    def.questions[1].text.insert("en".into(), "好".repeat(498));
    let current = survey(SurveyState::Open, 0);
    let mainland = Inbound {
        from: "+8613900000001",
        ..sms("yes")
    };
    let plan = reply(&Texts::free(&def), Some(&current), &mainland);
    assert_eq!(plan.outcome, ReplyOutcome::Answer);
    assert!(plan.write.send.is_empty());
    assert!(
        matches!(
            plan.not_composed.as_slice(),
            [ComposeError::TooLong(e)] if e.chars == 501
        ),
        "{:?}",
        plan.not_composed
    );
    // Abroad (the default sender is German) the same text is only long: it goes.
    let abroad = sms("yes");
    let plan = reply(&Texts::free(&def), Some(&current), &abroad);
    assert_eq!(plan.write.send.len(), 1);
    assert!(plan.not_composed.is_empty());
}

/// The compact pair with a comment after it: a reply to the pair can leave the survey open.
fn pair_then_comment() -> SurveyDefinition {
    let mut def = definition();
    def.questions.insert(
        1,
        Question {
            id: "satisfaction".into(),
            kind: QuestionKind::Scale { min: 1, max: 5 },
            metric: None,
            text: BTreeMap::from([("en".to_owned(), "satisfaction?".to_owned())]),
            with_next: false,
            labels: Default::default(),
        },
    );
    def.questions[0].with_next = true;
    def
}

#[test]
fn both_answers_of_a_pair_are_written_by_the_guarded_statement() {
    let (def, current, sms) = (
        pair_then_comment(),
        survey(SurveyState::Open, 0),
        sms("1 4"),
    );
    let plan = reply(&Texts::free(&def), Some(&current), &sms);
    assert_eq!(plan.outcome, ReplyOutcome::Answer);
    assert!(plan.guardable());
    let written: Vec<_> = plan
        .write
        .answers
        .iter()
        .map(|a| (a.question_id.as_str(), a.value.clone(), a.late))
        .collect();
    assert_eq!(
        written,
        [
            ("resolved", json!(true), false),
            ("satisfaction", json!(4), false)
        ]
    );
    assert_eq!(plan.write.survey.as_ref().unwrap().1.question_index, 2);
    let asked: Vec<_> = plan.write.send.iter().map(|m| m.question_id).collect();
    assert_eq!(asked, [Some("comment")]);
}

#[test]
fn the_part_of_a_pair_left_is_read_alone_once_the_other_is_answered() {
    let (def, sms) = (pair_then_comment(), sms("1"));
    let current = Current {
        reprompted: true,
        answered: vec!["satisfaction".into()],
        ..survey(SurveyState::Open, 0)
    };
    let plan = reply(&Texts::free(&def), Some(&current), &sms);
    assert_eq!(plan.outcome, ReplyOutcome::Answer);
    assert_eq!(plan.write.answers.len(), 1);
    assert_eq!(plan.write.answers[0].question_id, "resolved");
    // Past the pair, not back to its second question.
    assert_eq!(plan.write.survey.as_ref().unwrap().1.question_index, 2);
}
