//! Reading a customer's SMS reply (DESIGN.md §3): a keyword (opt out, opt in, help) or the
//! answer to the open question. What cannot be read without guessing is `NotUnderstood`, and
//! the caller re-prompts once, saying what is expected: a wrong score counts in a report for
//! good, a re-prompt costs one SMS.

pub mod compact;
mod echo;
mod help_intent;
mod labels;
mod phrases;
mod remark;
mod resolution;
mod stop_intent;
mod traditional;
mod typos;

pub use help_intent::Answering;
pub use labels::{LabelError, Labels};

#[cfg(test)]
mod corpus;

use std::sync::LazyLock;

use crate::domain::survey::QuestionKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    OptOut,
    OptIn,
    Help,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerValue {
    YesNo(bool),
    Scale(i32),
    Text(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Keyword(Keyword),
    Answer(AnswerValue),
    NotUnderstood,
}

/// Folds width, case and script (full-width ASCII → ASCII, ideographic space → space,
/// lowercase, traditional Chinese → simplified for the characters replies use), trims
/// whitespace and surrounding punctuation (ASCII and CJK: 。，！？、；：“”‘’「」【】（）《》…~～ and emoji).
///
/// Also collapses inner runs of whitespace (newlines included) to one space, so "8  out of\n10"
/// reads like "8 out of 10", and corrects slips in the words replies are read by (`typos`:
/// `解绝了`, `very satisfed`). Two things survive the trim on purpose: a sign directly before a
/// digit ("-5" must not read as 5) and star characters (⭐★☆🌟), which are a rating themselves.
pub fn normalise(text: &str) -> String {
    let folded: String = emoji_as_text(text)
        .chars()
        .map(fold_width)
        .map(traditional::simplified)
        .flat_map(char::to_lowercase)
        .collect();
    let spaced = trim(&folded)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    typos::corrected(spaced)
}

/// A keycap emoji (`1️⃣`: the digit, an optional U+FE0F, U+20E3) as its digit, so that
/// `1️⃣0️⃣` is 10, not 1 and 0 with emoji between; and the emoji that say a word or a number
/// (✅ yes, ❌ no, 🔟 10, 💯 full marks, 🈵 满) as what they say.
fn emoji_as_text(text: &str) -> std::borrow::Cow<'_, str> {
    const SAYS: &[(char, &str)] = &[
        ('✅', " yes "),
        ('✔', " yes "),
        ('☑', " yes "),
        ('❌', " no "),
        ('✖', " no "),
        ('🔟', "10"),
        ('💯', "满分"),
        ('🈵', "满"),
    ];
    if !text.contains('\u{20E3}') && !text.contains(|c| SAYS.iter().any(|(e, _)| *e == c)) {
        return text.into();
    }
    let text: String = text
        .chars()
        .map(|c| match SAYS.iter().find(|(e, _)| *e == c) {
            Some((_, says)) => (*says).to_owned(),
            None => c.to_string(),
        })
        .collect();
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        out.push(chars[i]);
        if chars[i].is_ascii_digit() {
            let skip = match chars.get(i + 1..i + 3) {
                Some(['\u{FE0F}', '\u{20E3}']) => 2,
                _ if chars.get(i + 1) == Some(&'\u{20E3}') => 1,
                _ => 0,
            };
            i += skip;
        }
        i += 1;
    }
    out.into()
}

/// A keyword alone in the message (after `normalise`): opt-out `TD`, `T`, `R`, `N`, `退订`, `拒收`,
/// `STOP`, `STOPALL`, `UNSUBSCRIBE`, `CANCEL`, `END`, `QUIT`, `REVOKE`, `OPTOUT`; opt-in `START`,
/// `UNSTOP`, `订阅`; help `HELP`, `INFO`, `帮助`. A help or opt-in keyword inside a longer message
/// is NOT a keyword ("help me" is a comment; "STOP!!" and " ｓｔｏｐ " are keywords).
///
/// Two deliberate widenings, because missing an opt-out breaks the promise to honour it at
/// once: a message made only of multi-letter opt-out keywords is an opt-out ("TD退订", "退订 TD",
/// "stop stop": the SMS hint says "回TD退订" and people echo it back), and so is a stop asked
/// for in words (`stop_intent`: "别再发了", "T D", "stop texting me"), but not a sentence about
/// stopping something else ("扣款停不下来", "please stop calling me"). Single letters do not
/// combine, so emoticons like "T_T" or "T T" stay ordinary text.
pub fn keyword(text: &str) -> Option<Keyword> {
    keyword_of(&normalise(text))
}

