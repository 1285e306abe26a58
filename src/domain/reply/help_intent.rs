//! Help asked for in the customer's own words, not only as `HELP`/`帮助` alone: `我需要帮助`,
//! `怎么联系人工客服`, `这是什么短信`, `I want to talk to a person`. The answer is the help
//! text, which names the hotline and what the survey is. Asking who we are or what it means
//! (`你们是谁`, `什么意思`, `who is this`) is not: people read those as a reply to re-prompt,
//! and the re-prompt says what is asked.
//!
//! Narrower than a stop: the whole message must be the request (with greetings and politeness
//! around it), because a comment that mentions help (`help me 我的账户被冻结了`) is what the
//! customer wants read, and a question about something else (`这是什么服务态度`) is a remark.
//! A missed request costs a re-prompt; a wrong one swallows an answer.

use std::sync::LazyLock;

use regex::Regex;

use super::phrases::{any_of, clauses, phrase};
use crate::domain::survey::QuestionKind;

/// The question a reply answers, which decides what, told beside a request for a person,
/// could be an answer the request must not swallow: `问题还没解决` answers "was it solved?",
/// not "how likely are you to recommend us?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answering {
    YesNo,
    Scale,
    /// The compact survey's one reply: both at once.
    Pair,
    /// The free comment, where the customer's words are what a person reads (`我需要帮助`,
    /// `help me 我的账户被冻结了`): only a request to be put through to a person or called
    /// back asks for help there, with the trouble beside it or not
    /// (`麻烦给我回个电话，我的账户被冻结了`).
    Comment,
}

impl From<&QuestionKind> for Answering {
    fn from(kind: &QuestionKind) -> Self {
        match kind {
            QuestionKind::YesNo => Answering::YesNo,
            QuestionKind::Scale { .. } => Answering::Scale,
            QuestionKind::Text => Answering::Comment,
        }
    }
}

/// `norm` is a `normalise`d message.
pub(super) fn asks_for_help(norm: &str, answering: Answering) -> bool {
    // One pass: each clause's phrases are matched once, on every reply to a question.
    let mut asked = false;
    let mut person = false;
    let mut trouble = false;
    let mut unsolved = false;
    for words in clauses(norm) {
        if let Some(request) = request(&words) {
            asked = true;
            person |= request == Request::Person;
        } else if asks_for_a_person_with_the_problem(&words, answering) {
            asked = true;
            person = true;
        } else if !polite(&words) {
            // Trouble told beside a request for a person (`我要找人工，钱到现在还没到`) leaves
            // it the request; anything that may answer does not, but "not solved": that is
            // the trouble, and why a person is wanted (`没解决，能不能让人工给我回个电话`).
            for word in &words {
                let not_solved = says_unsolved(word, answering);
                if holds_an_answer(word, answering) && !not_solved {
                    return false;
                }
                unsolved |= not_solved;
            }
            trouble = true;
        }
    }
    match answering {
        Answering::Comment => person,
        _ if unsolved => person,
        _ => asked && (person || !trouble),
    }
}

/// "Not solved" told to a question that asks it: with a request for a person beside it,
/// the trouble rather than an answer the request would swallow.
fn says_unsolved(word: &str, answering: Answering) -> bool {
    matches!(answering, Answering::YesNo | Answering::Pair)
        && !word.chars().any(|c| c.is_ascii_digit())
        && super::polarity(word) == Some(false)
}

/// A clause written in spaced parts, one of them a request for a person and the others
/// the trouble that makes it urgent (`急急急 找人工 钱扣了单没成功`, `我要跟人说话 不要机器`):
/// someone asking for a person wants one, whatever else they say, as long as no part holds
/// an answer (a number, 解决, 满意) that the request would swallow.
fn asks_for_a_person_with_the_problem(words: &[&str], answering: Answering) -> bool {
    words.len() > 1
        && words.iter().any(|w| asks_for_a_person(w))
        && words.iter().all(|w| !holds_an_answer(w, answering))
}

fn asks_for_a_person(word: &str) -> bool {
    PERSON_RULES.iter().any(|rule| rule.is_match(word))
}

