use std::collections::BTreeMap;

use chrono::TimeZone;

use super::*;
use crate::domain::{reply::Labels, survey::QuestionKind};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap()
}

fn day() -> TimeDelta {
    TimeDelta::hours(24)
}

/// Well inside the 24 h window.
fn soon() -> DateTime<Utc> {
    t0() + TimeDelta::hours(1)
}

fn deadline() -> DateTime<Utc> {
    t0() + day()
}

fn question(id: &str, kind: QuestionKind, metric: Option<Metric>) -> Question {
    Question {
        id: id.into(),
        kind,
        metric,
        text: BTreeMap::from([("en".to_owned(), format!("{id}?"))]),
        with_next: false,
        labels: Default::default(),
    }
}

fn definition(questions: Vec<Question>) -> SurveyDefinition {
    SurveyDefinition {
        questions,
        signature: "【小蓝钱包】".into(),
        wording: BTreeMap::new(),
        default_language: "en".into(),
    }
}

/// The default survey's shape: resolved (fcr), satisfaction 1–5 (csat), recommend 0–10
/// (nps), comment (text).
fn default_like() -> SurveyDefinition {
    definition(vec![
        question("resolved", QuestionKind::YesNo, Some(Metric::Fcr)),
        question(
            "satisfaction",
            QuestionKind::Scale { min: 1, max: 5 },
            Some(Metric::Csat),
        ),
        question(
            "recommend",
            QuestionKind::Scale { min: 0, max: 10 },
            Some(Metric::Nps),
        ),
        question("comment", QuestionKind::Text, None),
    ])
}

/// No comment at the end: the NPS question is the last.
fn no_comment() -> SurveyDefinition {
    let mut def = default_like();
    def.questions.pop();
    def
}

fn open() -> Survey {
    start(&default_like(), t0(), day())
}

/// An open survey waiting on question `index`.
fn at(index: usize) -> Survey {
    Survey {
        question: index,
        ..open()
    }
}

fn with_status(status: SurveyState, index: usize) -> Survey {
    Survey {
        status,
        ..at(index)
    }
}

fn answer(id: &str, value: AnswerValue) -> Answer {
    Answer {
        question_id: id.into(),
        value,
        remark: false,
    }
}

/// The answer as read past a remark around it.
fn remarked(answer: Answer) -> Answer {
    Answer {
        remark: true,
        ..answer
    }
}

/// One reply to the default-like survey, an hour into it.
fn reply(state: &Survey, text: &str) -> Step {
    advance(&default_like(), state, text, soon())
}

/// Replies in turn, each to the state the previous one left.
fn replies(def: &SurveyDefinition, texts: &[&str]) -> Vec<Step> {
    let mut state = start(def, t0(), day());
    texts
        .iter()
        .map(|text| {
            let step = advance(def, &state, text, soon());
            state = step.state.clone();
            step
        })
        .collect()
}

/// A step that sends, records and publishes nothing.
fn assert_silent(step: &Step) {
    assert!(step.send.is_empty(), "{step:?}");
    assert!(step.events.is_empty(), "{step:?}");
    assert!(!step.opt_out && !step.opt_in, "{step:?}");
}

// --- start -------------------------------------------------------------------------------

#[test]
fn start_opens_at_the_first_question_and_expires_after_the_window() {
    let state = start(&default_like(), t0(), day());
    assert_eq!(
        state,
        Survey {
            status: SurveyState::Open,
            question: 0,
            reprompted: false,
            answered: vec![],
            expires_at: deadline(),
        }
    );
}

// --- answers -----------------------------------------------------------------------------

#[test]
fn the_happy_path_asks_each_question_then_thanks_and_completes() {
    let steps = replies(&default_like(), &["yes", "5", "10", "Quick and friendly."]);
    let sends: Vec<_> = steps.iter().map(|s| s.send.clone()).collect();
    assert_eq!(
        sends,
        [
            vec![Outgoing::Question(1)],
            vec![Outgoing::Question(2)],
            vec![Outgoing::Question(3)],
            vec![Outgoing::ThankYou],
        ]
    );
    let events: Vec<_> = steps.iter().map(|s| s.events.clone()).collect();
    assert_eq!(events, [vec![], vec![], vec![], vec![Event::Completed]]);
    let last = &steps[3].state;
    assert_eq!(last.status, SurveyState::Completed);
    assert_eq!(last.question, 4);
    let recorded: Vec<Answer> = steps.iter().flat_map(|s| s.answers.clone()).collect();
    assert_eq!(
        recorded,
        [
            answer("resolved", AnswerValue::YesNo(true)),
            answer("satisfaction", AnswerValue::Scale(5)),
            answer("recommend", AnswerValue::Scale(10)),
            answer("comment", AnswerValue::Text("Quick and friendly.".into())),
        ]
    );
    assert_eq!(
        last.answered,
        ["resolved", "satisfaction", "recommend", "comment"]
    );
    assert!(steps.iter().all(|s| !s.late && !s.opt_out && !s.opt_in));
}

