//! The reply table: what customers really send, and what each reply must mean.

use std::sync::LazyLock;

use super::*;
use crate::domain::survey::SurveyDefinition;
use Expect::*;
use Kind::*;

/// The questions of the default survey (DESIGN.md §3).
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// `resolved`: yes/no, "reply 1 = yes, 2 = no".
    Yn,
    /// `satisfaction`: 1–5.
    Csat,
    /// `recommend`: 0–10.
    Nps,
    /// `comment`: free text.
    Txt,
}

/// The shipped survey's questions, whose labels the table reads with.
static SHIPPED: LazyLock<SurveyDefinition> = LazyLock::new(|| super::corpus::shipped("standard"));

impl Kind {
    fn labels(self) -> &'static Labels {
        static NONE: LazyLock<Labels> = LazyLock::new(Labels::default);
        match self {
            Yn | Txt => &NONE,
            Csat => &SHIPPED.questions[1].labels,
            Nps => &SHIPPED.questions[2].labels,
        }
    }

    fn question(self) -> QuestionKind {
        match self {
            Yn => QuestionKind::YesNo,
            Csat => QuestionKind::Scale { min: 1, max: 5 },
            Nps => QuestionKind::Scale { min: 0, max: 10 },
            Txt => QuestionKind::Text,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Expect {
    Yes,
    No,
    Score(i32),
    Said(&'static str),
    Stop,
    Start,
    Help,
    /// Not understood: the caller re-prompts.
    Again,
}

impl Expect {
    fn reply(self) -> Reply {
        match self {
            Yes => Reply::Answer(AnswerValue::YesNo(true)),
            No => Reply::Answer(AnswerValue::YesNo(false)),
            Score(n) => Reply::Answer(AnswerValue::Scale(n)),
            Said(s) => Reply::Answer(AnswerValue::Text(s.to_owned())),
            Stop => Reply::Keyword(Keyword::OptOut),
            Start => Reply::Keyword(Keyword::OptIn),
            Help => Reply::Keyword(Keyword::Help),
            Again => Reply::NotUnderstood,
        }
    }
}

#[rustfmt::skip]
const CASES: &[(&str, Kind, Expect)] = &[
    // ── scale: plain numbers, widths, whitespace, punctuation ──────────────────────────────
    ("5",                 Csat, Score(5)),
    ("1",                 Csat, Score(1)),
    ("差不多4分",         Csat, Score(4)),
    ("差不多7分",         Nps,  Score(7)),
    ("8 outta 10",        Nps,  Score(8)),
    ("1O",                Nps,  Again),
    ("5t",                Csat, Again),
    ("十分愿意",          Nps,  Score(10)),
    ("问题没解决 我要投诉", Yn, No),
    ("５",                Csat, Score(5)),
    (" 5 ",               Csat, Score(5)),
    ("\n5\r\n",           Csat, Score(5)),
    ("\u{3000}５\u{3000}", Csat, Score(5)),
    ("\t4\t",             Csat, Score(4)),
    ("5!",                Csat, Score(5)),
    ("5！！",             Csat, Score(5)),
    ("5。",               Csat, Score(5)),
    ("5.",                Csat, Score(5)),
    ("\"5\"",             Csat, Score(5)),
    ("“5”",               Csat, Score(5)),
    ("「5」",             Csat, Score(5)),
    ("【5】",             Csat, Score(5)),
    ("（5）",             Csat, Score(5)),
    ("《5》",             Csat, Score(5)),
    ("5~",                Csat, Score(5)),
    ("5～",               Csat, Score(5)),
    ("5…",                Csat, Score(5)),
    ("...5",              Csat, Score(5)),
    ("10",                Nps,  Score(10)),
    ("１０",              Nps,  Score(10)),
    ("0",                 Nps,  Score(0)),
    ("00",                Nps,  Score(0)),
    ("07",                Nps,  Score(7)),
    // ── scale: units ───────────────────────────────────────────────────────────────────────
    ("5分",               Csat, Score(5)),
    ("5 分",              Csat, Score(5)),
    ("５分",              Csat, Score(5)),
    ("5星",               Csat, Score(5)),
    ("4颗星",             Csat, Score(4)),
    ("5点",               Csat, Score(5)),
    ("10分",              Nps,  Score(10)),
    ("9分！",             Nps,  Score(9)),
    ("5 stars",           Csat, Score(5)),
    ("1 star",            Csat, Score(1)),
    ("8 points",          Nps,  Score(8)),
    ("8pts",              Nps,  Score(8)),
    // ── scale: Chinese and English numerals ────────────────────────────────────────────────
    ("五",                Csat, Score(5)),
    ("五分",              Csat, Score(5)),
    ("五星",              Csat, Score(5)),
    ("一",                Csat, Score(1)),
    ("二",                Csat, Score(2)),
    ("两",                Csat, Score(2)),
    ("两分",              Csat, Score(2)),
    ("三",                Csat, Score(3)),
    ("四星",              Csat, Score(4)),
    ("零",                Nps,  Score(0)),
    ("零分",              Nps,  Score(0)),
    ("〇",                Nps,  Score(0)),
    ("六",                Nps,  Score(6)),
    ("七分",              Nps,  Score(7)),
    ("八",                Nps,  Score(8)),
    ("九分",              Nps,  Score(9)),
    ("十",                Nps,  Score(10)),
    ("十分",              Nps,  Score(10)),
    ("十！",              Nps,  Score(10)),
    ("five",              Csat, Score(5)),
    ("Five stars",        Csat, Score(5)),
    ("ten",               Nps,  Score(10)),
    ("zero",              Nps,  Score(0)),
    ("③",                 Csat, Score(3)),
    // ── scale: denominators equal to the maximum ───────────────────────────────────────────
    ("10/10",             Nps,  Score(10)),
    ("8/10",              Nps,  Score(8)),
    ("8 / 10",            Nps,  Score(8)),
    ("８／１０",          Nps,  Score(8)),
    ("4/5",               Csat, Score(4)),
    ("8 out of 10",       Nps,  Score(8)),
    ("8 OUT OF 10!",      Nps,  Score(8)),
    ("8 of 10",           Nps,  Score(8)),
    ("8  out of\n10",     Nps,  Score(8)),
    ("8分（满分10分）",   Nps,  Score(8)),
    ("8分(满分10)",       Nps,  Score(8)),
    ("满分10分，8分",     Nps,  Score(8)),
    ("4分/5分",           Csat, Score(4)),
    ("满分",              Nps,  Score(10)),
    ("满分！",            Csat, Score(5)),
    ("满分10分",          Nps,  Score(10)),
    ("10分满分",          Nps,  Score(10)),
    // ── scale: stars (1–5 only) and emoji around numbers ───────────────────────────────────
    ("⭐⭐⭐⭐",          Csat, Score(4)),
    ("⭐️⭐️⭐️",          Csat, Score(3)),
    ("★★★☆☆",             Csat, Score(3)),
    ("🌟🌟🌟🌟🌟",        Csat, Score(5)),
    ("👍⭐⭐⭐⭐⭐👍",    Csat, Score(5)),
    ("5⭐",               Csat, Score(5)),
    ("⭐⭐⭐⭐",          Nps,  Again),
    ("☆☆☆☆☆",             Csat, Again),
    ("⭐⭐⭐⭐⭐⭐",      Csat, Again),
    ("👍5",               Csat, Score(5)),
    ("5😊",               Csat, Score(5)),
    ("😊 9 😊",           Nps,  Score(9)),
    ("👍🏻10👍🏻",           Nps,  Score(10)),
    ("5️⃣",                Csat, Score(5)),
    ("❤️❤️ 4分 ❤️❤️",      Csat, Score(4)),
    // ── scale: politeness around the number ────────────────────────────────────────────────
    ("5分，谢谢",         Csat, Score(5)),
    ("9, thank you!",     Nps,  Score(9)),
    ("ok 7",              Nps,  Score(7)),
    ("谢谢",              Csat, Again),
    // ── scale: out of range → re-prompt ────────────────────────────────────────────────────
    ("0",                 Csat, Again),
    ("6",                 Csat, Again),
    ("10",                Csat, Again),
    ("十",                Csat, Again),
    ("11",                Nps,  Again),
    ("100",               Nps,  Again),
    ("100分",             Nps,  Again),
    ("45",                Nps,  Again),
    ("十一",              Nps,  Again),
    ("二十",              Nps,  Again),
    ("99999999999999999999999", Nps, Again),
    ("-5",                Nps,  Again),
    ("-1",                Csat, Again),
    ("+5",                Csat, Again),
    ("零",                Csat, Again),
    // ── scale: ambiguous → re-prompt ───────────────────────────────────────────────────────
    ("4 or 5",            Csat, Again),
    ("4或5",              Csat, Again),
    ("3-4",               Csat, Again),
    ("3~4",               Csat, Again),
    ("3到4",              Csat, Again),
    ("4,5",               Csat, Again),
    ("4 5",               Csat, Again),
    ("5 5",               Csat, Again),
    ("4.5",               Csat, Again),
    ("五六分",            Nps,  Again),
    ("not 5",             Csat, Again),
    ("不是5",             Csat, Again),
    ("不5分",             Csat, Again),
    ("8 or so",           Nps,  Again),
    ("good",              Csat, Again),
    ("very good",         Nps,  Again),
    ("8/10",              Csat, Again),
    ("4/5",               Nps,  Again),
    ("10/100",            Nps,  Again),
    ("满分5分",           Nps,  Again),
    ("8分（满分100分）",  Nps,  Again),
    ("5分满分",           Nps,  Again),
    ("5⭐⭐⭐⭐⭐",       Csat, Again),
    ("yes",               Csat, Again),
    ("no",                Nps,  Again),
    ("👍",                Csat, Again),
    ("",                  Csat, Again),
    ("  \n ",             Nps,  Again),
    ("!!!",               Nps,  Again),
    // ── labels from the question's configuration (issue 18): longest wins, negated re-prompts
    ("满意",              Csat, Score(4)),
    ("非常满意",          Csat, Score(5)),
    ("非常满意！",        Csat, Score(5)),
    ("一般",              Csat, Score(3)),
    ("一般般",            Csat, Score(3)),
    ("不满意",            Csat, Score(2)),
    ("非常不满意",        Csat, Score(1)),
    ("非常 满意",         Csat, Score(5)),
    ("非常 不满意",       Csat, Score(1)),
    ("不 满意",           Csat, Score(2)),
    ("满分是几分？",      Csat, Again),
    ("满分是多少分",      Nps,  Again),
    ("很满意",            Csat, Score(5)),
    ("比较满意",          Csat, Score(4)),
    ("Very Satisfied",    Csat, Score(5)),
    ("satisfied",         Csat, Score(4)),
    ("very dissatisfied", Csat, Score(1)),
    ("非常愿意",          Nps,  Score(10)),
    ("very likely",       Nps,  Score(10)),
    ("满意，5分",         Csat, Score(5)),
    ("非常满意 5分",      Csat, Score(5)),
    ("一般，3分",         Csat, Score(3)),
    ("非常愿意，9分",     Nps,  Score(9)),
    ("不是很满意",        Csat, Again),
    ("不太满意",          Csat, Again),
    ("不怎么满意",        Csat, Again),
    ("not satisfied",     Csat, Again),
    ("not very satisfied", Csat, Again),
    ("满意 不满意",       Csat, Again),
    ("非常满意 1分",      Csat, Again),
    ("1分 非常满意",      Csat, Again),
    ("非常愿意 3分",      Nps,  Again),
    ("满意吗",            Csat, Again),
    ("满意",              Nps,  Again),
    ("非常满意",          Nps,  Again),
    ("不愿意",            Nps,  Again),
    // ── answer + remark: the answer stands, the whole text is kept as raw ─────────────────────
    ("8分，挺好的",       Nps,  Score(8)),
    ("4分 等了很久",      Csat, Score(4)),
    ("4分，排队排了20分钟", Csat, Score(4)),
    ("4，打了3次电话才接通", Csat, Score(4)),
    ("1分。等了一个小时没人接", Csat, Score(1)),
    ("非常不满意，扣了两次钱", Csat, Score(1)),
    ("10分，一定推荐",    Nps,  Score(10)),
    ("肯定推荐 10分",     Nps,  Score(10)),
    ("8/10 would recommend", Nps, Score(8)),
    ("4 - waited too long", Csat, Score(4)),
    ("0 - never again",   Nps,  Score(0)),
    ("满分！服务很好",    Csat, Score(5)),
    ("8分(满分10分),挺好", Nps, Score(8)),
    ("4分。希望下次快一点", Csat, Score(4)),
    ("7分，一般般",       Nps,  Score(7)),
    ("no one answered for ages, 3", Csat, Score(3)),
    ("没解决，还是扣款失败", Yn, No),
    ("no, the app still crashes", Yn, No),
    ("没有，钱还没退回来", Yn,  No),
    ("2 还在等退款",      Yn,   No),
    ("not solved",        Yn,   No),
    ("not yet",           Yn,   No),
    ("解决了谢谢",        Yn,   Yes),
    ("是的解决了",        Yn,   Yes),
    ("已经解决了哦",      Yn,   Yes),
    ("谢谢，已经解决了",  Yn,   Yes),
    ("yes it was solved", Yn,   Yes),
    ("1 问题解决了",      Yn,   Yes),
    ("是，问题已经处理好了", Yn, Yes),
    // ── softeners name no other number: they do not block a score ─────────────────────────
    ("maybe 8",           Nps,  Score(8)),
    ("5分吧",             Csat, Score(5)),
    ("应该是4吧",         Csat, Score(4)),
    ("大概8分",           Nps,  Score(8)),
    ("评分8",             Nps,  Score(8)),
    ("I'd say 8",         Nps,  Score(8)),
    // ── what a remark must not do: a second number, a negation, a bound, a question, "but" ─
    ("4分，也可能3分",    Csat, Again),
    ("4分还是5分呢",      Csat, Again),
    ("8分 9分",           Nps,  Again),
    ("如果解决了就5分",   Csat, Again),
    ("本来想给5分的",     Csat, Again),
    ("至少4分",           Csat, Again),
    ("最多3分",           Csat, Again),
    ("不是10分",          Nps,  Again),
    ("不会给5分",         Csat, Again),
    ("没有到5分",         Csat, Again),
    ("I wouldn't give 5", Csat, Again),
    ("don’t think it's a 9", Nps, Again),
    ("not bad, 4",        Csat, Score(4)),
    ("2分，客服不专业",   Nps,  Score(2)),
    ("5分钟就解决了，态度一般", Csat, Score(3)),
    ("一分钟都没等，5分", Csat, Score(5)),
    ("十分感谢",          Nps,  Again),
    ("工号1234态度很好，5分", Csat, Again),
    ("4分或5分",          Csat, Again),
    ("七八分",            Nps,  Again),
    ("9.5",               Nps,  Again),
    ("4 stars, would be 5 if faster", Csat, Again),
    ("是的，但是没解决",  Yn,   Again),
    ("解决了，但是又出问题了", Yn, Again),
    ("yes but it broke again", Yn, Again),
    ("yes and no",        Yn,   Again),
    ("解决了吗",          Yn,   Again),
    ("应该解决了吧",      Yn,   Again),
    ("不知道",            Yn,   Again),
    ("对不起",            Yn,   Again),
    ("是不是",            Yn,   Again),
    ("一半一半",          Yn,   Again),
    ("嗯？什么意思",      Yn,   Again),
    ("解决了一点",        Yn,   Again),
    ("还没呢",            Yn,   No),
    ("已經處理好了",      Yn,   Yes),
    // ── the third corpus batch's needless re-prompts, since read ───────────────────────────
    ("是滴",              Yn,   Yes),
    ("已处理，谢谢",      Yn,   Yes),
    ("好了",              Yn,   Yes),
    ("问题已经解决",      Yn,   Yes),
    ("ok了",              Yn,   Yes),
    ("还没好",            Yn,   No),
    ("不好了",            Yn,   Again),
    // ── traditional characters read as simplified ─────────────────────────────────────────
    ("已經解決",          Yn,   Yes),
    ("已經解決了，謝謝",  Yn,   Yes),
    ("沒解決",            Yn,   No),
    ("沒有，還是扣款失敗", Yn,  No),
    ("非常滿意",          Csat, Score(5)),
    ("非常不滿意",        Csat, Score(1)),
    ("五顆星",            Csat, Score(5)),
    ("非常願意",          Nps,  Score(10)),
    ("別再發了",          Txt,  Stop),
    ("已經解決了，謝謝你們", Txt, Said("已經解決了，謝謝你們")),
    // ── star phrases count stars ──────────────────────────────────────────────────────────
    ("五星好评",          Csat, Score(5)),
    ("给5星好评",         Csat, Score(5)),
    ("5颗星",             Csat, Score(5)),
    ("5颗星，小王很棒",   Csat, Score(5)),
    ("three stars",       Csat, Score(3)),
    ("★★★★",              Csat, Score(4)),
    ("★★★★☆ 还行",        Csat, Score(4)),
    ("⭐⭐⭐⭐ 等太久",   Csat, Score(4)),
    ("一星，太差了",      Csat, Score(1)),
    ("⭐⭐⭐⭐⭐ 5分",    Csat, Again),
    ("⭐⭐⭐ 很好",       Nps,  Again),
    // ── yes/no ─────────────────────────────────────────────────────────────────────────────
    ("1",                 Yn,   Yes),
    ("１",                Yn,   Yes),
    ("1.",                Yn,   Yes),
    ("1️⃣",                Yn,   Yes),
    ("2",                 Yn,   No),
    ("一",                Yn,   Yes),
    ("二",                Yn,   No),
    ("②",                 Yn,   No),
    // A "but" that says the problem is not over takes a yes back; one about something else
    // does not.
    ("是，但是等了很久",  Yn,   Yes),
    ("解决了，但是客服态度很差", Yn, Yes),
    ("解决了，不过等太久了", Yn, Yes),
    ("yes, but the wait was long", Yn, Yes),
    ("解决了，但是钱还没到", Yn, Again),
    ("是，但是还是不能用", Yn, Again),
    ("yes but it still fails", Yn, Again),
    ("２！",              Yn,   No),
    ("是",                Yn,   Yes),
    ("是的",              Yn,   Yes),
    ("是的。",            Yn,   Yes),
    ("对",                Yn,   Yes),
    ("对的",              Yn,   Yes),
    ("嗯",                Yn,   Yes),
    ("嗯嗯",              Yn,   Yes),
    ("已解决",            Yn,   Yes),
    ("解决了",            Yn,   Yes),
    ("解 决 了",          Yn,   Yes),
    ("是 谢谢",           Yn,   Yes),
    ("解决了！",          Yn,   Yes),
    ("已经解决了",        Yn,   Yes),
    ("是的，已经解决了，谢谢", Yn, Yes),
    ("Y",                 Yn,   Yes),
    ("y",                 Yn,   Yes),
    ("Ｙ",                Yn,   Yes),
    ("yes",               Yn,   Yes),
    ("YES!",              Yn,   Yes),
    ("Ｙｅｓ",            Yn,   Yes),
    ("yep",               Yn,   Yes),
    ("yeah",              Yn,   Yes),
    ("Yes, thank you",    Yn,   Yes),
    ("ok, yes",           Yn,   Yes),
    ("1 = yes",           Yn,   Yes),
    ("👍 yes",            Yn,   Yes),
    ("否",                Yn,   No),
    ("不",                Yn,   No),
    ("不是",              Yn,   No),
    ("没有",              Yn,   No),
    ("没有，谢谢",        Yn,   No),
    ("未解决",            Yn,   No),
    ("没解决",            Yn,   No),
    ("还没解决",          Yn,   No),
    ("N",                 Yn,   No),
    ("n",                 Yn,   No),
    ("Ｎ",                Yn,   No),
    (" N! ",              Yn,   No),
    ("no",                Yn,   No),
    ("No.",               Yn,   No),
    ("NO",                Yn,   No),
    ("nope",              Yn,   No),
    ("2 no",              Yn,   No),
    // ── yes/no: not an answer → re-prompt ──────────────────────────────────────────────────
    ("ok",                Yn,   Again),
    ("OK!",               Yn,   Again),
    ("好的",              Yn,   Again),
    ("好",                Yn,   Again),
    ("谢谢",              Yn,   Again),
    ("收到",              Yn,   Again),
    ("3",                 Yn,   Again),
    ("0",                 Yn,   Again),
    ("12",                Yn,   Again),
    ("1 2",               Yn,   Again),
    ("yes no",            Yn,   Again),
    ("yes/no",            Yn,   Again),
    ("是 否",             Yn,   Again),
    ("不，解决了",        Yn,   Again),
    ("不是很满意",        Yn,   Again),
    ("maybe",             Yn,   Again),
    ("一半",              Yn,   Again),
    ("解决了一部分",      Yn,   Again),
    ("👍",                Yn,   Again),
    ("✅",                Yn,   Again),
    ("❌",                Yn,   Again),
    ("+1",                Yn,   Again),
    ("",                  Yn,   Again),
    (" \n\t ",            Yn,   Again),
    // ── text: kept as written, trimmed, not folded ─────────────────────────────────────────
    ("客服态度很好",      Txt,  Said("客服态度很好")),
    ("  等了太久了！\n",  Txt,  Said("等了太久了！")),
    ("\u{3000}ＡＢＣ很好\u{3000}", Txt, Said("ＡＢＣ很好")),
    ("Great service 👍",  Txt,  Said("Great service 👍")),
    ("line one\nline two", Txt, Said("line one\nline two")),
    ("please stop calling me", Txt, Said("please stop calling me")),
    ("5",                 Txt,  Said("5")),
    ("no",                Txt,  Said("no")),
    ("👍",                Txt,  Said("👍")),
    ("。",                Txt,  Said("。")),
    ("T_T",               Txt,  Said("T_T")),
    ("T T",               Txt,  Said("T T")),
    ("N/A",               Txt,  Said("N/A")),
    ("stop the hold music", Txt, Said("stop the hold music")),
    ("\u{feff}ok\u{200b}", Txt, Said("ok")),
    ("",                  Txt,  Again),
    ("   ",               Txt,  Again),
    ("\n\r\n",            Txt,  Again),
    ("\u{3000}",          Txt,  Again),
    // ── keywords win over every question ───────────────────────────────────────────────────
    ("STOP",              Txt,  Stop),
    ("stop",              Csat, Stop),
    ("Stop.",             Yn,   Stop),
    ("STOP!!",            Nps,  Stop),
    (" ｓｔｏｐ ",        Txt,  Stop),
    ("ＳＴＯＰ",          Csat, Stop),
    ("TD",                Yn,   Stop),
    ("td",                Csat, Stop),
    ("ＴＤ",              Nps,  Stop),
    ("T",                 Csat, Stop),
    ("t",                 Yn,   Stop),
    ("R",                 Nps,  Stop),
    ("ｒ",                Txt,  Stop),
    ("退订",              Yn,   Stop),
    ("退订。",            Csat, Stop),
    ("【退订】",          Txt,  Stop),
    ("拒收",              Nps,  Stop),
    ("拒收！",            Yn,   Stop),
    ("STOPALL",           Txt,  Stop),
    ("StopAll",           Csat, Stop),
    ("UNSUBSCRIBE",       Yn,   Stop),
    ("unsubscribe.",      Txt,  Stop),
    ("CANCEL",            Nps,  Stop),
    ("END",               Txt,  Stop),
    ("end",               Csat, Stop),
    ("QUIT",              Yn,   Stop),
    ("REVOKE",            Txt,  Stop),
    ("OPTOUT",            Nps,  Stop),
    ("OptOut",            Txt,  Stop),
    ("TD退订",            Txt,  Stop),
    ("退订 TD",           Yn,   Stop),
    ("回TD退订",          Txt,  Stop),
    ("START",             Yn,   Start),
    ("start",             Txt,  Start),
    ("ＳＴＡＲＴ",        Csat, Start),
    ("UNSTOP",            Nps,  Start),
    ("订阅",              Txt,  Start),
    ("HELP",              Csat, Help),
    ("help?",             Txt,  Help),
    ("ｈｅｌｐ",          Yn,   Help),
    ("INFO",              Nps,  Help),
    ("帮助",              Txt,  Help),
    ("帮助？",            Csat, Help),
    // ── N: "no" to a yes/no question, opt-out anywhere else ────────────────────────────────
    ("N",                 Csat, Stop),
    ("n",                 Nps,  Stop),
    ("Ｎ",                Txt,  Stop),
    ("N.",                Csat, Stop),
    // ── a keyword inside a longer message is not a keyword by itself ───────────────────────
    ("stop 5",            Csat, Again),
    ("5 stop",            Csat, Again),
    ("不要退订",          Yn,   Again),
    ("help me",           Txt,  Said("help me")),
    ("the end",           Txt,  Said("the end")),
    // ── a stop asked for in words: an opt-out whatever the question ─────────────────────────
    ("别再发了",          Csat, Stop),
    ("别再发了",          Txt,  Stop),
    ("不要再发短信了",    Txt,  Stop),
    ("别发了",            Yn,   Stop),
    ("请勿打扰",          Nps,  Stop),
    ("不要打扰我",        Txt,  Stop),
    ("以后别给我发",      Csat, Stop),
    ("取消订阅",          Yn,   Stop),
    ("退订短信",          Txt,  Stop),
    ("退订，谢谢",        Nps,  Stop),
    ("我要退订",          Txt,  Stop),
    ("甭发了",            Csat, Stop),
    ("别再骚扰我了！",    Txt,  Stop),
    ("拉黑了",            Txt,  Stop),
    ("服务还行，就是别再发短信了", Txt, Stop),
    ("5分，别再发了",     Csat, Stop),
    ("是的，但以后别发了", Yn,  Stop),
    ("T D",               Csat, Stop),
    ("t.d",               Yn,   Stop),
    ("Ｔ Ｄ",             Txt,  Stop),
    ("退 订",             Nps,  Stop),
    ("TD 谢谢",           Txt,  Stop),
    ("stop texting me",   Txt,  Stop),
    ("please unsubscribe me", Csat, Stop),
    ("stop sending me messages", Txt, Stop),
    ("no more texts",     Yn,   Stop),
    ("don't text me again", Txt, Stop),
    ("Don’t text me again", Nps, Stop),
    ("remove me from this list", Txt, Stop),
    ("STOP!!!",           Csat, Stop),
    ("Stop please",       Yn,   Stop),
    ("please stop",       Csat, Stop),
    ("opt me out",        Txt,  Stop),
    ("opt-out",           Nps,  Stop),
    ("leave me alone",    Txt,  Stop),
    ("不要再问了",        Csat, Stop),
    ("这个问卷别再发了",  Txt,  Stop),
    ("stop asking me",    Nps,  Stop),
    ("why do you keep texting me", Txt, Stop),
    ("I unsubscribed, why are you still texting me", Txt, Stop),
    // ── stopping something else is not a stop ──────────────────────────────────────────────
    ("扣款停不下来",      Txt,  Said("扣款停不下来")),
    ("我想取消自动续费",  Txt,  Said("我想取消自动续费")),
    ("stop charging me twice", Txt, Said("stop charging me twice")),
    ("the app keeps crashing, please stop the bug", Txt,
        Said("the app keeps crashing, please stop the bug")),
    ("客服说不要再转账了", Txt, Said("客服说不要再转账了")),
    ("客服说不要再发了",  Txt,  Said("客服说不要再发了")),
    ("不要发票",          Txt,  Said("不要发票")),
    ("别再发生这种事了",  Txt,  Said("别再发生这种事了")),
    ("退订会员",          Txt,  Said("退订会员")),
    ("会员怎么退订",      Txt,  Said("会员怎么退订")),
    ("我的号码被拉黑了",  Txt,  Said("我的号码被拉黑了")),
    ("don't send me the wrong bill again", Txt, Said("don't send me the wrong bill again")),
    ("I don't want to unsubscribe", Txt, Said("I don't want to unsubscribe")),
    ("退订机票",          Txt,  Said("退订机票")),
    ("我的号码被拉黑了",  Yn,   Again),
    ("stop texting my husband", Txt, Said("stop texting my husband")),
    ("unsubscribe me from the premium plan", Txt, Said("unsubscribe me from the premium plan")),
    ("no more problems",  Csat, Again),
    ("停止扣款",          Yn,   Again),
    ("扣款停不下来",      Csat, Again),
    // ── help asked for in words: the help text, which names the hotline ───────────────────
    ("我需要帮助",        Csat, Help),
    ("怎么联系人工客服",  Yn,   Help),
    ("请问这是什么短信？", Nps, Help),
    ("I need help",       Yn,   Help),
    ("what is this text about?", Csat, Help),
    ("who is this?",      Csat, Again),
    ("help me 我的账户被冻结了", Txt, Said("help me 我的账户被冻结了")),
    ("我需要帮助",        Txt,  Said("我需要帮助")),
    ("这是什么服务态度",  Txt,  Said("这是什么服务态度")),
    ("人工客服很好",      Csat, Again),
    // ── slips a reader reads past ────────────────────────────────────────────────────────
    ("解绝了",            Yn,   Yes),
    ("没有解绝",          Yn,   No),
    ("以解决，谢谢",      Yn,   Yes),
    ("非常满以",          Csat, Score(5)),
    ("很慢意",            Csat, Score(5)),
    ("very satisfed",     Csat, Score(5)),
    ("dissatisfid",       Csat, Score(2)),
    ("resloved",          Yn,   Yes),
    ("unsubscibe me",     Csat, Stop),
    ("我满以为解决了",    Yn,   Again),
    // ── the answer after a remark ────────────────────────────────────────────────────────
    ("别再扣款了！没解决", Yn,  No),
    ("等了好久，不过解决了", Yn, Yes),
    ("钱还没到，解决了",  Yn,   Again),
    ("Not yet, still waiting", Yn, No),
    ("问了三遍，是",      Yn,   Yes),
];

#[test]
fn every_reply_in_the_table_parses_as_expected() {
    let failures: Vec<String> = CASES
        .iter()
        .filter_map(|&(text, kind, expect)| {
            let got = parse(text, &kind.question(), kind.labels());
            (got != expect.reply())
                .then(|| format!("{text:?} as {kind:?}: got {got:?}, want {expect:?}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn the_table_is_large_and_covers_every_question_kind() {
    assert!(CASES.len() >= 100, "{} cases", CASES.len());
    for kind in [Yn, Csat, Nps, Txt] {
        assert!(
            CASES
                .iter()
                .filter(|c| c.1.question() == kind.question())
                .count()
                >= 20
        );
    }
}

#[test]
fn normalise_folds_width_and_case_and_trims_punctuation_and_emoji() {
    let cases = [
        (" ｓｔｏｐ ", "stop"),
        ("ＳＴＯＰ！！", "stop"),
        ("\u{3000}５分\u{3000}", "5分"),
        ("“是的。”", "是的"),
        ("【退订】", "退订"),
        ("《5》…~～", "5"),
        ("👍5😊", "5"),
        ("8  out of\n10", "8 out of 10"),
        ("8分（满分10分）", "8分(满分10分"),
        ("-5", "-5"),
        ("⭐⭐⭐😊", "⭐⭐⭐"),
        ("5️⃣", "5"),
        ("!!!", ""),
        ("", ""),
    ];
    for (text, want) in cases {
        assert_eq!(normalise(text), want, "normalise({text:?})");
    }
}

#[test]
fn normalise_is_idempotent() {
    for &(text, _, _) in CASES {
        let once = normalise(text);
        assert_eq!(normalise(&once), once, "normalise({text:?})");
    }
}

#[test]
fn keyword_finds_a_keyword_alone_or_a_stop_in_words() {
    let cases = [
        ("STOP", Some(Keyword::OptOut)),
        (" ｓｔｏｐ ", Some(Keyword::OptOut)),
        ("STOP!!", Some(Keyword::OptOut)),
        ("N", Some(Keyword::OptOut)),
        ("退订", Some(Keyword::OptOut)),
        ("td退订", Some(Keyword::OptOut)),
        ("start", Some(Keyword::OptIn)),
        ("订阅", Some(Keyword::OptIn)),
        ("Info", Some(Keyword::Help)),
        ("别再发了", Some(Keyword::OptOut)),
        ("T D", Some(Keyword::OptOut)),
        ("stop texting me", Some(Keyword::OptOut)),
        ("please stop calling me", None),
        ("扣款停不下来", None),
        ("help me", None),
        ("s t a r t", None),
        ("stop start", None),
        ("T_T", None),
        ("t t", None),
        ("no", None),
        ("5", None),
        ("", None),
    ];
    for (text, want) in cases {
        assert_eq!(keyword(text), want, "keyword({text:?})");
    }
}

#[test]
fn other_scales_use_their_own_bounds() {
    let one_to_seven = QuestionKind::Scale { min: 1, max: 7 };
    let parse = |text: &str, kind: &QuestionKind| parse(text, kind, &Labels::default());
    assert_eq!(
        parse("7/7", &one_to_seven),
        Reply::Answer(AnswerValue::Scale(7))
    );
    assert_eq!(
        parse("6", &one_to_seven),
        Reply::Answer(AnswerValue::Scale(6))
    );
    assert_eq!(
        parse("满分", &one_to_seven),
        Reply::Answer(AnswerValue::Scale(7))
    );
    // Stars rate only on 1–5.
    assert_eq!(parse("⭐⭐⭐", &one_to_seven), Reply::NotUnderstood);
    assert_eq!(parse("8", &one_to_seven), Reply::NotUnderstood);
}
