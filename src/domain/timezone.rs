//! Which local time a customer lives in, for quiet hours.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono_tz::Tz;

use super::phone::PhoneNumber;

/// The tz database's table of zones per country (public domain), vendored so that the
/// answer does not depend on the host's tzdata.
const ZONE1970_TAB: &str = include_str!("zone1970.tab");

static ZONES_BY_COUNTRY: LazyLock<HashMap<&'static str, Vec<Tz>>> =
    LazyLock::new(|| zones_by_country(ZONE1970_TAB));

/// The customer's zones for quiet hours: the event's `customer_timezone` if given (one
/// zone); else the zones of the phone's country (`PhoneNumber::region()`, ISO code like
/// `CN`); else `default`. Never empty.
///
/// A country with several zones gives all of them, so quiet hours hold wherever in it the
/// customer is (US, RU, AU, BR). The first is a zone the country is named first for.
pub fn customer_zones(event_tz: Option<Tz>, phone: &PhoneNumber, default: Tz) -> Vec<Tz> {
    zones_in_region(event_tz, phone.region(), default)
}

/// `customer_zones` from the phone's region alone (`phone::region_of`), for the dispatcher,
/// which needs nothing else of the number.
pub fn zones_in_region(event_tz: Option<Tz>, region: Option<&str>, default: Tz) -> Vec<Tz> {
    if let Some(tz) = event_tz {
        return vec![tz];
    }
    region
        .and_then(|region| ZONES_BY_COUNTRY.get(region))
        .cloned()
        .unwrap_or_else(|| vec![default])
}

/// Parses zone1970.tab: `codes<TAB>coordinates<TAB>TZ[<TAB>comments]`, `#` comments.
fn zones_by_country(table: &'static str) -> HashMap<&'static str, Vec<Tz>> {
    // A row lists the country whose zone it is first and neighbours sharing its clock after
    // (`CH,DE,LI Europe/Zurich` exists for Büsingen); a country's own zones go first.
    let mut ranked: HashMap<&str, Vec<(bool, Tz)>> = HashMap::new();
    for line in table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let mut columns = line.split('\t');
        let (Some(codes), Some(name)) = (columns.next(), columns.nth(1)) else {
            continue;
        };
        // A zone newer than chrono-tz's copy of the database cannot be computed with.
        let Ok(tz) = name.parse::<Tz>() else {
            continue;
        };
        for (i, code) in codes.split(',').enumerate() {
            ranked.entry(code).or_default().push((i > 0, tz));
        }
    }
    let mut zones: HashMap<&str, Vec<Tz>> = ranked
        .into_iter()
        .map(|(code, mut rows)| {
            rows.sort_by_key(|&(neighbour, _)| neighbour);
            (code, rows.into_iter().map(|(_, tz)| tz).collect())
        })
        .collect();
    // Beijing Time is the single legal time in all of mainland China. zone1970.tab's
    // Asia/Urumqi ("Xinjiang Time") is an informal local custom, and honouring it would
    // push every mainland send from 09:00 to 11:00 Beijing Time.
    zones.insert("CN", vec![chrono_tz::Asia::Shanghai]);
    zones
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America, Asia, Europe};

    fn phone(raw: &str) -> PhoneNumber {
        PhoneNumber::parse(raw).unwrap()
    }

    #[test]
    fn a_chinese_number_is_beijing_time_only() {
        let zones = customer_zones(None, &phone("+8613800138000"), Europe::London);
        assert_eq!(zones, vec![Asia::Shanghai]);
    }

    #[test]
    fn the_event_timezone_wins_over_the_phone_country() {
        let zones = customer_zones(
            Some(America::New_York),
            &phone("+8613800138000"),
            Asia::Shanghai,
        );
        assert_eq!(zones, vec![America::New_York]);
    }

    #[test]
    fn a_us_number_gets_every_us_zone_eastern_first() {
        let zones = customer_zones(None, &phone("+14155550123"), Asia::Shanghai);
        assert_eq!(zones[0], America::New_York);
        for tz in [
            America::Chicago,
            America::Denver,
            America::Phoenix,
            America::Los_Angeles,
            America::Anchorage,
            America::Adak,
            chrono_tz::Pacific::Honolulu,
        ] {
            assert!(zones.contains(&tz), "{tz}");
        }
        assert!(zones.len() > 20, "{}", zones.len());
    }

    #[test]
    fn a_country_with_one_zone_gets_it() {
        assert_eq!(
            customer_zones(None, &phone("+447911123456"), Asia::Shanghai),
            vec![Europe::London]
        );
        assert_eq!(
            customer_zones(None, &phone("+819012345678"), Asia::Shanghai),
            vec![Asia::Tokyo]
        );
    }

    #[test]
    fn a_country_listed_as_a_neighbour_puts_its_own_zone_first() {
        let zones = customer_zones(None, &phone("+4915123456789"), Asia::Shanghai);
        assert_eq!(zones, vec![Europe::Berlin, Europe::Zurich]);
    }

    #[test]
    fn an_unknown_region_uses_the_default() {
        let unknown = phone("+99912345678");
        assert!(
            ZONES_BY_COUNTRY
                .get(unknown.region().unwrap_or(""))
                .is_none()
        );
        assert_eq!(
            customer_zones(None, &unknown, Europe::Berlin),
            vec![Europe::Berlin]
        );
        let non_geographic = phone("+80012345678");
        assert_eq!(
            customer_zones(None, &non_geographic, Europe::Berlin),
            vec![Europe::Berlin]
        );
    }

    #[test]
    fn the_vendored_table_is_parsed_whole() {
        let countries = ZONES_BY_COUNTRY.len();
        assert!(countries > 240, "{countries} countries");
        assert!(ZONES_BY_COUNTRY.values().all(|zones| !zones.is_empty()));
        assert!(ZONES_BY_COUNTRY["RU"].len() > 20);
        assert!(ZONES_BY_COUNTRY["AU"].contains(&chrono_tz::Australia::Perth));
        assert!(ZONES_BY_COUNTRY["BR"].contains(&America::Sao_Paulo));
    }
}