#[test]
fn each_answer_is_reported_as_recorded_by_its_reply() {
    let steps = replies(&default_like(), &["yes", "5", "10", "ok"]);
    for (step, recorded) in steps.iter().zip(&steps[3].state.answered) {
        assert!(
            matches!(step.answers.as_slice(), [a] if a.question_id == *recorded),
            "{step:?}"
        );
    }
}

#[test]
fn an_answer_moves_to_the_next_question_and_keeps_the_deadline() {
    let step = reply(&open(), "yes");
    assert_eq!(step.state.status, SurveyState::Open);
    assert_eq!(step.state.question, 1);
    assert!(!step.state.reprompted);
    assert_eq!(step.state.expires_at, deadline());
}

#[test]
fn a_survey_whose_last_question_is_not_text_completes_on_its_answer() {
    let steps = replies(&no_comment(), &["yes", "4", "9"]);
    let last = &steps[2];
    assert_eq!(last.send, [Outgoing::ThankYou]);
    assert_eq!(last.events, [Event::Completed]);
    assert_eq!(last.state.status, SurveyState::Completed);
    assert_eq!(last.state.answered.len(), 3);
}

#[test]
fn a_one_question_survey_completes_on_its_first_answer() {
    let def = definition(vec![question(
        "resolved",
        QuestionKind::YesNo,
        Some(Metric::Fcr),
    )]);
    let step = advance(&def, &start(&def, t0(), day()), "yes", soon());
    assert_eq!(step.send, [Outgoing::ThankYou]);
    assert_eq!(step.events, [Event::Completed]);
    assert_eq!(step.state.status, SurveyState::Completed);
}

#[test]
fn any_non_empty_text_answers_the_comment() {
    for text in ["很好", "no", "5", "asdf qwerty"] {
        let step = reply(&at(3), text);
        assert_eq!(step.state.status, SurveyState::Completed, "{text}");
        assert!(
            matches!(step.answers.as_slice(), [a] if a.question_id == "comment"),
            "{text}: {step:?}"
        );
    }
}

#[test]
fn a_blank_comment_is_not_an_answer() {
    let step = reply(&at(3), " \n ");
    assert_eq!(step.send, [Outgoing::Reprompt(3)]);
    assert_eq!(step.state.status, SurveyState::Open);
    assert!(step.answers.is_empty());
}

// --- detractors ----------------------------------------------------------------------

fn detractor(reason: DetractorReason) -> Event {
    Event::Detractor(vec![reason])
}

#[test]
fn fcr_no_is_a_detractor_and_yes_is_not() {
    assert_eq!(
        reply(&at(0), "no").events,
        [detractor(DetractorReason::Fcr)]
    );
    assert_eq!(reply(&at(0), "yes").events, []);
}

#[test]
fn csat_two_or_less_is_a_detractor_three_is_not() {
    for (text, detracts) in [("1", true), ("2", true), ("3", false), ("5", false)] {
        let want = if detracts {
            vec![detractor(DetractorReason::Csat)]
        } else {
            vec![]
        };
        assert_eq!(reply(&at(1), text).events, want, "csat {text}");
    }
}

#[test]
fn nps_six_or_less_is_a_detractor_seven_is_not() {
    for (text, detracts) in [("0", true), ("6", true), ("7", false), ("10", false)] {
        let want = if detracts {
            vec![detractor(DetractorReason::Nps)]
        } else {
            vec![]
        };
        assert_eq!(reply(&at(2), text).events, want, "nps {text}");
    }
}

#[test]
fn a_detractor_answer_is_still_recorded_and_the_survey_goes_on() {
    let step = reply(&at(2), "3");
    assert_eq!(step.answers, [answer("recommend", AnswerValue::Scale(3))]);
    assert_eq!(step.send, [Outgoing::Question(3)]);
    assert_eq!(step.state.status, SurveyState::Open);
}

#[test]
fn a_detractor_on_the_last_question_comes_before_completed() {
    let step = advance(&no_comment(), &at(2), "2", soon());
    assert_eq!(
        step.events,
        [detractor(DetractorReason::Nps), Event::Completed]
    );
    assert_eq!(step.send, [Outgoing::ThankYou]);
}

