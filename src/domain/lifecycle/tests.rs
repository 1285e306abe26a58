use super::*;

/// The CHECK lists as the migrations state them: a variant spelled otherwise could never
/// be written, and a stored value missing here could never be read.
const SURVEY_STATES: &str = include_str!("../../../migrations/20261124000004_conversation.sql");
const MESSAGE_STATUSES: &str = include_str!("../../../migrations/20261203000002_reconcile.sql");

fn check_list<'a>(migration: &'a str, column: &str) -> Vec<&'a str> {
    let start = migration
        .find(&format!("{column} IN"))
        .unwrap_or_else(|| panic!("no CHECK on {column}"));
    let list = &migration[start..];
    let list = &list[list.find('(').unwrap() + 1..list.find(')').unwrap()];
    list.split(',')
        .map(|s| s.trim().trim_matches('\''))
        .collect()
}

fn round_trips<T>(all: &[T])
where
    T: Copy + PartialEq + fmt::Debug + FromStr<Err = Unknown> + fmt::Display,
    for<'a> T: TryFrom<&'a str, Error = Unknown>,
{
    for &v in all {
        assert_eq!(v.to_string().parse::<T>(), Ok(v));
        assert_eq!(T::try_from(v.to_string().as_str()), Ok(v));
    }
}

#[test]
fn every_variant_round_trips() {
    round_trips(SurveyState::ALL);
    round_trips(MessageStatus::ALL);
    round_trips(MessagePurpose::ALL);
}

#[test]
fn survey_states_are_the_check_list() {
    let stored: Vec<&str> = SurveyState::ALL.iter().map(|s| s.as_str()).collect();
    assert_eq!(stored, check_list(SURVEY_STATES, "state"));
}

#[test]
fn message_statuses_are_the_check_list() {
    let stored: Vec<&str> = MessageStatus::ALL.iter().map(|s| s.as_str()).collect();
    assert_eq!(stored, check_list(MESSAGE_STATUSES, "status"));
}

#[test]
fn unknown_values_are_errors_that_name_them() {
    let err = "reopened".parse::<SurveyState>().unwrap_err();
    assert_eq!(err.to_string(), "unknown survey state `reopened`");
    assert!("Open".parse::<SurveyState>().is_err(), "case matters");
    assert!("".parse::<SurveyState>().is_err());
    let err = MessageStatus::try_from("read").unwrap_err();
    assert_eq!(err.to_string(), "unknown message status `read`");
    let err = MessagePurpose::try_from("reminder").unwrap_err();
    assert_eq!(err.to_string(), "unknown message purpose `reminder`");
}

#[test]
fn a_survey_moves_only_forward() {
    use SurveyState::*;
    let legal = [
        (Scheduled, Sending),
        (Scheduled, Cancelled),
        (Sending, Open),
        (Sending, Failed),
        (Sending, Cancelled),
        (Sending, Completed),
        (Sending, OptedOut),
        (Open, Completed),
        (Open, Expired),
        (Open, OptedOut),
        (Open, Cancelled),
    ];
    for &from in SurveyState::ALL {
        for &to in SurveyState::ALL {
            let want = from == to || legal.contains(&(from, to));
            assert_eq!(from.can_move_to(to), want, "{from} -> {to}");
        }
    }
}

#[test]
fn ended_surveys_never_move() {
    for &from in SurveyState::ALL.iter().filter(|s| !s.in_flight()) {
        for &to in SurveyState::ALL.iter().filter(|&&to| to != from) {
            assert!(!from.can_move_to(to), "{from} -> {to}");
        }
    }
}

#[test]
fn a_reply_finds_a_sending_survey_open() {
    assert_eq!(SurveyState::Sending.replied_to(), SurveyState::Open);
    for &s in SurveyState::ALL
        .iter()
        .filter(|&&s| s != SurveyState::Sending)
    {
        assert_eq!(s.replied_to(), s);
    }
}

#[test]
fn a_first_question_that_ends_ends_its_survey() {
    use MessageStatus as M;
    assert_eq!(
        SurveyState::first_question_ended(M::Cancelled),
        SurveyState::Cancelled
    );
    assert_eq!(
        SurveyState::first_question_ended(M::Failed),
        SurveyState::Failed
    );
    for &status in [M::Cancelled, M::Failed].iter() {
        let ended = SurveyState::first_question_ended(status);
        assert!(SurveyState::Sending.can_move_to(ended));
    }
}

