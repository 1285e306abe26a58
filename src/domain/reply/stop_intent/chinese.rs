//! Stops in Chinese: 别/不要/勿/甭 (再) 发/打扰/骚扰, 不想再收到, 退订 or 拒收 in a sentence,
//! 停止发送, 取消短信, 拉黑, 免打扰, and 为什么还在发. A clause's words are joined without
//! spaces first: Chinese is written unspaced, so "退 订" and "别 发 了" mean what they say.

use std::sync::LazyLock;

use regex::Regex;

use super::{any_of, phrase};

pub(super) fn asks_to_stop(words: &[&str]) -> bool {
    let clause = words.concat();
    RULES.iter().any(|rule| rule.is_match(&clause))
}

/// `天天发天天发，有完没完`: being texted again and again, and the customer asking whether it
/// will ever end. The whole message, because `有完没完` alone may be about anything
/// (`扣了三次款，有完没完` is about charges).
pub(super) fn nags(norm: &str) -> bool {
    static NAGGING: LazyLock<Regex> = LazyLock::new(|| {
        let (still, send) = (any_of(STILL), any_of(SEND));
        Regex::new(&format!(
            "^(?:(?:{still})(?:{send})[，,。.!！ ]*)+(?:有完没完|没完没了|烦不烦|够了没)(?:啊|呀|吗|了)?$"
        ))
        .expect("a valid pattern")
    });
    NAGGING.is_match(norm)
}

static RULES: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    // 在 for 再: the same sound, and what voice input and hurried typing write (`不要在发了`).
    let (dont, again, to_me) = (any_of(DONT), "(?:再|在)?", any_of(TO_ME));
    // "这个问卷别再发了": what is not to be sent may come first.
    let lead = [LEAD, MESSAGES, THESE].concat();
    let tail = [TAIL, MESSAGES, THESE].concat();
    // A request with only `lead` words before it and `tail` words after it.
    let rule = |core: String| phrase(&lead, &core, &tail, "");
    let (send, receive, messages, these) = (
        any_of(SEND),
        any_of(RECEIVE),
        any_of(MESSAGES),
        any_of(THESE),
    );
    let (stop, cancel, cancellable, why, still) = (
        any_of(STOP),
        any_of(CANCEL),
        any_of(CANCELLABLE),
        any_of(WHY),
        any_of(STILL),
    );
    vec![
        // 别再发了, 不要再给我发短信, 请勿打扰, 不要打扰我, 以后别联系我
        rule(format!("{dont}{again}(?:{to_me})?{again}{send}")),
        // 不想再收到这种短信, 别让我再收到
        rule(format!("{dont}{again}(?:让我)?{again}{receive}")),
        // 退订, 我要退订, 退订短信, 退订，谢谢, 已经退订了还在发, 回TD退订
        phrase(
            &[&lead[..], UNSUBSCRIBE_LEAD].concat(),
            &any_of(UNSUBSCRIBE),
            &[&tail[..], UNSUBSCRIBE_TAIL].concat(),
            "",
        ),
        // 停止发送, 停发短信, 暂停推送给我
        rule(format!("{stop}{again}(?:{to_me})?{send}")),
        // 取消短信, 关闭短信通知, 不要这种短信了
        rule(format!("{cancel}{these}*{cancellable}")),
        // 拉黑了, 再发就拉黑, 把你们拉黑 (not 被拉黑: that is the customer's own account)
        phrase(
            &[LEAD, BLOCK_LEAD].concat(),
            &any_of(BLOCK),
            &[&tail[..], BLOCK_TAIL].concat(),
            "",
        ),
        // 免打扰, 勿扰, 设置免打扰 (not 开了免打扰所以没接到: a statement about a phone)
        phrase(
            &[LEAD, DO_NOT_DISTURB_LEAD].concat(),
            &any_of(DO_NOT_DISTURB),
            &[&tail[..], &["模式", "名单"]].concat(),
            "",
        ),
        // 再发我就投诉了, 再发短信就举报你们: a threat that asks for the texts to end
        rule(format!(
            "(?:再|在)(?:{send})(?:{messages})?(?:的话)?(?:我)?就(?:要)?(?:投诉|举报|报警|拉黑)(?:你们|你)?"
        )),
        // 此类回访以后就不必了, 回访就免了吧, 调查就不用了: the texts named, and waved away
        rule(format!(
            "(?:{these})*(?:{messages})(?:以后|今后)?(?:就)?(?:不必|不用|免了|不需要|不要)(?:了|啦|吧)?"
        )),
        // 此号码不接受调查短信, 本人拒绝此类回访
        phrase(
            &[&lead[..], &["此号码", "本号码", "这个号码", "本人"]].concat(),
            &format!("(?:不接受|不接收|拒绝接收|拒绝|谢绝)(?:任何)?(?:{these})*(?:{messages})"),
            &[&tail[..], &["请知悉", "知悉", "特此告知"]].concat(),
            "",
        ),
        // 滚, 滚开: rude, and unmistakable as a reply to a survey
        rule("滚|滚开|滚蛋".into()),
        // 为什么还在发, 怎么又发短信了
        rule(format!("{why}{still}{again}(?:{to_me})?{send}")),
    ]
});