#[test]
fn each_detractor_is_reported_once_by_the_reply_that_gave_it() {
    let steps = replies(&default_like(), &["no", "1", "9", "slow"]);
    let events: Vec<_> = steps.iter().map(|s| s.events.clone()).collect();
    assert_eq!(
        events,
        [
            vec![detractor(DetractorReason::Fcr)],
            vec![detractor(DetractorReason::Csat)],
            vec![],
            vec![Event::Completed],
        ]
    );
}

#[test]
fn an_opt_out_after_a_detractor_does_not_repeat_it() {
    let steps = replies(&default_like(), &["no", "TD"]);
    assert_eq!(steps[1].events, [Event::Completed]);
}

#[test]
fn a_question_without_a_metric_or_with_a_mismatched_one_makes_no_detractor() {
    let def = definition(vec![
        question("plain", QuestionKind::Scale { min: 0, max: 10 }, None),
        // Misconfigured: an NPS metric on a yes/no question.
        question("odd", QuestionKind::YesNo, Some(Metric::Nps)),
    ]);
    let steps = replies(&def, &["0", "no"]);
    assert_eq!(steps[0].events, []);
    assert_eq!(steps[1].events, [Event::Completed]);
}

// --- not understood ------------------------------------------------------------------

#[test]
fn gibberish_gets_one_reprompt_for_the_same_question() {
    let step = reply(&at(1), "banana");
    assert_eq!(step.send, [Outgoing::Reprompt(1)]);
    assert_eq!(step.state.question, 1);
    assert!(step.state.reprompted);
    assert!(step.answers.is_empty());
    assert!(step.events.is_empty() && !step.late);
}

#[test]
fn gibberish_then_a_valid_answer_records_it_and_moves_on() {
    let steps = replies(&default_like(), &["yes", "banana", "4"]);
    let after = &steps[2];
    assert_eq!(
        after.answers,
        [answer("satisfaction", AnswerValue::Scale(4))]
    );
    assert_eq!(after.send, [Outgoing::Question(2)]);
    assert_eq!(after.state.question, 2);
    assert!(!after.state.reprompted);
}

#[test]
fn gibberish_twice_skips_the_question_unanswered() {
    let steps = replies(&default_like(), &["yes", "banana", "banana"]);
    let after = &steps[2];
    assert_eq!(after.send, [Outgoing::Question(2)]);
    assert!(after.answers.is_empty());
    assert_eq!(after.state.question, 2);
    assert!(!after.state.reprompted);
    assert_eq!(after.state.answered, ["resolved"]);
    assert_eq!(after.state.status, SurveyState::Open);
}

#[test]
fn the_question_after_a_skipped_one_gets_its_own_reprompt() {
    let steps = replies(&default_like(), &["?", "?", "?"]);
    assert_eq!(steps[2].send, [Outgoing::Reprompt(1)]);
}

#[test]
fn gibberish_twice_on_the_last_question_completes_with_thanks() {
    let steps = replies(&no_comment(), &["yes", "5", "??", "??"]);
    let last = &steps[3];
    assert_eq!(last.send, [Outgoing::ThankYou]);
    assert_eq!(last.events, [Event::Completed]);
    assert_eq!(last.state.status, SurveyState::Completed);
    assert_eq!(last.state.answered.len(), 2);
}

#[test]
fn a_survey_nobody_understands_still_ends_with_a_bounded_number_of_sends() {
    // An auto-responder answering every SMS: two sends per question it cannot answer, then
    // the comment takes its text and the thank-you ends the exchange.
    let steps = replies(&default_like(), &["zzz"; 8]);
    assert_eq!(steps[5].state.question, 3);
    assert_eq!(steps[6].state.status, SurveyState::Completed);
    assert!(steps[7].late);
    let sends: usize = steps.iter().map(|s| s.send.len()).sum();
    assert_eq!(sends, 7);
}

#[test]
fn an_out_of_range_number_is_not_understood() {
    assert_eq!(reply(&at(1), "6").send, [Outgoing::Reprompt(1)]);
    assert_eq!(reply(&at(1), "0").send, [Outgoing::Reprompt(1)]);
    assert_eq!(reply(&at(2), "11").send, [Outgoing::Reprompt(2)]);
}

#[test]
fn help_between_two_misses_does_not_earn_a_second_reprompt() {
    let steps = replies(&default_like(), &["?", "HELP", "?"]);
    assert_eq!(steps[1].send, [Outgoing::Help]);
    assert!(steps[1].state.reprompted);
    assert_eq!(steps[2].send, [Outgoing::Question(1)]);
}

