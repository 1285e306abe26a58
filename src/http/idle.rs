//! A connection's activity: when a byte last moved either way and whether a handler is at
//! work, so the server can close connections that hold a slot and do nothing. hyper bounds
//! reading a request head; nothing in it bounds a connection after that (a kept-alive one
//! counts as reading the next head, but a client that stops reading its answer does not).

use std::{
    io,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    time::Instant,
};

pub struct Activity {
    epoch: Instant,
    /// Milliseconds after `epoch` when a byte last moved, or a handler finished.
    last: AtomicU64,
    handlers: AtomicUsize,
}

impl Activity {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            epoch: Instant::now(),
            last: AtomicU64::new(0),
            handlers: AtomicUsize::new(0),
        })
    }

    fn touch(&self) {
        let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(now, Ordering::Relaxed);
    }

    fn quiet_for(&self) -> Duration {
        let last = Duration::from_millis(self.last.load(Ordering::Relaxed));
        self.epoch.elapsed().saturating_sub(last)
    }

    /// Marks a handler at work until the guard drops: a slow handler is not an idle client.
    pub fn handling(self: &Arc<Self>) -> Handling {
        self.handlers.fetch_add(1, Ordering::Relaxed);
        Handling(self.clone())
    }

    /// Resolves once no handler has run and no byte has moved for `limit`.
    pub async fn idle_for(&self, limit: Duration) {
        loop {
            let quiet = self.quiet_for();
            let working = self.handlers.load(Ordering::Relaxed) > 0;
            if quiet >= limit && !working {
                return;
            }
            let wait = if quiet >= limit { limit } else { limit - quiet };
            tokio::time::sleep(wait).await;
        }
    }
}

pub struct Handling(Arc<Activity>);

impl Drop for Handling {
    fn drop(&mut self) {
        // The answer is about to be written: its idle time starts now, not when the request came.
        self.0.touch();
        self.0.handlers.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A stream that records its traffic in an `Activity`.
pub struct Watched<S> {
    io: S,
    activity: Arc<Activity>,
}

impl<S> Watched<S> {
    pub fn new(io: S, activity: Arc<Activity>) -> Self {
        Self { io, activity }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.io).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.activity.touch();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.io).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn idle_once_nothing_moved_and_no_handler_worked_for_the_limit() {
        let activity = Activity::new();
        let limit = Duration::from_millis(200);
        let handler = activity.handling();
        let waiting = tokio::spawn({
            let activity = activity.clone();
            async move { activity.idle_for(limit).await }
        });
        tokio::time::sleep(limit * 3).await;
        assert!(!waiting.is_finished(), "a handler at work is not idle");
        let done = Instant::now();
        drop(handler);
        waiting.await.unwrap();
        assert!(
            done.elapsed() >= limit,
            "idle counts from the handler's end"
        );
    }
}
