//! Subscriptions over Server-Sent Events: `GET /v1/streams/{stream}/subscribe?from=N` and
//! `GET /v1/all/subscribe?from_position=N`.
//!
//! A subscription is a producer task and the SSE body that drains its channel:
//! 1. The producer reads history from the published snapshot, page by page, from its
//!    cursor (a stream version, or a global position for `$all`); `Last-Event-ID: N`
//!    starts the cursor at N + 1.
//! 2. When a read reaches the end of the snapshot it sends one `caught-up` event (once),
//!    then waits on the store's event watch ([`zqlite_projections::Store::watch_events`]),
//!    which moves only after new events are durable and published, and reads on from its
//!    cursor in the newer snapshot.
//! 3. Each event is one SSE message whose `id:` is its version (stream) or position
//!    (`$all`) and whose data is the event JSON; `?types=A,B` and `?stream_prefix=p`
//!    filter on the server.
//! 4. The channel holds `subscriber_buffer` messages. When it stays full for
//!    `slow_subscriber_grace`, the producer stops: the client receives what was buffered,
//!    then an `error` event with `resume_after` (the last id it was sent), so it can
//!    reconnect with `Last-Event-ID` and continue without gaps. Writers never wait for
//!    subscribers.
//!
//! Invariants: the cursor only moves forward and past events the producer has sent (or
//! filtered out), and every event is read from a published (durable) snapshot, so a client
//! sees each committed event exactly once, in order, across resumptions.

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use serde_json::json;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use zqlite_projections::{Direction, Error as StoreError, Page, State as DbState};

use super::error::ApiError;
use super::extract::{Params, Segment};
use super::model::event_json;
use super::state::AppState;
use super::time::now_micros;

/// Events read per snapshot page.
const PAGE: usize = 256;

/// What a subscription follows.
#[derive(Debug, Clone)]
enum Source {
    Stream(String),
    All,
}

#[derive(Debug)]
struct Subscription {
    source: Source,
    /// The next version (stream) or position (`$all`) to read.
    cursor: u64,
    types: Option<HashSet<String>>,
    prefix: Option<String>,
}

impl Subscription {
    fn new(
        source: Source,
        from: Option<u64>,
        params: &Params,
        headers: &HeaderMap,
    ) -> Result<Self, ApiError> {
        let resume = match headers.get("last-event-id") {
            None => None,
            Some(value) => {
                let id = value
                    .to_str()
                    .ok()
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .ok_or_else(|| {
                        ApiError::bad_request(
                            "invalid_last_event_id",
                            "Last-Event-ID must be an id this server sent (a non-negative integer)",
                        )
                    })?;
                Some(id.saturating_add(1))
            }
        };
        let types = params.str("types").map(|t| {
            t.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        });
        Ok(Subscription {
            source,
            cursor: resume.or(from).unwrap_or(0),
            types,
            prefix: params.str("stream_prefix").map(str::to_string),
        })
    }

    fn read(&self, snapshot: &DbState) -> Result<Page, StoreError> {
        let events = snapshot.events();
        match &self.source {
            Source::All => Ok(events.read_all(self.cursor, PAGE, now_micros())),
            Source::Stream(name) => {
                match events.read_stream(
                    name,
                    Some(self.cursor),
                    PAGE,
                    Direction::Forward,
                    now_micros(),
                ) {
                    // Not written yet (or soft-deleted): nothing to send until it is.
                    Err(StoreError::StreamNotFound { .. }) => Ok(Page {
                        events: Vec::new(),
                        next: None,
                    }),
                    other => other,
                }
            }
        }
    }

    /// The cursor after a read that reached the end of `snapshot`.
    fn end(&self, snapshot: &DbState) -> u64 {
        let events = snapshot.events();
        let end = match &self.source {
            Source::All => events.next_position(),
            Source::Stream(name) => events
                .stream(name)
                .and_then(|s| s.last_version)
                .map_or(0, |v| v + 1),
        };
        end.max(self.cursor)
    }

    fn wants(&self, event: &zqlite_projections::RecordedEvent) -> bool {
        self.types
            .as_ref()
            .is_none_or(|t| t.contains(&*event.event_type))
            && self
                .prefix
                .as_deref()
                .is_none_or(|p| event.stream.starts_with(p))
    }
}