// --- keywords ------------------------------------------------------------------------

#[test]
fn opt_out_mid_survey_ends_it_with_only_a_confirmation() {
    let before = reply(&open(), "yes").state;
    let step = reply(&before, "TD");
    assert_eq!(step.send, [Outgoing::OptOutConfirmation]);
    assert_eq!(step.events, [Event::Completed]);
    assert!(step.opt_out && !step.opt_in && !step.late);
    assert!(step.answers.is_empty());
    assert_eq!(
        step.state,
        Survey {
            status: SurveyState::OptedOut,
            ..before
        }
    );
}

#[test]
fn every_opt_out_word_opts_out() {
    for text in ["TD", "退订", "STOP", "unsubscribe"] {
        let step = reply(&at(1), text);
        assert_eq!(step.state.status, SurveyState::OptedOut, "{text}");
        assert!(step.opt_out, "{text}");
    }
}

#[test]
fn nothing_is_sent_after_an_opt_out() {
    let opted_out = reply(&at(1), "STOP").state;
    let step = reply(&opted_out, "5");
    assert!(step.late);
    assert_silent(&step);
    assert_eq!(step.state, opted_out);
}

#[test]
fn n_answers_a_yes_no_question() {
    let step = reply(&at(0), "N");
    assert_eq!(
        step.answers,
        [answer("resolved", AnswerValue::YesNo(false))]
    );
    assert_eq!(step.send, [Outgoing::Question(1)]);
    assert!(!step.opt_out);
    assert_eq!(step.state.status, SurveyState::Open);
}

#[test]
fn n_to_a_scale_question_is_an_opt_out() {
    let step = reply(&at(1), "N");
    assert!(step.opt_out);
    assert_eq!(step.state.status, SurveyState::OptedOut);
    assert_eq!(step.send, [Outgoing::OptOutConfirmation]);
    assert!(step.answers.is_empty());
}

#[test]
fn help_answers_and_leaves_the_question_pending() {
    let before = at(2);
    let step = reply(&before, "HELP");
    assert_eq!(step.send, [Outgoing::Help]);
    assert_eq!(step.state, before);
    assert!(step.events.is_empty() && !step.opt_out && !step.opt_in && !step.late);
    assert!(step.answers.is_empty());
}

#[test]
fn opt_in_confirms_and_leaves_the_state() {
    let before = at(1);
    let step = reply(&before, "START");
    assert_eq!(step.send, [Outgoing::OptInConfirmation]);
    assert!(step.opt_in && !step.opt_out);
    assert_eq!(step.state, before);
    assert!(step.events.is_empty());
}

// --- a stop in words -----------------------------------------------------------------

#[test]
fn a_stop_in_words_does_exactly_what_td_does_at_every_question() {
    for (index, text) in [
        (0, "别再发了"),
        (1, "不要再发短信了"),
        (2, "stop texting me"),
        (3, "服务还行，就是别再发短信了"),
        (3, "T D"),
    ] {
        let before = reply(&at(index), "TD");
        let step = reply(&at(index), text);
        assert_eq!(step, before, "{text} at question {index}");
        assert_eq!(step.send, [Outgoing::OptOutConfirmation]);
        assert_eq!(step.state.status, SurveyState::OptedOut);
    }
}

#[test]
fn a_comment_about_stopping_something_else_is_the_comment() {
    for text in ["扣款停不下来", "我想取消自动续费", "stop charging me twice"] {
        let step = reply(&at(3), text);
        assert_eq!(
            step.answers,
            [answer("comment", AnswerValue::Text(text.into()))],
            "{text}"
        );
        assert!(!step.opt_out, "{text}");
        assert_eq!(step.send, [Outgoing::ThankYou]);
        assert_eq!(step.state.status, SurveyState::Completed);
    }
}

#[test]
fn a_stop_in_words_after_the_end_still_opts_out() {
    for status in [SurveyState::Completed, SurveyState::Expired] {
        let ended = with_status(status, 1);
        let step = reply(&ended, "以后别给我发");
        assert_eq!(step, reply(&ended, "TD"), "{status:?}");
        assert!(step.opt_out && step.late);
    }
}

// --- late replies --------------------------------------------------------------------

#[test]
fn a_late_answer_is_kept_for_the_record_and_changes_nothing() {
    let expired = with_status(SurveyState::Expired, 1);
    let step = reply(&expired, "2");
    assert!(step.late);
    assert_eq!(
        step.answers,
        [answer("satisfaction", AnswerValue::Scale(2))]
    );
    assert_eq!(step.state, expired);
    // No detractor either: a late answer changes no score and alerts nobody.
    assert_silent(&step);
}