/// Help asked for in words (`我需要帮助`, `怎么联系人工客服`): what `parse` answers with the
/// help text, beside the keywords `keyword` finds. To the free comment only a message that
/// is wholly the request asks for help.
pub fn asks_for_help(text: &str, answering: Answering) -> bool {
    help_intent::asks_for_help(&normalise(text), answering)
}

/// Parses `text` as the answer to a question of `kind` with its answer `labels`, keywords
/// first — except that `N` (and `n`, `Ｎ`) answers a yes/no question as "no" rather than
/// opting out. An answer in one of the forms DESIGN.md §3 lists is read as it always was;
/// failing that, a clear answer with a remark around it is read too (`remark`).
pub fn parse(text: &str, kind: &QuestionKind, labels: &Labels) -> Reply {
    read(text, kind, labels).reply
}

/// A reply as `parse` reads it, and whether its answer came with a remark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub reply: Reply,
    /// The answer was read past words that are not it (`8分，挺好的`, `没解决，还是扣款失败`):
    /// the customer said something, kept whole as the answer's raw text, which the feedback
    /// list shows. Never set for a keyword, a comment or a reply that was not understood.
    pub remark: bool,
}

/// `parse`, telling apart an answer in one of DESIGN.md §3's forms from one read with a
/// remark around it.
pub fn read(text: &str, kind: &QuestionKind, labels: &Labels) -> Read {
    let plain = |reply| Read {
        reply,
        remark: false,
    };
    let norm = normalise(text);
    if *kind == QuestionKind::YesNo && norm == "n" {
        return plain(Reply::Answer(AnswerValue::YesNo(false)));
    }
    if let Some(keyword) = keyword_of(&norm) {
        return plain(Reply::Keyword(keyword));
    }
    // To a free comment, `help me …` with the trouble is the comment, for a person to read.
    if help_intent::asks_for_help(&norm, kind.into()) {
        return plain(Reply::Keyword(Keyword::Help));
    }
    // A comment is kept whole, pasted question and all; after a pasted question only an
    // answer is taken (a keyword is what `keyword` finds in the whole message).
    if *kind != QuestionKind::Text
        && let Some(answer) = echo::answer_after(&norm)
    {
        let inner = read(answer, kind, labels);
        if matches!(inner.reply, Reply::Answer(_)) {
            return inner;
        }
    }
    let norm = unspaced_chinese(&norm);
    let strict = match *kind {
        QuestionKind::YesNo => yes_no(&norm).map(AnswerValue::YesNo),
        QuestionKind::Scale { min, max } => scale(&norm, min, max)
            .or_else(|| {
                labels
                    .exactly(&answer_words(&norm).join(" "))
                    .filter(|v| (min..=max).contains(v))
            })
            .map(AnswerValue::Scale),
        QuestionKind::Text => free_text(text).map(AnswerValue::Text),
    };
    if let Some(answer) = strict {
        return plain(Reply::Answer(answer));
    }
    let remarked = match *kind {
        QuestionKind::YesNo => remark::yes_no(&norm).map(AnswerValue::YesNo),
        QuestionKind::Scale { min, max } => {
            remark::scale(&norm, min, max, labels).map(AnswerValue::Scale)
        }
        QuestionKind::Text => None,
    };
    match remarked {
        Some(answer) => Read {
            reply: Reply::Answer(answer),
            remark: true,
        },
        None => plain(Reply::NotUnderstood),
    }
}

// ---------------------------------------------------------------------------------------------
// Normalising

/// `norm` with the spaces taken out that do not separate words: between characters written
/// one by one (`解 决 了`), and after a word that only modifies what follows (`非常 满意` is
/// `非常满意`, 5, not `满意` with a word before it; `非常 不满意` is 1). Any other space between
/// Chinese words ends a clause, as a comma would (`是 谢谢`, `问题没解决 我要投诉`).
fn unspaced_chinese(norm: &str) -> String {
    #[rustfmt::skip]
    const MODIFIERS: &[&str] = &[
        "非常", "特别", "十分", "很", "太", "挺", "蛮", "真", "超", "超级", "比较", "相当", "不", "不太",
        "不是很", "不大", "没", "没有", "未", "已", "已经",
    ];
    let single = |w: &str| {
        let mut cs = w.chars();
        cs.next().is_some_and(is_chinese) && cs.next().is_none()
    };
    let mut out = String::with_capacity(norm.len());
    let mut previous: Option<&str> = None;
    for word in norm.split(' ') {
        if let Some(left) = previous {
            let joins = word.starts_with(is_chinese)
                && left.ends_with(is_chinese)
                && ((single(left) && single(word)) || MODIFIERS.contains(&left));
            if !joins {
                out.push(' ');
            }
        }
        out.push_str(word);
        previous = Some(word);
    }
    out
}