/// Whether `word` may hold an answer to the question (a number always may).
fn holds_an_answer(word: &str, answering: Answering) -> bool {
    const YES_NO: &[&str] = &["解决", "是的", "好了"];
    const YES_NO_ENGLISH: &[&str] = &["yes", "no", "solved", "resolved", "fixed"];
    const SCALE: &[&str] = &["满意", "分", "星"];
    const SCALE_ENGLISH: &[&str] = &["satisfied"];
    let (yes_no, scale) = match answering {
        Answering::YesNo => (true, false),
        Answering::Scale => (false, true),
        Answering::Pair | Answering::Comment => (true, true),
    };
    word.chars()
        .any(|c| c.is_ascii_digit() || super::chinese_digit(c).is_some())
        || yes_no && (YES_NO.iter().any(|a| word.contains(a)) || YES_NO_ENGLISH.contains(&word))
        || scale && (SCALE.iter().any(|a| word.contains(a)) || SCALE_ENGLISH.contains(&word))
}

#[derive(PartialEq, Eq)]
enum Request {
    /// To be put through to a person: trouble told beside it leaves it the request.
    Person,
    Other,
}

/// What the clause asks for, if it is a request for help.
fn request(words: &[&str]) -> Option<Request> {
    let chinese = words.concat();
    let english = words.join(" ");
    if asks_for_a_person(&chinese) || asks_for_a_person(&english) {
        return Some(Request::Person);
    }
    (CHINESE.iter().any(|rule| rule.is_match(&chinese))
        || ENGLISH.iter().any(|rule| rule.is_match(&english)))
    .then_some(Request::Other)
}

/// A clause that greets, thanks, or gives the reason for asking (`机器人听不懂`, `我还有问题`):
/// it leaves the request the whole message.
fn polite(words: &[&str]) -> bool {
    let chinese = words.concat();
    let english = words.join(" ");
    POLITE.contains(&chinese.as_str())
        || POLITE.contains(&english.as_str())
        || REASON.is_match(&chinese)
}

static REASON: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        "^(?:机器人|你们|我)?(?:听不懂|看不懂|没看懂|不明白|不懂)(?:啊|呀|了)?$\
         |^(?:我)?(?:还)?有(?:个|些|点)?问题(?:要问|想问|想咨询|要咨询)?(?:啊|呀|了)?$",
    )
    .expect("a valid pattern")
});

/// Asking to be put through to a person: `转人工`, `我要人工客服`, `能帮我转接人工吗`, `我要跟人说话`.
static PERSON_RULES: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    let human = any_of(HUMAN);
    let person = any_of(PERSON);
    vec![
        phrase(
            LEAD,
            &format!(
                "(?:我)?(?:要|想|需要|请)?(?:能|可以|能不能|可不可以)?(?:帮我|给我)?(?:找|转|联系|接通|接|转接)?(?:个)?(?:{human})"
            ),
            TAIL,
            "",
        ),
        phrase(
            LEAD,
            "(?:我)?(?:要|想|需要)?(?:跟|和|找)(?:真)?人(?:工)?(?:说话|聊|对话|沟通|讲)",
            TAIL,
            "",
        ),
        // A call back asked for: 能不能让人工打个电话给我, 人工客服给我回个电话, 麻烦你们打个电话
        // 给我. Not told: `客服打电话给我了` (it happened) has none of 让, 请 or 给我 before
        // the verb.
        phrase(
            LEAD,
            &format!(
                "(?:我)?(?:要|想|需要)?(?:能|可以|能不能|可不可以)?\
                 (?:(?:让|叫)(?:个)?{WHO}(?:再)?(?:给我|帮我)?|{WHO}(?:给我|帮我)\
                 |(?:请|麻烦)(?:{WHO}(?:再)?(?:给我|帮我)?|给我|帮我)?|(?:能|可以|能不能|可不可以)(?:直接|尽快|马上)?)\
                 (?:再)?{CALL_BACK}(?:给我)?(?:一下|说|说说|聊聊)?"
            ),
            TAIL,
            "",
        ),
        // how do I contact support, how to call your hotline, I want to talk to a human (about
        // my refund: what about is the customer's to say to that person)
        phrase(
            EN_LEAD,
            &format!(
                "how (?:(?:do|can|should) i|to) (?:contact|reach|call|talk to|speak to|speak with|talk with|get) (?:{person})"
            ),
            EN_TAIL,
            " ",
        ),
        phrase(
            EN_LEAD,
            &format!(
                "(?:i )?(?:want|need|would like|wanna)? ?(?:to )?(?:talk|speak) (?:to|with) (?:{person})(?: about(?: [a-z']+){{1,4}})?"
            ),
            EN_TAIL,
            " ",
        ),
        // call me back, can call me back? (as Singapore and Malaysia write it)
        phrase(
            EN_LEAD,
            "(?:(?:can|could|would|will) (?:you )?)?(?:please )?call me(?: back)?(?: asap| soon)?",
            EN_TAIL,
            " ",
        ),
        // can someone call me, please have an agent call me back
        phrase(
            EN_LEAD,
            "(?:can|could|would|will) (?:someone|somebody|you|an agent|a person|support)(?: please)? call me(?: back)?",
            EN_TAIL,
            " ",
        ),
        phrase(
            EN_LEAD,
            "(?:please )?(?:have|get) (?:someone|somebody|an agent|a person) (?:to )?call me(?: back)?",
            EN_TAIL,
            " ",
        ),
    ]
});