#[test]
fn a_late_reply_that_does_not_parse_records_nothing() {
    let expired = with_status(SurveyState::Expired, 1);
    let step = reply(&expired, "banana");
    assert!(step.late);
    assert!(step.answers.is_empty());
    assert_silent(&step);
    assert_eq!(step.state, expired);
}

#[test]
fn a_late_n_to_a_pending_yes_no_question_is_the_answer_it_was_meant_as() {
    let step = reply(&with_status(SurveyState::Expired, 0), "N");
    assert!(step.late && !step.opt_out);
    assert_eq!(
        step.answers,
        [answer("resolved", AnswerValue::YesNo(false))]
    );
}

#[test]
fn a_reply_at_the_deadline_expires_the_open_survey_first() {
    let mut before = reply(&open(), "yes").state;
    before.reprompted = true;
    let step = advance(&default_like(), &before, "5", deadline());
    assert!(step.late);
    assert_eq!(step.events, [Event::Completed]);
    assert_eq!(
        step.state,
        Survey {
            status: SurveyState::Expired,
            ..before
        }
    );
    assert_eq!(
        step.answers,
        [answer("satisfaction", AnswerValue::Scale(5))]
    );
    assert!(step.send.is_empty());
}

#[test]
fn a_reply_just_before_the_deadline_still_counts() {
    let just_before = deadline() - TimeDelta::seconds(1);
    let step = advance(&default_like(), &at(1), "5", just_before);
    assert!(!step.late);
    assert_eq!(step.send, [Outgoing::Question(2)]);
    assert_eq!(step.state.answered.len(), 1);
}

#[test]
fn opt_out_after_expiry_still_opts_out_and_confirms() {
    let expired = with_status(SurveyState::Expired, 2);
    let step = reply(&expired, "退订");
    assert!(step.opt_out && step.late);
    assert_eq!(step.send, [Outgoing::OptOutConfirmation]);
    // The survey already ended (and was reported) when it expired.
    assert!(step.events.is_empty());
    assert_eq!(step.state, expired);
}

#[test]
fn opt_out_past_the_deadline_before_the_sweep_reports_the_expiry_once() {
    let step = advance(
        &default_like(),
        &at(2),
        "STOP",
        deadline() + TimeDelta::hours(3),
    );
    assert!(step.opt_out && step.late);
    assert_eq!(step.send, [Outgoing::OptOutConfirmation]);
    assert_eq!(step.events, [Event::Completed]);
    assert_eq!(step.state.status, SurveyState::Expired);
}

#[test]
fn help_and_opt_in_after_the_end_are_still_answered() {
    for status in [
        SurveyState::Expired,
        SurveyState::Completed,
        SurveyState::OptedOut,
    ] {
        let ended = with_status(status, 2);
        let help = reply(&ended, "HELP");
        assert_eq!(help.send, [Outgoing::Help], "{status:?}");
        let opt_in = reply(&ended, "START");
        assert_eq!(opt_in.send, [Outgoing::OptInConfirmation], "{status:?}");
        assert!(opt_in.opt_in && opt_in.late);
        assert_eq!(opt_in.state, ended);
        assert!(help.events.is_empty() && opt_in.events.is_empty());
    }
}

#[test]
fn a_repeated_opt_out_is_confirmed_again_without_ending_anything() {
    let opted_out = reply(&at(1), "STOP").state;
    let step = reply(&opted_out, "STOP");
    assert!(step.opt_out && step.late);
    assert_eq!(step.send, [Outgoing::OptOutConfirmation]);
    assert!(step.events.is_empty());
    assert_eq!(step.state, opted_out);
}

#[test]
fn a_reply_to_a_completed_survey_is_late_and_only_keywords_act() {
    let done = replies(&default_like(), &["yes", "5", "10", "ok"])[3]
        .state
        .clone();
    let more = reply(&done, "also, thanks!");
    assert!(more.late);
    assert!(more.answers.is_empty());
    assert_silent(&more);
    assert_eq!(more.state, done);
    let n = reply(&done, "N");
    assert!(
        n.opt_out,
        "no yes/no question is pending, so N is an opt-out"
    );
    assert_eq!(n.send, [Outgoing::OptOutConfirmation]);
    assert_eq!(n.state, done);
}

