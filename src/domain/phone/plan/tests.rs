use super::*;

/// A fixed pseudo-random digit source: the same numbers every run.
fn digits() -> impl FnMut(usize) -> String {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    move |n| {
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                char::from(b'0' + (state % 10) as u8)
            })
            .collect()
    }
}

/// Compares the two answers for `raw` and counts the fast path's share.
struct Checker {
    checked: usize,
    fast: usize,
    reachable: usize,
}

impl Checker {
    fn new() -> Self {
        Self {
            checked: 0,
            fast: 0,
            reachable: 0,
        }
    }

    fn check(&mut self, raw: &str) {
        if e164_digits(raw).is_err() {
            return;
        }
        let quick = plan_of(raw).unwrap();
        assert_eq!(quick, full(raw), "{}", super::super::mask(raw));
        self.checked += 1;
        self.fast += usize::from(fast(e164_digits(raw).unwrap()).is_some());
        self.reachable += usize::from(quick.reachable);
    }
}

/// Every country code the database knows, at every length E.164 allows.
#[test]
fn the_fast_path_says_what_the_full_parse_says_for_any_digits() {
    let mut next = digits();
    let mut checker = Checker::new();
    for code in (1..1000u16).filter(|c| DATABASE.region(c).is_some()) {
        let code = code.to_string();
        for total in 8..=15usize {
            let Some(national) = total.checked_sub(code.len()).filter(|&n| n > 0) else {
                continue;
            };
            for _ in 0..8 {
                checker.check(&format!("+{code}{}", next(national)));
            }
        }
    }
    assert!(checker.checked > 10_000, "{}", checker.checked);
    assert!(checker.fast > checker.checked / 2, "{}", checker.fast);
}

/// Random digits are rarely valid numbers: every region's example number of every type,
/// its last one to four digits varied, reaches the type patterns the random run misses.
#[test]
fn the_fast_path_says_what_the_full_parse_says_for_valid_numbers_of_every_type() {
    use phonenumber::Type;
    let kinds = [
        Type::FixedLine,
        Type::Mobile,
        Type::TollFree,
        Type::PremiumRate,
        Type::SharedCost,
        Type::PersonalNumber,
        Type::Voip,
        Type::Pager,
        Type::Uan,
        Type::Voicemail,
    ];
    let mut next = digits();
    let mut checker = Checker::new();
    for code in 1..1000u16 {
        for meta in DATABASE.by_code(&code).unwrap_or_default() {
            for kind in kinds {
                let Some(example) = meta.descriptors().get(kind).and_then(|d| d.example()) else {
                    continue;
                };
                for varied in 0..=4.min(example.len()) {
                    for _ in 0..3 {
                        let head = &example[..example.len() - varied];
                        checker.check(&format!("+{code}{head}{}", next(varied)));
                    }
                }
            }
        }
    }
    assert!(checker.checked > 5_000, "{}", checker.checked);
    assert!(
        checker.reachable > checker.checked / 4,
        "{}",
        checker.reachable
    );
    assert!(checker.fast > checker.checked / 2, "{}", checker.fast);
}

/// Mainland numbers, most of postcall's traffic: mobiles take the fast path and agree.
#[test]
fn mainland_mobiles_take_the_fast_path_and_agree() {
    let mut next = digits();
    let mut checker = Checker::new();
    for head in ["13", "14", "15", "16", "17", "18", "19", "10", "11", "12"] {
        for _ in 0..2_000 {
            checker.check(&format!("+86{head}{}", next(9)));
        }
    }
    for _ in 0..5_000 {
        let len = 8 + (next(1).as_bytes()[0] - b'0') as usize % 4;
        checker.check(&format!("+86{}", next(len)));
    }
    assert_eq!(checker.checked, 25_000);
    assert!(checker.fast > 20_000, "{}", checker.fast);
    let mobile = plan_of("+8613800138000").unwrap();
    assert!(fast("8613800138000").is_some());
    assert_eq!(mobile.region.as_deref(), Some("CN"));
    assert!(mobile.reachable);
}

#[test]
fn a_landline_a_shared_code_and_a_national_prefix_are_answered_as_the_crate_answers() {
    // A Beijing landline: fast path, not reachable.
    assert_eq!(
        plan_of("+861065529988").unwrap(),
        Plan {
            region: Some("CN".into()),
            reachable: false
        }
    );
    // +1 is shared by the US, Canada and the Caribbean: only the full parse tells them apart.
    assert!(fast("14155550123").is_none());
    assert_eq!(
        plan_of("+14155550123").unwrap().region.as_deref(),
        Some("US")
    );
    // Italy's fixed lines keep their leading zero: the full parse reads them.
    assert!(fast("390612345678").is_none());
    assert_eq!(plan_of("+390612345678").unwrap(), full("+390612345678"));
}
