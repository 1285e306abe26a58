//! The name one role instance writes into leases and run records.

/// This process and a random suffix, so two roles (or two processes that reuse a pid)
/// never share a name.
pub fn name() -> String {
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    format!("{}-{}", std::process::id(), &suffix[..8])
}