pub(super) fn is_chinese(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}')
}

/// Full-width ASCII (U+FF01–FF5E) sits at a fixed offset from ASCII; Chinese input methods
/// produce it for digits and letters ("５", "ＳＴＯＰ").
fn fold_width(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// Trims both ends, but stops before a sign that belongs to a number.
fn trim(text: &str) -> &str {
    let mut rest = text.trim_end_matches(is_trimmable);
    while let Some(c) = rest.chars().next() {
        let rest_after = &rest[c.len_utf8()..];
        let signs_a_number =
            matches!(c, '-' | '+') && rest_after.starts_with(|d: char| d.is_ascii_digit());
        if !is_trimmable(c) || signs_a_number {
            break;
        }
        rest = rest_after;
    }
    rest
}

fn is_trimmable(c: char) -> bool {
    c.is_whitespace() || c.is_ascii_punctuation() || is_separator(c)
}

/// Characters that separate words without meaning anything themselves. ASCII `-`, `+`, `/`,
/// `*`, `#`, `%`, `_` and the like are not: they can turn "3-4" into a range, "-5" into a
/// negative, "T_T" into a face.
fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || ",.;:!?()[]{}\"'`~=".contains(c)
        || is_cjk_punctuation(c)
        || is_emoji(c)
        || is_invisible(c)
}

fn is_cjk_punctuation(c: char) -> bool {
    matches!(c,
        '\u{3001}'..='\u{3003}'     // 、。〃 (not U+3007 〇, a zero)
        | '\u{3008}'..='\u{3011}'   // 〈〉《》「」『』【】
        | '\u{3014}'..='\u{301F}'   // 〔〕〖〗〘〙〚〛〜〝〞〟
        | '\u{2010}'..='\u{2027}'   // dashes, ‘’“”, •, …
        | '\u{2030}'..='\u{205E}'   // ‰ ′ ‹› ※ ‼ ⁇ …
        | '\u{30FB}'                // ・
        | '\u{FE30}'..='\u{FE6B}'   // vertical and small forms
        | '\u{FF61}'..='\u{FF65}'   // half-width 。「」、・
        | '·' | '¡' | '¿')
}

/// Emoji and pictographs, minus the stars, which carry a rating.
fn is_emoji(c: char) -> bool {
    !is_star(c)
        && matches!(c,
            '\u{1F000}'..='\u{1FAFF}'
            | '\u{2190}'..='\u{21FF}'
            | '\u{2300}'..='\u{23FF}'
            | '\u{2600}'..='\u{27BF}'
            | '\u{2B00}'..='\u{2BFF}'
            | '\u{E0020}'..='\u{E007F}'
            | '\u{3030}' | '\u{303D}' | '\u{3297}' | '\u{3299}'
            | '©' | '®' | '™')
}

/// Joiners, variation selectors, the keycap mark ("5️⃣" is 5, U+FE0F, U+20E3) and BOMs.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FE00}'..='\u{FE0F}' | '\u{20E3}' | '\u{FEFF}')
}

fn is_star(c: char) -> bool {
    matches!(c, '⭐' | '★' | '☆' | '🌟')
}

/// The words of a normalised message, split at separators.
fn words(norm: &str) -> impl Iterator<Item = &str> {
    norm.split(is_separator).filter(|w| !w.is_empty())
}

/// Politeness around an answer ("是的，谢谢", "5, thanks") adds nothing and is dropped; alone it
/// answers nothing, so it is never an answer by itself. "ok"/"好的" are here, not among the
/// yes-words: to "was it solved?" they acknowledge the message rather than say yes.
fn is_filler(word: &str) -> bool {
    is_polite_word(word) || is_thanks(word) || PROXY.is_match(word)
}