#[test]
fn a_survey_beyond_a_shortened_definition_takes_only_keywords() {
    // Config changed under a live survey: it waits on a question that no longer exists.
    let stranded = at(5);
    let answer = reply(&stranded, "5");
    assert!(answer.late);
    assert!(answer.answers.is_empty());
    assert_silent(&answer);
    assert_eq!(answer.state, stranded);
    assert!(reply(&stranded, "TD").opt_out);
}

// --- expiry --------------------------------------------------------------------------

#[test]
fn expire_before_the_deadline_does_nothing() {
    assert_eq!(expire(&open(), deadline() - TimeDelta::seconds(1)), None);
}

#[test]
fn expire_at_the_deadline_ends_the_survey() {
    let step = expire(&open(), deadline()).expect("due");
    assert_eq!(step.state.status, SurveyState::Expired);
    assert_eq!(step.events, [Event::Completed]);
    assert!(step.send.is_empty() && !step.late && step.answers.is_empty());
    assert!(expire(&open(), deadline() + TimeDelta::days(3)).is_some());
}

#[test]
fn answers_given_before_expiry_are_kept() {
    let steps = replies(&default_like(), &["no", "4"]);
    let step = expire(&steps[1].state, deadline()).expect("due");
    assert_eq!(step.state.answered, ["resolved", "satisfaction"]);
    assert_eq!(step.state.question, 2);
}

#[test]
fn only_an_open_survey_expires() {
    for status in [
        SurveyState::Completed,
        SurveyState::Expired,
        SurveyState::OptedOut,
    ] {
        let ended = with_status(status, 1);
        assert_eq!(expire(&ended, deadline() + day()), None, "{status:?}");
    }
}

// --- unsolicited ---------------------------------------------------------------------

#[test]
fn an_unsolicited_keyword_is_acted_on() {
    let opt_out = KeywordAction {
        send: Outgoing::OptOutConfirmation,
        opt_out: true,
        opt_in: false,
    };
    assert_eq!(unsolicited("TD"), Some(opt_out));
    assert_eq!(unsolicited("N"), Some(opt_out));
    assert_eq!(unsolicited("别再发了"), Some(opt_out));
    assert_eq!(unsolicited("please unsubscribe me"), Some(opt_out));
    assert_eq!(
        unsolicited("START"),
        Some(KeywordAction {
            send: Outgoing::OptInConfirmation,
            opt_out: false,
            opt_in: true,
        })
    );
    assert_eq!(
        unsolicited("HELP"),
        Some(KeywordAction {
            send: Outgoing::Help,
            opt_out: false,
            opt_in: false,
        })
    );
}

#[test]
fn an_unsolicited_message_that_is_no_keyword_gets_no_answer() {
    for text in [
        "hello",
        "5",
        "yes",
        "",
        "扣款停不下来",
        "please stop calling me",
    ] {
        assert_eq!(unsolicited(text), None, "{text}");
    }
}

// --- the compact survey: two questions in one SMS ----------------------------------------

/// The compact preset's shape: resolved asked with satisfaction.
fn compact() -> SurveyDefinition {
    let mut resolved = question("resolved", QuestionKind::YesNo, Some(Metric::Fcr));
    resolved.with_next = true;
    definition(vec![
        resolved,
        question(
            "satisfaction",
            QuestionKind::Scale { min: 1, max: 5 },
            Some(Metric::Csat),
        ),
    ])
}

fn resolved(yes: bool) -> Answer {
    answer("resolved", AnswerValue::YesNo(yes))
}

fn satisfaction(score: i32) -> Answer {
    answer("satisfaction", AnswerValue::Scale(score))
}

#[test]
fn both_parts_in_one_reply_record_two_answers_and_thank() {
    let [step] = replies(&compact(), &["1 5"]).try_into().unwrap();
    assert_eq!(step.answers, [resolved(true), satisfaction(5)]);
    assert_eq!(step.send, [Outgoing::ThankYou]);
    assert_eq!(step.events, [Event::Completed]);
    assert_eq!(step.state.status, SurveyState::Completed);
    assert_eq!(step.state.answered, ["resolved", "satisfaction"]);
}

#[test]
fn each_part_is_its_own_detractor_check_in_one_event() {
    let [step] = replies(&compact(), &["没解决 1分"]).try_into().unwrap();
    assert_eq!(step.answers, [resolved(false), satisfaction(1)]);
    assert_eq!(
        step.events,
        [
            Event::Detractor(vec![DetractorReason::Fcr, DetractorReason::Csat]),
            Event::Completed
        ]
    );
    let [step] = replies(&compact(), &["1 2"]).try_into().unwrap();
    assert_eq!(
        step.events,
        [
            Event::Detractor(vec![DetractorReason::Csat]),
            Event::Completed
        ]
    );
}

