//! The `aggregate` stage (being built: see issue 7).

use crate::{Args, report::Line};

pub async fn run(_args: &Args) -> anyhow::Result<Line> {
    anyhow::bail!("the aggregate stage is not built yet")
}
