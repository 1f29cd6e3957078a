//! Event store benchmark: zqlite's HTTP event API (the real `zqlite serve`) next to the common
//! alternative, an event table in a throwaway PostgreSQL, driven by the same load generator
//! over loopback in one run.
//!
//! `cargo bench -p zqlite --bench events -- [--seconds S] [--clients N] [--batch N]
//! [--subscribers N] [--rate EVENTS_PER_S] [--writers N] [--only NAME]` (defaults: 10 s per
//! measurement, 64 clients, batches of 100, 100 subscribers fed at 10,000 events/s by 64
//! paced writers; `--only A,B` runs the measurements whose name contains A or B).
//!
//! The PostgreSQL side is the usual event table: `events(position bigserial primary key,
//! stream, version, id uuid, type, data jsonb, metadata jsonb, recorded_at)` with `unique
//! (stream, version)`; an append is one transaction that reads the stream's `max(version)`,
//! rolls back unless it equals the expected version, inserts the events (a batch as one
//! multi-row INSERT from `unnest(...) WITH ORDINALITY`) and commits, with PostgreSQL's default
//! durability (fsync on, `synchronous_commit` on). Its live subscribers poll `position > last`
//! every 10 ms, the common way to follow such a table.
//!
//! Measurements, each for `--seconds`:
//! - single-event appends from `--clients` concurrent clients, each to its own stream with
//!   exact expected versions: events/s and p50/p99 latency;
//! - `--batch`-event appends from the same number of clients: events/s;
//! - reading `$all` from position 0 in pages of 1,000 (until the end or `--seconds`): events/s;
//! - `--subscribers` live subscribers (`GET /v1/all/subscribe` over SSE) while `--writers`
//!   tasks append single events paced to `--rate` events/s in total: lag = receive time minus
//!   the send time the writer put in the event's data, p50/p99/max over every subscriber.
//!
//! Correctness is checked as it runs: every zqlite append must answer 201 and every
//! PostgreSQL transaction must commit (a failed expected-version check is counted as a
//! failure too), `$all` must come back dense and in order, and every zqlite subscriber must
//! receive every event exactly once and in order. Any failure makes the run exit 1.
//! PostgreSQL subscribers that skip events are reported, not failed: a `position > last`
//! poll loses events whose transaction commits after one with a higher position was seen,
//! which is a property of that design, not of this harness.
//!
//! Both servers run on temporary data directories on the same disk and are stopped when the
//! run ends, also on errors and panics. PostgreSQL comes from Debian's packages (the newest
//! `/usr/lib/postgresql/*/bin`, or `ZQLITE_PG_BIN`), run as the `postgres` user when the
//! benchmark runs as root.

#[path = "support/servers.rs"]
mod servers;

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, ensure};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, StatusCode, header};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde::de::IgnoredAny;
use tokio_postgres::{Client, Statement};
use uuid::Uuid;

use servers::{Postgres, Zqlite, pg_connect};

struct Config {
    seconds: f64,
    clients: usize,
    batch: usize,
    subscribers: usize,
    rate: u64,
    writers: usize,
    only: Option<String>,
}

impl Config {
    fn wants(&self, measurement: &str) -> bool {
        self.only
            .as_deref()
            .is_none_or(|o| o.split(',').any(|o| measurement.contains(o)))
    }

    fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.seconds)
    }
}

fn config() -> Config {
    let mut cfg = Config {
        seconds: 10.0,
        clients: 64,
        batch: 100,
        subscribers: 100,
        rate: 10_000,
        writers: 64,
        only: None,
    };
    let args: Vec<String> = std::env::args().collect();
    let number = |flag: &str, value: &str| -> f64 {
        value
            .parse()
            .unwrap_or_else(|_| panic!("{flag} takes a number, not {value:?}"))
    };
    for pair in args.windows(2) {
        let value = pair[1].as_str();
        match pair[0].as_str() {
            "--seconds" => cfg.seconds = number("--seconds", value),
            "--clients" => cfg.clients = number("--clients", value) as usize,
            "--batch" => cfg.batch = number("--batch", value) as usize,
            "--subscribers" => cfg.subscribers = number("--subscribers", value) as usize,
            "--rate" => cfg.rate = number("--rate", value) as u64,
            "--writers" => cfg.writers = number("--writers", value) as usize,
            "--only" => cfg.only = Some(value.to_string()),
            _ => {}
        }
    }
    assert!(
        cfg.clients > 0 && cfg.batch > 0 && cfg.writers > 0 && cfg.rate > 0,
        "--clients, --batch, --writers and --rate must be positive"
    );
    cfg
}

fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// Clients.

/// One keep-alive HTTP/1.1 connection.
struct Http {
    send: SendRequest<Full<Bytes>>,
    authority: String,
}

impl Http {
    async fn connect(port: u16) -> Result<Http> {
        let stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        stream.set_nodelay(true)?;
        let (send, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Http {
            send,
            authority: format!("127.0.0.1:{port}"),
        })
    }

    async fn start(
        &mut self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Result<hyper::Response<Incoming>> {
        self.send.ready().await?;
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, &self.authority);
        if body.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        let body = Full::new(body.map(Bytes::from).unwrap_or_default());
        Ok(self.send.send_request(request.body(body)?).await?)
    }

    async fn request(
        &mut self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Result<(StatusCode, Bytes)> {
        let response = self.start(method, path, body).await?;
        let status = response.status();
        Ok((status, response.into_body().collect().await?.to_bytes()))
    }
}

const SCHEMA: &str = "CREATE TABLE events (
    position bigserial PRIMARY KEY,
    stream text NOT NULL,
    version bigint NOT NULL,
    id uuid NOT NULL,
    type text NOT NULL,
    data jsonb NOT NULL,
    metadata jsonb,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (stream, version))";

/// One event's data: about 100 bytes of JSON, with the send time for the lag measurement.
fn event_data(seq: u64, sent_us: u64) -> String {
    format!(
        r#"{{"account":"acct-{:08}","amount":{},"currency":"EUR","sent_us":{sent_us},"note":"deposit"}}"#,
        seq % 100_000_000,
        seq % 100_000
    )
}

/// The body of `POST /v1/streams/{stream}` appending `n` events after `last` (the stream's
/// last version; None: the stream must not exist yet).
fn zq_append_body(last: Option<u64>, n: usize, seq: &mut u64) -> String {
    let mut body = String::with_capacity(64 + n * 200);
    match last {
        Some(v) => write!(body, r#"{{"expected_version":{v},"events":["#),
        None => write!(body, r#"{{"expected_version":"no_stream","events":["#),
    }
    .expect("writing to a String");
    for i in 0..n {
        if i > 0 {
            body.push(',');
        }
        *seq += 1;
        write!(
            body,
            r#"{{"id":"{}","type":"Deposited","data":{}}}"#,
            Uuid::new_v4(),
            event_data(*seq, now_micros())
        )
        .expect("writing to a String");
    }
    body.push_str("]}");
    body
}

/// What a group of appending clients achieved.
#[derive(Default)]
struct Load {
    events: u64,
    failures: u64,
    first_failure: Option<String>,
    latencies_us: Vec<u32>,
    elapsed: f64,
}

impl Load {
    fn merge(&mut self, other: Load) {
        self.events += other.events;
        self.failures += other.failures;
        if self.first_failure.is_none() {
            self.first_failure = other.first_failure;
        }
        self.latencies_us.extend(other.latencies_us);
    }

    fn fail(&mut self, what: String) {
        self.failures += 1;
        self.first_failure.get_or_insert(what);
    }

    fn rate(&self) -> f64 {
        self.events as f64 / self.elapsed
    }
}

/// `q`-quantile of sorted values.
fn quantile(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize] as f64
}

async fn zq_appender(port: u16, stream: String, batch: usize, until: Instant) -> Result<Load> {
    let mut http = Http::connect(port).await?;
    let path = format!("/v1/streams/{stream}");
    let (mut load, mut last, mut seq) = (Load::default(), None, 0);
    while Instant::now() < until {
        let body = zq_append_body(last, batch, &mut seq);
        let start = Instant::now();
        let (status, answer) = http.request(Method::POST, &path, Some(body)).await?;
        load.latencies_us.push(start.elapsed().as_micros() as u32);
        if status != StatusCode::CREATED {
            // The stream's version is unknown now: this client stops.
            load.fail(format!("{status}: {}", String::from_utf8_lossy(&answer)));
            break;
        }
        last = Some(last.map_or(batch as u64 - 1, |v| v + batch as u64));
        load.events += batch as u64;
    }
    Ok(load)
}

/// The prepared statements of a PostgreSQL appender.
struct PgStatements {
    current: Statement,
    insert_one: Statement,
    insert_many: Statement,
}

impl PgStatements {
    async fn prepare(client: &Client) -> Result<PgStatements> {
        Ok(PgStatements {
            current: client
                .prepare("SELECT max(version) FROM events WHERE stream = $1")
                .await?,
            insert_one: client
                .prepare(
                    "INSERT INTO events (stream, version, id, type, data) \
                     VALUES ($1, $2, $3, $4, $5::text::jsonb)",
                )
                .await?,
            insert_many: client
                .prepare(
                    "INSERT INTO events (stream, version, id, type, data) \
                     SELECT $1::text, $2::bigint + u.o, u.i, $4::text, u.d::jsonb \
                     FROM unnest($3::uuid[], $5::text[]) WITH ORDINALITY AS u(i, d, o)",
                )
                .await?,
        })
    }
}

/// Appends `data` (one event each) to `stream` after its `expected` last version in one
/// transaction: Ok(false) when the stream's version was not the expected one (rolled back)
/// or another writer took the version first (unique violation).
async fn pg_append(
    client: &mut Client,
    st: &PgStatements,
    stream: &str,
    expected: Option<i64>,
    data: Vec<String>,
) -> Result<bool> {
    let tx = client.transaction().await?;
    let current: Option<i64> = tx.query_one(&st.current, &[&stream]).await?.get(0);
    if current != expected {
        tx.rollback().await?;
        return Ok(false);
    }
    let first = expected.map_or(0, |v| v + 1);
    let inserted = if data.len() == 1 {
        tx.execute(
            &st.insert_one,
            &[&stream, &first, &Uuid::new_v4(), &"Deposited", &data[0]],
        )
        .await
    } else {
        let ids: Vec<Uuid> = data.iter().map(|_| Uuid::new_v4()).collect();
        tx.execute(
            &st.insert_many,
            &[&stream, &(first - 1), &ids, &"Deposited", &data],
        )
        .await
    };
    match inserted {
        Ok(_) => {}
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) => {
            return Ok(false);
        }
        Err(e) => return Err(e.into()),
    }
    tx.commit().await?;
    Ok(true)
}