#[test]
fn a_message_status_never_goes_back() {
    use MessageStatus::*;
    assert!(Pending.can_move_to(Sending));
    assert!(Sending.can_move_to(Pending), "a retry or a hand-back");
    assert!(Pending.can_move_to(Cancelled), "an opt-out");
    assert!(Sending.can_move_to(Delivered), "an early report folded in");
    assert!(Queued.can_move_to(Sent) && Sent.can_move_to(Delivered));
    assert!(
        !Pending.can_move_to(Queued),
        "only a claimed message is sent"
    );
    assert!(!Sent.can_move_to(Queued));
    assert!(
        !Delivered.can_move_to(Failed),
        "the first final status stands"
    );
    assert!(!Delivered.can_move_to(Cancelled));
    for &s in [Delivered, Undelivered, Failed, Cancelled].iter() {
        for &to in MessageStatus::ALL {
            assert!(!s.can_move_to(to), "{s} -> {to}");
        }
    }
}

#[test]
fn a_send_of_unknown_outcome_is_reconciled_before_anything_else() {
    use MessageStatus::*;
    assert!(
        Sending.can_move_to(Reconciling),
        "a timeout after the write"
    );
    assert!(Reconciling.can_move_to(Pending), "not found: resent");
    for to in [Queued, Sent, Delivered, Undelivered] {
        assert!(Reconciling.can_move_to(to), "found as {to}");
    }
    assert!(
        Reconciling.can_move_to(Failed),
        "the platform could not be asked"
    );
    assert!(
        !Reconciling.can_move_to(Sending),
        "never sent again without the resend's own claim"
    );
    assert!(
        !Reconciling.can_move_to(Cancelled),
        "it may be out: an opt-out does not unsend it"
    );
    for from in [
        Pending,
        Queued,
        Sent,
        Delivered,
        Undelivered,
        Failed,
        Cancelled,
    ] {
        assert!(!from.can_move_to(Reconciling), "{from}");
    }
    assert_eq!(
        Reconciling.rank(),
        Sending.rank(),
        "below every reported status"
    );
    assert_eq!(
        SurveyState::first_question_ended(Failed),
        SurveyState::Failed,
        "a first question never found fails its survey"
    );
}

#[test]
fn rank_follows_the_delivery_order() {
    use super::super::delivery::DeliveryStatus as D;
    for pair in [D::Queued, D::Sent, D::Delivered].windows(2) {
        let (a, b) = (MessageStatus::from(pair[0]), MessageStatus::from(pair[1]));
        assert!(a.rank() < b.rank(), "{a} < {b}");
    }
    for d in [D::Queued, D::Sent, D::Delivered, D::Undelivered, D::Failed] {
        assert_eq!(MessageStatus::from(d).as_str(), d.as_str());
    }
}

#[test]
fn purposes_decide_how_a_message_is_sent() {
    use MessagePurpose::*;
    use SurveyState::*;
    assert!(Question.respects_quiet_hours() && Question.opens_survey());
    for &p in MessagePurpose::ALL.iter().filter(|&&p| p != Question) {
        assert!(!p.respects_quiet_hours() && !p.opens_survey(), "{p}");
    }
    assert!(Question.goes_while(Some(Sending)) && Question.goes_while(Some(Open)));
    assert!(!Question.goes_while(Some(Cancelled)) && !Question.goes_while(None));
    assert!(FollowUp.goes_while(Some(Open)) && !FollowUp.goes_while(Some(Expired)));
    assert!(ThankYou.goes_while(Some(Completed)) && !ThankYou.goes_while(Some(Open)));
    for p in [OptOutConfirmation, OptInConfirmation, Help] {
        assert!(p.goes_while(None) && p.goes_while(Some(OptedOut)), "{p}");
        assert!(!p.stops_at_opt_out(), "{p}");
    }
    assert!(Question.stops_at_opt_out() && FollowUp.stops_at_opt_out());
    assert!(ThankYou.stops_at_opt_out());
}
