//! Finding the `postcall` binary to measure: beside this bench's own executable (cargo
//! builds both into one profile directory), else built with cargo in that profile, so that
//! `cargo run --release --bin postcall-bench -- memory` on a fresh clone just works.

use std::path::PathBuf;

use anyhow::{Context, bail, ensure};

pub fn postcall() -> anyhow::Result<PathBuf> {
    let bench = std::env::current_exe().context("locating postcall-bench itself")?;
    let dir = bench
        .parent()
        .context("postcall-bench has no directory")?
        .to_path_buf();
    let beside = dir.join(format!("postcall{}", std::env::consts::EXE_SUFFIX));
    if beside.is_file() {
        return Ok(beside);
    }
    // target/<profile>/postcall-bench: the profile is the directory's name. Anywhere else
    // (a copied binary), cargo cannot put postcall beside it.
    let profile = dir
        .file_name()
        .and_then(|p| p.to_str())
        .context("postcall-bench's directory has no name")?
        .to_owned();
    if dir
        .parent()
        .and_then(|t| t.file_name())
        .and_then(|t| t.to_str())
        != Some("target")
        && std::env::var_os("CARGO_TARGET_DIR").is_none()
    {
        bail!(
            "no postcall binary beside {} and not in a cargo target directory: build it with \
             `cargo build --release --package postcall`",
            bench.display()
        );
    }
    let cargo_profile = if profile == "debug" { "dev" } else { &profile };
    eprintln!("memory: building postcall ({cargo_profile} profile), not found beside the bench");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args(["build", "--profile", cargo_profile, "--package", "postcall"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        // Output beside the bench, whatever the caller's CARGO_TARGET_DIR says.
        .env(
            "CARGO_TARGET_DIR",
            dir.parent().context("no target directory")?,
        )
        .status()
        .context("running cargo build --package postcall")?;
    ensure!(
        status.success(),
        "cargo build --package postcall failed: {status}"
    );
    ensure!(
        beside.is_file(),
        "cargo built postcall, but not at {}",
        beside.display()
    );
    Ok(beside)
}
