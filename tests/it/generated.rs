//! Generated inputs (issue 8): property tests that feed the boundaries — the call.completed
//! decoder, the reply parser, both signature checks — valid inputs mutated every way a
//! sender gets them wrong, and arbitrary bytes. Pure code: no service is needed.
//! `cargo test --test it generated::` runs them alone; `PROPTEST_CASES=10000` runs each
//! property 10,000 times instead of the quick defaults.

mod events;
mod mutate;
mod replies;
mod signatures;