/// Someone answering for the customer says so first (`我替我母亲回复：没有解决`); the answer
/// is theirs to give all the same.
static PROXY: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(&format!(
        "^我(?:替|帮|代)(?:我)?{KIN}(?:回复|回答|回|答|来回复)(?:一下)?$"
    ))
    .expect("a valid pattern")
});

/// Whom a customer answers for (`PROXY`), or whose report they pass on (`resolution`).
const KIN: &str =
    "(?:爸|妈|爸爸|妈妈|父亲|母亲|老爸|老妈|老公|老婆|老伴|爷爷|奶奶|外公|外婆|家人|家里人|他|她)";

/// Words of thanks, the longest of a family first (a thanks clause starts with one, an
/// answer may end with one).
const THANKS: &[&str] = &[
    "谢谢你们",
    "谢谢你",
    "谢谢您",
    "谢谢啦",
    "谢谢",
    "感谢",
    "多谢",
];

/// A clause that thanks and says nothing else that could answer or take an answer back:
/// `非常感谢贵公司客服人员的热情服务`, `谢谢你哈`.
fn is_thanks(clause: &str) -> bool {
    const LEADS: &[&str] = &["非常", "十分", "特别", "真的", "真心", "很", ""];
    let Some(rest) = LEADS.iter().find_map(|l| {
        THANKS
            .iter()
            .find_map(|t| clause.strip_prefix(l)?.strip_prefix(t))
    }) else {
        return false;
    };
    !rest.chars().any(|c| {
        c.is_ascii_digit() || chinese_digit(c).is_some() || "不没未别但解满分星".contains(c)
    })
}

fn is_polite_word(word: &str) -> bool {
    matches!(
        word,
        "ok" | "okay"
            | "好"
            | "好的"
            | "thanks"
            | "thank you"
            | "thank you so much"
            | "thanks so much"
            | "thanks a lot"
            | "中"
            | "thx"
            | "ty"
            | "谢谢"
            | "谢谢你"
            | "谢谢您"
            | "谢谢你们"
            | "谢谢啦"
            | "感谢你们"
            | "辛苦了"
            | "您好"
            | "你好"
            | "早上好"
            | "hmm"
            | "erm"
            | "um"
            | "uh"
            | "上午好"
            | "下午好"
            | "晚上好"
            | "多谢"
            | "感谢"
            | "谢了"
            | "唔该"
            | "唔该晒"
            | "多谢晒"
            | "谢了老铁"
            | "老铁"
            | "要得"
            | "bye"
            | "honestly"
            | "cheers"
            | "hhh"
            | "haha"
            | "哈哈"
    )
}

/// The words that may carry an answer, politeness dropped.
fn answer_words(norm: &str) -> Vec<String> {
    let norm = norm
        .replace("thank you", "thanks")
        .replace("outta", "out of");
    words(&norm)
        .filter(|w| !is_filler(w))
        .map(|w| without_thanks(w).to_owned())
        .collect()
}

/// Thanks written onto the answer without a break (`搞定了谢谢`, `5分谢谢`), and a laugh
/// before it (`hhh解决了`), are dropped as they would be on their own.
fn without_thanks(word: &str) -> &str {
    const LAUGHS: &[&str] = &["hhh", "哈哈哈", "哈哈"];
    let word = LAUGHS
        .iter()
        .find_map(|l| word.strip_prefix(l).filter(|rest| !rest.is_empty()))
        .unwrap_or(word);
    THANKS
        .iter()
        .find_map(|t| word.strip_suffix(t).filter(|rest| !rest.is_empty()))
        .unwrap_or(word)
}

// ---------------------------------------------------------------------------------------------
// Keywords

fn keyword_of(norm: &str) -> Option<Keyword> {
    lookup_keyword(norm).or_else(|| {
        (only_opt_outs(norm) || stop_intent::asks_to_stop(norm)).then_some(Keyword::OptOut)
    })
}

fn lookup_keyword(word: &str) -> Option<Keyword> {
    match word {
        "td" | "t" | "r" | "n" | "退订" | "拒收" | "stop" | "stopall" | "unsubscribe"
        | "cancel" | "end" | "quit" | "revoke" | "optout" => Some(Keyword::OptOut),
        "start" | "unstop" | "订阅" => Some(Keyword::OptIn),
        "help" | "info" | "帮助" => Some(Keyword::Help),
        _ => None,
    }
}

