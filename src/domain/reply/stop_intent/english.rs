//! Stops in English: stop/quit (texting/sending/contacting me), unsubscribe anywhere in a
//! sentence that does not negate it, opt me out, leave me alone, remove me from the list,
//! no more texts, don't text me, why do you keep texting me.

use std::sync::LazyLock;

use regex::Regex;

use super::{any_of, phrase};

/// `before`: the message's clauses before this one.
pub(super) fn asks_to_stop(words: &[&str], before: &[Vec<&str>]) -> bool {
    let words: Vec<String> = words.iter().map(|w| w.replace('\u{2019}', "'")).collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    unsubscribes(&words)
        || (!points_elsewhere(&words, before) && {
            let clause = words.join(" ");
            RULES.iter().any(|rule| rule.is_match(&clause))
        })
}

/// "…charging my card, stop it": a pronoun ("it", "that") names what was said before, and
/// when that was not the texts, the stop is about something else. Alone ("stop it") or
/// after the texts ("these texts are annoying, stop it") it is about the texts.
fn points_elsewhere(words: &[&str], before: &[Vec<&str>]) -> bool {
    let names_the_texts =
        |w: &&str| MESSAGES.contains(w) || MESSAGING.contains(w) || OBJECTS.contains(w);
    let pronoun_only =
        words.iter().any(|w| PRONOUNS.contains(w)) && !words.iter().any(names_the_texts);
    pronoun_only
        && !before.is_empty()
        && !before
            .iter()
            .flatten()
            .any(|w| MESSAGES.contains(w) || MESSAGING.contains(w))
}

/// Words that point back at what the message said before.
const PRONOUNS: &[&str] = &["it", "that", "this", "them"];

/// "unsubscribe" is about messages wherever it stands ("I unsubscribed last week, why do you
/// still text"), unless negated before it ("I don't want to unsubscribe") or aimed at
/// something else ("unsubscribe me from the premium plan").
fn unsubscribes(words: &[&str]) -> bool {
    let Some(at) = words.iter().position(|w| UNSUBSCRIBE.contains(w)) else {
        return false;
    };
    let negated = words[..at].iter().any(|w| NEGATIONS.contains(w));
    !negated && from_messages(&words[at + 1..])
}

/// After "unsubscribe (me)": either no "from", or "from" a list or these messages.
fn from_messages(rest: &[&str]) -> bool {
    let mut rest = rest.iter().skip_while(|w| OBJECT_WORDS.contains(w));
    if rest.next() != Some(&"from") {
        return true;
    }
    rest.find(|w| !DETERMINERS.contains(w))
        .is_none_or(|w| LISTS.contains(w) || MESSAGES.contains(w))
}

static RULES: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    let lead = LEAD;
    let tail = [OBJECTS, DETERMINERS, MESSAGES, MESSAGING, POLITE].concat();
    let (these, messages, messaging) = (any_of(DETERMINERS), any_of(MESSAGES), any_of(MESSAGING));
    let lists = any_of(&[LISTS, MESSAGES].concat());
    let object = any_of(OBJECTS);
    vec![
        // stop, stop please, stop texting me, quit sending these
        phrase(lead, "stop|stopall|quit|cease|td|optout|unsub", &tail, " "),
        // opt me out, please opt out
        phrase(lead, "(?:opt|opting|opted)(?: me| us)? out", &tail, " "),
        // leave me alone, go away
        phrase(
            lead,
            "leave (?:me|us) alone|go away|get lost|fuck off|piss off|bugger off|sod off",
            &tail,
            " ",
        ),
        // remove me (from this list), delete my number
        phrase(
            lead,
            &format!(
                "(?:remove|delete|erase|drop|unlist) {object}(?: (?:from|off|out of)(?: {these})*(?: {lists})+)?"
            ),
            &tail,
            " ",
        ),
        // take me off your list
        phrase(
            lead,
            &format!("take {object} off(?: {these})*(?: {lists})+"),
            &tail,
            " ",
        ),
        // no more texts, no more of these messages
        phrase(
            lead,
            &format!("no more(?: {these})* (?:{messages}|{messaging})"),
            &tail,
            " ",
        ),
        // don't text me again, never contact me, do not send me messages
        phrase(
            lead,
            "(?:don't|dont|do not|never)(?: ever)? (?:text|txt|message|msg|sms|contact|send|spam|bother|harass|pester|bug|email|survey|write to|disturb)",
            &tail,
            " ",
        ),
        // I don't want any more texts, do not want to receive these messages
        phrase(
            lead,
            &format!(
                "(?:don't|dont|do not) (?:want|need)(?: to (?:receive|get|have))?(?: {these})* (?:{messages}|{messaging})"
            ),
            &tail,
            " ",
        ),
        // I don't want to receive these anymore: "these", received, can only be the texts
        phrase(
            lead,
            "(?:don't|dont|do not) (?:want|need) to (?:receive|get) (?:these|them|any)",
            &tail,
            " ",
        ),
        // why do you keep texting me, you're still messaging me
        phrase(
            lead,
            &format!("(?:keep|keeps|still|always)(?: on)? {messaging}"),
            &tail,
            " ",
        ),
        // cancel the survey, end these messages, block this number
        phrase(
            lead,
            &format!("(?:cancel|end|halt|block|mute)(?: {these})* (?:{messages}|number)"),
            &tail,
            " ",
        ),
    ]
});

