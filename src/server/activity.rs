//! Deadlines hyper does not keep on its own. Its HTTP/1 header timeout starts
//! only once the protocol is known, and an HTTP/2 connection with no open
//! stream has none, so a client that connects and sends nothing (or only the
//! HTTP/2 preface) would hold a connection slot forever. Each connection
//! therefore counts its requests in flight and is dropped when none has
//! arrived within `header_read_timeout` of accept, or when it has sat with
//! none in flight for `idle_timeout` after its last response.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use http_body::{Frame, SizeHint};
use tokio::sync::watch;
use tokio::time::Instant;

#[derive(Clone, Copy)]
struct State {
    in_flight: usize,
    served_any: bool,
    idle_since: Instant,
}

pub struct Activity {
    state: watch::Sender<State>,
    first_request_timeout: Duration,
    idle_timeout: Duration,
}

impl Activity {
    pub fn new(first_request_timeout: Duration, idle_timeout: Duration) -> Self {
        Self {
            state: watch::Sender::new(State {
                in_flight: 0,
                served_any: false,
                idle_since: Instant::now(),
            }),
            first_request_timeout,
            idle_timeout,
        }
    }

    /// Marks a request in flight until the returned guard (moved into the
    /// response body) is dropped, which is when hyper has written the body.
    pub fn request_started(&self) -> InFlight {
        self.state.send_modify(|state| {
            state.in_flight += 1;
            state.served_any = true;
        });
        InFlight {
            state: self.state.clone(),
        }
    }

    /// Resolves when the connection has had no request in flight for longer
    /// than its deadline allows.
    pub async fn expired(&self) {
        let mut changes = self.state.subscribe();
        loop {
            let state = *changes.borrow_and_update();
            if state.in_flight > 0 {
                let _ = changes.changed().await;
                continue;
            }
            let limit = if state.served_any {
                self.idle_timeout
            } else {
                self.first_request_timeout
            };
            tokio::select! {
                () = tokio::time::sleep_until(state.idle_since + limit) => return,
                _ = changes.changed() => {}
            }
        }
    }
}

pub struct InFlight {
    state: watch::Sender<State>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.state.send_modify(|state| {
            state.in_flight -= 1;
            if state.in_flight == 0 {
                state.idle_since = Instant::now();
            }
        });
    }
}

/// A response body that keeps its request counted in flight until hyper
/// drops it.
pub struct TrackedBody {
    inner: Body,
    _in_flight: InFlight,
}

impl TrackedBody {
    pub fn wrap(inner: Body, in_flight: InFlight) -> Body {
        Body::new(Self {
            inner,
            _in_flight: in_flight,
        })
    }
}

impl http_body::Body for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