static CHINESE: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    let human = any_of(HUMAN);
    let reach = any_of(REACH);
    vec![
        // 我需要帮助, 求助, 帮帮我, 请帮我一下
        phrase(
            LEAD,
            "(?:我|我们)?(?:需要|要|想要|想|请)?(?:帮助|帮忙|协助|求助|帮帮我|帮我一下|帮一下我)",
            TAIL,
            "",
        ),
        // 怎么联系人工客服, 如何找到你们客服, 怎样打给客服
        phrase(
            LEAD,
            &format!(
                "(?:我)?(?:要|该|应该)?(?:怎么|如何|怎样|咋)(?:才能)?(?:{reach})(?:到)?(?:你们的?|你们)?(?:{human}|客服)(?:电话)?"
            ),
            TAIL,
            "",
        ),
        // 客服电话是多少, 你们的客服热线
        phrase(
            LEAD,
            "(?:你们的?)?(?:人工)?客服(?:电话|热线|号码)(?:是)?(?:多少号?|什么|几号)?",
            TAIL,
            "",
        ),
        // 这是什么短信, 这是哪里发的消息 (the message named: `这是啥`, `你们是谁` and `什么意思`
        // are read, by every hand that wrote the corpus, as a reply to re-prompt)
        phrase(
            LEAD,
            "这(?:个)?(?:是)?(?:什么|啥|哪里的?|哪里发的|谁发的|哪个公司的?)(?:短信|简讯|消息|信息|问卷|调查)",
            TAIL,
            "",
        ),
        // 这短信是干嘛的, 发这个干什么
        phrase(
            LEAD,
            "这(?:个)?(?:短信|简讯|消息|信息|号码)(?:是)?(?:干嘛|干什么|做什么|做啥)(?:的|用的)?",
            TAIL,
            "",
        ),
        phrase(
            LEAD,
            "(?:你们)?(?:发|给我发)这(?:个|些)?(?:短信|简讯|消息|信息)?(?:是)?(?:干嘛|干什么|做什么)",
            TAIL,
            "",
        ),
        // 人工客服怎么联系: the person named first
        phrase(
            LEAD,
            &format!(
                "(?:{human}|客服)(?:电话)?(?:要|该|应该)?(?:怎么|如何|怎样|咋)(?:才能)?(?:{reach})(?:到)?(?:你们)?"
            ),
            TAIL,
            "",
        ),
        // 怎么回复, 要回什么
        phrase(
            LEAD,
            "(?:我)?(?:要|该|应该)?(?:怎么|如何)(?:回复|回答|填写|填|回)",
            TAIL,
            "",
        ),
        phrase(LEAD, "(?:我)?(?:要|该|应该)?回(?:复)?(?:什么|啥)", TAIL, ""),
    ]
});

static ENGLISH: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    vec![
        // i need help, help me please, can someone help me
        phrase(
            EN_LEAD,
            "(?:i )?(?:need|want|would like)(?: some| your)? help(?: with this)?",
            EN_TAIL,
            " ",
        ),
        phrase(EN_LEAD, "help me", EN_TAIL, " "),
        phrase(
            EN_LEAD,
            "(?:can|could) (?:you|someone|somebody|anyone) help(?: me)?",
            EN_TAIL,
            " ",
        ),
        // what are these messages for
        phrase(
            EN_LEAD,
            "(?:what are|what're|why) (?:these|those|the) (?:messages|texts|sms)(?: for)?",
            EN_TAIL,
            " ",
        ),
        // what's this text about (the message named, as in Chinese)
        phrase(
            EN_LEAD,
            "(?:what is|what's|whats|what s) (?:this|that) (?:message|text|sms|survey)(?: (?:about|for))?",
            EN_TAIL,
            " ",
        ),
        // how do i contact support, i want to talk to a human
        phrase(
            EN_LEAD,
            "(?:what is |what's |whats )?(?:the |your )?(?:customer service|support|hotline)(?: phone)? number",
            EN_TAIL,
            " ",
        ),
        phrase(
            EN_LEAD,
            "how (?:do|should) i (?:reply|answer|respond)(?: to this)?",
            EN_TAIL,
            " ",
        ),
    ]
});