/// How the producer ended, for the last message of the body.
#[derive(Debug, Default)]
struct Ending {
    too_slow: AtomicBool,
    /// One past the last id sent (0: none sent yet).
    sent_through: AtomicU64,
}

/// `GET /v1/streams/{stream}/subscribe?from=`.
pub async fn stream(
    State(st): State<AppState>,
    Segment(name): Segment,
    params: Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let from = params.u64("from")?;
    let sub = Subscription::new(Source::Stream(name), from, &params, &headers)?;
    Ok(start(st, sub))
}

/// `GET /v1/all/subscribe?from_position=`.
pub async fn all(
    State(st): State<AppState>,
    params: Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let from = params.u64("from_position")?;
    let sub = Subscription::new(Source::All, from, &params, &headers)?;
    Ok(start(st, sub))
}

fn start(st: AppState, sub: Subscription) -> Response {
    let (tx, rx) = mpsc::channel(st.config.subscriber_buffer.max(1));
    let ending = Arc::new(Ending::default());
    st.metrics.subscribers.fetch_add(1, Ordering::Relaxed);
    tokio::spawn(produce(st, sub, tx, ending.clone()));
    let body = stream::unfold((rx, ending, false), |(mut rx, ending, done)| async move {
        if done {
            return None;
        }
        match rx.recv().await {
            Some(event) => Some((Ok::<Event, Infallible>(event), (rx, ending, false))),
            None if ending.too_slow.load(Ordering::Acquire) => {
                let through = ending.sent_through.load(Ordering::Acquire);
                let data = json!({
                    "code": "subscriber_too_slow",
                    "message": "the subscription's buffer stayed full; reconnect with \
                                Last-Event-ID set to resume_after to continue",
                    "resume_after": through.checked_sub(1),
                });
                Some((
                    Ok(Event::default().event("error").data(data.to_string())),
                    (rx, ending, true),
                ))
            }
            None => None,
        }
    });
    Sse::new(body)
        .keep_alive(KeepAlive::default())
        .into_response()
}

enum Sent {
    Ok,
    /// The client went away.
    Closed,
    /// The buffer stayed full for the grace period.
    TooSlow,
}

async fn send(tx: &mpsc::Sender<Event>, event: Event, st: &AppState) -> Sent {
    match tx.try_send(event) {
        Ok(()) => Sent::Ok,
        Err(TrySendError::Closed(_)) => Sent::Closed,
        Err(TrySendError::Full(event)) => {
            match tokio::time::timeout(st.config.slow_subscriber_grace, tx.send(event)).await {
                Ok(Ok(())) => Sent::Ok,
                Ok(Err(_)) => Sent::Closed,
                Err(_) => Sent::TooSlow,
            }
        }
    }
}

async fn produce(
    st: AppState,
    mut sub: Subscription,
    tx: mpsc::Sender<Event>,
    ending: Arc<Ending>,
) {
    let outcome = follow(&st, &mut sub, &tx, &ending).await;
    if let Sent::TooSlow = outcome {
        ending.too_slow.store(true, Ordering::Release);
        st.metrics
            .subscribers_dropped
            .fetch_add(1, Ordering::Relaxed);
    }
    st.metrics.subscribers.fetch_sub(1, Ordering::Relaxed);
    // Dropping `tx` ends the body after what is buffered (and the error, if too slow).
}

