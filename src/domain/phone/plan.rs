//! What the numbering plan says of a number: its region and whether it can take an SMS.
//!
//! The `phonenumber` crate answers both (`parse`, then `is_valid` and `number_type`), but
//! every pattern it matches goes through one process-wide regex cache behind a mutex, keyed
//! by the pattern's source text (hundreds of bytes for a mainland mobile), and its parse
//! runs a general-purpose text parser first: 11.5–15.4 µs a number, most of the ingest
//! worker's CPU, where this module takes 0.24 µs (BENCHMARKS.md, "ingest"). An event's number is already E.164, so this module reads
//! the country code off the digits and matches the region's own patterns, compiled once per
//! country code into plain `Regex`es, in the crate's order. Where the crate's parse would
//! transform the national number (a national prefix or carrier code at its head, a leading
//! zero) or has to choose between regions sharing a code, the full parse answers instead;
//! `the_fast_path_says_what_the_full_parse_says` holds the two together over every code.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

use phonenumber::metadata::{DATABASE, Descriptor, Metadata};
use regex::{Regex, RegexBuilder};

use super::{PhoneShapeError, e164_digits};

/// Region and SMS reachability of an E.164 number, as the full parse would say them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub region: Option<String>,
    pub reachable: bool,
}

/// `Plan` for `raw`, which must be `+` and 8–15 digits.
pub fn plan_of(raw: &str) -> Result<Plan, PhoneShapeError> {
    let digits = e164_digits(raw)?;
    Ok(fast(digits).unwrap_or_else(|| full(raw)))
}

/// The crate's own answer: its parse, validity and number type.
pub fn full(raw: &str) -> Plan {
    match phonenumber::parse(None, raw) {
        Ok(number) => Plan {
            region: number.metadata(&DATABASE).map(|m| m.id().to_owned()),
            reachable: number.is_valid() && reachable(number.number_type(&DATABASE)),
        },
        Err(_) => Plan {
            region: None,
            reachable: false,
        },
    }
}

/// A valid number of a kind that can receive an SMS: a landline or a premium line cannot.
fn reachable(kind: phonenumber::Type) -> bool {
    use phonenumber::Type;
    matches!(
        kind,
        Type::Mobile | Type::FixedLineOrMobile | Type::PersonalNumber | Type::Voip
    )
}

/// `None` where only the full parse can say.
fn fast(digits: &str) -> Option<Plan> {
    let (code, national) = split_country_code(digits)?;
    if national.starts_with('0') {
        return None;
    }
    let rules = rules_for(code)?;
    if rules.transforms(national) {
        return None;
    }
    Some(Plan {
        region: Some(rules.region.to_owned()),
        reachable: reachable(rules.number_type(national)),
    })
}

/// Country codes are one to three digits and prefix-free: the first the database knows.
fn split_country_code(digits: &str) -> Option<(u16, &str)> {
    (1..=3).find_map(|len| {
        let code = digits.get(..len)?.parse::<u16>().ok()?;
        DATABASE.by_code(&code).map(|_| (code, &digits[len..]))
    })
}

/// The compiled rules of a code that one geographic region owns; `None` for a code
/// regions share or a non-geographic one (`001`), which the full parse handles.
fn rules_for(code: u16) -> Option<Arc<Rules>> {
    static COMPILED: LazyLock<RwLock<HashMap<u16, Option<Arc<Rules>>>>> =
        LazyLock::new(Default::default);
    if let Some(rules) = COMPILED.read().expect("rules lock").get(&code) {
        return rules.clone();
    }
    let rules = sole_region(code).map(|meta| Arc::new(Rules::compile(meta)));
    COMPILED
        .write()
        .expect("rules lock")
        .entry(code)
        .or_insert(rules)
        .clone()
}

fn sole_region(code: u16) -> Option<&'static Metadata> {
    match DATABASE.region(&code)?.as_slice() {
        [only] if *only != "001" => DATABASE.by_id(*only),
        _ => None,
    }
}

/// One descriptor: its pattern, matched from the start, and its possible lengths.
struct Pattern {
    regex: Regex,
    lengths: Vec<u16>,
}

