//! The stop-intent table: what customers write when they want the texts to end, and the
//! near misses, sentences about stopping something else, that must stay comments.

use super::super::normalise;
use super::*;

/// Asks to stop the texts.
#[rustfmt::skip]
const STOPS: &[&str] = &[
    // ── 别/不要/勿/甭 (再) 发/打扰/骚扰 ─────────────────────────────────────────────────────
    "别再发了", "别发了", "别再发了！", "别 再 发 了", "不要再发短信了", "不要再发了",
    "不要发了谢谢", "以后别给我发", "以后别给我发了", "别给我发短信了", "不要再给我发信息",
    "别再发给我了", "甭发了", "莫发了", "请勿打扰", "勿扰", "免打扰", "请设置免打扰",
    "不要打扰我", "别打扰我了", "别再骚扰我了", "不要骚扰我", "别烦我", "别烦我了",
    "不要再联系我", "以后不要联系我了", "请不要再发送任何短信", "不需要再发了", "不用再发了",
    "再也不要发了", "千万别再发了", "你们别再发了好吗", "能不能别发了", "求求你们别发了",
    "我说了别再发了", "烦死了，别再发了", "烦死了别再发了", "别发了，不然投诉", "别再发这种短信了",
    "不要发这些垃圾短信", "不想再收到这种短信", "我不想收到短信", "别让我再收到",
    "这个问卷别再发了", "短信别再发了", "以后这种短信就别发了", "别再发了我要投诉",
    "请以后不要再发此类短信", "请勿再发", "不要再问了", "别问了", "问题没解决，别问了",
    "别再发短信问我了", "不要再给我打电话和发短信了", "滚",
    // ── 退订 / 拒收 / 取消订阅 in a sentence ───────────────────────────────────────────────
    "退订，谢谢", "退订谢谢", "退订短信", "我要退订", "我想退订", "请帮我退订", "申请退订",
    "马上退订", "怎么退订", "退订一下", "退订了还在发", "我已经退订了为什么还发",
    "退订不了", "退订没用", "已经退订了还在发", "回TD退订", "TD 谢谢", "td谢谢", "拒收短信", "我要拒收",
    "取消订阅", "我要取消订阅", "取消订阅，谢谢", "短信退订", "本人拒收", "退订回TD",
    "已退订，勿发", "你们的短信退订",
    // ── 停止发送 / 取消短信 / 拉黑 / 为什么还在发 ──────────────────────────────────────────
    "停止发送", "停发短信", "停止发短信", "停止骚扰", "取消短信", "关闭短信通知",
    "不要这种短信了", "不需要回访", "拉黑了", "已拉黑", "再发就拉黑", "把你们拉黑了",
    "屏蔽这个号码", "为什么还在发", "怎么又发短信了",
    // ── spelled out ────────────────────────────────────────────────────────────────────────
    "T D", "t.d", "T.D.", "ＴＤ", "Ｔ Ｄ", "t-d", "退 订", "拒 收", "S T O P", "s.t.o.p",
    "opt-out", "opt out", "un subscribe",
    // ── English ────────────────────────────────────────────────────────────────────────────
    "stop texting me", "Stop texting me!", "STOP!!!", "Stop please", "please stop",
    "请问怎么退订", "别发了 烦", "5分 以后别发了谢谢", "1 5 以后别发了", "4 别再发了", "these texts are annoying, stop it",
    "stop it", "stop now", "just stop", "stop, thanks", "pls stop", "stop this", "stop all",
    "stop sending me messages", "stop sending these", "stop messaging me", "stop contacting me",
    "stop bothering me", "stop spamming me", "quit texting me", "stop the texts",
    "stop these messages please", "can you stop texting me", "I said stop",
    "for the last time stop texting me", "please unsubscribe me", "unsubscribe me please",
    "how do I unsubscribe", "I want to unsubscribe", "unsubscribe from this",
    "unsubscribe me from your mailing list", "I unsubscribed already, why are you still texting me",
    "I can't unsubscribe", "opt me out", "please opt me out", "I want to opt out",
    "leave me alone", "please leave me alone", "remove me from this list", "remove me",
    "please remove my number", "take me off your list", "no more texts", "no more messages please",
    "no more of these texts", "don't text me again", "Don’t text me again", "do not contact me",
    "never text me again", "don't send me messages", "don't message me anymore",
    "I don't want any more texts", "i do not want to receive these messages",
    "why do you keep texting me", "you keep messaging me", "why are you still texting me",
    "cancel the survey", "end these messages", "block this number", "stop asking me",
    "why won't you stop texting me", "how do I stop these texts", "do not disturb", "go away",
    "please remove me from your SMS list", "take me off the texting list", "opt out please",
    "wrong number, stop texting me", "I'm not interested in surveys, please stop",
    // ── a stop in one clause of a longer message ────────────────────────────────────────────
    "服务还行，就是别再发短信了", "5分，别再发了", "是的，但以后别发了", "客服很好。退订",
    "great service, but stop texting me", "It was fine. Stop.", "thanks! please unsubscribe me",
    "已经退订过了怎么还在发", "2 没解决 我要退订", "服务一般 别再发了", "不用回访了谢谢",
    "天天发天天发，有完没完", "I don't want to receive these anymore", "不要在发了",
    "以后不要在发这种短信了", "请不要在发信息给我了", "别在给我发了 谢谢", "1 5 不要在发了",
    "再发我就投诉了", "再发短信就举报你们", "表再发了", "5分 but pls no more surveys",
    "此类回访以后就不必了，谢谢", "回访就免了吧，谢谢🙏", "此号码不接受调查短信，请知悉",
    "唔該，唔使再發啦",
];

