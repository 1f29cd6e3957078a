//! `zqlite serve` end to end: the real binary on a free port and a temporary data
//! directory, driven by tokio-postgres, psql and raw sockets.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

use tokio_postgres::types::{Format, IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{Client, NoTls};

use crate::zqlite_binary;

/// A running `zqlite serve`; killed when dropped.
pub(crate) struct Server {
    child: Child,
    port: u16,
    /// The HTTP API's port.
    pub(crate) http_port: u16,
}

pub(crate) fn free_port() -> u16 {
    // The port is free when probed; the server binds it right after.
    let probe = TcpListener::bind("127.0.0.1:0").expect("an ephemeral port is available");
    probe
        .local_addr()
        .expect("bound socket has an address")
        .port()
}

impl Server {
    /// A server on a new temporary data directory, and a client connected to it. Keep the
    /// directory as long as the server runs (bind it to a name, not to `_`).
    pub(crate) async fn fresh() -> (tempfile::TempDir, Server, Client) {
        let tmp = tempfile::tempdir().unwrap();
        let server = Server::start(&tmp.path().join("data"), &[]);
        let client = server.client().await;
        (tmp, server, client)
    }

    pub(crate) fn start(data: &Path, extra: &[&str]) -> Server {
        let port = free_port();
        let http_port = free_port();
        let child = Command::new(zqlite_binary())
            .arg("serve")
            .arg("--data")
            .arg(data)
            .arg("--pg-listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--http-listen")
            .arg(format!("127.0.0.1:{http_port}"))
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("zqlite binary starts");
        let mut server = Server {
            child,
            port,
            http_port,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err()
            || TcpStream::connect(("127.0.0.1", http_port)).is_err()
        {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("zqlite serve exited early: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "zqlite serve did not listen in time"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    /// The PostgreSQL port.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    pub(crate) fn conninfo(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=zqlite dbname=zqlite",
            self.port
        )
    }

    pub(crate) async fn client(&self) -> Client {
        let (client, conn) = tokio_postgres::connect(&self.conninfo(), NoTls)
            .await
            .expect("tokio-postgres connects");
        tokio::spawn(conn);
        client
    }

    pub(crate) fn psql(&self, args: &[&str]) -> Output {
        Command::new("psql")
            .args([
                "-X",
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "zqlite",
                "zqlite",
            ])
            .args(args)
            .env("PGCONNECT_TIMEOUT", "10")
            .output()
            .expect("psql runs (install Debian's postgresql-client)")
    }

    /// SIGTERM, then the exit status.
    pub(crate) fn terminate(mut self) -> std::process::ExitStatus {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("child status is readable") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "server did not exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A numeric parameter sent in text format (tokio-postgres has no built-in numeric type).
#[derive(Debug)]
struct NumericText(&'static str);

impl ToSql for NumericText {
    fn to_sql(
        &self,
        _: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(self.0.as_bytes());
        Ok(IsNull::No)
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }
    fn encode_format(&self, _: &Type) -> Format {
        Format::Text
    }
    to_sql_checked!();
}

#[tokio::test]
async fn tokio_postgres_simple_and_extended_queries() {
    let (_tmp, _server, client) = Server::fresh().await;

    client
        .batch_execute(
            "CREATE TABLE items (id int PRIMARY KEY, name text, ok bool, w float8, \
             price numeric(10,2), at timestamp, big bigint, small smallint, tag uuid, raw bytea);",
        )
        .await
        .unwrap();

    // Simple protocol, several statements in one message.
    let msgs = client
        .simple_query("INSERT INTO items (id, name) VALUES (100, 'simple'); SELECT name FROM items")
        .await
        .unwrap();
    let names: Vec<_> = msgs
        .iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
            _ => None,
        })
        .collect();
    assert_eq!(names, ["simple"]);

    // Extended protocol: inferred parameter types, every value in binary both ways.
    let insert = client
        .prepare(
            "INSERT INTO items (id, name, ok, w, price, at, big, small, tag, raw) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .await
        .unwrap();
    assert_eq!(
        insert.params(),
        [
            Type::INT4,
            Type::TEXT,
            Type::BOOL,
            Type::FLOAT8,
            Type::NUMERIC,
            Type::TIMESTAMP,
            Type::INT8,
            Type::INT2,
            Type::UUID,
            Type::BYTEA
        ]
    );
    let at = SystemTime::UNIX_EPOCH + Duration::from_micros(1_700_000_000_123_456);
    let tag = uuid::Uuid::from_u128(0x1234_5678_9abc_def0_1122_3344_5566_7788);
    let n = client
        .execute(
            &insert,
            &[
                &1i32,
                &"héllo",
                &true,
                &2.5f64,
                &NumericText("12.345"),
                &at,
                &(1i64 << 40),
                &-7i16,
                &tag,
                &vec![0u8, 255, 10],
            ],
        )
        .await
        .unwrap();
    assert_eq!(n, 1);

    let row = client
        .query_one(
            "SELECT id, name, ok, w, price::text, at, big, small, tag, raw FROM items WHERE id = $1",
            &[&1i32],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 1);
    assert_eq!(row.get::<_, &str>(1), "héllo");
    assert!(row.get::<_, bool>(2));
    assert_eq!(row.get::<_, f64>(3), 2.5);
    assert_eq!(row.get::<_, &str>(4), "12.35", "numeric(10,2) rounds");
    assert_eq!(row.get::<_, SystemTime>(5), at);
    assert_eq!(row.get::<_, i64>(6), 1 << 40);
    assert_eq!(row.get::<_, i16>(7), -7);
    assert_eq!(row.get::<_, uuid::Uuid>(8), tag);
    assert_eq!(row.get::<_, Vec<u8>>(9), vec![0u8, 255, 10]);

    // The same statement, prepared once and run with different values.
    let by_flag = client
        .prepare("SELECT count(*) FROM items WHERE ok = $1 OR name LIKE $2")
        .await
        .unwrap();
    let count: i64 = client
        .query_one(&by_flag, &[&true, &"none"])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 1);
    let count: i64 = client
        .query_one(&by_flag, &[&false, &"sim%"])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 1);

    // Portal suspension: rows fetched two at a time.
    let mut client = client;
    client
        .batch_execute("INSERT INTO items (id) VALUES (2), (3), (4), (5)")
        .await
        .unwrap();
    let txn = client.transaction().await.unwrap();
    let stmt = txn
        .prepare("SELECT id FROM items ORDER BY id")
        .await
        .unwrap();
    let portal = txn.bind(&stmt, &[]).await.unwrap();
    let mut seen = Vec::new();
    loop {
        let rows = txn.query_portal(&portal, 2).await.unwrap();
        if rows.is_empty() {
            break;
        }
        assert!(rows.len() <= 2);
        seen.extend(rows.iter().map(|r| r.get::<_, i32>(0)));
    }
    txn.commit().await.unwrap();
    assert_eq!(seen, [1, 2, 3, 4, 5, 100]);
}

/// Connects as `user` with `password`; the SQLSTATE of a refusal.
async fn login(server: &Server, user: &str, password: &str) -> Result<Client, String> {
    let conninfo = format!(
        "host=127.0.0.1 port={} user={user} password={password} dbname=zqlite",
        server.port
    );
    match tokio_postgres::connect(&conninfo, NoTls).await {
        Ok((client, conn)) => {
            tokio::spawn(conn);
            Ok(client)
        }
        Err(e) => Err(e
            .code()
            .map_or_else(|| e.to_string(), |c| c.code().to_string())),
    }
}

#[tokio::test]
async fn roles_with_passwords_turn_on_scram_authentication() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let server = Server::start(&data, &[]);
    // No roles yet: loopback is trusted under any name.
    let admin = server.client().await;
    admin
        .batch_execute(
            "CREATE ROLE alice LOGIN PASSWORD 'wonder'; \
             CREATE ROLE reader PASSWORD 'books'; \
             CREATE ROLE bob LOGIN PASSWORD 'x'; DROP ROLE bob",
        )
        .await
        .unwrap();
    let err = admin
        .batch_execute("CREATE ROLE alice")
        .await
        .expect_err("duplicate");
    assert_eq!(err.code().map(|c| c.code()), Some("42710"));

    let alice = login(&server, "alice", "wonder")
        .await
        .expect("right password");
    let one: i32 = alice.query_one("SELECT 1", &[]).await.unwrap().get(0);
    assert_eq!(one, 1);
    assert_eq!(
        login(&server, "alice", "Wonder").await.err().as_deref(),
        Some("28P01")
    );
    assert_eq!(
        login(&server, "zqlite", "").await.err().as_deref(),
        Some("28P01")
    );
    assert_eq!(
        login(&server, "bob", "x").await.err().as_deref(),
        Some("28P01")
    );
    assert_eq!(
        login(&server, "reader", "books").await.err().as_deref(),
        Some("28000")
    );

    // Roles are log records: they survive a restart, and the log holds no password.
    alice
        .batch_execute("ALTER ROLE alice WITH PASSWORD 'rabbit'")
        .await
        .unwrap();
    drop((admin, alice));
    assert!(server.terminate().success());
    let server = Server::start(&data, &[]);
    assert_eq!(
        login(&server, "alice", "wonder").await.err().as_deref(),
        Some("28P01")
    );
    login(&server, "alice", "rabbit")
        .await
        .expect("the new password");
    let mut log = Vec::new();
    for entry in std::fs::read_dir(data.join("log")).unwrap() {
        log.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    let contains = |needle: &[u8]| log.windows(needle.len()).any(|w| w == needle);
    assert!(contains(b"SCRAM-SHA-256$4096:"), "verifiers are logged");
    assert!(
        !contains(b"wonder") && !contains(b"rabbit"),
        "passwords are not"
    );
}

#[test]
fn tls_is_offered_when_a_certificate_is_configured() {
    let tmp = tempfile::tempdir().unwrap();
    let (cert, key) = (tmp.path().join("cert.pem"), tmp.path().join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .args(["-days", "1"])
        .output()
        .expect("openssl runs (install Debian's openssl)");
    assert!(made.status.success(), "{made:?}");
    let psql = |server: &Server, sslmode: &str| {
        Command::new("psql")
            .arg(format!(
                "host=127.0.0.1 port={} user=zqlite dbname=zqlite sslmode={sslmode}",
                server.port
            ))
            .args(["-X", "-At", "-c", "SELECT 1", "-c", "\\conninfo"])
            .env("PGCONNECT_TIMEOUT", "10")
            .output()
            .expect("psql runs")
    };

    let args = [
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ];
    let server = Server::start(&tmp.path().join("data"), &args);
    let out = psql(&server, "require");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout.contains("SSL connection (protocol: TLSv1.3"),
        "{stdout}"
    );
    let plain = psql(&server, "disable");
    assert!(plain.status.success(), "plain text still works: {plain:?}");
    drop(server);

    // Without a certificate a client that requires TLS is refused it.
    let server = Server::start(&tmp.path().join("data2"), &[]);
    let out = psql(&server, "require");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("server does not support SSL"),
        "{out:?}"
    );
    // A key that is not the certificate's is refused at startup, saying so.
    let bad = Command::new(zqlite_binary())
        .arg("serve")
        .arg("--data")
        .arg(tmp.path().join("data3"))
        .args(["--pg-listen", "127.0.0.1:0", "--tls-cert"])
        .arg(&cert)
        .arg("--tls-key")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("private key"),
        "{bad:?}"
    );
}

#[tokio::test]
async fn arrays_round_trip_in_binary_and_text() {
    let (_tmp, _server, client) = Server::fresh().await;
    client
        .batch_execute("CREATE TABLE runs (id int PRIMARY KEY, steps text[], scores int8[])")
        .await
        .unwrap();
    let insert = client
        .prepare("INSERT INTO runs VALUES ($1, $2, $3)")
        .await
        .unwrap();
    assert_eq!(insert.params()[1], Type::TEXT_ARRAY);
    assert_eq!(insert.params()[2], Type::INT8_ARRAY);
    let steps = vec![
        Some("fetch".to_string()),
        None,
        Some("a \"quoted\", b".to_string()),
    ];
    client
        .execute(&insert, &[&1i32, &steps, &vec![3i64, -1]])
        .await
        .unwrap();
    client
        .execute(
            &insert,
            &[&2i32, &Vec::<Option<String>>::new(), &vec![7i64]],
        )
        .await
        .unwrap();

    // Binary results, and an array parameter of = ANY.
    let row = client
        .query_one("SELECT steps, scores FROM runs WHERE id = 1", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, Vec<Option<String>>>(0), steps);
    assert_eq!(row.get::<_, Vec<i64>>(1), vec![3, -1]);
    let ids: Vec<i32> = client
        .query_one(
            "SELECT array_agg(id ORDER BY id DESC) FROM runs WHERE id = ANY($1)",
            &[&vec![1i32, 2, 9]],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(ids, [2, 1]);
    let empty: Vec<Option<String>> = client
        .query_one("SELECT steps FROM runs WHERE id = 2", &[])
        .await
        .unwrap()
        .get(0);
    assert!(empty.is_empty());

    // Text results through the simple protocol: PostgreSQL's array output.
    let msgs = client
        .simple_query("SELECT steps, scores[2] FROM runs WHERE id = 1")
        .await
        .unwrap();
    let row = msgs
        .iter()
        .find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => Some(r),
            _ => None,
        })
        .unwrap();
    assert_eq!(row.get(0), Some(r#"{fetch,NULL,"a \"quoted\", b"}"#));
    assert_eq!(row.get(1), Some("-1"));
}

#[tokio::test]
async fn transactions_roll_back_and_errors_carry_sqlstate_and_position() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"), &[]);
    let mut client = server.client().await;
    client
        .batch_execute("CREATE TABLE acc (id int PRIMARY KEY, bal int NOT NULL)")
        .await
        .unwrap();
    client
        .execute("INSERT INTO acc VALUES (1, 10)", &[])
        .await
        .unwrap();

    let txn = client.transaction().await.unwrap();
    txn.execute(
        "UPDATE acc SET bal = bal - $1 WHERE id = $2",
        &[&5i32, &1i32],
    )
    .await
    .unwrap();
    txn.execute("INSERT INTO acc VALUES (2, 5)", &[])
        .await
        .unwrap();
    txn.rollback().await.unwrap();
    let rows = client.query("SELECT id, bal FROM acc", &[]).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<_, i32>(1), 10);

    // An error inside a block fails the block until ROLLBACK.
    client.batch_execute("BEGIN").await.unwrap();
    let err = client
        .batch_execute("INSERT INTO acc VALUES (1, 0)")
        .await
        .expect_err("duplicate key");
    assert_eq!(err.code().map(|c| c.code()), Some("23505"));
    let err = client
        .batch_execute("SELECT 1")
        .await
        .expect_err("block failed");
    assert_eq!(err.code().map(|c| c.code()), Some("25P02"));
    client.batch_execute("ROLLBACK").await.unwrap();

    let err = client
        .query("SELECT bal FROM missing_table", &[])
        .await
        .expect_err("no such table");
    let db = err.as_db_error().expect("a server error");
    assert_eq!(db.code().code(), "42P01");
    assert_eq!(
        db.position(),
        Some(&tokio_postgres::error::ErrorPosition::Original(17))
    );
    let err = client
        .simple_query("SELECT 1; SELEC 2")
        .await
        .expect_err("syntax error");
    assert_eq!(err.code().map(|c| c.code()), Some("42601"));
    // The connection is still usable.
    let one: i32 = client.query_one("SELECT 1", &[]).await.unwrap().get(0);
    assert_eq!(one, 1);
}

