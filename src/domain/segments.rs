//! SMS segment counting (DESIGN.md §4): every outbound message is stored with the number of
//! segments it costs, so cost can be reported. Mainland-China numbers are counted as the
//! domestic platforms bill them ([`mainland`]), every other number by its alphabet
//! ([`count`]).

/// The alphabet a message travels in, decided by its characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "gsm7",
            Encoding::Ucs2 => "ucs2",
        }
    }
}

/// What a message costs on the air.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segments {
    pub encoding: Encoding,
    pub count: u32,
    /// Septets (GSM-7) or UTF-16 code units (UCS-2).
    pub units: u32,
}

/// GSM 03.38 basic character set in table order, minus 0x1B (the escape to the extension
/// table). Kept as the table itself, not as ranges, so it can be checked against the standard.
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
                         ¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// GSM 03.38 extension table: each costs the escape septet plus its own.
const GSM_EXTENSION: &str = "^{}\\[~]|€\x0C";

const GSM7_SINGLE: u32 = 160;
/// 160 minus the 7 septets a concatenation header takes in each part.
const GSM7_PART: u32 = 153;
const UCS2_SINGLE: u32 = 70;
/// 70 minus the 3 code units a concatenation header takes in each part.
const UCS2_PART: u32 = 67;

/// Segments `body` costs: GSM-7 when every character is in the GSM tables, else UCS-2.
pub fn count(body: &str) -> Segments {
    match gsm7_widths(body) {
        Some(widths) => pack(Encoding::Gsm7, &widths, GSM7_SINGLE, GSM7_PART),
        None => {
            let widths: Vec<u32> = body.chars().map(|c| c.len_utf16() as u32).collect();
            pack(Encoding::Ucs2, &widths, UCS2_SINGLE, UCS2_PART)
        }
    }
}

/// The most characters a mainland platform sends as one SMS, signature included.
pub const MAINLAND_MAX_CHARS: u32 = 500;

/// A mainland SMS longer than any platform sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "{chars} characters with the signature, more than the {MAINLAND_MAX_CHARS} a mainland SMS may have"
)]
pub struct TooLong {
    pub chars: u32,
}

/// Segments a message to a mainland-China number costs, as Tencent Cloud and Aliyun bill
/// it: every character counts one (汉字, letters, digits, punctuation, spaces, the
/// 【signature】 itself, even a character outside the BMP), up to 70 in one SMS, else 67 per
/// part. Those are UCS-2's sizes, and the platforms send every SMS in UCS-2, so that is the
/// stored encoding.
pub fn mainland(body: &str) -> Result<Segments, TooLong> {
    let chars = u32::try_from(body.chars().count()).unwrap_or(u32::MAX);
    if chars > MAINLAND_MAX_CHARS {
        return Err(TooLong { chars });
    }
    let count = if chars <= UCS2_SINGLE {
        1
    } else {
        chars.div_ceil(UCS2_PART)
    };
    Ok(Segments {
        encoding: Encoding::Ucs2,
        count,
        units: chars,
    })
}

/// Septets per character, or `None` as soon as one character has no GSM-7 form.
fn gsm7_widths(body: &str) -> Option<Vec<u32>> {
    body.chars().map(gsm7_width).collect()
}