async fn pg_appender(
    conninfo: String,
    stream: String,
    batch: usize,
    until: Instant,
) -> Result<Load> {
    let mut client = pg_connect(&conninfo).await?;
    let st = PgStatements::prepare(&client).await?;
    let (mut load, mut last, mut seq) = (Load::default(), None::<i64>, 0u64);
    while Instant::now() < until {
        let data = (0..batch)
            .map(|_| {
                seq += 1;
                event_data(seq, now_micros())
            })
            .collect();
        let start = Instant::now();
        let ok = pg_append(&mut client, &st, &stream, last, data).await?;
        load.latencies_us.push(start.elapsed().as_micros() as u32);
        if !ok {
            load.fail(format!("wrong expected version {last:?} on {stream}"));
            break;
        }
        last = Some(last.map_or(batch as i64 - 1, |v| v + batch as i64));
        load.events += batch as u64;
    }
    Ok(load)
}

/// Runs `clients` appenders until `seconds` pass and merges what they did.
async fn appenders<F, Fut>(clients: usize, seconds: Duration, appender: F) -> Result<Load>
where
    F: Fn(usize, Instant) -> Fut,
    Fut: std::future::Future<Output = Result<Load>> + Send + 'static,
{
    let start = Instant::now();
    let until = start + seconds;
    let tasks: Vec<_> = (0..clients)
        .map(|c| tokio::spawn(appender(c, until)))
        .collect();
    let mut load = Load::default();
    for task in tasks {
        load.merge(task.await??);
    }
    load.elapsed = start.elapsed().as_secs_f64();
    load.latencies_us.sort_unstable();
    Ok(load)
}

// ---------------------------------------------------------------------------------------------
// Reading `$all`.

#[derive(Deserialize)]
struct AllPage {
    events: Vec<PageEvent>,
    next: Option<u64>,
}

#[derive(Deserialize)]
struct PageEvent {
    position: u64,
    #[allow(dead_code)]
    stream: IgnoredAny,
    #[allow(dead_code)]
    data: IgnoredAny,
}

