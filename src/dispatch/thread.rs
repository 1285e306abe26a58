//! The claim and record loops run on a thread of their own. Each is a chain of
//! round trips to PostgreSQL, one after another; on the worker's shared runtime every
//! reply waited behind the send tasks (up to `dispatch.batch_size` of them, and the
//! webhook server and ingest beside them) before its loop was woken, and that wait, paid
//! on each round trip, was a large part of a message's time from claim to record
//! (BENCHMARKS.md, dispatch).

use std::future::Future;

use tokio::sync::oneshot;

/// Runs the future `make` builds on a new thread with a single-threaded runtime of its
/// own; what it spawns stays there unless spawned on another runtime's handle. The
/// returned future ends when the loop does, and panics if the loop did.
pub(super) fn own<F, M>(name: &str, make: M) -> impl Future<Output = ()> + use<F, M>
where
    M: FnOnce() -> F + Send + 'static,
    F: Future<Output = ()>,
{
    let (ended, end) = oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for a dispatch loop");
            runtime.block_on(make());
            let _ = ended.send(());
        });
    let name = name.to_owned();
    async move {
        if let Err(e) = spawned {
            panic!("could not start the thread of dispatch loop {name}: {e}");
        }
        // The sender is dropped unsent only if the loop panicked: that panic carries on here,
        // as it did when the loops ran on the worker's runtime.
        if end.await.is_err() {
            panic!("dispatch loop {name} panicked");
        }
    }
}
