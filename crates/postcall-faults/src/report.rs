//! A scenario's line: its counts in order, and whether every promise held.

use std::{
    fmt::Display,
    path::{Path, PathBuf},
};

#[derive(Default)]
pub struct Report {
    counts: Vec<String>,
    problems: Vec<String>,
    /// The scenario's worker logs, excerpted if it fails.
    logs: Vec<PathBuf>,
}

impl Report {
    /// Excerpt `log` if the scenario fails.
    pub fn watch(&mut self, log: &Path) {
        if !self.logs.iter().any(|l| l == log) {
            self.logs.push(log.to_owned());
        }
    }

    /// A count shown for information.
    pub fn show(&mut self, key: &str, value: impl Display) -> &mut Self {
        self.counts.push(format!("{key}={value}"));
        self
    }

    /// A count that must be zero.
    pub fn zero(&mut self, key: &str, value: impl Display + PartialEq + Default) -> &mut Self {
        if value != Default::default() {
            self.problems.push(format!("{key}={value}, expected 0"));
        }
        self.show(key, value)
    }

    /// A promise that must hold; `problem` says what was seen if not.
    pub fn check(&mut self, holds: bool, problem: impl Into<String>) -> &mut Self {
        if !holds {
            self.problems.push(problem.into());
        }
        self
    }

    pub fn finish(self, seconds: u64, error: Option<anyhow::Error>) -> Outcome {
        let counts = self.counts.join(" ");
        let mut problems = self.problems;
        problems.extend(error.map(|e| format!("{e:#}")));
        if problems.is_empty() {
            Outcome::Passed { counts, seconds }
        } else {
            Outcome::Failed {
                counts,
                problems,
                seconds,
                logs: self.logs,
            }
        }
    }
}

pub enum Outcome {
    Passed {
        counts: String,
        seconds: u64,
    },
    Failed {
        counts: String,
        problems: Vec<String>,
        seconds: u64,
        logs: Vec<PathBuf>,
    },
}

impl Outcome {
    pub fn passed(&self) -> bool {
        matches!(self, Outcome::Passed { .. })
    }

    pub fn line(&self, name: &str) -> String {
        match self {
            Outcome::Passed { counts, seconds } => format!("{name:<16} {counts}  ok ({seconds} s)"),
            Outcome::Failed {
                counts,
                problems,
                seconds,
                ..
            } => format!(
                "{name:<16} {counts}  FAILED ({seconds} s): {}",
                problems.join("; ")
            ),
        }
    }
}

/// The lines of a log that say something went wrong, and its last few.
pub fn excerpt(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let mut picked: Vec<&str> = lines
        .iter()
        .filter(|l| l.contains("ERROR") || l.contains("panicked"))
        .take(10)
        .copied()
        .collect();
    picked.push("…");
    picked.extend(lines.iter().rev().take(10).rev());
    format!("--- {}:\n{}", log.display(), picked.join("\n"))
}