/// Events read per second; fails unless positions come back dense from 0 and in order.
async fn zq_read_all(port: u16, seconds: Duration) -> Result<(f64, u64)> {
    let mut http = Http::connect(port).await?;
    let start = Instant::now();
    let (mut from, mut read) = (0u64, 0u64);
    loop {
        let (status, body) = http
            .request(
                Method::GET,
                &format!("/v1/all?from_position={from}&limit=1000"),
                None,
            )
            .await?;
        ensure!(status == StatusCode::OK, "GET /v1/all: {status}");
        let page: AllPage = serde_json::from_slice(&body)?;
        for e in &page.events {
            ensure!(
                e.position == read,
                "$all gave position {} where {read} was due",
                e.position
            );
            read += 1;
        }
        match page.next {
            Some(next) if start.elapsed() < seconds => from = next,
            _ => break,
        }
    }
    Ok((read as f64 / start.elapsed().as_secs_f64(), read))
}

const PG_READ: &str = "SELECT position, stream, version, id, type, data::text, metadata::text, \
     recorded_at FROM events WHERE position > $1 ORDER BY position LIMIT 1000";

/// One page of rows decoded as a client would: (position, data) of each.
fn pg_rows(rows: &[tokio_postgres::Row]) -> Vec<(i64, &str)> {
    rows.iter()
        .map(|r| {
            let _: (&str, i64, Uuid, &str, Option<&str>, SystemTime) =
                (r.get(1), r.get(2), r.get(3), r.get(4), r.get(6), r.get(7));
            (r.get::<_, i64>(0), r.get::<_, &str>(5))
        })
        .collect()
}

async fn pg_read_all(conninfo: &str, seconds: Duration) -> Result<(f64, u64)> {
    let client = pg_connect(conninfo).await?;
    let page = client.prepare(PG_READ).await?;
    let start = Instant::now();
    let (mut after, mut read) = (0i64, 0u64);
    loop {
        let rows = client.query(&page, &[&after]).await?;
        for (position, _) in pg_rows(&rows) {
            ensure!(position > after, "positions out of order");
            after = position;
            read += 1;
        }
        if rows.len() < 1000 || start.elapsed() >= seconds {
            break;
        }
    }
    Ok((read as f64 / start.elapsed().as_secs_f64(), read))
}

// ---------------------------------------------------------------------------------------------
// Live subscribers.

/// What one subscriber saw.
#[derive(Default)]
struct Received {
    events: u64,
    /// Events that were not the next one due (a gap, a repeat or out of order).
    out_of_order: u64,
    lags_us: Vec<u32>,
    error: Option<String>,
}

/// The shared end of a live measurement: the subscribers stop once they have seen `end`
/// (position one past the last written event), or at `give_up`.
struct LiveEnd {
    end: AtomicU64,
    ready: AtomicUsize,
}

fn sent_us(data: &str) -> Option<u64> {
    // PostgreSQL's jsonb text puts a space after the colon.
    let at = data.find("\"sent_us\":")? + "\"sent_us\":".len();
    let digits: &str = data[at..].trim_start();
    let len = digits.bytes().take_while(u8::is_ascii_digit).count();
    digits[..len].parse().ok()
}

fn lag(received_us: u64, data: &str) -> u32 {
    sent_us(data).map_or(u32::MAX, |sent| received_us.saturating_sub(sent) as u32)
}