fn gsm7_width(c: char) -> Option<u32> {
    if GSM_BASIC.contains(c) {
        Some(1)
    } else if GSM_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// Fills parts greedily; a character never straddles two parts, because a phone cannot
/// rebuild an escape pair or a surrogate pair whose halves arrive in different parts.
fn pack(encoding: Encoding, widths: &[u32], single: u32, part: u32) -> Segments {
    let units = widths.iter().sum();
    if units <= single {
        return Segments {
            encoding,
            count: 1,
            units,
        };
    }
    let (mut count, mut used) = (1, 0);
    for &w in widths {
        if used + w > part {
            count += 1;
            used = 0;
        }
        used += w;
    }
    Segments {
        encoding,
        count,
        units,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn gsm(count: u32, units: u32) -> Segments {
        Segments {
            encoding: Encoding::Gsm7,
            count,
            units,
        }
    }

    fn ucs2(count: u32, units: u32) -> Segments {
        Segments {
            encoding: Encoding::Ucs2,
            count,
            units,
        }
    }

    #[test]
    fn basic_table_has_127_distinct_characters() {
        // 128 code points, minus 0x1B which is the escape, not a character.
        let chars: Vec<char> = GSM_BASIC.chars().collect();
        assert_eq!(chars.len(), 127);
        assert_eq!(chars.iter().collect::<HashSet<_>>().len(), 127);
    }

    #[test]
    fn basic_and_extension_tables_are_disjoint() {
        assert!(GSM_EXTENSION.chars().all(|c| !GSM_BASIC.contains(c)));
        assert_eq!(GSM_EXTENSION.chars().count(), 10);
    }

    #[test]
    fn greek_capitals_are_the_greek_code_points() {
        // Ω must be U+03A9, not the look-alike OHM SIGN U+2126.
        assert!(GSM_BASIC.contains('\u{03A9}'));
        assert!(!GSM_BASIC.contains('\u{2126}'));
        assert_eq!(count("\u{2126}").encoding, Encoding::Ucs2);
    }

    #[test]
    fn encoding_names() {
        assert_eq!(Encoding::Gsm7.as_str(), "gsm7");
        assert_eq!(Encoding::Ucs2.as_str(), "ucs2");
    }

    #[test]
    fn empty_body_is_one_segment_of_nothing() {
        assert_eq!(count(""), gsm(1, 0));
    }

    #[test]
    fn gsm7_single_segment_holds_160() {
        assert_eq!(count(&"a".repeat(160)), gsm(1, 160));
        assert_eq!(count(&"a".repeat(161)), gsm(2, 161));
    }

    #[test]
    fn gsm7_parts_hold_153() {
        assert_eq!(count(&"a".repeat(306)), gsm(2, 306));
        assert_eq!(count(&"a".repeat(307)), gsm(3, 307));
        assert_eq!(count(&"a".repeat(459)), gsm(3, 459));
        assert_eq!(count(&"a".repeat(460)), gsm(4, 460));
    }

    #[test]
    fn extension_characters_cost_two_septets() {
        assert_eq!(count(&"€".repeat(80)), gsm(1, 160));
        assert_eq!(count(&"€".repeat(81)), gsm(2, 162));
        for c in GSM_EXTENSION.chars() {
            assert_eq!(count(&c.to_string()), gsm(1, 2), "{c:?}");
        }
    }

    #[test]
    fn one_extension_character_tips_160_over() {
        let body = format!("{}€", "a".repeat(159));
        assert_eq!(count(&body), gsm(2, 161));
    }

    #[test]
    fn escape_pair_is_never_split_across_parts() {
        // 306 septets would fit two parts of 153, but the € cannot take the last septet of
        // part one, so that septet is wasted and the message spills into a third part.
        let body = format!("{}€{}", "a".repeat(152), "a".repeat(152));
        assert_eq!(count(&body), gsm(3, 306));
        // With one septet fewer after the €, part two absorbs the shift exactly.
        let body = format!("{}€{}", "a".repeat(152), "a".repeat(151));
        assert_eq!(count(&body), gsm(2, 305));
    }

    #[test]
    fn escape_pair_that_fits_exactly_stays_in_its_part() {
        // 151 + 2 = 153: the pair ends part one, no septet wasted.
        let body = format!("{}€{}", "a".repeat(151), "a".repeat(153));
        assert_eq!(count(&body), gsm(2, 306));
    }

    #[test]
    fn gsm_accented_and_greek_letters_stay_gsm() {
        assert_eq!(count("£"), gsm(1, 1));
        assert_eq!(count("é"), gsm(1, 1));
        assert_eq!(count("Δ"), gsm(1, 1));
        assert_eq!(count("Ç"), gsm(1, 1));
        assert_eq!(count("Prix: 5£, café, ΔΣΩ, ¿Qué tal? ¡Olé!"), gsm(1, 36));
    }

    #[test]
    fn characters_outside_both_tables_force_ucs2() {
        // Only the capital Ç is in the GSM table.
        assert_eq!(count("ç"), ucs2(1, 1));
        assert_eq!(count("garçon"), ucs2(1, 6));
        // The backtick sits at 0x60 in ASCII but GSM puts ¿ there.
        assert_eq!(count("`"), ucs2(1, 1));
        assert_eq!(count("á"), ucs2(1, 1));
    }

    #[test]
    fn one_chinese_character_forces_ucs2_on_gsm_text() {
        let body = format!("{}好", "a".repeat(100));
        assert_eq!(count(&body), ucs2(2, 101));
    }

    #[test]
    fn extension_characters_are_one_unit_in_ucs2() {
        assert_eq!(count("€{}好"), ucs2(1, 4));
    }

    #[test]
    fn ucs2_single_segment_holds_70() {
        assert_eq!(count(&"好".repeat(70)), ucs2(1, 70));
        assert_eq!(count(&"好".repeat(71)), ucs2(2, 71));
    }

    #[test]
    fn ucs2_parts_hold_67() {
        assert_eq!(count(&"好".repeat(134)), ucs2(2, 134));
        assert_eq!(count(&"好".repeat(135)), ucs2(3, 135));
    }

    #[test]
    fn emoji_outside_the_bmp_cost_two_units() {
        assert_eq!(count(&"😀".repeat(35)), ucs2(1, 70));
        assert_eq!(count(&"😀".repeat(36)), ucs2(2, 72));
    }

    #[test]
    fn surrogate_pair_is_never_split_across_parts() {
        // 134 units would fit two parts of 67, but the emoji cannot take the last unit of
        // part one, so the message spills into a third part.
        let body = format!("{}😀{}", "a".repeat(66), "a".repeat(66));
        assert_eq!(count(&body), ucs2(3, 134));
        let body = format!("{}😀{}", "a".repeat(66), "a".repeat(65));
        assert_eq!(count(&body), ucs2(2, 133));
    }

    #[test]
    fn mainland_counts_every_character_as_one() {
        let a = |n: usize| "a".repeat(n);
        let han = |n: usize| "好".repeat(n);
        let emoji = |n: usize| "😀".repeat(n);
        // (body, parts, characters)
        let table: Vec<(String, u32, u32)> = vec![
            (String::new(), 1, 0),
            (a(1), 1, 1),
            (a(70), 1, 70),
            (a(71), 2, 71),
            (han(70), 1, 70),
            (han(71), 2, 71),
            (han(134), 2, 134),
            (han(135), 3, 135),
            (han(201), 3, 201),
            (han(202), 4, 202),
            (han(500), 8, 500),
            // Outside the BMP: one character, not two UTF-16 units.
            (emoji(70), 1, 70),
            (emoji(71), 2, 71),
            // GSM's two-septet characters are one here, and GSM text does not get 160.
            (format!("{}€", a(69)), 1, 70),
            (a(100), 2, 100),
            (
                "【小蓝钱包】您好，您的问题解决了吗？回复1=是，2=否。回TD退订".into(),
                1,
                33,
            ),
            (format!("【小蓝钱包】{}", han(65)), 2, 71),
        ];
        for (body, parts, chars) in table {
            assert_eq!(mainland(&body), Ok(ucs2(parts, chars)), "{body:?}");
        }
    }

    #[test]
    fn mainland_refuses_over_500_characters() {
        assert_eq!(mainland(&"好".repeat(501)), Err(TooLong { chars: 501 }));
        assert!(mainland(&format!("【小蓝钱包】{}", "a".repeat(495))).is_err());
        assert!(mainland(&format!("【小蓝钱包】{}", "a".repeat(494))).is_ok());
    }

    #[test]
    fn survey_question_in_zh_cn_is_one_ucs2_segment() {
        let body = "【小蓝钱包】您好，您的问题解决了吗？回复1=是，2=否。回TD退订";
        assert_eq!(body.chars().count(), 33);
        assert_eq!(count(body), ucs2(1, 33));
    }

    #[test]
    fn survey_question_in_en_is_gsm7_with_brackets_costing_two() {
        let body =
            "[Blue Wallet] Was your issue resolved? Reply 1 = yes, 2 = no. Reply STOP to opt out.";
        // 84 characters, of which [ and ] take an escape septet each.
        assert_eq!(count(body), gsm(1, 86));
    }
}
