//! `[retention]`: how long personal data is kept, checked against the rules that read it.

use serde::{Deserialize, Serialize};

use super::{ConfigError, Settings, invalid};
use crate::domain::retention::{ARRIVAL_MARGIN, Policy};

/// The largest batch: one batch is one transaction, and it must stay short.
const MAX_BATCH: u32 = 100_000;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    pub enabled: bool,
    pub personal_data_days: u32,
    pub batch_size: u32,
}

impl Settings {
    /// The retention rule the aggregation role applies; `None` when switched off.
    pub(super) fn retention(&self) -> Result<Option<Policy>, ConfigError> {
        let r = &self.retention;
        if r.personal_data_days == 0 {
            return Err(invalid(
                "retention.personal_data_days",
                "must be a whole number of days, at least 1",
            ));
        }
        // The frequency cap finds a phone's past surveys by their number: erased sooner,
        // a customer could be surveyed again inside the cap.
        let cap = self.eligibility.frequency_cap_days;
        if r.personal_data_days <= cap {
            return Err(invalid(
                "retention.personal_data_days",
                format!(
                    "must be more than eligibility.frequency_cap_days ({cap}): the cap \
                     looks up a phone's past surveys by their number"
                ),
            ));
        }
        // A call that arrives already past the window is stored erased, which is only right
        // for a call too stale to survey (`retention::Policy::arrives_erased`).
        let stale = self.eligibility.stale_after_hours;
        let window_hours = i64::from(r.personal_data_days) * 24;
        if i64::from(stale) + ARRIVAL_MARGIN.num_hours() > window_hours {
            return Err(invalid(
                "retention.personal_data_days",
                format!(
                    "must be longer than eligibility.stale_after_hours ({stale}) by at \
                     least {} hour: a call that arrives already past the window is stored \
                     erased, so it must be too stale to survey",
                    ARRIVAL_MARGIN.num_hours()
                ),
            ));
        }
        if !(1..=MAX_BATCH).contains(&r.batch_size) {
            return Err(invalid(
                "retention.batch_size",
                format!("must be between 1 and {MAX_BATCH}"),
            ));
        }
        Ok(r.enabled.then_some(Policy {
            days: r.personal_data_days,
            batch_size: r.batch_size,
        }))
    }
}

#[cfg(test)]
mod tests {
    use crate::config::tests::load_env;
    use crate::domain::retention::Policy;

    #[test]
    fn defaults_keep_personal_data_180_days() {
        let s = load_env(&[]).unwrap();
        assert_eq!(
            s.retention().unwrap(),
            Some(Policy {
                days: 180,
                batch_size: 1000
            })
        );
    }

    #[test]
    fn switched_off_there_is_no_policy() {
        let s = load_env(&[("POSTCALL__RETENTION__ENABLED", "false")]).unwrap();
        assert_eq!(s.retention().unwrap(), None);
    }

    #[test]
    fn a_bad_number_of_days_is_refused_naming_the_key() {
        for bad in ["0", "-5", "1.5", "soon"] {
            let e = load_env(&[("POSTCALL__RETENTION__PERSONAL_DATA_DAYS", bad)])
                .unwrap_err()
                .to_string();
            assert!(e.contains("retention.personal_data_days"), "{bad}: {e}");
        }
    }

    #[test]
    fn days_within_the_frequency_cap_are_refused() {
        let e = load_env(&[
            ("POSTCALL__RETENTION__PERSONAL_DATA_DAYS", "7"),
            ("POSTCALL__ELIGIBILITY__FREQUENCY_CAP_DAYS", "7"),
        ])
        .unwrap_err()
        .to_string();
        assert!(e.contains("retention.personal_data_days"), "{e}");
        assert!(e.contains("frequency_cap_days (7)"), "{e}");
        load_env(&[
            ("POSTCALL__RETENTION__PERSONAL_DATA_DAYS", "8"),
            ("POSTCALL__ELIGIBILITY__FREQUENCY_CAP_DAYS", "7"),
        ])
        .unwrap();
    }

    #[test]
    fn a_window_not_longer_than_stale_after_by_the_margin_is_refused() {
        let cap = ("POSTCALL__ELIGIBILITY__FREQUENCY_CAP_DAYS", "0");
        let e = load_env(&[
            cap,
            ("POSTCALL__RETENTION__PERSONAL_DATA_DAYS", "2"),
            ("POSTCALL__ELIGIBILITY__STALE_AFTER_HOURS", "48"),
        ])
        .unwrap_err()
        .to_string();
        assert!(e.contains("retention.personal_data_days"), "{e}");
        assert!(e.contains("stale_after_hours (48)"), "{e}");
        load_env(&[
            cap,
            ("POSTCALL__RETENTION__PERSONAL_DATA_DAYS", "2"),
            ("POSTCALL__ELIGIBILITY__STALE_AFTER_HOURS", "47"),
        ])
        .unwrap();
    }

    #[test]
    fn a_batch_size_out_of_range_is_refused_naming_the_key() {
        for bad in ["0", "100001"] {
            let e = load_env(&[("POSTCALL__RETENTION__BATCH_SIZE", bad)])
                .unwrap_err()
                .to_string();
            assert!(e.contains("retention.batch_size"), "{bad}: {e}");
        }
    }
}
