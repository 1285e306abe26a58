//! PostgreSQL: the pool, migrations, and the SQL of each table family.

pub mod calls;
pub mod db;
