//! Typed settings, layered: the compiled-in `config/default.toml`, then `--config FILE`,
//! then `POSTCALL__SECTION__KEY` environment variables. Every error names its key.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    net::SocketAddr,
    path::Path,
    str::FromStr,
};

use chrono::{NaiveTime, TimeDelta};
use chrono_tz::Tz;
use config::{Config, Environment, File, FileFormat};
use serde::{Deserialize, Serialize};

pub use self::{
    aggregation::Aggregation,
    retention::Retention,
    runtime::Runtime,
    secrets::{ExposeSecret, SecretString, SecretUrl, mask_url},
};
use crate::{
    channels,
    domain::{
        eligibility::Policy,
        event::Disposition,
        quiet_hours::QuietHours,
        reply::Labels,
        survey::{Metric, Question, QuestionKind, SurveyDefinition, Wording},
    },
};

pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");
/// The compact survey's questions (`survey.preset = "compact"`), also a ready `--config` file.
pub const COMPACT_TOML: &str = include_str!("../config/compact.toml");

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub database: Database,
    pub amqp: Amqp,
    pub ingest: Ingest,
    pub eligibility: Eligibility,
    pub dispatch: Dispatch,
    pub provider: channels::Settings,
    pub survey: Survey,
    pub http: Http,
    pub api: Api,
    pub scores: Scores,
    pub aggregation: Aggregation,
    pub retention: Retention,
    pub log: Log,
    pub shutdown: Shutdown,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    pub url: SecretUrl,
    pub max_connections: u32,
    pub connect_timeout_seconds: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Amqp {
    pub url: SecretUrl,
    pub connect_timeout_seconds: u64,
    pub exchange: String,
    pub routing_key: String,
    pub queue: String,
    pub dead_letter_exchange: String,
    pub dead_letter_queue: String,
    pub events_exchange: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Ingest {
    pub enabled: bool,
    pub prefetch: u16,
    pub batch_size: usize,
    pub batch_linger_ms: u64,
    /// Batches committing at once, each on its own connection.
    pub in_flight: usize,
    pub retry_min_delay_ms: u64,
    pub retry_max_delay_ms: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Eligibility {
    #[serde(deserialize_with = "crate::channels::settings::list_or_commas")]
    pub dispositions: Vec<String>,
    pub min_talk_seconds: u32,
    pub sample_rate: f64,
    pub frequency_cap_days: u32,
    pub stale_after_hours: u32,
    pub delay_seconds: u32,
    pub default_timezone: String,
    pub default_language: String,
    pub quiet_hours: QuietHoursSettings,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct QuietHoursSettings {
    pub enabled: bool,
    pub start: String,
    pub end: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Dispatch {
    pub enabled: bool,
    pub poll_interval_ms: u64,
    pub batch_size: u32,
    pub lease_seconds: u64,
    pub request_timeout_seconds: u64,
    pub rate_limit: RateLimit,
    pub retry: Retry,
    pub reconcile: Reconcile,
}

/// `[dispatch.reconcile]`: looking up a send of unknown outcome (DESIGN §4 "No blind
/// resend").
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Reconcile {
    pub grace_seconds: u64,
    pub max_checks: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    pub messages_per_second: u32,
    pub segments_per_second: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Retry {
    pub base_delay_seconds: u64,
    pub max_delay_seconds: u64,
    pub max_attempts: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Survey {
    /// `standard`: `survey.questions` as configured; `compact`: the shipped pair of
    /// `config/compact.toml` instead.
    pub preset: String,
    pub expire_after_hours: u32,
    pub signature: String,
    pub hotline: String,
    pub wording: BTreeMap<String, Wording>,
    pub questions: Vec<QuestionSettings>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionSettings {
    pub id: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i32>,
    pub metric: String,
    pub text: BTreeMap<String, String>,
    /// Asked in one SMS with the next question (`survey::Question::with_next`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub with_next: bool,
    /// Per language, words that answer a scale question with a number
    /// (`labels."zh-CN" = { "非常满意" = 5 }`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, BTreeMap<String, i32>>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Http {
    pub enabled: bool,
    pub bind: String,
    pub public_url: String,
    pub header_read_timeout_seconds: u64,
    pub idle_timeout_seconds: u64,
    pub max_connections: u32,
    pub metrics_bind: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Api {
    #[serde(serialize_with = "channels::settings::hidden")]
    pub token: SecretString,
    /// The most groups one `/api/v1/scores` answer may hold; a request for more is refused
    /// before any is built.
    pub max_groups: u64,
}

/// `[scores]`: how the dashboard reads the scores.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Scores {
    /// A group with fewer responses than this is listed apart on the dashboard, unranked:
    /// a newcomer's two 5s must make them neither best nor worst.
    pub min_answers_to_rank: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Log {
    pub format: String,
    pub filter: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Shutdown {
    pub deadline_seconds: u64,
}

/// A setting that cannot be used, with the dotted key it came from.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config: {0}")]
    Load(#[from] config::ConfigError),
    #[error("config key `{key}`: {why}")]
    Invalid { key: &'static str, why: String },
    #[error("config key `{key}`: {why}")]
    InvalidAt { key: String, why: String },
}

fn invalid(key: &'static str, why: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key,
        why: why.into(),
    }
}

impl Settings {
    /// Loads the layers from the process environment and validates the result.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_from(file, None)
    }

    /// Like `load`, with the environment given explicitly (tests use this).
    pub fn load_from(
        file: Option<&Path>,
        env: Option<HashMap<String, String>>,
    ) -> Result<Self, ConfigError> {
        let mut builder =
            Config::builder().add_source(File::from_str(DEFAULT_TOML, FileFormat::Toml));
        if let Some(path) = file {
            builder = builder.add_source(File::from(path).required(true));
        }
        let environment = Environment::with_prefix("POSTCALL")
            .prefix_separator("__")
            .separator("__")
            // Values stay strings until serde asks for a number or a bool: parsing them
            // eagerly would turn a sender number `+15005550006` into 15005550006.
            .try_parsing(false)
            .source(env);
        let settings: Settings = builder.add_source(environment).build()?.try_deserialize()?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks every value that has rules beyond its type; the first failure names its key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.policy()?;
        self.http_bind()?;
        self.validate_http()?;
        non_empty("database.url", self.database.url.expose_secret())?;
        non_empty("amqp.url", self.amqp.url.expose_secret())?;
        for (key, name) in [
            ("amqp.exchange", &self.amqp.exchange),
            ("amqp.routing_key", &self.amqp.routing_key),
            ("amqp.queue", &self.amqp.queue),
            ("amqp.dead_letter_exchange", &self.amqp.dead_letter_exchange),
            ("amqp.dead_letter_queue", &self.amqp.dead_letter_queue),
            ("amqp.events_exchange", &self.amqp.events_exchange),
        ] {
            non_empty(key, name)?;
        }
        self.validate_ingest()?;
        self.validate_provider()?;
        self.validate_secrets()?;
        self.validate_misc()
    }

    fn validate_ingest(&self) -> Result<(), ConfigError> {
        let i = &self.ingest;
        if i.batch_size == 0 {
            return Err(invalid("ingest.batch_size", "must be at least 1"));
        }
        if !(1..=8).contains(&i.in_flight) {
            return Err(invalid(
                "ingest.in_flight",
                "must be 1 to 8: each batch in flight holds a database connection",
            ));
        }
        if usize::from(i.prefetch) < i.batch_size {
            return Err(invalid(
                "ingest.prefetch",
                format!(
                    "must be at least ingest.batch_size ({}), or a batch can never fill",
                    i.batch_size
                ),
            ));
        }
        if i.retry_min_delay_ms == 0 || i.retry_max_delay_ms < i.retry_min_delay_ms {
            return Err(invalid(
                "ingest.retry_max_delay_ms",
                "must be at least ingest.retry_min_delay_ms, which must be above 0",
            ));
        }
        Ok(())
    }

    /// Each channel checks its own settings; `provider.kind` itself is checked by serde.
    fn validate_provider(&self) -> Result<(), ConfigError> {
        self.provider.validate().map_err(channel_invalid)
    }

    /// A templated channel must have every message the survey can send, in every language
    /// it speaks (`channels::templates::validate`).
    fn validate_templates(&self) -> Result<(), ConfigError> {
        let Some(source) = self.provider.templates() else {
            return Ok(());
        };
        let def = self.survey_definition()?;
        channels::templates::validate(&source, &def, &channels::templates::languages(&def))
            .map_err(channel_invalid)
    }

    fn validate_misc(&self) -> Result<(), ConfigError> {
        let r = &self.dispatch.retry;
        if r.max_attempts == 0 {
            return Err(invalid("dispatch.retry.max_attempts", "must be at least 1"));
        }
        if r.max_delay_seconds < r.base_delay_seconds {
            return Err(invalid(
                "dispatch.retry.max_delay_seconds",
                "must be at least dispatch.retry.base_delay_seconds",
            ));
        }
        if self.shutdown.deadline_seconds == 0 {
            return Err(invalid("shutdown.deadline_seconds", "must be at least 1"));
        }
        if self.survey.expire_after_hours == 0 {
            return Err(invalid("survey.expire_after_hours", "must be at least 1"));
        }
        let d = &self.dispatch;
        for (key, value) in [
            ("dispatch.poll_interval_ms", d.poll_interval_ms),
            ("dispatch.batch_size", d.batch_size.into()),
            (
                "dispatch.request_timeout_seconds",
                d.request_timeout_seconds,
            ),
            (
                "dispatch.rate_limit.messages_per_second",
                d.rate_limit.messages_per_second.into(),
            ),
            (
                "dispatch.rate_limit.segments_per_second",
                d.rate_limit.segments_per_second.into(),
            ),
            (
                "dispatch.reconcile.grace_seconds",
                d.reconcile.grace_seconds,
            ),
            (
                "dispatch.reconcile.max_checks",
                d.reconcile.max_checks.into(),
            ),
        ] {
            if value == 0 {
                return Err(invalid(key, "must be at least 1"));
            }
        }
        if d.lease_seconds <= d.request_timeout_seconds {
            return Err(invalid(
                "dispatch.lease_seconds",
                "must be longer than dispatch.request_timeout_seconds, or a slow send is resent",
            ));
        }
        self.schedule()?;
        zone("aggregation.timezone", &self.aggregation.timezone)?;
        self.rebuild_parts()?;
        if !crate::domain::event::language_tag(&self.eligibility.default_language) {
            return Err(invalid(
                "eligibility.default_language",
                "must be a BCP 47 tag such as zh-CN or en",
            ));
        }
        if self.api.max_groups == 0 {
            return Err(invalid("api.max_groups", "must be at least 1"));
        }
        if self.scores.min_answers_to_rank == 0 {
            return Err(invalid(
                "scores.min_answers_to_rank",
                "must be a whole number of at least 1",
            ));
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            return Err(invalid("log.format", "must be text or json"));
        }
        self.survey_definition()?;
        self.retention()?;
        self.validate_templates()
    }

    pub fn http_bind(&self) -> Result<SocketAddr, ConfigError> {
        self.http
            .bind
            .parse()
            .map_err(|e| invalid("http.bind", format!("not a socket address: {e}")))
    }

    fn scores_zone(&self) -> Result<Tz, ConfigError> {
        zone("aggregation.timezone", &self.aggregation.timezone)
    }

    fn schedule(&self) -> Result<cron::Schedule, ConfigError> {
        cron::Schedule::from_str(&self.aggregation.schedule).map_err(|e| {
            invalid(
                "aggregation.schedule",
                format!("{e} (6 fields, seconds first: \"0 */5 * * * *\")"),
            )
        })
    }

    /// The eligibility rules as the domain takes them.
    fn policy(&self) -> Result<Policy, ConfigError> {
        let e = &self.eligibility;
        if !(0.0..=1.0).contains(&e.sample_rate) {
            return Err(invalid(
                "eligibility.sample_rate",
                format!("must be between 0.0 and 1.0, got {}", e.sample_rate),
            ));
        }
        let dispositions = e
            .dispositions
            .iter()
            .map(|d| d.parse::<Disposition>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|why| invalid("eligibility.dispositions", why))?;
        let quiet_hours = e
            .quiet_hours
            .enabled
            .then(|| -> Result<QuietHours, ConfigError> {
                Ok(QuietHours {
                    start: clock("eligibility.quiet_hours.start", &e.quiet_hours.start)?,
                    end: clock("eligibility.quiet_hours.end", &e.quiet_hours.end)?,
                })
            })
            .transpose()?;
        if e.stale_after_hours == 0 {
            return Err(invalid(
                "eligibility.stale_after_hours",
                "must be at least 1",
            ));
        }
        Ok(Policy {
            dispositions,
            min_talk: TimeDelta::seconds(e.min_talk_seconds.into()),
            sample_rate: e.sample_rate,
            frequency_cap: TimeDelta::days(e.frequency_cap_days.into()),
            stale_after: TimeDelta::hours(e.stale_after_hours.into()),
            delay: TimeDelta::seconds(e.delay_seconds.into()),
            quiet_hours,
            default_timezone: zone("eligibility.default_timezone", &e.default_timezone)?,
        })
    }
}

fn channel_invalid(e: channels::settings::Invalid) -> ConfigError {
    match e.key {
        std::borrow::Cow::Borrowed(key) => invalid(key, e.why),
        std::borrow::Cow::Owned(key) => invalid_at(key, e.why),
    }
}

/// Errors for survey questions name the question's place, as a TOML path would.
fn invalid_at(key: String, why: impl Into<String>) -> ConfigError {
    ConfigError::InvalidAt {
        key,
        why: why.into(),
    }
}

impl Settings {
    /// The questions and texts as the domain takes them; refuses a survey that cannot be
    /// sent in the default language.
    fn survey_definition(&self) -> Result<SurveyDefinition, ConfigError> {
        let s = &self.survey;
        let default_language = &self.eligibility.default_language;
        let asked = self.questions()?;
        if asked.is_empty() {
            return Err(invalid(
                "survey.questions",
                "at least one question is needed",
            ));
        }
        let mut ids = HashSet::new();
        let mut questions = Vec::with_capacity(asked.len());
        for (i, q) in asked.iter().enumerate() {
            let at = |field: &str| format!("survey.questions[{i}].{field}");
            if q.id.trim().is_empty() || !ids.insert(q.id.as_str()) {
                return Err(invalid_at(
                    at("id"),
                    format!("must be non-empty and unique, got {:?}", q.id),
                ));
            }
            if !q.text.contains_key(default_language) {
                return Err(invalid_at(
                    at(&format!("text.{default_language}")),
                    format!("question {:?} has no text in the default language", q.id),
                ));
            }
            if let Some((lang, _)) = q.text.iter().find(|(_, t)| t.trim().is_empty()) {
                return Err(invalid_at(at(&format!("text.{lang}")), "must not be empty"));
            }
            let kind = question_kind(q).map_err(|why| invalid_at(at("kind"), why))?;
            let metric = metric(&q.metric).map_err(|why| invalid_at(at("metric"), why))?;
            metric_fits(metric, kind).map_err(|why| invalid_at(at("metric"), why))?;
            let labels = labels(q, kind).map_err(|(key, why)| invalid_at(at(&key), why))?;
            questions.push(Question {
                id: q.id.clone(),
                kind,
                metric,
                text: q.text.clone(),
                with_next: q.with_next,
                labels,
            });
        }
        pairs(&questions)?;
        if !s.wording.contains_key(default_language) {
            return Err(invalid_at(
                format!("survey.wording.{default_language}"),
                "the default language needs its wording (unsubscribe_hint)",
            ));
        }
        if questions.iter().any(|q| q.with_next)
            && let Some((lang, _)) = s
                .wording
                .iter()
                .find(|(_, w)| w.reprompt_pair.trim().is_empty())
        {
            return Err(invalid_at(
                format!("survey.wording.{lang}.reprompt_pair"),
                "must not be empty: a survey that asks two questions together re-prompts both at once",
            ));
        }
        let wording = s
            .wording
            .iter()
            .map(|(lang, w)| {
                let help = w.help.replace("{hotline}", &s.hotline);
                (lang.clone(), Wording { help, ..w.clone() })
            })
            .collect();
        Ok(SurveyDefinition {
            questions,
            signature: s.signature.clone(),
            wording,
            default_language: default_language.clone(),
        })
    }
}

impl Settings {
    /// The questions asked: as configured, or the compact preset's. Both at once is
    /// refused rather than one silently winning.
    fn questions(&self) -> Result<Vec<QuestionSettings>, ConfigError> {
        let configured = &self.survey.questions;
        match self.survey.preset.as_str() {
            "standard" => Ok(configured.clone()),
            "compact" if *configured == shipped_questions(DEFAULT_TOML) => {
                Ok(shipped_questions(COMPACT_TOML))
            }
            "compact" => Err(invalid(
                "survey.preset",
                "compact replaces survey.questions, which are set to questions of your own: \
                 set one or the other",
            )),
            other => Err(invalid(
                "survey.preset",
                format!("must be standard or compact, got {other:?}"),
            )),
        }
    }
}

/// `survey.questions` of a compiled-in file (its tests prove it reads).
fn shipped_questions(toml: &str) -> Vec<QuestionSettings> {
    Config::builder()
        .add_source(File::from_str(toml, FileFormat::Toml))
        .build()
        .and_then(|c| c.get("survey.questions"))
        .expect("the compiled-in survey files read")
}

/// A question asked with the next one must be a yes/no followed by a 1–5 scale: the one
/// pair a single reply is read for (`domain::reply::compact`).
fn pairs(questions: &[Question]) -> Result<(), ConfigError> {
    for (i, q) in questions.iter().enumerate().filter(|(_, q)| q.with_next) {
        let next = questions.get(i + 1);
        let fits = q.kind == QuestionKind::YesNo
            && next
                .is_some_and(|n| n.kind == QuestionKind::Scale { min: 1, max: 5 } && !n.with_next);
        if !fits {
            return Err(invalid_at(
                format!("survey.questions[{i}].with_next"),
                "only a yes_no question followed by a scale from 1 to 5 (not itself with_next) \
                 can be asked with the next",
            ));
        }
    }
    Ok(())
}

fn question_kind(q: &QuestionSettings) -> Result<QuestionKind, String> {
    match (q.kind.as_str(), q.min, q.max) {
        ("yes_no", None, None) => Ok(QuestionKind::YesNo),
        ("text", None, None) => Ok(QuestionKind::Text),
        ("scale", Some(min), Some(max)) if min < max => Ok(QuestionKind::Scale { min, max }),
        ("scale", ..) => Err("a scale needs min and max, min below max".into()),
        ("yes_no" | "text", ..) => Err(format!("{} takes no min or max", q.kind)),
        (other, ..) => Err(format!("must be yes_no, scale or text, got {other:?}")),
    }
}

/// A question's labels, each naming a number on its own scale; the error is the key under
/// the question (`labels.zh-CN.满意`) and why.
fn labels(q: &QuestionSettings, kind: QuestionKind) -> Result<Labels, (String, String)> {
    let Some((language, _)) = q.labels.iter().next() else {
        return Ok(Labels::default());
    };
    let QuestionKind::Scale { min, max } = kind else {
        return Err((
            format!("labels.{language}"),
            "only a scale question takes labels".into(),
        ));
    };
    for (language, words) in &q.labels {
        if let Some((label, value)) = words.iter().find(|(_, v)| !(min..=max).contains(*v)) {
            return Err((
                format!("labels.{language}.{label}"),
                format!("{value} is outside the question's scale {min}–{max}"),
            ));
        }
    }
    let all = q
        .labels
        .values()
        .flat_map(|words| words.iter().map(|(label, value)| (label.as_str(), *value)));
    Labels::new(all).map_err(|e| ("labels".to_owned(), e.to_string()))
}

fn metric(name: &str) -> Result<Option<Metric>, String> {
    match name {
        "fcr" => Ok(Some(Metric::Fcr)),
        "csat" => Ok(Some(Metric::Csat)),
        "nps" => Ok(Some(Metric::Nps)),
        "none" => Ok(None),
        other => Err(format!("must be fcr, csat, nps or none, got {other:?}")),
    }
}

/// Scores read each metric on its contract scale (DESIGN.md §5): satisfied is 4–5 of 1–5,
/// promoters 9–10 of 0–10; on another scale those thresholds would mean nothing.
fn metric_fits(metric: Option<Metric>, kind: QuestionKind) -> Result<(), String> {
    match (metric, kind) {
        (None, _)
        | (Some(Metric::Fcr), QuestionKind::YesNo)
        | (Some(Metric::Csat), QuestionKind::Scale { min: 1, max: 5 })
        | (Some(Metric::Nps), QuestionKind::Scale { min: 0, max: 10 }) => Ok(()),
        (Some(Metric::Fcr), _) => Err("fcr needs a yes_no question".into()),
        (Some(Metric::Csat), _) => Err("csat needs a scale question from 1 to 5".into()),
        (Some(Metric::Nps), _) => Err("nps needs a scale question from 0 to 10".into()),
    }
}

fn non_empty(key: &'static str, value: &str) -> Result<(), ConfigError> {
    if value.trim().is_empty() {
        return Err(invalid(key, "must not be empty"));
    }
    Ok(())
}

fn zone(key: &'static str, name: &str) -> Result<Tz, ConfigError> {
    name.parse()
        .map_err(|_| invalid(key, format!("unknown IANA time zone {name:?}")))
}

fn clock(key: &'static str, hhmm: &str) -> Result<NaiveTime, ConfigError> {
    NaiveTime::parse_from_str(hhmm, "%H:%M")
        .map_err(|_| invalid(key, format!("expected HH:MM, got {hhmm:?}")))
}

mod aggregation;
mod http;
mod retention;
mod runtime;
mod secrets;

#[cfg(test)]
mod tests;