#[test]
fn the_score_alone_is_kept_and_resolved_re_prompted_once_then_read_alone() {
    let [first, second] = replies(&compact(), &["5", "是"]).try_into().unwrap();
    assert_eq!(first.answers, [satisfaction(5)]);
    assert_eq!(first.send, [Outgoing::Reprompt(0)]);
    assert_eq!(first.state.status, SurveyState::Open);
    assert!(first.events.is_empty());
    assert_eq!(second.answers, [resolved(true)]);
    assert_eq!(second.send, [Outgoing::ThankYou]);
    assert_eq!(second.state.status, SurveyState::Completed);
    // Read as the yes/no alone: `1` is "yes" here, where to the pair it was ambiguous.
    let [_, one] = replies(&compact(), &["4分", "1"]).try_into().unwrap();
    assert_eq!(one.answers, [resolved(true)]);
}

#[test]
fn the_yes_no_alone_is_kept_and_satisfaction_re_prompted_then_read_alone() {
    let [first, second] = replies(&compact(), &["解决了", "2"]).try_into().unwrap();
    assert_eq!(first.answers, [resolved(true)]);
    assert_eq!(first.send, [Outgoing::Reprompt(1)]);
    assert_eq!(first.state.question, 1);
    assert_eq!(second.answers, [satisfaction(2)]);
    assert_eq!(second.send, [Outgoing::ThankYou]);
    assert_eq!(
        second.events[0],
        Event::Detractor(vec![DetractorReason::Csat])
    );
}

#[test]
fn one_part_then_nothing_understood_ends_with_the_one_answer() {
    for first in ["5", "是"] {
        let [_, second] = replies(&compact(), &[first, "嗯？什么意思"])
            .try_into()
            .unwrap();
        assert!(second.answers.is_empty(), "{first}");
        assert_eq!(second.send, [Outgoing::ThankYou], "{first}");
        assert_eq!(second.state.status, SurveyState::Completed, "{first}");
        assert_eq!(second.state.answered.len(), 1, "{first}");
    }
}

#[test]
fn nothing_understood_re_prompts_both_once_then_both_are_read() {
    let [first, second] = replies(&compact(), &["1", "1 4"]).try_into().unwrap();
    assert!(first.answers.is_empty());
    assert_eq!(first.send, [Outgoing::RepromptPair(0)]);
    assert!(first.state.reprompted);
    assert_eq!(second.answers, [resolved(true), satisfaction(4)]);
    assert_eq!(second.send, [Outgoing::ThankYou]);
}

#[test]
fn after_the_pairs_re_prompt_one_part_is_kept_and_the_survey_ends() {
    let [_, second] = replies(&compact(), &["6", "5"]).try_into().unwrap();
    assert_eq!(second.answers, [satisfaction(5)]);
    assert_eq!(second.send, [Outgoing::ThankYou]);
    let [_, second] = replies(&compact(), &["?", "??"]).try_into().unwrap();
    assert!(second.answers.is_empty());
    assert_eq!(second.send, [Outgoing::ThankYou]);
    assert_eq!(second.state.status, SurveyState::Completed);
}

#[test]
fn an_opt_out_mid_way_ends_the_compact_survey_with_the_answer_given() {
    let [first, stop] = replies(&compact(), &["5", "TD"]).try_into().unwrap();
    assert_eq!(first.answers, [satisfaction(5)]);
    assert!(stop.opt_out);
    assert!(stop.answers.is_empty());
    assert_eq!(stop.send, [Outgoing::OptOutConfirmation]);
    assert_eq!(stop.state.status, SurveyState::OptedOut);
    assert_eq!(stop.state.answered, ["satisfaction"]);
    let [stop] = replies(&compact(), &["别再发了"]).try_into().unwrap();
    assert!(stop.opt_out);
}

#[test]
fn a_late_reply_to_the_pair_is_stored_as_both() {
    let expired = Survey {
        status: SurveyState::Expired,
        ..start(&compact(), t0(), day())
    };
    let step = advance(&compact(), &expired, "1 5", soon());
    assert!(step.late);
    assert_eq!(step.answers, [resolved(true), satisfaction(5)]);
    assert_silent(&step);
}

#[test]
fn a_later_pair_is_asked_as_one_question_and_skipped_past_as_one() {
    let mut def = compact();
    def.questions
        .insert(0, question("comment", QuestionKind::Text, None));
    let [first, second] = replies(&def, &["hello", "1 3"]).try_into().unwrap();
    assert_eq!(first.send, [Outgoing::Question(1)]);
    assert_eq!(second.answers, [resolved(true), satisfaction(3)]);
    assert_eq!(second.send, [Outgoing::ThankYou]);
}

