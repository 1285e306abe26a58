//! "Was it solved?" answered in a sentence of its own rather than a word from the tables:
//! `问题已经帮我处理好了`, `我的问题已经解决了`, `还莫得解决`, `事情办妥了`, or by what came
//! right (`退款已经到账了`). A person reads the
//! sentence's shape — who (the problem), adverbs, the verb and its result, a particle — and so
//! does this, one clause (a word of `words`) at a time. The whole clause must be the
//! sentence: `问题解决了吗` (a question) and `解决了一半` (part) are not.

use std::sync::LazyLock;

use regex::Regex;

use super::KIN;

/// Whether the clause says the problem was solved (`Some(true)`) or not (`Some(false)`).
pub(super) fn said(clause: &str) -> Option<bool> {
    if SOLVED.is_match(clause) || CAME_RIGHT.is_match(clause) {
        Some(true)
    } else if UNSOLVED.is_match(clause) || STILL_WRONG.is_match(clause) {
        Some(false)
    } else {
        None
    }
}

/// What a wallet's callers call about, named as the thing that came right or did not:
/// `退款已经到账了`, `银行卡已经绑上了`, `账户解冻了`; `钱还没到账`.
const THING: &str =
    "(?:(?:我的|那笔|这笔)?(?:退款|钱|款项|款|银行卡|卡|账户|账号|余额|订单|密码|额度))?";
const OUTCOME: &str = "(?:到账|退回来|退回|绑上|绑好|绑定好|绑定成功|恢复|恢复正常|解冻|解封|能用|可以用|登上|登录上|能登录|能登上|可以登录|改好|改过来|收到)";

/// The outcome with 了: `到账` alone may be a question's echo or a wish.
static CAME_RIGHT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        "^{THING}(?:已经|已|都|也|总算|终于|现在|刚刚|顺利)*{OUTCOME}了(?:啦|哦|呀|的)*$"
    ))
    .expect("a valid pattern")
});

static STILL_WRONG: LazyLock<Regex> = LazyLock::new(|| {
    let cannot = "(?:登不上|登录不上|登不进|绑不上|用不了|打不开|转不出|提不出|退不回)(?:去|来)?";
    Regex::new(&format!(
        "^{THING}(?:还是|还|仍然|仍|依然|一直|到现在|至今|都)*(?:(?:没有|没|未|还没有|还没){OUTCOME}|{cannot})(?:呢|啊|呀)?$"
    ))
    .expect("a valid pattern")
});

/// What may stand before the verb, after a relative who reports it (`我爸说`, `我老公话`):
/// the problem (`我的问题`, `这事`), when (`已经`, `终于`),
/// and by whom (`帮我`, `你们`). None of these can turn a yes into a no.
const SUBJECT: &str =
    "(?:(?:我的|俺的|我这个|这个|我们的|您好我的)?问题|(?:俺|我)?(?:这个?)?事(?:情|儿)?)?";
const PARTICLES: &str = "(?:了|啦|咯|喽|哦|喔|哈|啊|呀|哟|的|咗|嘞|噢|咧)*";

/// A verb of fixing with its result: 解决 says it alone, 处理 with 了 (`已经处理了`; `处理`
/// alone may be a request); 弄, 搞, 办, 整, 修 need the result (`弄好`, `办妥`), as `弄了`
/// says only that someone tried.
static SOLVED: LazyLock<Regex> = LazyLock::new(|| {
    let when = "(?:已经|已|早就|早已|都|也|总算|终于|现在|刚刚|刚才|完全|顺利|很快|马上|及时|全部|都已经)*";
    let by = "(?:客服|你们|他们|让你们)?(?:已经|都)?(?:帮我|给我|帮她|帮他|给她|给他|被)?";
    let verb =
        "解决(?:好|完|掉|妥)?|处理(?:了|咗)|(?:弄|搞|办|整|修|修复|处理)(?:好|定|掂|妥|完|利索)";
    Regex::new(&format!(
        "^(?:我{KIN}(?:说|话))?{SUBJECT}(?:是)?{when}{by}{when}(?:得到|得以)?(?:{verb}){PARTICLES}$"
    ))
    .expect("a valid pattern")
});

/// Not (yet) fixed: a negation of the same verbs, `还`/`仍然` before it, or "could not"
/// (`解决不了`, `没法解决`).
static UNSOLVED: LazyLock<Regex> = LazyLock::new(|| {
    let still = "(?:还|仍然|仍|依然|依旧|一直|到现在|至今|根本|压根|完全|都|也)*";
    let not = "(?:没有|没|未|尚未|莫得|没得|冇|并没有|并未|还未|还是没|还是没有)";
    let by = "(?:帮我|给我|被|人)?";
    let verb = "(?:得到)?(?:解决|处理|弄好|搞好|搞定|搞掂|办好|办妥|整好|修好|处理好|处理完)";
    let cannot = "(?:解决|处理|弄|搞|办)不了|没(?:办)?法(?:解决|处理)";
    Regex::new(&format!(
        "^(?:我{KIN}(?:说|话))?{SUBJECT}(?:是)?{still}(?:{not}{by}{verb}|{cannot}){PARTICLES}(?:呢)?$"
    ))
    .expect("a valid pattern")
});

#[cfg(test)]
mod tests {
    use super::said;

    #[test]
    fn a_sentence_saying_it_was_solved_is_yes() {
        for clause in [
            "问题已经帮我处理好了",
            "我的问题已经解决了",
            "事情办妥了",
            "已经处理了",
            "终于弄好了",
            "客服帮我解决了",
            "问题顺利解决",
            "解决咗",
            "问题是解决了",
            "我的问题已经得到解决",
            "退款已经到账了",
            "银行卡已经绑上了",
            "账户解冻了",
            "我爸说解决了",
            "俺这事儿办利索了",
            "我老公话搞掂咗",
            "客服已经帮她处理好了",
            "现在已经能登录了",
            "解决咧",
            "早就解决了",
        ] {
            assert_eq!(said(clause), Some(true), "{clause}");
        }
    }

    #[test]
    fn a_sentence_saying_it_was_not_is_no() {
        for clause in [
            "还莫得解决",
            "问题还是没有解决",
            "到现在都没处理",
            "根本没解决呢",
            "解决不了",
            "没法解决",
            "一直没人处理",
            "问题没得到解决",
            "问题是没解决",
            "尚未解决",
            "我妈说还没解决",
            "钱还没到账",
            "退款到现在都没收到",
            "还是登不上去",
        ] {
            assert_eq!(said(clause), Some(false), "{clause}");
        }
    }

    /// Questions, parts, attempts, and other things fixed are neither.
    #[test]
    fn near_misses_are_neither() {
        for clause in [
            "问题解决了吗",
            "解决了一半",
            "弄了",
            "处理",
            "搞了半天",
            "还在处理",
            "正在处理中",
            "解决了一部分",
            "没解决完",
            "不好说解决没",
            "基本解决了",
            "到账",
            "退款到账了吗",
            "钱到账了一半",
        ] {
            assert_eq!(said(clause), None, "{clause}");
        }
    }
}
