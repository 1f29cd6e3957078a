//! The audit relations end to end: several users (SCRAM logins), tenants and applications
//! write through tokio-postgres and the HTTP API; `zq_log`, `zq_changes`, `zq_history` and
//! `zq_security_events` must answer exactly what they did, with parameters kept apart
//! from statement texts, and a failed login must show up.

use serde_json::{Value as Json, json};
use tokio_postgres::{Client, NoTls};

use crate::http_client;
use crate::server::Server;

async fn connect(server_port: u16, user: &str, password: &str, extra: &str) -> Client {
    let conninfo = format!(
        "host=127.0.0.1 port={server_port} user={user} password={password} dbname=zqlite {extra}"
    );
    let (client, conn) = tokio_postgres::connect(&conninfo, NoTls)
        .await
        .unwrap_or_else(|e| panic!("{user} logs in: {e}"));
    tokio::spawn(conn);
    client
}

/// Rows of a query as JSON text per column (`null` for NULL), via a `to_jsonb` of each
/// column so every type compares as text.
async fn rows(client: &Client, sql: &str) -> Vec<Vec<Option<String>>> {
    client
        .simple_query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => {
                Some((0..r.len()).map(|i| r.get(i).map(String::from)).collect())
            }
            _ => None,
        })
        .collect()
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

fn parse(v: &Option<String>) -> Json {
    v.as_deref()
        .map_or(Json::Null, |t| serde_json::from_str(t).expect("jsonb text"))
}

