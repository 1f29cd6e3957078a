//! Sequences through the server: what `nextval` handed out survives `kill -9`.

use crate::server::Server;

/// Sequence values survive `kill -9`: none that a client received is handed out again,
/// whether `nextval` ran in a query, in a default or in a block that rolled back.
#[tokio::test]
async fn sequence_values_are_never_reused_after_kill_9() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut seen = Vec::new();
    {
        let server = Server::start(&data, &[]);
        let c = server.client().await;
        c.batch_execute(
            "CREATE SEQUENCE ticket_no; \
             CREATE TABLE tickets (id bigint PRIMARY KEY DEFAULT nextval('ticket_no'), s text)",
        )
        .await
        .unwrap();
        for _ in 0..3 {
            seen.push(
                c.query_one("SELECT nextval('ticket_no')", &[])
                    .await
                    .unwrap()
                    .get::<_, i64>(0),
            );
        }
        let row = c
            .query_one("INSERT INTO tickets (s) VALUES ('a') RETURNING id", &[])
            .await
            .unwrap();
        seen.push(row.get(0));
        c.batch_execute("BEGIN").await.unwrap();
        seen.push(
            c.query_one("SELECT nextval('ticket_no')", &[])
                .await
                .unwrap()
                .get(0),
        );
        c.batch_execute("ROLLBACK").await.unwrap();
        seen.push(
            c.query_one("SELECT setval('ticket_no', 10)", &[])
                .await
                .unwrap()
                .get(0),
        );
        drop(server); // SIGKILL
    }
    let server = Server::start(&data, &[]);
    let c = server.client().await;
    let next: i64 = c
        .query_one("SELECT nextval('ticket_no')", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(seen[..4], [1, 2, 3, 4]);
    assert_eq!(next, 11, "after setval(10): {seen:?}");
    let row = c
        .query_one("INSERT INTO tickets (s) VALUES ('b') RETURNING id", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 12);
}