/// Two or more multi-letter opt-out keywords and nothing else ("td退订", "退订 td").
fn only_opt_outs(norm: &str) -> bool {
    let pieces: Vec<&str> = words(norm).flat_map(script_runs).collect();
    pieces.len() >= 2
        && pieces
            .iter()
            .all(|p| p.chars().count() >= 2 && lookup_keyword(p) == Some(Keyword::OptOut))
}

/// Splits where ASCII meets Chinese: "td退订" → "td", "退订".
fn script_runs(word: &str) -> Vec<&str> {
    let mut runs = Vec::new();
    let mut start = 0;
    let mut previous: Option<bool> = None;
    for (i, c) in word.char_indices() {
        if previous.is_some_and(|ascii| ascii != c.is_ascii()) {
            runs.push(&word[start..i]);
            start = i;
        }
        previous = Some(c.is_ascii());
    }
    runs.push(&word[start..]);
    runs
}

// ---------------------------------------------------------------------------------------------
// Yes / no

/// Every word must be a yes-word, a no-word or politeness, and the answer words must agree:
/// "是的，已经解决了，谢谢" is yes, "是 否" and "不，解决了" are not understood.
fn yes_no(norm: &str) -> Option<bool> {
    let mut answer = None;
    for word in answer_words(&english_no_phrases(norm)) {
        let this = polarity(&word)?;
        if answer.is_some_and(|a| a != this) {
            return None;
        }
        answer = Some(this);
    }
    answer
}

/// "not solved" and the like are one no-word: "not" alone says nothing. Pinyin typed
/// without its characters (`jie jue le`, `mei jie jue`) is the word it spells.
fn english_no_phrases(norm: &str) -> String {
    const PHRASES: &[(&str, &str)] = &[
        ("mei you jie jue", "unsolved"),
        ("mei jie jue", "unsolved"),
        ("jie jue le", "solved"),
        ("not solved", "unsolved"),
        ("not resolved", "unsolved"),
        ("not fixed", "unsolved"),
        ("not yet", "unsolved"),
        ("not really", "unsolved"),
        ("solve liao", "solved"),
        ("problem settled", "solved"),
        ("problem solved", "solved"),
        ("settled liao", "solved"),
        ("all sorted", "sorted"),
        ("solved liao", "solved"),
    ];
    PHRASES
        .iter()
        .fold(norm.to_owned(), |text, (phrase, word)| {
            text.replace(phrase, word)
        })
}

/// "嗯" counts as yes: in Chinese chat it is the ordinary affirmative reply to a yes/no
/// question ("mm-hm"), not a filler. "1"/"2" follow the question text ("reply 1 = yes, 2 = no"),
/// and so do their Chinese numerals "一"/"二".
fn polarity(word: &str) -> Option<bool> {
    polarity_in_tables(word)
        .or_else(|| resolution::said(word))
        .or_else(|| {
            // A particle a table word carries in speech (`没有耶`, `是啊`, `搞掂了喔`).
            const PARTICLES: [char; 12] = [
                '耶', '喔', '啦', '哦', '呀', '啊', '哈', '咯', '喇', '嘞', '噢', '咧',
            ];
            let bare = word.strip_suffix(PARTICLES)?;
            polarity_in_tables(bare)
        })
}

fn polarity_in_tables(word: &str) -> Option<bool> {
    if YES.contains(&word) {
        Some(true)
    } else if NO.contains(&word) {
        Some(false)
    } else {
        None
    }
}

// Tables, one line per few words as they read.
#[rustfmt::skip]
const YES: &[&str] = &[
    "1", "一", "①", "y", "yes", "yep", "yup", "yeah", "solved", "resolved", "fixed", "是", "是的", "是滴",
    "对", "对的", "嗯", "嗯嗯", "好了", "ok了", "解决", "解决了", "解决啦", "已解决", "已经解决",
    "已经解决了", "问题解决了", "问题已解决", "问题已经解决", "问题已经解决了", "已处理",
    "处理好了", "已经处理好了", "搞定了", "已经好了", "弄好了", "已经弄好了",
    // Cantonese and northern speech
    "妥了", "妥啦", "得咗", "有解决", "有解决了", "搞掂", "搞掂咗", "搞掂了", "搞定咗", "係", "系", "係呀", "系呀", "係啊", "系啊", "整明白了", "整好了",
    // 幺 is 1 read aloud; a phone menu's habits
    "幺", "按1", "按一", "选1", "选一", "我选1", "我选一", "我按1", "嗯呐", "sorted", "settled",
];