/// What may lead into a request without changing it: politeness, "from now on", "I said",
/// annoyance. Not here on purpose: negations (不要退订), reported speech (客服说), and the
/// topic of a sentence (会员怎么退订, 我的号码被拉黑了).
#[rustfmt::skip]
const LEAD: &[&str] = &[
    "请", "请问", "麻烦", "麻烦你", "麻烦你们", "拜托", "拜托你", "拜托你们", "拜托了", "求求", "求求你",
    "求求你们", "求你", "求你们", "求你了", "你", "你们", "您", "我", "我们", "以后", "今后",
    "往后", "从今以后", "从今往后", "之后", "再也", "就", "都", "也", "能不能", "可不可以", "能否",
    "可以", "能", "千万", "我说了", "说了", "都说了", "我都说了", "我说过", "说过", "跟你们说了",
    "早说了", "不是说了", "烦死了", "烦死", "好烦", "真烦", "烦不烦", "够了", "好了", "行了",
    "谢谢", "你好", "您好", "嗯", "哦", "唉", "哎", "哎呀", "那个", "所以", "然后", "还是", "希望",
    "我希望", "要求", "我要求", "但", "但是", "可是", "不过", "而且", "另外", "还有", "真的",
    "就是", "只是", "总之", "本人", "ok", "好", "唔该",
];

/// What may follow without changing it: particles, politeness, "me", "this number",
/// threats of a complaint.
#[rustfmt::skip]
const TAIL: &[&str] = &[
    "我", "我们", "了", "啦", "啊", "呀", "吧", "哦", "喔", "噢", "嘛", "呢", "哈", "哇", "吗",
    "好吗", "好不好", "行吗", "行不行", "行不", "可以吗", "成吗", "谢谢", "谢谢你", "谢谢您",
    "谢谢你们", "谢了", "感谢", "多谢", "拜托", "拜托了", "求求你们", "求你们", "求你了", "给我",
    "给我们", "到我", "手机", "手机上", "号码", "这个号码", "本号码", "此号码", "这个号", "过来",
    "来", "东西", "条", "一条", "再", "以后", "今后", "你们", "你", "您", "贵公司", "ok", "好",
    "够了", "烦", "烦人", "烦死了", "很烦", "好烦", "真烦", "烦不烦", "骚扰", "打扰", "不然", "否则",
    "投诉", "举报", "我要投诉", "要投诉", "我就投诉", "拉黑", "退订", "td", "stop", "真的", "行",
    "通知", "推送", "问我", "嚟", "嚟啦", "喇",
];

/// Negations that make a messaging verb a request not to.
#[rustfmt::skip]
const DONT: &[&str] = &[
    "别", "不要", "勿", "请勿", "甭", "莫", "不用", "不必", "不许", "不准", "禁止", "不想", "不愿",
    "不愿意", "不希望", "不需要", "千万别", "千万不要", "没必要", "不能", "再也不要", "再也别",
];

/// Sending, or what being sent to feels like. Not calling (打电话), transferring (转账) or
/// happening (发生): those are something else the customer wants stopped.
#[rustfmt::skip]
const SEND: &[&str] = &[
    "发", "发送", "推送", "群发", "发短信", "发信息", "发消息", "短信", "来短信", "发过来", "打扰",
    "骚扰", "打搅", "烦", "联系我", "联系我们", "问", "问我", "打电话和发短信", "打电话发短信",
    "发短信和打电话", "发短信打电话", "发简讯", "传", "传简讯", "传短信", "传讯息", "传消息",
    "回访", "send",
];