/// About stopping, cancelling or blocking something else, or negating the stop: comments.
#[rustfmt::skip]
const NOT_STOPS: &[&str] = &[
    "why do u keep charging my card, stop it", "the app keeps crashing. fix it or stop it",
    "5分 客服说别再发了", "5分 别 再 扣 了",
    // ── the brief's near misses ────────────────────────────────────────────────────────────
    "扣款停不下来", "我想取消自动续费", "stop charging me twice",
    "the app keeps crashing, please stop the bug", "客服说不要再转账了",
    // ── Chinese: another verb, another object, reported speech, a negation ────────────────
    "客服说不要再发了", "不要发票", "别再发生这种事了", "不要发火", "别发错了", "不要再发货了",
    "别再扣款了", "停止扣款", "暂停服务", "扣款还在继续", "不要再打电话了", "别再打电话了",
    "不要收费", "不想收到账单", "不要退订", "我没有退订", "不想退订", "退订会员", "我不要 退订",
    "我没 退订", "会员 怎么退订", "扣了三次款，有完没完", "有完没完",
    "I don't want to receive these charges", "客服说不用回访", "不要在群里发", "再扣款我就投诉了",
    "再不解决我就投诉了", "退款就不用了", "表格不用了", "我不接受这个解决方案", "5 stars",
    "会员怎么退订", "怎么退订会员", "退订了自动续费还扣钱", "拒收快递", "取消自动续费",
    "我想取消订单", "关闭推送", "关闭通知", "我的号码被拉黑了", "为什么把我拉黑",
    "我的卡被屏蔽了", "手机开了免打扰所以没接到", "问题解决了，不用联系了", "天天发短信催款",
    "我还发了截图给客服", "一直发不出去", "短信验证码收不到", "不要停", "订阅", "不",
    "不要", "不是", "没有", "不用了", "那个客服让我滚", "客服让我别再发了", "他说不要再发了",
    "我朋友说退订", "我的快递别再发了", "这个产品别再推了", "会员的退订", "退订机票",
    "退订费多少", "为什么要退订", "我不是要退订", "别再扣我钱了", "自动续费怎么取消",
    "取消自动扣款", "停止自动续费", "别问我满不满意了", "不想回答", "我不想参加调查", "拒绝回答",
    // ── English: another verb, another object, someone else, a negation ───────────────────
    "please stop calling me", "stop calling me", "stop the hold music", "stop sending me bills",
    "don't send me the wrong bill again", "stop sending money to the wrong account",
    "I don't want to unsubscribe", "don't unsubscribe me", "I didn't unsubscribe",
    "unsubscribe me from the premium plan", "no more problems", "no more charges please",
    "the agent told me to stop", "agent kept saying \"stop\"", "don't stop", "non stop problems",
    "stop 5", "5 stop", "stop start", "I need help", "help me", "the end", "cancel my subscription",
    "cancel the order", "remove the fee", "remove me from the premium plan",
    "take me off hold", "leave a message", "the app keeps crashing", "keep up the good work",
    "stop the fraud alerts", "why do you keep charging me", "end the call faster",
    "the agent told me to go away", "don't stop texting me", "stop texting my husband",
    "stop asking for my password", "how to stop auto payment", "stop auto debit",
    "please stop the auto-renewal", "we need to stop fraud", "stop being so slow",
    "not interested", "no thanks", "enough",
    // ── faces, abbreviations and letters that are not spelled keywords ───────────────────
    "T T", "T_T", "t t", "N/A", "n.a.", "R&D", "ltd", "abc ltd", "5", "",
];