/// Runs the Python script `tests/e2e/clients/<script>` (psycopg 3) against a fresh server;
/// it must exit 0 with `ok` as its last line.
pub(crate) fn run_psycopg_script(script: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"), &[]);
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/e2e/clients")
        .join(script);
    let out = Command::new("python3")
        .arg(&path)
        .arg(server.conninfo())
        .output()
        .expect("python3 runs (.ci/run installs psycopg)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.trim_end().ends_with("ok"),
        "{script} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn psycopg_connects_inserts_selects_and_rolls_back() {
    run_psycopg_script("psycopg_client.py");
}

#[test]
fn pgbench_tpcb_and_select_only_in_both_protocols_keep_the_invariant() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"), &[]);
    let pgbench = |args: &[&str]| {
        let out = Command::new("pgbench")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &server.port.to_string(),
                "-U",
                "zqlite",
            ])
            .args(args)
            .arg("zqlite")
            .output()
            .expect("pgbench runs (.ci/run installs postgresql-contrib)");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "pgbench {args:?} failed:\n{text}");
        text
    };
    let invariant = "SELECT (SELECT sum(abalance) FROM pgbench_accounts) || ' ' || \
                     (SELECT sum(bbalance) FROM pgbench_branches) || ' ' || \
                     (SELECT sum(tbalance) FROM pgbench_tellers) || ' ' || \
                     (SELECT sum(delta) FROM pgbench_history)";
    for mode in ["simple", "prepared"] {
        pgbench(&["-i", "-s", "1"]);
        let out = server.psql(&["-At", "-c", "SELECT count(*) FROM pgbench_accounts"]);
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "100000");
        // TPC-B: 8 clients on one branch contend for its row on every transaction.
        let text = pgbench(&["-M", mode, "-c", "8", "-j", "2", "-T", "3"]);
        assert!(
            text.contains("number of failed transactions: 0 (0.000%)"),
            "{text}"
        );
        let out = server.psql(&["-At", "-c", invariant]);
        let sums = String::from_utf8_lossy(&out.stdout);
        let sums: Vec<&str> = sums.split_whitespace().collect();
        assert_eq!(sums.len(), 4, "{sums:?}");
        assert!(
            sums.iter().all(|s| *s == sums[0]),
            "pgbench invariant: {sums:?}"
        );
        let text = pgbench(&["-S", "-M", mode, "-c", "4", "-j", "2", "-T", "2"]);
        assert!(
            text.contains("number of failed transactions: 0 (0.000%)"),
            "{text}"
        );
    }
}

