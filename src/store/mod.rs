//! PostgreSQL: the pool, migrations, and the SQL of each table family.

pub(crate) mod aggregation;
pub(crate) mod backlog;
pub mod callback_inbox;
pub(crate) mod calls;
pub(crate) mod caps;
pub(crate) mod case_list;
pub(crate) mod conversation;
pub mod db;
pub(crate) mod first_send;
// Public for the integration tests that drive a report with billed parts directly.
pub mod deliveries;
pub(crate) mod feedback;
pub(crate) mod follow_up;
pub(crate) mod lifecycle;
pub(crate) mod messages;
pub(crate) mod opt_outs;
pub(crate) mod outbox;
pub(crate) mod reconcile;
pub(crate) mod retention;
pub(crate) mod scores;
pub(crate) mod survey_view;
pub(crate) mod surveys;
pub(crate) mod wake;
pub(crate) mod webhook_receipts;