/// One SSE subscriber of `$all` from `head`.
async fn zq_subscriber(
    port: u16,
    head: u64,
    live: Arc<LiveEnd>,
    give_up: Duration,
) -> Result<Received> {
    let mut http = Http::connect(port).await?;
    let response = http
        .start(
            Method::GET,
            &format!("/v1/all/subscribe?from_position={head}"),
            None,
        )
        .await?;
    ensure!(
        response.status() == StatusCode::OK,
        "subscribe: {}",
        response.status()
    );
    let mut body = response.into_body();
    let mut got = Received::default();
    let (mut buffer, mut next, mut ready) = (Vec::<u8>::new(), head, false);
    let mut give_up_at: Option<Instant> = None;
    loop {
        let end = live.end.load(Ordering::Acquire);
        if end != u64::MAX {
            if next >= end {
                break;
            }
            let at = *give_up_at.get_or_insert_with(|| Instant::now() + give_up);
            if Instant::now() > at {
                got.error = Some(format!("stopped at position {next} of {end}"));
                break;
            }
        }
        let frame = match tokio::time::timeout(Duration::from_millis(100), body.frame()).await {
            Err(_) => continue,
            Ok(None) => {
                got.error = Some("the server ended the subscription".into());
                break;
            }
            Ok(Some(frame)) => frame?,
        };
        let received = now_micros();
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        buffer.extend_from_slice(&chunk);
        // Messages end with a blank line.
        let mut consumed = 0;
        while let Some(len) = buffer[consumed..].windows(2).position(|w| w == b"\n\n") {
            let message = std::str::from_utf8(&buffer[consumed..consumed + len])?;
            consumed += len + 2;
            let (mut event, mut id, mut data) = ("message", None, "");
            for line in message.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    event = v.trim();
                } else if let Some(v) = line.strip_prefix("id:") {
                    id = v.trim().parse::<u64>().ok();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data = v;
                }
            }
            match (event, id) {
                ("caught-up", _) if !ready => {
                    ready = true;
                    live.ready.fetch_add(1, Ordering::AcqRel);
                }
                ("message", Some(position)) => {
                    if position != next {
                        got.out_of_order += 1;
                    }
                    next = position + 1;
                    got.events += 1;
                    got.lags_us.push(lag(received, data));
                }
                ("error", _) => {
                    got.error = Some(data.trim().to_string());
                    return Ok(got);
                }
                _ => {}
            }
        }
        buffer.drain(..consumed);
    }
    Ok(got)
}

/// One polling subscriber of the PostgreSQL table: `position > last` every 10 ms.
async fn pg_subscriber(
    conninfo: String,
    head: i64,
    live: Arc<LiveEnd>,
    give_up: Duration,
) -> Result<Received> {
    let client = pg_connect(&conninfo).await?;
    let page = client.prepare(PG_READ).await?;
    let mut got = Received::default();
    let mut after = head;
    live.ready.fetch_add(1, Ordering::AcqRel);
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut give_up_at: Option<Instant> = None;
    loop {
        let end = live.end.load(Ordering::Acquire);
        if end != u64::MAX {
            if after + 1 >= end as i64 {
                break;
            }
            let at = *give_up_at.get_or_insert_with(|| Instant::now() + give_up);
            if Instant::now() > at {
                got.error = Some(format!("stopped at position {after} of {end}"));
                break;
            }
        }
        tick.tick().await;
        loop {
            let rows = client.query(&page, &[&after]).await?;
            let received = now_micros();
            for (position, data) in pg_rows(&rows) {
                if position != after + 1 {
                    got.out_of_order += 1;
                }
                after = position;
                got.events += 1;
                got.lags_us.push(lag(received, data));
            }
            if rows.len() < 1000 {
                break;
            }
        }
    }
    Ok(got)
}

/// Runs `writers` paced writer tasks to the end and merges what they wrote.
async fn paced_writers<F, Fut>(writers: usize, make: F) -> Result<Load>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Result<Load>> + Send + 'static,
{
    let start = Instant::now();
    let tasks: Vec<_> = (0..writers).map(|w| tokio::spawn(make(w))).collect();
    let mut load = Load::default();
    for task in tasks {
        load.merge(task.await??);
    }
    load.elapsed = start.elapsed().as_secs_f64();
    Ok(load)
}

/// When writer `w` of `writers` should send its `k`th event.
fn due(
    start: tokio::time::Instant,
    w: usize,
    writers: usize,
    k: u64,
    rate: u64,
) -> tokio::time::Instant {
    let per_writer = Duration::from_secs_f64(writers as f64 / rate as f64);
    start + per_writer.mul_f64(k as f64 + w as f64 / writers as f64)
}

async fn zq_live_writer(
    port: u16,
    w: usize,
    cfg: (usize, u64, Duration),
    start: tokio::time::Instant,
) -> Result<Load> {
    let (writers, rate, seconds) = cfg;
    let mut http = Http::connect(port).await?;
    let path = format!("/v1/streams/live-{w}");
    let (mut load, mut last, mut seq) = (Load::default(), None, 0);
    for k in 0.. {
        // A writer behind its schedule sends at once, until the measurement's end.
        let at = due(start, w, writers, k, rate);
        if at >= start + seconds || tokio::time::Instant::now() >= start + seconds {
            break;
        }
        tokio::time::sleep_until(at).await;
        let body = zq_append_body(last, 1, &mut seq);
        let (status, answer) = http.request(Method::POST, &path, Some(body)).await?;
        if status != StatusCode::CREATED {
            load.fail(format!("{status}: {}", String::from_utf8_lossy(&answer)));
            break;
        }
        last = Some(last.map_or(0, |v| v + 1));
        load.events += 1;
    }
    Ok(load)
}

