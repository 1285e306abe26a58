//! `[aggregation]`: when the scores are folded, in which zone, and how a rebuild is split.

use std::num::NonZeroU32;

use serde::{Deserialize, Serialize};

use super::{ConfigError, Settings, invalid};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Aggregation {
    pub enabled: bool,
    pub schedule: String,
    pub timezone: String,
    pub rebuild_parts: u32,
}

impl Settings {
    /// The parts a rebuild's per-survey pass is cut into, each on its own connection.
    pub(super) fn rebuild_parts(&self) -> Result<NonZeroU32, ConfigError> {
        let parts = self.aggregation.rebuild_parts;
        let Some(parts) = NonZeroU32::new(parts) else {
            return Err(invalid(
                "aggregation.rebuild_parts",
                "must be a whole number of at least 1",
            ));
        };
        // The rebuild's transaction holds one connection while each further part takes
        // another: with no more in the pool, a part would wait out the acquire timeout.
        let pool = self.database.max_connections;
        if parts.get() > 1 && parts.get() >= pool {
            return Err(invalid(
                "aggregation.rebuild_parts",
                format!(
                    "must be less than database.max_connections ({pool}): the rebuild's \
                     transaction holds one connection and each further part takes another"
                ),
            ));
        }
        Ok(parts)
    }
}

#[cfg(test)]
mod tests {
    use crate::config::tests::{error_of, load_env};

    #[test]
    fn a_rebuild_runs_in_two_parts_unless_told() {
        let runtime = load_env(&[]).unwrap().runtime().unwrap();
        assert_eq!(runtime.rebuild_parts.get(), 2);
        let one = load_env(&[("POSTCALL__AGGREGATION__REBUILD_PARTS", "1")]).unwrap();
        assert_eq!(one.runtime().unwrap().rebuild_parts.get(), 1);
    }

    #[test]
    fn parts_must_be_a_positive_whole_number_the_pool_can_serve() {
        for bad in ["0", "-1", "1.5", "two", ""] {
            let err = error_of(&[("POSTCALL__AGGREGATION__REBUILD_PARTS", bad)]);
            assert!(err.contains("aggregation.rebuild_parts"), "{bad:?}: {err}");
        }
        let err = error_of(&[
            ("POSTCALL__AGGREGATION__REBUILD_PARTS", "4"),
            ("POSTCALL__DATABASE__MAX_CONNECTIONS", "4"),
        ]);
        assert!(err.contains("database.max_connections (4)"), "{err}");
        let fits = load_env(&[
            ("POSTCALL__AGGREGATION__REBUILD_PARTS", "3"),
            ("POSTCALL__DATABASE__MAX_CONNECTIONS", "4"),
        ]);
        assert_eq!(fits.unwrap().aggregation.rebuild_parts, 3);
    }
}