/// What may lead into a request without changing it: politeness, "I said", "why do you".
/// Not here: negations ("don't stop"), and any noun that would say who or what is stopping
/// ("the app … stop", "the agent told me to stop").
#[rustfmt::skip]
const LEAD: &[&str] = &[
    "please", "pls", "plz", "plse", "kindly", "just", "can", "could", "would", "will", "you", "u",
    "ya", "i", "i'd", "id", "i'm", "im", "want", "wanna", "need", "to", "like", "love", "ok",
    "okay", "hey", "hi", "hello", "oh", "my", "god", "gosh", "omg", "ffs", "wtf", "seriously",
    "now", "and", "so", "said", "already", "told", "asked", "have", "sir", "madam", "guys", "then",
    "again", "yes", "yeah", "yep", "sorry", "but", "dear", "team", "hereby", "also", "for", "the",
    "of", "last", "time", "right", "alright", "look", "listen", "ugh", "damn", "man", "dude",
    "stop", "thanks", "thank", "why", "do", "does", "are", "still", "y'all", "yall", "all", "lord",
    "you're", "youre", "how", "won't", "wont",
];

#[rustfmt::skip]
const OBJECTS: &[&str] = &[
    "me", "us", "this number", "my number", "my phone", "this phone", "my phone number",
    "this phone number", "my cell",
];

/// After "unsubscribe": "me", "us", "my number" before a possible "from".
const OBJECT_WORDS: &[&str] = &["me", "us", "my", "this", "number", "phone"];

#[rustfmt::skip]
const DETERMINERS: &[&str] = &[
    "the", "these", "those", "this", "that", "your", "any", "all", "such", "of", "them", "it",
    "its", "more", "stupid", "annoying", "damn", "bloody", "freaking", "fucking", "silly",
    "useless", "automated", "constant", "endless", "daily", "same", "kind", "type", "to", "with",
];

/// Texts and what customers call them. Not alerts, reminders or notifications: those may be
/// the account's own messages, which a survey opt-out does not stop.
#[rustfmt::skip]
const MESSAGES: &[&str] = &[
    "text", "texts", "txt", "txts", "message", "messages", "msg", "msgs", "sms", "smses", "sms's",
    "survey", "surveys", "questionnaire", "questionnaires", "questions", "spam", "promo", "promos",
    "promotion", "promotions", "marketing", "stuff", "crap", "junk", "nonsense", "rubbish",
    "garbage", "bs", "shit",
];

/// Messaging verbs: not charging, calling, transferring, playing hold music.
#[rustfmt::skip]
const MESSAGING: &[&str] = &[
    "texting", "txting", "messaging", "msging", "sending", "contacting", "spamming", "bothering",
    "harassing", "harrassing", "pestering", "bugging", "emailing", "writing", "surveying", "smsing",
    "sms'ing", "asking",
];

#[rustfmt::skip]
const POLITE: &[&str] = &[
    "please", "pls", "plz", "thanks", "thank", "you", "thankyou", "thx", "ty", "now", "immediately",
    "asap", "already", "right", "away", "again", "anymore", "any", "more", "ever", "forever", "ok",
    "okay", "sir", "madam", "guys", "seriously", "for", "good", "at", "all", "real", "permanently",
    "completely", "altogether", "lol", "and", "bye", "goodbye", "once", "kindly", "over", "enough",
    "man", "dude", "stop", "or", "else", "i'll", "ill", "report", "block", "ffs", "god", "damn",
];

#[rustfmt::skip]
const UNSUBSCRIBE: &[&str] = &[
    "unsubscribe", "unsubscribed", "unsubscribing", "unsub", "unsubbed",
];

#[rustfmt::skip]
const NEGATIONS: &[&str] = &[
    "don't", "dont", "not", "never", "didn't", "didnt", "won't", "wont", "shouldn't", "shouldnt",
    "doesn't", "doesnt",
];

const LISTS: &[&str] = &[
    "list", "lists", "mailing", "contact", "contacts", "texting", "database", "db", "system",
    "records", "register", "here",
];