async fn pg_live_writer(
    conninfo: String,
    w: usize,
    cfg: (usize, u64, Duration),
    start: tokio::time::Instant,
) -> Result<Load> {
    let (writers, rate, seconds) = cfg;
    let mut client = pg_connect(&conninfo).await?;
    let st = PgStatements::prepare(&client).await?;
    let stream = format!("live-{w}");
    let (mut load, mut last, mut seq) = (Load::default(), None::<i64>, 0u64);
    for k in 0.. {
        // A writer behind its schedule sends at once, until the measurement's end.
        let at = due(start, w, writers, k, rate);
        if at >= start + seconds || tokio::time::Instant::now() >= start + seconds {
            break;
        }
        tokio::time::sleep_until(at).await;
        seq += 1;
        let data = vec![event_data(seq, now_micros())];
        if !pg_append(&mut client, &st, &stream, last, data).await? {
            load.fail(format!("wrong expected version {last:?} on {stream}"));
            break;
        }
        last = Some(last.map_or(0, |v| v + 1));
        load.events += 1;
    }
    Ok(load)
}

/// The result of a live measurement.
struct Live {
    written: Load,
    received: Vec<Received>,
}

impl Live {
    fn lags(&self) -> Vec<u32> {
        let mut lags: Vec<u32> = self
            .received
            .iter()
            .flat_map(|r| r.lags_us.iter().copied())
            .collect();
        lags.sort_unstable();
        lags
    }

    /// Subscribers that missed events, and how many events they missed in all.
    fn missed(&self) -> (usize, u64) {
        let short: Vec<u64> = self
            .received
            .iter()
            .map(|r| self.written.events.saturating_sub(r.events))
            .filter(|&m| m > 0)
            .collect();
        (short.len(), short.iter().sum())
    }

    fn out_of_order(&self) -> u64 {
        self.received.iter().map(|r| r.out_of_order).sum()
    }

    fn errors(&self) -> Vec<&str> {
        self.received
            .iter()
            .filter_map(|r| r.error.as_deref())
            .collect()
    }
}