#[rustfmt::skip]
const NO: &[&str] = &[
    "2", "二", "②", "n", "no", "nope", "nah", "unsolved", "unresolved", "否", "不", "不是", "不对", "没",
    "没有", "没解决", "没有解决", "问题没解决", "问题没有解决", "问题还没解决", "问题未解决", "未解决", "还没", "还没有", "还没解决", "还没有解决", "还没呢",
    "还没好", "木有", "不行", "还是不行", "还不行", "没弄好", "还没弄好", "没搞好", "没搞定", "还没搞定",
    "解决个屁",
    // Cantonese and Sichuan speech: 冇 and 莫得 are 没有
    "冇", "冇搞掂", "未搞掂", "冇解决", "莫得", "莫得解决", "没得解决",
    "按2", "按二", "选2", "选二", "我选2", "我选二", "我按2", "解决了个寂寞",
    // 未 alone: Cantonese "not yet"
    "未",
];

// ---------------------------------------------------------------------------------------------
// Scale

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Num(i64),
    /// 分, 星, 点, 颗星, points, stars: a unit after a number.
    Unit,
    /// ⭐ ★ 🌟: one star of a rating, or a unit after a number ("5⭐").
    Star,
    /// ☆: an empty star in "★★★☆☆".
    Hollow,
    Slash,
    Out,
    Of,
    /// 满分, "full marks".
    Full,
    /// Anything else: a word we do not interpret, a sign, a range dash.
    Other,
}

/// A score in `min..=max`, or `None` when the reply is not exactly one number (with its unit
/// and, optionally, the scale's maximum as denominator) or a row of stars.
fn scale(norm: &str, min: i32, max: i32) -> Option<i32> {
    let tokens = lex(&answer_words(norm).join(" "));
    let value = if min == 1 && max == 5 && is_star_row(&tokens) {
        Some(stars(&tokens))
    } else {
        scale_value(&tokens, i64::from(max))
    }?;
    let value = i32::try_from(value).ok()?;
    (min..=max).contains(&value).then_some(value)
}

/// Stars rate only on a 1–5 scale, the five-star convention; on 0–10 a count of stars has no
/// agreed meaning.
fn is_star_row(tokens: &[Tok]) -> bool {
    !tokens.is_empty() && tokens.iter().all(|t| matches!(t, Tok::Star | Tok::Hollow))
}

fn stars(tokens: &[Tok]) -> i64 {
    tokens.iter().filter(|t| **t == Tok::Star).count() as i64
}

fn scale_value(tokens: &[Tok], max: i64) -> Option<i64> {
    match tokens {
        // "满分" names the top of whatever scale it answers: no label to interpret.
        [Tok::Full] => Some(max),
        [Tok::Full, rest @ ..] => full_marks_first(rest, max),
        _ => {
            let (value, rest) = leading_value(tokens)?;
            after_value(rest, value, max)
        }
    }
}

/// A number with an optional unit: "5", "5分", "五星", "5⭐", "5 points".
fn leading_value(tokens: &[Tok]) -> Option<(i64, &[Tok])> {
    match tokens {
        [Tok::Num(v), Tok::Unit | Tok::Star, rest @ ..] => Some((*v, rest)),
        [Tok::Num(v), rest @ ..] => Some((*v, rest)),
        _ => None,
    }
}

/// After the value only the scale's own maximum may follow: "8/10", "8 out of 10",
/// "8分（满分10分）", "10分满分". Any other denominator ("8/10" on 1–5) is a different scale
/// and any other word may qualify the number ("5 maybe"), so neither is read.
fn after_value(rest: &[Tok], value: i64, max: i64) -> Option<i64> {
    match rest {
        [] => Some(value),
        [Tok::Full] => (value == max).then_some(value),
        [Tok::Slash | Tok::Full | Tok::Of, tail @ ..] | [Tok::Out, Tok::Of, tail @ ..] => {
            (denominator(tail) == Some(max)).then_some(value)
        }
        _ => None,
    }
}

fn denominator(tokens: &[Tok]) -> Option<i64> {
    match tokens {
        [Tok::Num(m)] | [Tok::Num(m), Tok::Unit] => Some(*m),
        _ => None,
    }
}