async fn follow(
    st: &AppState,
    sub: &mut Subscription,
    tx: &mpsc::Sender<Event>,
    ending: &Ending,
) -> Sent {
    let store = st.store();
    let mut watch = store.watch_events();
    let mut caught_up = false;
    loop {
        // Mark the watch seen before reading, so a publication after this read wakes us.
        watch.borrow_and_update();
        let snapshot = store.snapshot();
        loop {
            let page = match sub.read(&snapshot) {
                Ok(page) => page,
                Err(e) => {
                    let error = ApiError::from(e);
                    let data = json!({"code": error.code, "message": error.message});
                    let _ = send(
                        tx,
                        Event::default().event("error").data(data.to_string()),
                        st,
                    )
                    .await;
                    return Sent::Closed;
                }
            };
            for view in &page.events {
                let e = &view.event;
                let id = match sub.source {
                    Source::All => e.position,
                    Source::Stream(_) => e.version,
                };
                if sub.wants(e) {
                    let event = Event::default().id(id.to_string()).data(event_json(view));
                    match send(tx, event, st).await {
                        Sent::Ok => ending.sent_through.store(id + 1, Ordering::Release),
                        other => return other,
                    }
                }
                sub.cursor = id + 1;
            }
            match page.next {
                Some(next) => sub.cursor = next,
                None => {
                    sub.cursor = sub.end(&snapshot);
                    break;
                }
            }
        }
        if !caught_up {
            caught_up = true;
            let data = json!({"cursor": sub.cursor});
            match send(
                tx,
                Event::default().event("caught-up").data(data.to_string()),
                st,
            )
            .await
            {
                Sent::Ok => {}
                other => return other,
            }
        }
        tokio::select! {
            changed = watch.changed() => if changed.is_err() { return Sent::Closed },
            () = tx.closed() => return Sent::Closed,
            () = st.shutdown.cancelled() => return Sent::Closed,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio_util::sync::CancellationToken;
    use zqlite_projections::{ExpectedVersion, NewEvent, StreamAppend, TxMeta};
    use zqlite_query::Database;

    use super::*;
    use crate::http::config::HttpConfig;
    use crate::http::metrics::Metrics;

    async fn state(buffer: usize) -> AppState {
        let db = Database::open_in_memory().expect("an in-memory database");
        let events = (0..10u128)
            .map(|n| NewEvent {
                id: uuid::Uuid::from_u128(n + 1),
                event_type: if n % 2 == 0 { "Even" } else { "Odd" }.into(),
                data: "{}".into(),
                metadata: None,
            })
            .collect();
        let (_, pending) = db
            .store()
            .append_events(
                TxMeta::default(),
                vec![StreamAppend {
                    stream: "s".into(),
                    expected: ExpectedVersion::Any,
                    events,
                }],
            )
            .expect("appended");
        db.store().durable(pending).await.expect("durable");
        AppState {
            db,
            metrics: Arc::new(Metrics::default()),
            config: Arc::new(HttpConfig {
                subscriber_buffer: buffer,
                slow_subscriber_grace: Duration::from_millis(50),
                ..HttpConfig::default()
            }),
            shutdown: CancellationToken::new(),
        }
    }

    fn all_from(cursor: u64, types: Option<&[&str]>) -> Subscription {
        Subscription {
            source: Source::All,
            cursor,
            types: types.map(|t| t.iter().map(|s| s.to_string()).collect()),
            prefix: None,
        }
    }

    #[tokio::test]
    async fn a_slow_subscriber_is_dropped_with_where_to_resume() {
        let st = state(3).await;
        let (tx, mut rx) = mpsc::channel(3);
        let ending = Arc::new(Ending::default());
        // Nobody reads: the buffer fills, and the producer gives up after the grace period.
        tokio::time::timeout(
            Duration::from_secs(10),
            produce(st.clone(), all_from(0, None), tx, ending.clone()),
        )
        .await
        .expect("the producer stops by itself");
        assert!(ending.too_slow.load(Ordering::Acquire));
        assert_eq!(
            ending.sent_through.load(Ordering::Acquire),
            3,
            "ids 0..=2 sent"
        );
        assert_eq!(st.metrics.subscribers_dropped.load(Ordering::Relaxed), 1);
        let mut buffered = 0;
        while rx.recv().await.is_some() {
            buffered += 1;
        }
        assert_eq!(buffered, 3);
    }

    #[tokio::test]
    async fn a_subscriber_that_keeps_up_gets_everything_then_caught_up() {
        let st = state(4).await;
        let (tx, mut rx) = mpsc::channel(4);
        let ending = Arc::new(Ending::default());
        let producer = tokio::spawn(produce(
            st.clone(),
            all_from(3, Some(&["Odd"])),
            tx,
            ending.clone(),
        ));
        let mut received = Vec::new();
        while received.len() < 4 {
            received.push(rx.recv().await.expect("an event"));
        }
        st.shutdown.cancel();
        producer.await.expect("the producer ends at shutdown");
        assert!(!ending.too_slow.load(Ordering::Acquire));
        // Odd events from position 3: 3, 5, 7, 9 (one each), then the caught-up marker.
        assert_eq!(ending.sent_through.load(Ordering::Acquire), 10);
        assert!(rx.recv().await.is_some(), "caught-up follows");
        assert!(rx.recv().await.is_none());
    }
}