/// Who a customer may ask to be put through to, in Chinese.
const HUMAN: &[&str] = &[
    "人工客服",
    "人工服务",
    "人工坐席",
    "人工",
    "真人客服",
    "真人",
];
/// Who is to call the customer back, and the calling.
const WHO: &str =
    "(?:人工客服|人工服务|人工|真人客服|真人|你们的客服|你们客服|客服|你们的人|你们|人)";
const CALL_BACK: &str = "(?:回个电话|回电话|回电|打个电话|打电话|打给我|打回电话|打回|联系我)";
const REACH: &[&str] = &["联系", "联络", "找", "打给", "打", "转", "接通"];
#[rustfmt::skip]
const PERSON: &[&str] = &[
    "you", "support", "customer service", "customer support", "an agent", "a human", "a person",
    "a real person", "someone", "somebody", "an actual person", "a human being", "agent",
    "human", "person", "a representative", "the agent", "your hotline", "the hotline", "hotline",
];

const LEAD: &[&str] = &[
    "请问", "你好", "您好", "喂", "那个", "请", "哎", "嗨", "麻烦",
];
const TAIL: &[&str] = &[
    "啊",
    "呀",
    "呢",
    "吗",
    "哈",
    "的",
    "了",
    "谢谢",
    "一下",
    "下",
    "不",
    "好吗",
    "可以吗",
];
#[rustfmt::skip]
const EN_LEAD: &[&str] = &["hi", "hello", "hey", "excuse me", "sorry", "um", "uh", "please", "pls", "so"];
const EN_TAIL: &[&str] = &[
    "please",
    "pls",
    "thanks",
    "thank you",
    "again",
    "here",
    "now",
];

/// A clause of its own that only greets or thanks.
#[rustfmt::skip]
const POLITE: &[&str] = &[
    "你好", "您好", "请问", "谢谢", "谢谢你", "谢谢您", "麻烦了", "麻烦你", "打扰了", "喂",
    "hi", "hello", "hey", "thanks", "thank you", "please", "pls", "sorry", "excuse me",
];

#[cfg(test)]
mod tests {
    use super::super::normalise;
    use super::{Answering, asks_for_help};

    #[test]
    fn help_in_words_is_help() {
        for text in [
            "我需要帮助",
            "需要帮助",
            "请帮帮我",
            "怎么联系人工客服",
            "如何联系你们客服？",
            "转人工",
            "我要人工客服",
            "客服电话是多少",
            "这是什么短信？",
            "能帮我转接人工吗",
            "这短信是干嘛的",
            "what are these messages for?",
            "請問這是什麼簡訊",
            "您好，请问怎么回复",
            "I need help",
            "help me please",
            "what's this text about?",
            "how do I contact support",
            "I want to talk to a real person",
            "hi, can someone help me",
            "我要找真人客服，机器人听不懂",
            "客服电话多少，我还有问题",
            "能帮我转个人工不",
            "能不能让人工打给我",
            "这个号码是干嘛的？",
            "急急急 找人工 钱扣了单没成功",
            "我要跟人说话 不要机器",
            "帮我转人工 钱卡住了",
            "我要找人工，钱到现在还没到",
            "Can someone call me pls, still can't log in",
        ] {
            assert!(
                asks_for_help(&normalise(text), Answering::Pair),
                "{text:?} should ask for help"
            );
        }
    }

    #[test]
    fn help_inside_a_remark_is_not_a_request() {
        for text in [
            "help me 我的账户被冻结了",
            "这是什么服务态度",
            "客服帮助我解决了问题",
            "需要帮助的时候没人理",
            "5分，谢谢帮助",
            "the agent helped me",
            "what is this fee on my bill",
            "who is responsible for this mess",
            "人工客服很好",
            "这是啥",
            "什么意思？",
            "你们是谁",
            "Who is this?",
            "What does this mean",
            "找了人工三次才解决",
            "我还有问题",
            "机器人听不懂",
            "人工客服不理我，机器人听不懂",
            "转人工 解决了",
            "找人工 2",
            "钱卡住了 急",
            "我要找人工，解决了",
            "我需要帮助，钱到现在还没到",
            "谢谢",
            "",
        ] {
            assert!(
                !asks_for_help(&normalise(text), Answering::Pair),
                "{text:?} is not a request for help"
            );
        }
    }
}
