//! PostgreSQL: the pool, migrations, and the SQL of each table family.

pub mod aggregation;
pub mod backlog;
pub mod callback_inbox;
pub mod calls;
pub mod conversation;
pub mod db;
pub mod deliveries;
pub mod lifecycle;
pub mod messages;
pub mod opt_outs;
pub mod outbox;
pub mod scores;
pub mod survey_view;
pub mod surveys;
pub mod wake;
pub mod webhook_receipts;