impl Pattern {
    fn compile(descriptor: &Descriptor) -> Self {
        Self {
            regex: compile(descriptor.national_number().as_str()),
            lengths: descriptor.possible_length().to_vec(),
        }
    }

    /// The crate's `Descriptor::is_match`: a possible length, and a match at the start.
    fn is_match(&self, national: &str) -> bool {
        (self.lengths.is_empty() || self.lengths.contains(&(national.len() as u16)))
            && starts_match(&self.regex, national)
    }
}

/// A metadata pattern, anchored at the start: the crate asks whether the leftmost match
/// starts there, which is whether any match does, and an anchored search stops at the first
/// byte that cannot begin one instead of trying every later position (3.6 → 0.24 µs a
/// mainland mobile). Whitespace is ignored, as the crate compiles these patterns.
fn compile(source: &str) -> Regex {
    RegexBuilder::new(&format!("^(?:{source})"))
        .ignore_whitespace(true)
        .build()
        .expect("the crate compiled this pattern")
}

fn starts_match(regex: &Regex, text: &str) -> bool {
    regex.is_match(text)
}

struct Rules {
    region: &'static str,
    general: Pattern,
    /// Checked in the crate's order before the fixed line; the first match is the type.
    special: Vec<(phonenumber::Type, Pattern)>,
    fixed_line: Option<Pattern>,
    mobile: Option<Pattern>,
    /// The region uses one pattern for both: a fixed-line match is "fixed line or mobile".
    fixed_is_mobile: bool,
    prefix_for_parsing: Option<Regex>,
    national_prefix: Option<String>,
}

impl Rules {
    fn compile(meta: &'static Metadata) -> Self {
        use phonenumber::Type;
        let d = meta.descriptors();
        let special = [
            (Type::PremiumRate, d.premium_rate()),
            (Type::TollFree, d.toll_free()),
            (Type::SharedCost, d.shared_cost()),
            (Type::Voip, d.voip()),
            (Type::PersonalNumber, d.personal_number()),
            (Type::Pager, d.pager()),
            (Type::Uan, d.uan()),
            (Type::Voicemail, d.voicemail()),
        ]
        .into_iter()
        .filter_map(|(kind, d)| d.map(|d| (kind, Pattern::compile(d))))
        .collect();
        let source = |d: Option<&Descriptor>| d.map(|d| d.national_number().as_str().to_owned());
        Self {
            region: meta.id(),
            general: Pattern::compile(d.general()),
            special,
            fixed_line: d.fixed_line().map(Pattern::compile),
            mobile: d.mobile().map(Pattern::compile),
            fixed_is_mobile: d.fixed_line().is_some()
                && source(d.fixed_line()) == source(d.mobile()),
            prefix_for_parsing: meta
                .national_prefix_for_parsing()
                .map(|re| compile(re.as_str())),
            national_prefix: meta.national_prefix().map(str::to_owned),
        }
    }

    /// Whether the crate's parse would strip a national prefix or carrier code from the
    /// head of this national number (or try to): then its national number is not ours.
    fn transforms(&self, national: &str) -> bool {
        let prefix = self
            .national_prefix
            .as_deref()
            .is_some_and(|p| national.starts_with(p));
        let for_parsing = self
            .prefix_for_parsing
            .as_ref()
            .is_some_and(|re| starts_match(re, national));
        prefix || for_parsing
    }

    /// The crate's `validator::number_type`, over the compiled patterns.
    fn number_type(&self, national: &str) -> phonenumber::Type {
        use phonenumber::Type;
        if !self.general.is_match(national) {
            return Type::Unknown;
        }
        if let Some((kind, _)) = self.special.iter().find(|(_, p)| p.is_match(national)) {
            return *kind;
        }
        let matches = |p: &Option<Pattern>| p.as_ref().is_some_and(|p| p.is_match(national));
        if matches(&self.fixed_line) {
            if self.fixed_is_mobile || matches(&self.mobile) {
                Type::FixedLineOrMobile
            } else {
                Type::FixedLine
            }
        } else if matches(&self.mobile) {
            Type::Mobile
        } else {
            Type::Unknown
        }
    }
}

#[cfg(test)]
mod tests;