/// "满分10分，8分" (the maximum first, then the score) and "满分10分" alone (full marks).
fn full_marks_first(rest: &[Tok], max: i64) -> Option<i64> {
    let (top, rest) = leading_value(rest)?;
    if top != max {
        return None;
    }
    if rest.is_empty() {
        return Some(max);
    }
    match leading_value(rest)? {
        (value, []) => Some(value),
        _ => None,
    }
}

fn lex(text: &str) -> Vec<Tok> {
    let mut tokens = Vec::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let (token, len) = next_token(rest, c);
        tokens.extend(token);
        rest = &rest[len..];
    }
    tokens
}

/// The token at the start of `rest` (whose first char is `c`) and its length in bytes.
fn next_token(rest: &str, c: char) -> (Option<Tok>, usize) {
    if c == ' ' {
        return (None, 1);
    }
    for (prefix, token) in [("满分", Tok::Full), ("颗星", Tok::Unit)] {
        if rest.starts_with(prefix) {
            return (Some(token), prefix.len());
        }
    }
    if c.is_ascii_digit() {
        let run = prefix_run(rest, |c| c.is_ascii_digit());
        return (Some(run.parse().map_or(Tok::Other, Tok::Num)), run.len());
    }
    if c.is_ascii_alphabetic() {
        let run = prefix_run(rest, |c| c.is_ascii_alphabetic());
        return (Some(word_token(run)), run.len());
    }
    if chinese_digit(c).is_some() {
        let run = prefix_run(rest, |c| chinese_digit(c).is_some());
        return (
            Some(chinese_number(run).map_or(Tok::Other, Tok::Num)),
            run.len(),
        );
    }
    (Some(char_token(c)), c.len_utf8())
}

fn prefix_run(text: &str, keep: impl Fn(char) -> bool) -> &str {
    let end = text.find(|c: char| !keep(c)).unwrap_or(text.len());
    &text[..end]
}

fn char_token(c: char) -> Tok {
    match c {
        '分' | '星' | '点' => Tok::Unit,
        '/' => Tok::Slash,
        '☆' => Tok::Hollow,
        c if is_star(c) => Tok::Star,
        // ①–⑩ (U+2460–2469), as some phones' keypads offer.
        '\u{2460}'..='\u{2469}' => Tok::Num(i64::from(c as u32 - 0x2460 + 1)),
        _ => Tok::Other,
    }
}

fn word_token(word: &str) -> Tok {
    const NUMBERS: [&str; 11] = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    ];
    match word {
        "out" => Tok::Out,
        "of" => Tok::Of,
        "point" | "points" | "pt" | "pts" | "star" | "stars" => Tok::Unit,
        _ => NUMBERS
            .iter()
            .position(|n| *n == word)
            .map_or(Tok::Other, |n| Tok::Num(n as i64)),
    }
}

fn chinese_digit(c: char) -> Option<i64> {
    let digit = match c {
        '零' | '〇' => 0,
        '一' | '壹' => 1,
        '二' | '两' | '兩' | '贰' | '貳' => 2,
        '三' | '叁' | '參' => 3,
        '四' | '肆' => 4,
        '五' | '伍' => 5,
        '六' | '陆' | '陸' => 6,
        '七' | '柒' => 7,
        '八' | '捌' => 8,
        '九' | '玖' => 9,
        '十' | '拾' => 10,
        _ => return None,
    };
    Some(digit)
}

/// 零–十, 十一–十九, 二十, 二十五 … Anything else made of numerals is two numbers run
/// together ("五六" is "five or six", "一二" lists) and is not read.
fn chinese_number(run: &str) -> Option<i64> {
    let digits: Vec<i64> = run.chars().filter_map(chinese_digit).collect();
    let unit = |d: i64| (1..=9).contains(&d).then_some(d);
    match digits.as_slice() {
        [d] => Some(*d),
        [10, ones] => Some(10 + unit(*ones)?),
        [tens, 10] => Some(10 * unit(*tens)?),
        [tens, 10, ones] => Some(10 * unit(*tens)? + unit(*ones)?),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Text

/// Kept as written, only trimmed (whitespace, zero-width characters): the comment is read by
/// people, and folding it would change what the customer said.
fn free_text(text: &str) -> Option<String> {
    let trimmed = text.trim_matches(|c: char| c.is_whitespace() || is_invisible(c));
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

#[cfg(test)]
mod tests;