// --- replies read as a person reads them (issue 18) ---------------------------------------

#[test]
fn an_answer_with_a_remark_is_stored_and_the_survey_moves_on_without_a_re_prompt() {
    let steps = replies(
        &default_like(),
        &["没解决，还是扣款失败", "4分 等了很久", "8分，挺好的"],
    );
    let want = [
        (
            remarked(answer("resolved", AnswerValue::YesNo(false))),
            Outgoing::Question(1),
        ),
        (
            remarked(answer("satisfaction", AnswerValue::Scale(4))),
            Outgoing::Question(2),
        ),
        (
            remarked(answer("recommend", AnswerValue::Scale(8))),
            Outgoing::Question(3),
        ),
    ];
    for (step, (answer, next)) in steps.iter().zip(want) {
        assert_eq!(step.answers, [answer]);
        assert_eq!(step.send, [next]);
        assert!(!step.state.reprompted);
    }
    // The "no" with its remark is a detractor like a plain "no".
    assert_eq!(
        steps[0].events,
        [Event::Detractor(vec![DetractorReason::Fcr])]
    );
}

#[test]
fn only_an_answer_read_past_a_remark_carries_it() {
    for (index, text, remark) in [
        (2, "8", false),
        (2, "8分", false),
        (2, "8分，挺好的", true),
        (1, "4分 等了很久", true),
        (0, "是", false),
        (0, "解决了，但是客服态度很差", true),
    ] {
        let step = reply(&at(index), text);
        assert!(
            matches!(step.answers.as_slice(), [a] if a.remark == remark),
            "{text}: {step:?}"
        );
    }
    // A comment is all words: nothing in it is set aside.
    let step = reply(&at(3), "4分 等了很久");
    assert_eq!(
        step.answers,
        [answer("comment", AnswerValue::Text("4分 等了很久".into()))]
    );
}

#[test]
fn both_parts_of_a_pair_read_past_a_remark_carry_it() {
    let [step] = replies(&compact(), &["1，4分 客服很专业"])
        .try_into()
        .unwrap();
    assert_eq!(
        step.answers,
        [remarked(resolved(true)), remarked(satisfaction(4))]
    );
    let [bare] = replies(&compact(), &["1 4"]).try_into().unwrap();
    assert_eq!(bare.answers, [resolved(true), satisfaction(4)]);
}

#[test]
fn a_late_answer_keeps_its_remark() {
    let step = reply(&with_status(SurveyState::Expired, 1), "4分 等了很久");
    assert!(step.late);
    assert_eq!(
        step.answers,
        [remarked(answer("satisfaction", AnswerValue::Scale(4)))]
    );
}

fn with_labels() -> SurveyDefinition {
    let mut def = default_like();
    def.questions[1].labels = Labels::new([
        ("非常满意", 5),
        ("满意", 4),
        ("不满意", 2),
        ("非常不满意", 1),
        ("very satisfied", 5),
    ])
    .unwrap();
    def
}

#[test]
fn a_label_answers_with_its_number_in_either_language() {
    for (text, score) in [("非常满意", 5), ("满意", 4), ("Very satisfied", 5)] {
        let steps = replies(&with_labels(), &["1", text]);
        assert_eq!(
            steps[1].answers,
            [answer("satisfaction", AnswerValue::Scale(score))],
            "{text}"
        );
        assert_eq!(steps[1].send, [Outgoing::Question(2)], "{text}");
    }
    // The longest label wins, and its number is a detractor like the digit.
    let steps = replies(&with_labels(), &["1", "非常不满意"]);
    assert_eq!(
        steps[1].answers,
        [answer("satisfaction", AnswerValue::Scale(1))]
    );
    assert_eq!(
        steps[1].events,
        [Event::Detractor(vec![DetractorReason::Csat])]
    );
}

#[test]
fn a_negated_label_or_one_the_question_lacks_is_re_prompted() {
    for text in ["不太满意", "不是很满意", "not very satisfied"] {
        let steps = replies(&with_labels(), &["1", text]);
        assert!(steps[1].answers.is_empty(), "{text}");
        assert_eq!(steps[1].send, [Outgoing::Reprompt(1)], "{text}");
    }
    // The recommend question has no labels here: words without a number re-prompt.
    let steps = replies(&with_labels(), &["1", "5", "非常满意"]);
    assert_eq!(steps[2].send, [Outgoing::Reprompt(2)]);
}
