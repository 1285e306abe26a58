//! What the score cells are computed with: the day boundary's time zone, which questions
//! feed which metric, and the tables the aggregation keeps. Cells built on another basis are
//! rebuilt, never mixed.

use serde::{Deserialize, Serialize};

use crate::domain::survey::{Metric, SurveyDefinition};

/// The tables an incremental run relies on. 2: `score_surveys` holds every sent survey's
/// figures (a basis stored before it has no `model`, read as 1, and is rebuilt once, which
/// fills the table).
const MODEL: u32 = 2;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Basis {
    #[serde(default = "first_model")]
    pub model: u32,
    /// IANA zone of the local day an answer counts on (`aggregation.timezone`).
    pub timezone: String,
    /// Question ids per metric.
    pub csat: Vec<String>,
    pub nps: Vec<String>,
    pub fcr: Vec<String>,
}

impl Basis {
    pub fn new(timezone: &str, survey: &SurveyDefinition) -> Self {
        let ids = |metric: Metric| {
            survey
                .questions
                .iter()
                .filter(|q| q.metric == Some(metric))
                .map(|q| q.id.clone())
                .collect()
        };
        Self {
            model: MODEL,
            timezone: timezone.to_owned(),
            csat: ids(Metric::Csat),
            nps: ids(Metric::Nps),
            fcr: ids(Metric::Fcr),
        }
    }

    /// Why cells stored under `stored` cannot be folded into, if they cannot.
    pub fn differs_from(&self, stored: Option<&Basis>) -> Option<String> {
        match stored {
            None => Some("no scores have been built yet".into()),
            Some(s) if s.model != self.model => Some(format!(
                "the aggregation's tables changed (model {} to {})",
                s.model, self.model
            )),
            Some(s) if s.timezone != self.timezone => Some(format!(
                "aggregation.timezone changed from {} to {}",
                s.timezone, self.timezone
            )),
            Some(s) if s != self => Some("the survey's question → metric mapping changed".into()),
            Some(_) => None,
        }
    }
}

fn first_model() -> u32 {
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basis(tz: &str, csat: &str) -> Basis {
        Basis {
            model: MODEL,
            timezone: tz.into(),
            csat: vec![csat.into()],
            nps: vec!["nps".into()],
            fcr: vec!["fcr".into()],
        }
    }

    #[test]
    fn nothing_stored_needs_a_build() {
        assert!(basis("Asia/Shanghai", "csat").differs_from(None).is_some());
    }

    #[test]
    fn the_same_basis_folds_in() {
        let b = basis("Asia/Shanghai", "csat");
        assert_eq!(b.differs_from(Some(&b.clone())), None);
    }

    #[test]
    fn a_new_zone_or_mapping_rebuilds_and_says_why() {
        let now = basis("Asia/Shanghai", "csat");
        let why = now
            .differs_from(Some(&basis("UTC", "csat")))
            .expect("a different zone");
        assert!(
            why.contains("UTC") && why.contains("Asia/Shanghai"),
            "{why}"
        );
        let why = now
            .differs_from(Some(&basis("Asia/Shanghai", "satisfaction")))
            .expect("a different mapping");
        assert!(why.contains("mapping"), "{why}");
    }

    #[test]
    fn cells_built_before_score_surveys_are_rebuilt() {
        let stored: Basis = serde_json::from_str(
            r#"{"timezone": "Asia/Shanghai", "csat": ["csat"], "nps": ["nps"], "fcr": ["fcr"]}"#,
        )
        .expect("a basis stored before `model`");
        assert_eq!(stored.model, 1);
        let why = basis("Asia/Shanghai", "csat")
            .differs_from(Some(&stored))
            .expect("an older model rebuilds");
        assert!(why.contains("model 1 to 2"), "{why}");
    }
}