/// kill -9 of the server while pgbench's TPC-B runs, five times: after each restart the
/// balances still agree with the history, and the history holds every transaction pgbench saw
/// acknowledged (plus at most one in flight per client), never part of one.
#[test]
fn kill_9_during_pgbench_keeps_every_acknowledged_transaction_whole() {
    const CLIENTS: u64 = 8;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let pgbench = |port: u16, args: &[&str]| {
        Command::new("pgbench")
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "zqlite"])
            .args(args)
            .arg("zqlite")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("pgbench runs (.ci/run installs postgresql-contrib)")
    };
    let server = Server::start(&data, &[]);
    let init = pgbench(server.port, &["-i", "-s", "1"])
        .wait_with_output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    drop(server);
    let mut acknowledged = 0u64;
    let seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    for round in 0..5u64 {
        let server = Server::start(&data, &[]);
        // -n: no VACUUM and no TRUNCATE of the history, so it accumulates over the rounds.
        let clients = CLIENTS.to_string();
        let run = pgbench(server.port, &["-n", "-c", &clients, "-j", "2", "-T", "60"]);
        let delay = 400 + (seed.wrapping_mul(round + 1).wrapping_mul(2_654_435_761) >> 7) % 1200;
        std::thread::sleep(Duration::from_millis(delay));
        drop(server); // SIGKILL
        let out = run.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let processed: u64 = text
            .lines()
            .find_map(|l| l.strip_prefix("number of transactions actually processed: "))
            .and_then(|n| n.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| {
                panic!(
                    "pgbench summary in:\n{text}{}",
                    String::from_utf8_lossy(&out.stderr)
                )
            });
        acknowledged += processed;

        let server = Server::start(&data, &[]);
        let out = server.psql(&[
            "-At",
            "-c",
            "SELECT (SELECT sum(abalance) FROM pgbench_accounts) || ' ' || \
                    (SELECT sum(bbalance) FROM pgbench_branches) || ' ' || \
                    (SELECT sum(tbalance) FROM pgbench_tellers) || ' ' || \
                    coalesce((SELECT sum(delta) FROM pgbench_history), 0) || ' ' || \
                    (SELECT count(*) FROM pgbench_history)",
        ]);
        let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let v: Vec<i64> = line
            .split(' ')
            .map(|x| x.parse().unwrap_or(i64::MIN))
            .collect();
        assert_eq!(
            v.len(),
            5,
            "round {round}: {line:?} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            v[..4].iter().all(|x| *x == v[0]),
            "round {round}: sums differ: {line}"
        );
        let history = v[4] as u64;
        assert!(
            history >= acknowledged && history <= acknowledged + CLIENTS * (round + 1),
            "round {round}: {history} history rows for {acknowledged} acknowledged transactions"
        );
        drop(server);
    }
}

