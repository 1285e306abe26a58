//! The settings with rules beyond their type, parsed once into what the roles take: the
//! roles are handed these values and never parse a setting again.

use std::{num::NonZeroU32, sync::Arc};

use chrono_tz::Tz;

use super::{ConfigError, Settings};
use crate::{
    channels,
    domain::{eligibility::Policy, retention, survey::SurveyDefinition},
};

#[derive(Debug, Clone)]
pub struct Runtime {
    /// The eligibility rules (`eligibility.*`).
    pub policy: Arc<Policy>,
    /// The questions and texts (`survey.*`).
    pub survey: Arc<SurveyDefinition>,
    /// The `[provider]` section: the chosen channel's templates, where it sends only those.
    pub provider: Arc<channels::Settings>,
    /// The zone score days are counted in (`aggregation.timezone`).
    pub scores_zone: Tz,
    /// When aggregation runs (`aggregation.schedule`), read in `scores_zone`.
    pub schedule: cron::Schedule,
    /// How many connections a rebuild computes the per-survey rows on
    /// (`aggregation.rebuild_parts`).
    pub rebuild_parts: NonZeroU32,
    /// What the aggregation role erases after it aggregates (`retention.*`); `None` when off.
    pub retention: Option<retention::Policy>,
}

impl Settings {
    /// Parses the settings as they are now (after any change made since `load`).
    pub fn runtime(&self) -> Result<Runtime, ConfigError> {
        Ok(Runtime {
            policy: Arc::new(self.policy()?),
            survey: Arc::new(self.survey_definition()?),
            provider: Arc::new(self.provider.clone()),
            scores_zone: self.scores_zone()?,
            schedule: self.schedule()?,
            rebuild_parts: self.rebuild_parts()?,
            retention: self.retention()?,
        })
    }
}
