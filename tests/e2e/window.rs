//! Window functions through the real server over tokio-postgres: a window query runs in the
//! extended protocol, results come back with PostgreSQL's types, and errors carry SQLSTATE
//! and position. The expected rows are what PostgreSQL 15 returns for the same statements.

use tokio_postgres::types::Type;

use crate::server::Server;

/// id, row_number, rank, sum over the frame, lag, cume_dist.
type WindowRow = (i32, i64, i64, Option<i64>, Option<i32>, f64);

#[tokio::test]
async fn window_query_over_the_wire() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"), &[]);
    let client = server.client().await;
    client
        .batch_execute(
            "CREATE TABLE sales (id int PRIMARY KEY, region text, amount int); \
             INSERT INTO sales VALUES (1,'n',10),(2,'n',20),(3,'s',5),(4,'s',NULL),(5,'n',20);",
        )
        .await
        .unwrap();

    let stmt = client
        .prepare(
            "SELECT id, row_number() OVER w, \
             rank() OVER (PARTITION BY region ORDER BY amount DESC NULLS LAST), \
             sum(amount) OVER (w ROWS BETWEEN 1 PRECEDING AND CURRENT ROW EXCLUDE CURRENT ROW), \
             lag(amount, 1, -1) OVER w, cume_dist() OVER w \
             FROM sales WHERE id <= $1 WINDOW w AS (PARTITION BY region ORDER BY amount DESC NULLS LAST, id) \
             ORDER BY id",
        )
        .await
        .unwrap();
    assert_eq!(stmt.params(), [Type::INT4]);
    let types: Vec<Type> = stmt.columns().iter().map(|c| c.type_().clone()).collect();
    assert_eq!(
        types,
        [
            Type::INT4,
            Type::INT8,
            Type::INT8,
            Type::INT8,
            Type::INT4,
            Type::FLOAT8
        ]
    );
    let rows = client.query(&stmt, &[&5i32]).await.unwrap();
    let got: Vec<WindowRow> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
        .collect();
    assert_eq!(
        got,
        [
            (1, 3, 3, Some(20), Some(20), 1.0),
            (2, 1, 1, None, Some(-1), 1.0 / 3.0),
            (3, 1, 1, None, Some(-1), 0.5),
            (4, 2, 2, Some(5), Some(5), 1.0),
            (5, 2, 1, Some(20), Some(20), 2.0 / 3.0),
        ]
    );

    let err = client
        .query(
            "SELECT id, region, amount FROM sales WHERE rank() OVER () = 1",
            &[],
        )
        .await
        .expect_err("window function in WHERE");
    let db = err.as_db_error().expect("a server error");
    assert_eq!(db.code().code(), "42P20");
    assert_eq!(db.message(), "window functions are not allowed in WHERE");
    assert_eq!(
        db.position(),
        Some(&tokio_postgres::error::ErrorPosition::Original(44))
    );
}