#[test]
fn psql_runs_a_script_and_shows_error_positions() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"), &[]);
    let out = server.psql(&[
        "-v",
        "ON_ERROR_STOP=1",
        "-c",
        "CREATE TABLE pets (id int PRIMARY KEY, name text)",
        "-c",
        "INSERT INTO pets VALUES (1, 'cat'), (2, 'dog')",
        "-c",
        "SELECT id, name FROM pets ORDER BY id",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout,
        concat!(
            "CREATE TABLE\n",
            "INSERT 0 2\n",
            " id | name \n",
            "----+------\n",
            "  1 | cat\n",
            "  2 | dog\n",
            "(2 rows)\n",
            "\n",
        )
    );

    let out = server.psql(&["-c", "SELECT id, nam FROM pets"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ERROR:  column \"nam\" does not exist"),
        "{stderr}"
    );
    assert!(
        stderr.contains("LINE 1: SELECT id, nam FROM pets\n                   ^"),
        "{stderr}"
    );
}

#[test]
fn sigterm_exits_zero_and_data_survives_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let server = Server::start(&data, &[]);
    let out = server.psql(&[
        "-c",
        "CREATE TABLE kv (k text PRIMARY KEY, v int)",
        "-c",
        "INSERT INTO kv VALUES ('a', 1), ('b', 2)",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status = server.terminate();
    assert!(status.success(), "graceful shutdown exits 0, got {status}");

    let server = Server::start(&data, &[]);
    let out = server.psql(&["-At", "-c", "SELECT k || '=' || v FROM kv ORDER BY k"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "a=1\nb=2\n");
}

#[tokio::test]
async fn malformed_messages_and_the_connection_limit_affect_one_client() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"), &["--max-connections", "2"]);
    let first = server.client().await;

    // A client that sends garbage after startup is disconnected; others go on.
    let body = b"\x00\x03\x00\x00user\x00zqlite\x00\x00";
    let mut startup = ((body.len() + 4) as i32).to_be_bytes().to_vec();
    startup.extend_from_slice(body);
    let mut attempts = 0;
    let mut raw = loop {
        let mut raw = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        raw.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        raw.write_all(&startup).unwrap();
        let mut greeting = [0u8; 1];
        raw.read_exact(&mut greeting).unwrap();
        // The readiness probe's connection may still hold the second slot for a moment.
        if greeting[0] == b'E' && attempts < 50 {
            attempts += 1;
            std::thread::sleep(Duration::from_millis(20));
            continue;
        }
        assert_eq!(greeting[0], b'R', "AuthenticationOk comes first");
        break raw;
    };
    raw.write_all(b"\xff\x00\x00\x00\x04").unwrap();
    let mut rest = Vec::new();
    // The server closes the socket: read_to_end returns instead of timing out.
    raw.read_to_end(&mut rest)
        .expect("the server closes the connection");
    assert!(
        rest.contains(&b'Z'),
        "the greeting ended with ReadyForQuery"
    );
    let one: i32 = first.query_one("SELECT 1", &[]).await.unwrap().get(0);
    assert_eq!(one, 1);

    // The closed connection's slot frees up shortly; then the limit holds at two.
    let deadline = Instant::now() + Duration::from_secs(10);
    let _second = loop {
        match tokio_postgres::connect(&server.conninfo(), NoTls).await {
            Ok((client, conn)) => {
                tokio::spawn(conn);
                break client;
            }
            Err(e) if Instant::now() < deadline => {
                assert_eq!(e.code().map(|c| c.code()), Some("53300"), "{e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("second connection refused: {e}"),
        }
    };
    let Err(err) = tokio_postgres::connect(&server.conninfo(), NoTls).await else {
        panic!("a third connection is refused");
    };
    assert_eq!(err.code().map(|c| c.code()), Some("53300"), "{err}");
}

#[tokio::test]
async fn copy_from_stdin_in_text_and_csv() {
    use futures_util::SinkExt;

    let (tmp, server, client) = Server::fresh().await;
    client
        .batch_execute("CREATE TABLE notes (id int PRIMARY KEY, body text, score numeric(4,1))")
        .await
        .unwrap();

    // Extended protocol (tokio-postgres), text format, pgbench's options.
    let sink = client
        .copy_in("COPY notes FROM STDIN WITH (FREEZE ON)")
        .await
        .unwrap();
    let mut sink = Box::pin(sink);
    sink.send(bytes::Bytes::from_static(b"1\ttab\\there\t1.25\n2\t\\N\t"))
        .await
        .unwrap();
    sink.send(bytes::Bytes::from_static(b"\\N\n"))
        .await
        .unwrap();
    assert_eq!(sink.as_mut().finish().await.unwrap(), 2);

    // Simple protocol (psql), CSV with a header; a bad row rolls the whole COPY back.
    let csv = tmp.path().join("notes.csv");
    std::fs::write(&csv, "id,body,score\n3,\"a, \"\"quoted\"\" body\",\n4,,2\n").unwrap();
    let out = server.psql(&[
        "-c",
        &format!(
            "\\copy notes FROM '{}' WITH (FORMAT csv, HEADER)",
            csv.display()
        ),
    ]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "COPY 2\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(&csv, "5,ok,1\n6,bad,x\n").unwrap();
    let out = server.psql(&[
        "-c",
        &format!("\\copy notes FROM '{}' (FORMAT csv)", csv.display()),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("invalid input syntax for type numeric"),
        "{stderr}"
    );

    let rows = client
        .query("SELECT id, body, score::text FROM notes ORDER BY id", &[])
        .await
        .unwrap();
    let got: Vec<(i32, Option<String>, Option<String>)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        got,
        [
            (1, Some("tab\there".to_string()), Some("1.3".to_string())),
            (2, None, None),
            (3, Some("a, \"quoted\" body".to_string()), None),
            (4, None, Some("2.0".to_string())),
        ]
    );
}

#[tokio::test]
async fn copy_to_stdout_in_text_and_csv() {
    use futures_util::TryStreamExt;

    let (_tmp, server, client) = Server::fresh().await;
    client
        .batch_execute(
            "CREATE TABLE notes (id int PRIMARY KEY, body text, score numeric(4,1)); \
             INSERT INTO notes VALUES (1, E'tab\\there', 1.5), (2, NULL, NULL), \
             (3, 'say \"hi\", ok', -2)",
        )
        .await
        .unwrap();
    // tokio-postgres: text format of a whole table.
    let stream = client
        .copy_out("COPY notes TO STDOUT")
        .await
        .expect("COPY TO starts");
    let chunks: Vec<bytes::Bytes> = stream.try_collect().await.unwrap();
    let text: Vec<u8> = chunks.concat();
    assert_eq!(
        String::from_utf8(text).unwrap(),
        "1\ttab\\there\t1.5\n2\t\\N\t\\N\n3\tsay \"hi\", ok\t-2.0\n"
    );
    // psql: CSV with a header, from a query.
    let out = server.psql(&[
        "-c",
        "COPY (SELECT id, body FROM notes WHERE id > 1 ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "id,body\n2,\n3,\"say \"\"hi\"\", ok\"\n"
    );
    // Errors name the problem; the connection stays usable.
    let err = client
        .copy_out("COPY missing TO STDOUT")
        .await
        .err()
        .expect("a missing table fails");
    assert_eq!(err.code().map(|c| c.code()), Some("42P01"));
    let n: i64 = client
        .query_one("SELECT count(*) FROM notes", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancel_request_ends_a_wait_for_a_locked_row() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"), &[]);
    let holder = server.client().await;
    holder
        .batch_execute(
            "CREATE TABLE acct (id int PRIMARY KEY, bal int); INSERT INTO acct VALUES (1, 0); \
             BEGIN; UPDATE acct SET bal = bal + 1 WHERE id = 1",
        )
        .await
        .unwrap();
    let waiter = server.client().await;
    // An autocommit update, then one inside a transaction block, each waits for the row
    // and is cancelled.
    for sql in [
        "UPDATE acct SET bal = bal + 10 WHERE id = 1",
        "BEGIN; UPDATE acct SET bal = bal + 100 WHERE id = 1",
    ] {
        let cancel = waiter.cancel_token();
        let canceller = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            cancel
                .cancel_query(NoTls)
                .await
                .expect("cancel request sent");
        });
        let err = tokio::time::timeout(Duration::from_secs(10), waiter.batch_execute(sql))
            .await
            .unwrap_or_else(|_| panic!("{sql}: still waiting 10 s after the cancel request"))
            .expect_err("the wait is cancelled");
        canceller.await.unwrap();
        assert_eq!(err.code().map(|c| c.code()), Some("57014"), "{sql}: {err}");
    }
    waiter.batch_execute("ROLLBACK").await.unwrap();
    // The holder still has its row and commits; nothing of the cancelled updates remains.
    holder.batch_execute("COMMIT").await.unwrap();
    let bal: i32 = waiter
        .query_one("SELECT bal FROM acct WHERE id = 1", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(bal, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancel_request_stops_a_long_query() {
    let (_tmp, _server, client) = Server::fresh().await;
    let values: Vec<String> = (0..5000).map(|i| format!("({i})")).collect();
    client
        .batch_execute(&format!(
            "CREATE TABLE n (x int); INSERT INTO n VALUES {}",
            values.join(", ")
        ))
        .await
        .unwrap();
    let cancel = client.cancel_token();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        cancel
            .cancel_query(NoTls)
            .await
            .expect("cancel request sent");
    });
    let started = Instant::now();
    // 25 million combinations, none matching: minutes of work unless cancelled.
    let err = client
        .query_one("SELECT count(*) FROM n a, n b WHERE a.x + b.x = -1", &[])
        .await
        .expect_err("the query is cancelled");
    canceller.await.unwrap();
    assert_eq!(err.code().map(|c| c.code()), Some("57014"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "cancelled after {:?}",
        started.elapsed()
    );
    // The connection goes on, and the next statement is not cancelled.
    let n: i64 = client
        .query_one("SELECT count(*) FROM n", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 5000);
}

#[tokio::test]
async fn session_parameters_set_show_reset() {
    let (_tmp, _server, client) = Server::fresh().await;

    // Extended protocol (prepared SHOW) and simple protocol agree.
    assert_eq!(show(&client, "server_encoding").await, "UTF8");
    assert_eq!(show(&client, "DateStyle").await, "ISO, MDY");
    client
        .batch_execute("SET application_name = 'etl'; SET search_path TO app, public")
        .await
        .unwrap();
    assert_eq!(show(&client, "application_name").await, "etl");
    assert_eq!(show(&client, "search_path").await, "app, public");
    client
        .batch_execute("RESET application_name")
        .await
        .unwrap();
    assert_eq!(show(&client, "application_name").await, "");

    // SET LOCAL lasts until the block ends; a rolled-back block undoes SET too.
    client
        .batch_execute("BEGIN; SET LOCAL application_name = 'one-block'")
        .await
        .unwrap();
    assert_eq!(show(&client, "application_name").await, "one-block");
    client.batch_execute("COMMIT").await.unwrap();
    assert_eq!(show(&client, "application_name").await, "");
    client
        .batch_execute("BEGIN; SET application_name = 'undone'; ROLLBACK")
        .await
        .unwrap();
    assert_eq!(show(&client, "application_name").await, "");
    client
        .batch_execute("BEGIN; SET application_name = 'kept'; COMMIT")
        .await
        .unwrap();
    assert_eq!(show(&client, "application_name").await, "kept");

    let err = client
        .batch_execute("SET TimeZone = 'Europe/Paris'")
        .await
        .expect_err("UTC only");
    assert_eq!(err.code().map(|c| c.code()), Some("22023"));
    let err = client
        .query("SHOW no_such_setting", &[])
        .await
        .expect_err("unknown");
    assert_eq!(err.code().map(|c| c.code()), Some("42704"));
}

async fn show(client: &Client, name: &str) -> String {
    let row = client
        .query_one(&format!("SHOW {name}"), &[])
        .await
        .unwrap();
    row.get(0)
}

#[tokio::test]
async fn random_bytes_never_take_the_server_down() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"), &[]);
    // A fixed-seed generator: failures reproduce.
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let body = b"\x00\x03\x00\x00user\x00zqlite\x00\x00";
    for round in 0..60 {
        let mut raw = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        raw.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        if round % 2 == 0 {
            // After a valid startup: a typed message with a plausible header and random body.
            let mut startup = ((body.len() + 4) as i32).to_be_bytes().to_vec();
            startup.extend_from_slice(body);
            raw.write_all(&startup).unwrap();
            let types = b"QPBDEHSCXdcfp";
            let len = 4 + (next() % 40) as i32;
            let mut msg = vec![types[(next() % types.len() as u64) as usize]];
            msg.extend_from_slice(&len.to_be_bytes());
            msg.extend((4..len).map(|_| next() as u8));
            msg.extend((0..next() % 16).map(|_| next() as u8));
            let _ = raw.write_all(&msg);
        } else {
            // Before startup: random bytes.
            let garbage: Vec<u8> = (0..1 + next() % 64).map(|_| next() as u8).collect();
            let _ = raw.write_all(&garbage);
        }
        let _ = raw.shutdown(std::net::Shutdown::Write);
        let mut sink = Vec::new();
        // The server answers or closes; it must not hang on the half-closed socket.
        raw.read_to_end(&mut sink)
            .expect("the server closes the connection in time");
    }
    let client = server.client().await;
    let one: i32 = client.query_one("SELECT 1", &[]).await.unwrap().get(0);
    assert_eq!(one, 1);
}

/// A number from `/proc/PID/status` (`VmRSS` in KiB, `Threads`, ...).
fn proc_status(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("a {field} line"))
}

/// Opens a session with a raw socket and reads the greeting up to ReadyForQuery.
fn idle_session(port: u16) -> TcpStream {
    let body = b"\x00\x03\x00\x00user\x00zqlite\x00database\x00zqlite\x00\x00";
    let mut startup = ((body.len() + 4) as i32).to_be_bytes().to_vec();
    startup.extend_from_slice(body);
    let mut raw = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    raw.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    raw.write_all(&startup).unwrap();
    loop {
        let mut header = [0u8; 5];
        raw.read_exact(&mut header).expect("a greeting message");
        assert_ne!(header[0], b'E', "the session is refused");
        let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
        let mut body = vec![0u8; len - 4];
        raw.read_exact(&mut body).unwrap();
        if header[0] == b'Z' {
            return raw;
        }
    }
}

#[tokio::test]
async fn a_thousand_idle_connections_are_cheap_and_do_not_block_others() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"), &["--max-connections", "1100"]);
    let client = server.client().await;
    client
        .batch_execute("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'x')")
        .await
        .unwrap();
    let pid = server.child.id();
    let before = proc_status(pid, "VmRSS");
    let port = server.port;
    let idle = tokio::task::spawn_blocking(move || {
        (0..1000).map(|_| idle_session(port)).collect::<Vec<_>>()
    })
    .await
    .unwrap();
    let after = proc_status(pid, "VmRSS");
    let threads = proc_status(pid, "Threads");
    let per_connection = after.saturating_sub(before) as f64 / idle.len() as f64;
    println!(
        "resident memory: {before} KiB before, {after} KiB with 1000 idle sessions \
         ({per_connection:.1} KiB each), {threads} threads"
    );
    assert!(
        threads < 100,
        "{threads} threads: idle sessions must not hold one each"
    );
    // An idle session holds a socket, its buffers and a parked task, not a thread.
    assert!(
        per_connection < 128.0,
        "{per_connection:.1} KiB per idle connection"
    );
    // Everyone else is served as before, including new sessions.
    let v: String = client
        .query_one("SELECT v FROM t WHERE id = 1", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(v, "x");
    let fresh = server.client().await;
    let n: i64 = fresh
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    // The idle sessions are still usable.
    let mut first = idle.into_iter().next().unwrap();
    first.write_all(b"Q\x00\x00\x00\x0dSELECT 1\x00").unwrap();
    let mut tag = [0u8; 1];
    first.read_exact(&mut tag).unwrap();
    assert_eq!(tag[0], b'T', "RowDescription answers the query");
}

#[tokio::test]
async fn describing_a_prepared_query_does_not_run_it() {
    let (_tmp, _server, client) = Server::fresh().await;
    client
        .batch_execute("CREATE TABLE n (x int PRIMARY KEY); INSERT INTO n VALUES (1), (2)")
        .await
        .unwrap();
    // Running this fails on every row; preparing it only binds it, as in PostgreSQL.
    let stmt = client
        .prepare("SELECT 10 / (x - x) AS q, $1::int8 + x AS s, $2 AS t FROM n")
        .await
        .expect("prepare does not run the query");
    let types: Vec<&Type> = stmt.columns().iter().map(|c| c.type_()).collect();
    assert_eq!(types, [&Type::INT4, &Type::INT8, &Type::TEXT]);
    let names: Vec<&str> = stmt.columns().iter().map(|c| c.name()).collect();
    assert_eq!(names, ["q", "s", "t"]);
    assert_eq!(stmt.params(), [Type::INT8, Type::TEXT]);
    let err = client
        .query(&stmt, &[&1i64, &"a"])
        .await
        .expect_err("division by zero when it runs");
    assert_eq!(err.code().map(|c| c.code()), Some("22012"), "{err}");
    // An unknown column is still reported at prepare time.
    let err = client.prepare("SELECT nope FROM n").await.unwrap_err();
    assert_eq!(err.code().map(|c| c.code()), Some("42703"), "{err}");
}

#[tokio::test]
async fn describing_a_prepared_write_does_not_run_it() {
    let (_tmp, _server, client) = Server::fresh().await;
    client
        .batch_execute(
            "CREATE TABLE jobs (id serial PRIMARY KEY, name text NOT NULL UNIQUE); \
             INSERT INTO jobs (name) VALUES ('taken')",
        )
        .await
        .unwrap();
    // Running these with NULLs (or twice) would fail or consume the sequence; preparing
    // them only binds their RETURNING lists.
    let insert = client
        .prepare("INSERT INTO jobs (name) VALUES ($1) RETURNING id, upper(name) AS shout")
        .await
        .expect("prepare does not run the insert");
    let names: Vec<&str> = insert.columns().iter().map(|c| c.name()).collect();
    assert_eq!(names, ["id", "shout"]);
    let types: Vec<&Type> = insert.columns().iter().map(|c| c.type_()).collect();
    assert_eq!(types, [&Type::INT4, &Type::TEXT]);
    let update = client
        .prepare("UPDATE jobs SET name = $1 WHERE id = $2 RETURNING *")
        .await
        .expect("prepare does not run the update");
    assert_eq!(update.columns().len(), 2);
    let delete = client
        .prepare("DELETE FROM jobs WHERE name = $1 RETURNING id")
        .await
        .expect("prepare does not run the delete");
    assert_eq!(delete.columns()[0].name(), "id");
    let row = client.query_one(&insert, &[&"fresh"]).await.unwrap();
    assert_eq!(
        row.get::<_, i32>(0),
        2,
        "describing consumed no sequence value"
    );
    assert_eq!(row.get::<_, String>(1), "FRESH");
    let gone = client.query(&delete, &[&"taken"]).await.unwrap();
    assert_eq!(gone.len(), 1);
    let err = client
        .prepare("INSERT INTO jobs (name) VALUES ($1) RETURNING nope")
        .await
        .unwrap_err();
    assert_eq!(err.code().map(|c| c.code()), Some("42703"), "{err}");
}