async fn zq_live(port: u16, cfg: &Config) -> Result<Live> {
    // The head: one past the position of a marker event appended now.
    let mut http = Http::connect(port).await?;
    let (status, body) = http
        .request(
            Method::POST,
            "/v1/streams/live-marker",
            Some(r#"{"events":[{"type":"Marker","data":{}}]}"#.into()),
        )
        .await?;
    ensure!(status == StatusCode::CREATED, "marker append: {status}");
    let answer: serde_json::Value = serde_json::from_slice(&body)?;
    let head = answer["last_position"]
        .as_u64()
        .ok_or_else(|| anyhow!("no last_position in {answer}"))?
        + 1;
    let live = Arc::new(LiveEnd {
        end: AtomicU64::new(u64::MAX),
        ready: AtomicUsize::new(0),
    });
    let give_up = cfg.duration().max(Duration::from_secs(10));
    let subscribers: Vec<_> = (0..cfg.subscribers)
        .map(|_| tokio::spawn(zq_subscriber(port, head, live.clone(), give_up)))
        .collect();
    wait_ready(&live, cfg.subscribers).await?;
    let shape = (cfg.writers, cfg.rate, cfg.duration());
    let start = tokio::time::Instant::now();
    let written = paced_writers(cfg.writers, |w| zq_live_writer(port, w, shape, start)).await?;
    live.end.store(head + written.events, Ordering::Release);
    let mut received = Vec::new();
    for s in subscribers {
        received.push(s.await??);
    }
    Ok(Live { written, received })
}

async fn pg_live(conninfo: &str, cfg: &Config) -> Result<Live> {
    let client = pg_connect(conninfo).await?;
    let head: i64 = client
        .query_one("SELECT coalesce(max(position), 0) FROM events", &[])
        .await?
        .get(0);
    let live = Arc::new(LiveEnd {
        end: AtomicU64::new(u64::MAX),
        ready: AtomicUsize::new(0),
    });
    let give_up = cfg.duration().max(Duration::from_secs(10));
    let subscribers: Vec<_> = (0..cfg.subscribers)
        .map(|_| {
            tokio::spawn(pg_subscriber(
                conninfo.to_string(),
                head,
                live.clone(),
                give_up,
            ))
        })
        .collect();
    wait_ready(&live, cfg.subscribers).await?;
    let shape = (cfg.writers, cfg.rate, cfg.duration());
    let start = tokio::time::Instant::now();
    let written = paced_writers(cfg.writers, |w| {
        pg_live_writer(conninfo.to_string(), w, shape, start)
    })
    .await?;
    let last: i64 = client
        .query_one("SELECT coalesce(max(position), 0) FROM events", &[])
        .await?
        .get(0);
    live.end.store(last as u64 + 1, Ordering::Release);
    let mut received = Vec::new();
    for s in subscribers {
        received.push(s.await??);
    }
    Ok(Live { written, received })
}

async fn wait_ready(live: &LiveEnd, subscribers: usize) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while live.ready.load(Ordering::Acquire) < subscribers {
        ensure!(
            Instant::now() < deadline,
            "only {} of {subscribers} subscribers caught up in time",
            live.ready.load(Ordering::Acquire)
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The report.

/// Rows of the printed table, and the correctness failures found on the way.
struct Report {
    failures: Vec<String>,
}

fn ms(us: f64) -> String {
    if us.is_nan() {
        "-".into()
    } else {
        format!("{:.1} ms", us / 1000.0)
    }
}

fn per_s(rate: f64) -> String {
    let n = rate.round() as u64;
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    format!("{out}/s")
}

impl Report {
    fn header(&self) {
        println!(
            "{:<44} {:>16} {:>16} {:>7}  target",
            "measurement", "zqlite", "PostgreSQL", "ratio"
        );
    }

    fn row(&self, name: &str, zq: &str, pg: &str, ratio: &str, target: &str) {
        println!("{name:<44} {zq:>16} {pg:>16} {ratio:>7}  {target}");
    }

    fn check_load(&mut self, what: &str, load: &Load) {
        if load.failures > 0 {
            self.failures.push(format!(
                "{what}: {} failed appends (first: {})",
                load.failures,
                load.first_failure.as_deref().unwrap_or("?")
            ));
        }
    }
}

fn verdict(met: bool) -> &'static str {
    if met { "meets" } else { "below" }
}

async fn run(cfg: &Config, zq: &Zqlite, pg: &Postgres) -> Result<Report> {
    let mut report = Report {
        failures: Vec::new(),
    };
    let port = zq.http_port;
    let conninfo = pg.conninfo();
    pg_connect(&conninfo).await?.batch_execute(SCHEMA).await?;
    println!(
        "zqlite (HTTP event API) vs {} (event table, fsync on): {:.0} s per measurement",
        pg.version(),
        cfg.seconds
    );
    report.header();

    let single = format!("single-event appends, {} clients", cfg.clients);
    if cfg.wants(&single) {
        let z = appenders(cfg.clients, cfg.duration(), |c, until| {
            zq_appender(port, format!("single-{c}"), 1, until)
        })
        .await?;
        let p = appenders(cfg.clients, cfg.duration(), |c, until| {
            pg_appender(conninfo.clone(), format!("single-{c}"), 1, until)
        })
        .await?;
        report.check_load(&format!("zqlite {single}"), &z);
        report.check_load(&format!("PostgreSQL {single}"), &p);
        let ratio = z.rate() / p.rate();
        report.row(
            &format!("{single} (events/s)"),
            &per_s(z.rate()),
            &per_s(p.rate()),
            &format!("{ratio:.2}x"),
            &format!("≥ 3x: {}", verdict(ratio >= 3.0)),
        );
        for (name, q) in [("  latency p50", 0.5), ("  latency p99", 0.99)] {
            let (zl, pl) = (quantile(&z.latencies_us, q), quantile(&p.latencies_us, q));
            report.row(name, &ms(zl), &ms(pl), &format!("{:.2}x", pl / zl), "");
        }
    }

    let batches = format!("{}-event batch appends, {} clients", cfg.batch, cfg.clients);
    if cfg.wants(&batches) {
        let batch = cfg.batch;
        let z = appenders(cfg.clients, cfg.duration(), |c, until| {
            zq_appender(port, format!("batch-{c}"), batch, until)
        })
        .await?;
        let p = appenders(cfg.clients, cfg.duration(), |c, until| {
            pg_appender(conninfo.clone(), format!("batch-{c}"), batch, until)
        })
        .await?;
        report.check_load(&format!("zqlite {batches}"), &z);
        report.check_load(&format!("PostgreSQL {batches}"), &p);
        report.row(
            &format!("{batches} (events/s)"),
            &per_s(z.rate()),
            &per_s(p.rate()),
            &format!("{:.2}x", z.rate() / p.rate()),
            &format!("≥ 500,000/s: {}", verdict(z.rate() >= 500_000.0)),
        );
        for (name, q) in [("  latency p50", 0.5), ("  latency p99", 0.99)] {
            let (zl, pl) = (quantile(&z.latencies_us, q), quantile(&p.latencies_us, q));
            report.row(name, &ms(zl), &ms(pl), &format!("{:.2}x", pl / zl), "");
        }
    }

    let read = "read $all in pages of 1,000";
    if cfg.wants(read) {
        let (z, z_events) = zq_read_all(port, cfg.duration()).await?;
        let (p, p_events) = pg_read_all(&conninfo, cfg.duration()).await?;
        report.row(
            &format!("{read} (events/s)"),
            &per_s(z),
            &per_s(p),
            &format!("{:.2}x", z / p),
            &format!("({z_events} / {p_events} events read)"),
        );
    }

    let live = format!("{} subscribers at {} events/s", cfg.subscribers, cfg.rate);
    if cfg.wants(&live) && cfg.subscribers > 0 {
        let z = zq_live(port, cfg).await?;
        let p = pg_live(&conninfo, cfg).await?;
        report.check_load(&format!("zqlite {live} (writers)"), &z.written);
        report.check_load(&format!("PostgreSQL {live} (writers)"), &p.written);
        // Writers that fall behind their schedule send at once: the rate is what they kept up.
        report.row(
            &format!("{live}: written"),
            &per_s(z.written.rate()),
            &per_s(p.written.rate()),
            "",
            &format!("{} paced", per_s(cfg.rate as f64)),
        );
        let (zl, pl) = (z.lags(), p.lags());
        for (name, q) in [("  lag p50", 0.5), ("  lag p99", 0.99), ("  lag max", 1.0)] {
            let (a, b) = (quantile(&zl, q), quantile(&pl, q));
            let target = if q == 0.99 {
                format!("< 50 ms: {}", verdict(a < 50_000.0))
            } else {
                String::new()
            };
            report.row(name, &ms(a), &ms(b), &format!("{:.2}x", b / a), &target);
        }
        let (z_short, z_missed) = z.missed();
        let (p_short, p_missed) = p.missed();
        report.row(
            "  subscribers missing events (events)",
            &format!("{z_short} ({z_missed})"),
            &format!("{p_short} ({p_missed})"),
            "",
            "0",
        );
        let (z_disorder, p_disorder) = (z.out_of_order(), p.out_of_order());
        report.row(
            "  events out of order or skipped past",
            &z_disorder.to_string(),
            &p_disorder.to_string(),
            "",
            "0",
        );
        if z_missed > 0 || z_disorder > 0 || !z.errors().is_empty() {
            report.failures.push(format!(
                "zqlite subscribers: {z_short} missed {z_missed} events, {z_disorder} out of \
                 order; errors: {:?}",
                z.errors()
            ));
        }
        if !p.errors().is_empty() {
            report
                .failures
                .push(format!("PostgreSQL subscribers: errors: {:?}", p.errors()));
        }
        if p_missed > 0 {
            println!(
                "note: PostgreSQL's polling subscribers skipped {p_missed} events: a commit \
                 became visible after one with a higher position had been read"
            );
        }
    }
    Ok(report)
}

fn main() -> std::process::ExitCode {
    let cfg = config();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let outcome = (|| -> Result<Report> {
        let pg = Postgres::start().context("starting PostgreSQL")?;
        let zq = Zqlite::start(&[]).context("starting zqlite")?;
        runtime.block_on(run(&cfg, &zq, &pg))
    })();
    match outcome {
        Ok(report) if report.failures.is_empty() => std::process::ExitCode::SUCCESS,
        Ok(report) => {
            for failure in &report.failures {
                eprintln!("FAILED: {failure}");
            }
            std::process::ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