const RECEIVE: &[&str] = &["收到", "接收", "接到", "收"];

#[rustfmt::skip]
const TO_ME: &[&str] = &[
    "给我", "给我们", "跟我", "向我", "对我", "和我", "找我", "往我", "给这个号码", "给我手机",
    "到我手机",
];

#[rustfmt::skip]
const MESSAGES: &[&str] = &[
    "短信", "信息", "消息", "讯息", "简讯", "问卷", "调查", "满意度调查", "回访", "广告",
    "垃圾短信", "骚扰短信", "营销短信", "短信通知", "满意度短信", "回访短信",
    // written in English inside a Chinese sentence (不要再发message嚟啦)
    "message", "messages", "msg", "sms", "survey", "surveys",
];

/// What 取消/关闭 may act on to be a stop. Not 通知 or 推送 alone: "关闭推送" is an app
/// setting, not these texts.
const CANCELLABLE: &[&str] = MESSAGES;

#[rustfmt::skip]
const THESE: &[&str] = &[
    "这个", "这些", "这种", "这类", "这样的", "那种", "那些", "此类", "此", "本", "你们的", "的",
    "所有", "全部", "任何", "一切", "我的",
];

const UNSUBSCRIBE: &[&str] = &["退订", "拒收", "取消订阅", "td"];

#[rustfmt::skip]
const UNSUBSCRIBE_LEAD: &[&str] = &[
    "我要", "我想", "要", "想", "想要", "需要", "我需要", "帮我", "给我", "帮忙", "请帮忙", "申请",
    "我申请", "马上", "立即", "立刻", "赶紧", "赶快", "直接", "已经", "已", "早就", "早已",
    "我已经", "我早就", "我早已", "怎么", "如何", "怎样", "怎么样", "回复", "回", "必须", "一定要",
    "统统", "都给我", "确认", "我确认", "选择", "我选择", "那就", "那",
];

/// After 退订: "…了还在发", "…不了", "…没用" complain that it did not work, which asks for it
/// all the more.
#[rustfmt::skip]
const UNSUBSCRIBE_TAIL: &[&str] = &[
    "一下", "掉", "不了", "不掉", "成功", "为什么", "为啥", "怎么", "还", "在", "发", "又", "一直",
    "老是", "总是", "没用", "无效", "失败", "拒收", "回", "回复", "过",
];

const STOP: &[&str] = &["停止", "停", "暂停", "终止", "停掉"];

#[rustfmt::skip]
const CANCEL: &[&str] = &[
    "取消", "关闭", "关掉", "退掉", "不要", "别", "停止", "停掉", "不想要", "不需要",
];

#[rustfmt::skip]
const BLOCK: &[&str] = &[
    "拉黑", "拉入黑名单", "加入黑名单", "加黑名单", "加黑", "屏蔽",
];

#[rustfmt::skip]
const BLOCK_LEAD: &[&str] = &[
    "我要", "我已经", "已经", "已", "直接", "马上", "立刻", "要", "会", "把", "把你们", "把你",
    "把这个号码", "把这个号", "把这个", "把号码", "再发", "再发就", "再发我就", "再发短信就",
    "再发短信我就", "再这样", "再这样就", "再这样我就", "不然", "否则", "不然就", "否则就", "我就",
    "我会", "等着",
];

const BLOCK_TAIL: &[&str] = &["黑名单", "算了", "拉倒", "得了"];

const DO_NOT_DISTURB: &[&str] = &["勿扰", "免打扰"];

#[rustfmt::skip]
const DO_NOT_DISTURB_LEAD: &[&str] = &[
    "开启", "设置", "设为", "设成", "设置成", "加入", "我要", "要", "帮我", "给我",
];

/// "Why are you still sending": a complaint about being texted asks for it to end; the
/// question word and the "still" are both needed (天天发短信 alone may describe someone else).
const WHY: &[&str] = &["为什么", "为啥", "怎么", "干嘛", "凭什么", "咋"];

#[rustfmt::skip]
const STILL: &[&str] = &[
    "还", "又", "老是", "总是", "一直", "天天", "每天", "整天", "一天到晚", "还在", "又在",
    "一直在",
];
