//! The query result cache through the server (`--query-cache-mib`): one client's answers
//! follow another client's commits exactly, and `zq_query_cache` reports the hits.

use crate::server::Server;

#[tokio::test]
async fn cached_answers_follow_other_clients_commits() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"), &["--query-cache-mib", "8"]);
    let reader = server.client().await;
    let writer = server.client().await;
    writer
        .batch_execute(
            "CREATE TABLE plans (id int PRIMARY KEY, price numeric NOT NULL); \
             INSERT INTO plans VALUES (1, 10), (2, 20)",
        )
        .await
        .unwrap();
    let total = reader
        .prepare("SELECT sum(price)::text FROM plans WHERE id >= $1")
        .await
        .unwrap();
    for round in 0..20i32 {
        for _ in 0..3 {
            let row = reader.query_one(&total, &[&1i32]).await.unwrap();
            let expected = (30 + round).to_string();
            assert_eq!(row.get::<_, String>(0), expected, "round {round}");
        }
        writer
            .execute("UPDATE plans SET price = price + 1 WHERE id = 1", &[])
            .await
            .unwrap();
    }
    let row = reader
        .query_one(
            "SELECT enabled, hits, misses, invalidations FROM zq_query_cache",
            &[],
        )
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0));
    let (hits, misses, invalidations): (i64, i64, i64) = (row.get(1), row.get(2), row.get(3));
    assert_eq!((hits, misses), (40, 20), "two hits after each miss");
    assert_eq!(invalidations, 19);
}