#[tokio::test]
async fn the_audit_relations_answer_who_changed_what() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"), &[]);
    let port = server.port();

    // Set up while loopback is trusted; the connection stays open after roles exist.
    let admin = server.client().await;
    admin
        .batch_execute(
            "CREATE TABLE accounts (id int8 PRIMARY KEY, owner text, balance int8); \
             CREATE ROLE alice LOGIN PASSWORD 'alice-pw'; \
             CREATE ROLE bob LOGIN PASSWORD 'bob-pw'",
        )
        .await
        .unwrap();
    let setup_lsn: i64 = admin
        .query_one("SELECT max(lsn) FROM zq_log", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(setup_lsn, 3);

    // alice: tenant from the startup options, parameters through the extended protocol.
    let alice = connect(
        port,
        "alice",
        "alice-pw",
        "application_name=billing options='-c zq.tenant=acme'",
    )
    .await;
    let insert = "INSERT INTO accounts VALUES ($1, $2, $3)";
    alice
        .execute(insert, &[&1i64, &"owner-7731", &100i64])
        .await
        .unwrap();
    alice
        .execute(insert, &[&2i64, &"owner-8842", &200i64])
        .await
        .unwrap();
    alice
        .execute(
            "UPDATE accounts SET balance = $1 WHERE id = $2",
            &[&150i64, &1i64],
        )
        .await
        .unwrap();

    // bob: tenant set with SET, one transaction block of three statements.
    let bob = connect(port, "bob", "bob-pw", "application_name=reports").await;
    bob.batch_execute("SET zq.tenant = 'globex'").await.unwrap();
    let tenant: String = bob.query_one("SHOW zq.tenant", &[]).await.unwrap().get(0);
    assert_eq!(tenant, "globex");
    bob.batch_execute(
        "BEGIN; UPDATE accounts SET balance = balance - 10 WHERE id = 2; \
         DELETE FROM accounts WHERE id = 1; INSERT INTO accounts VALUES (3, 'bob', 5); COMMIT",
    )
    .await
    .unwrap();

    // A failed login.
    let conninfo = format!("host=127.0.0.1 port={port} user=bob password=wrong dbname=zqlite");
    let refused = tokio_postgres::connect(&conninfo, NoTls)
        .await
        .err()
        .expect("a wrong password is refused");
    assert_eq!(refused.code().map(|c| c.code()), Some("28P01"));

    // And a write through the HTTP API, with its own tenant and application.
    let response = http_client::request(
        server.http_port,
        "POST",
        "/v1/sql",
        &[("zq-tenant", "initech"), ("zq-application-name", "etl")],
        Some(
            json!({"sql": "UPDATE accounts SET owner = $1 WHERE id = 3", "params": ["bob-2"]})
                .to_string()
                .into_bytes(),
        ),
    );
    assert_eq!(response.status, 200, "{}", response.text());

    // zq_log: one row per transaction, who and how.
    let log = rows(
        &admin,
        &format!(
            "SELECT lsn, user_name, tenant, application_name, client_addr, \
             array_to_string(statements, ' | '), params::text, array_to_string(tables, ',') \
             FROM zq_log WHERE lsn > {setup_lsn} ORDER BY lsn"
        ),
    )
    .await;
    let who = |r: &Vec<Option<String>>| r[1..5].to_vec();
    assert_eq!(log.len(), 5, "{log:#?}");
    let alice_who = vec![s("alice"), s("acme"), s("billing"), s("127.0.0.1")];
    for r in &log[..3] {
        assert_eq!(who(r), alice_who);
        assert_eq!(r[7], s("accounts"));
    }
    assert_eq!(log[0][5], s(insert));
    assert_eq!(parse(&log[0][6]), json!([["1", "owner-7731", "100"]]));
    assert_eq!(parse(&log[1][6]), json!([["2", "owner-8842", "200"]]));
    assert_eq!(
        log[2][5],
        s("UPDATE accounts SET balance = $1 WHERE id = $2")
    );
    assert_eq!(parse(&log[2][6]), json!([["150", "1"]]));
    assert_eq!(
        who(&log[3]),
        vec![s("bob"), s("globex"), s("reports"), s("127.0.0.1")]
    );
    assert_eq!(
        log[3][5],
        s("UPDATE accounts SET balance = balance - 10 WHERE id = 2 | \
           DELETE FROM accounts WHERE id = 1 | INSERT INTO accounts VALUES (3, 'bob', 5)")
    );
    assert_eq!(log[3][6], None, "no parameters");
    assert_eq!(
        who(&log[4]),
        vec![s("http"), s("initech"), s("etl"), s("127.0.0.1")]
    );
    assert_eq!(parse(&log[4][6]), json!([["bob-2"]]));
    // Parameter values never appear inside statement texts.
    let texts = rows(
        &admin,
        "SELECT array_to_string(statements, ' ') FROM zq_log",
    )
    .await;
    for t in texts.iter().flatten().flatten() {
        for secret in ["owner-7731", "owner-8842", "bob-2", "alice-pw", "bob-pw"] {
            assert!(!t.contains(secret), "{t} contains {secret}");
        }
    }

    // zq_changes: exactly the row changes of the workload, with before and after images.
    let changes = rows(
        &admin,
        &format!(
            "SELECT lsn, user_name, table_name, op, key::text, before::text, after::text \
             FROM zq_changes WHERE table_name = 'accounts' AND lsn > {setup_lsn} ORDER BY lsn"
        ),
    )
    .await;
    let row =
        |id: i64, owner: &str, balance: i64| json!({"id": id, "owner": owner, "balance": balance});
    let expected = [
        ("alice", "insert", 1, Json::Null, row(1, "owner-7731", 100)),
        ("alice", "insert", 2, Json::Null, row(2, "owner-8842", 200)),
        (
            "alice",
            "update",
            1,
            row(1, "owner-7731", 100),
            row(1, "owner-7731", 150),
        ),
        (
            "bob",
            "update",
            2,
            row(2, "owner-8842", 200),
            row(2, "owner-8842", 190),
        ),
        ("bob", "delete", 1, row(1, "owner-7731", 150), Json::Null),
        ("bob", "insert", 3, Json::Null, row(3, "bob", 5)),
        ("http", "update", 3, row(3, "bob", 5), row(3, "bob-2", 5)),
    ];
    assert_eq!(changes.len(), expected.len(), "{changes:#?}");
    for (got, (user, op, id, before, after)) in changes.iter().zip(expected) {
        assert_eq!(got[1].as_deref(), Some(user), "{got:?}");
        assert_eq!(got[2], s("accounts"));
        assert_eq!(got[3].as_deref(), Some(op), "{got:?}");
        assert_eq!(parse(&got[4]), json!({ "id": id }));
        assert_eq!(parse(&got[5]), before, "{got:?}");
        assert_eq!(parse(&got[6]), after, "{got:?}");
    }
    // Schema and role changes show up with their kinds.
    let ddl = rows(
        &admin,
        "SELECT lsn, user_name, op, table_name, key::text FROM zq_changes \
         WHERE lsn <= 3 ORDER BY lsn",
    )
    .await;
    assert_eq!(
        ddl,
        [
            [s("1"), s("zqlite"), s("create_table"), s("accounts"), None],
            [
                s("2"),
                s("zqlite"),
                s("create_role"),
                None,
                s("{\"role\": \"alice\"}")
            ],
            [
                s("3"),
                s("zqlite"),
                s("create_role"),
                None,
                s("{\"role\": \"bob\"}")
            ],
        ]
    );

    // zq_history: every version of account 1, with who and when.
    let history = rows(
        &admin,
        "SELECT user_name, tenant, op, before::text, after::text, committed_at <= now() \
         FROM zq_history('accounts', '{\"id\": 1}') ORDER BY lsn",
    )
    .await;
    let expected = [
        (
            "alice",
            "acme",
            "insert",
            Json::Null,
            row(1, "owner-7731", 100),
        ),
        (
            "alice",
            "acme",
            "update",
            row(1, "owner-7731", 100),
            row(1, "owner-7731", 150),
        ),
        (
            "bob",
            "globex",
            "delete",
            row(1, "owner-7731", 150),
            Json::Null,
        ),
    ];
    assert_eq!(history.len(), expected.len(), "{history:#?}");
    for (got, (user, tenant, op, before, after)) in history.iter().zip(expected) {
        assert_eq!(got[..3], [s(user), s(tenant), s(op)]);
        assert_eq!(parse(&got[3]), before);
        assert_eq!(parse(&got[4]), after);
        assert_eq!(got[5], s("t"));
    }

    // Security events: the role changes and the failed login.
    let security = rows(
        &admin,
        "SELECT kind, user_name, role_name, client_addr, detail FROM zq_security_events \
         ORDER BY lsn",
    )
    .await;
    assert_eq!(security.len(), 3, "{security:#?}");
    assert_eq!(
        security[0][..3],
        [s("create_role"), s("zqlite"), s("alice")]
    );
    assert!(!security[0][4].as_deref().unwrap().contains("alice-pw"));
    assert_eq!(security[1][2], s("bob"));
    assert_eq!(
        security[2][..4],
        [s("login_failed"), s("bob"), s("bob"), s("127.0.0.1")]
    );
    assert!(
        security[2][4].as_deref().unwrap().starts_with("28P01"),
        "{security:?}"
    );

    // Time ranges read only that part of the log and agree with LSN ranges.
    let bob_lsn: i64 = 7;
    let at = rows(
        &admin,
        &format!(
            "SELECT count(*) FROM zq_log WHERE committed_at >= \
             (SELECT committed_at FROM zq_log WHERE lsn = {bob_lsn}) AND user_name = 'bob'"
        ),
    )
    .await;
    assert_eq!(at, [[s("1")]]);

    // The server saves the index when it stops; after a restart the first audit query
    // loads it and answers the same.
    drop(admin);
    assert!(server.terminate().success());
    let data = tmp.path().join("data");
    assert!(data.join("audit").join("index").exists());
    let server = Server::start(&data, &[]);
    let alice = connect(server.port(), "alice", "alice-pw", "").await;
    let history_sql = "SELECT user_name, tenant, op, before::text, after::text, \
                       committed_at <= now() \
                       FROM zq_history('accounts', '{\"id\": 1}') ORDER BY lsn";
    assert_eq!(rows(&alice, history_sql).await, history);
}