#[test]
fn every_stop_in_the_table_asks_to_stop() {
    let missed: Vec<&str> = STOPS
        .iter()
        .copied()
        .filter(|text| !asks_to_stop(&normalise(text)))
        .collect();
    assert!(missed.is_empty(), "not read as a stop: {missed:#?}");
}

#[test]
fn no_near_miss_in_the_table_asks_to_stop() {
    let wrong: Vec<&str> = NOT_STOPS
        .iter()
        .copied()
        .filter(|text| asks_to_stop(&normalise(text)))
        .collect();
    assert!(wrong.is_empty(), "read as a stop: {wrong:#?}");
}

#[test]
fn both_tables_are_large_and_in_both_languages() {
    let chinese = |t: &&&str| t.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c));
    for table in [STOPS, NOT_STOPS] {
        let zh = table.iter().filter(chinese).count();
        let en = table.len() - zh;
        assert!(zh >= 30 && en >= 30, "{zh} Chinese, {en} other");
    }
}

#[test]
fn clauses_split_at_sentence_punctuation_but_not_at_quotes_or_apostrophes() {
    let split = |text: &str| -> Vec<Vec<String>> {
        clauses(&normalise(text))
            .map(|c| c.into_iter().map(str::to_owned).collect())
            .collect()
    };
    assert_eq!(split("退订，谢谢"), [vec!["退订"], vec!["谢谢"]]);
    assert_eq!(
        split("don't text me. ok"),
        [vec!["don't", "text", "me"], vec!["ok"]]
    );
    assert_eq!(split("don’t"), [vec!["don’t"]]);
    assert_eq!(split("he said \"stop\""), [vec!["he", "said", "stop"]]);
    assert_eq!(split("opt-out 😡 now"), [vec!["opt", "out", "now"]]);
    assert_eq!(split("!!!"), Vec::<Vec<String>>::new());
}

#[test]
fn only_multi_letter_opt_out_keywords_are_spelled_out() {
    for text in ["t d", "t.d", "退 订", "s-t-o-p", "td 退订", "opt out"] {
        assert!(spelled_out(&normalise(text)), "{text}");
    }
    // Single letters, opt-in and help keywords, and other words spelled out are not.
    for text in [
        "t",
        "n.",
        "t t",
        "n/a",
        "s t a r t",
        "h e l p",
        "r t",
        "o k",
    ] {
        assert!(!spelled_out(&normalise(text)), "{text}");
    }
}
