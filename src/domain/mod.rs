//! Pure rules: no I/O, no clocks read, no randomness. Everything here is decided from its
//! arguments, so every rule is tested in microseconds.

pub mod caps;
pub mod conversation;
pub mod delivery;
pub mod eligibility;
pub mod event;
pub mod follow_up;
pub mod lifecycle;
pub mod phone;
pub mod quiet_hours;
pub mod reply;
pub mod retention;
pub mod score_basis;
pub mod scores;
pub mod segments;
pub mod survey;
pub mod timezone;
