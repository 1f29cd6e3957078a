//! Time travel over the wire: `SET zq.as_of` and `zq_as_of(table, point)` return the old
//! state to tokio-postgres, by time and by LSN, in both protocols, and writes fail with
//! 25006 while the session reads the past.

use std::time::Duration;

use tokio_postgres::Client;

use crate::server::Server;

async fn current_lsn(client: &Client) -> i64 {
    client
        .query_one("SELECT zq_current_lsn()", &[])
        .await
        .unwrap()
        .get(0)
}

/// The server's clock, as timestamptz text (commit times come from the same clock).
async fn server_now(client: &Client) -> String {
    client
        .query_one("SELECT now()::text", &[])
        .await
        .unwrap()
        .get(0)
}

async fn names(client: &Client, sql: &str) -> Vec<String> {
    client
        .query(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[tokio::test]
async fn as_of_by_time_and_lsn_returns_the_old_state_and_refuses_writes() {
    let (_tmp, _server, client) = Server::fresh().await;
    client
        .batch_execute(
            "CREATE TABLE items (id int PRIMARY KEY, name text); \
             INSERT INTO items VALUES (1, 'apple'), (2, 'pear')",
        )
        .await
        .unwrap();
    let old_lsn = current_lsn(&client).await;
    // Commit times are microseconds apart at worst: leave a gap on both sides of the time.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let old_time = server_now(&client).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    client
        .batch_execute(
            "UPDATE items SET name = 'plum' WHERE id = 2; \
             INSERT INTO items VALUES (3, 'fig'); \
             DELETE FROM items WHERE id = 1; \
             CREATE TABLE later (x int)",
        )
        .await
        .unwrap();
    assert!(current_lsn(&client).await > old_lsn);
    let live = names(&client, "SELECT name FROM items ORDER BY id").await;
    assert_eq!(live, ["plum", "fig"]);
    let old = ["apple", "pear"];

    // Per query, by LSN and by time, in the extended protocol (with a parameter) and the
    // simple one.
    assert_eq!(
        names(
            &client,
            &format!("SELECT name FROM zq_as_of('items', 'lsn:{old_lsn}') ORDER BY id")
        )
        .await,
        old
    );
    let rows = client
        .query(
            "SELECT i.name FROM zq_as_of('items', $1::text) AS i ORDER BY i.id",
            &[&old_time],
        )
        .await
        .unwrap();
    let by_time: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(by_time, old);
    let simple = client
        .simple_query(&format!(
            "SELECT name FROM zq_as_of('items', '{old_time}') ORDER BY id"
        ))
        .await
        .unwrap();
    let simple: Vec<String> = simple
        .iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
            _ => None,
        })
        .collect();
    assert_eq!(simple, old);

    // Per session, by time: every read sees the old state, SHOW says so, writes fail.
    client
        .batch_execute(&format!("SET zq.as_of = '{old_time}'"))
        .await
        .unwrap();
    let shown: String = client.query_one("SHOW zq.as_of", &[]).await.unwrap().get(0);
    assert!(shown.starts_with(&old_time[..19]), "{shown} vs {old_time}");
    assert_eq!(current_lsn(&client).await, old_lsn);
    assert_eq!(
        names(&client, "SELECT name FROM items ORDER BY id").await,
        old
    );
    let err = client
        .query("SELECT * FROM later", &[])
        .await
        .expect_err("the table did not exist yet");
    assert_eq!(err.code().map(|c| c.code()), Some("42P01"));
    for write in [
        "INSERT INTO items VALUES (9, 'kiwi')",
        "UPDATE items SET name = 'x'",
        "DELETE FROM items",
        "CREATE TABLE t2 (a int)",
    ] {
        let err = client.execute(write, &[]).await.expect_err(write);
        assert_eq!(err.code().map(|c| c.code()), Some("25006"), "{write}");
        let db = err.as_db_error().expect("a server error");
        assert!(db.message().contains("zq.as_of"), "{}", db.message());
        let err = client.batch_execute(write).await.expect_err(write);
        assert_eq!(err.code().map(|c| c.code()), Some("25006"), "{write}");
    }

    // By LSN, then back to live with RESET and with DEFAULT.
    client
        .batch_execute(&format!("SET zq.as_of TO 'lsn:{old_lsn}'"))
        .await
        .unwrap();
    let shown: String = client.query_one("SHOW zq.as_of", &[]).await.unwrap().get(0);
    assert_eq!(shown, format!("lsn:{old_lsn}"));
    assert_eq!(
        names(&client, "SELECT name FROM items ORDER BY id").await,
        old
    );
    client.batch_execute("RESET zq.as_of").await.unwrap();
    assert_eq!(
        names(&client, "SELECT name FROM items ORDER BY id").await,
        live
    );
    client
        .batch_execute(&format!(
            "SET zq.as_of = 'lsn:{old_lsn}'; SET zq.as_of = DEFAULT"
        ))
        .await
        .unwrap();
    client
        .execute("INSERT INTO items VALUES (4, 'date')", &[])
        .await
        .unwrap();
    // RESET ALL (answered by the server) resets it too.
    client
        .batch_execute(&format!("SET zq.as_of = 'lsn:{old_lsn}'; RESET ALL"))
        .await
        .unwrap();
    assert_eq!(
        names(&client, "SELECT name FROM items ORDER BY id")
            .await
            .len(),
        3
    );

    // Bad points are refused with 22023.
    for bad in ["lsn:99999999", "not a time", "2999-01-01 00:00:00+00"] {
        let err = client
            .batch_execute(&format!("SET zq.as_of = '{bad}'"))
            .await
            .expect_err(bad);
        assert_eq!(err.code().map(|c| c.code()), Some("22023"), "{bad}");
    }
}
