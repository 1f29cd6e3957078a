//! Catalog introspection against `zqlite serve`: psql's `\d` family prints what PostgreSQL 15
//! prints for the same schema (the expected text in `catalog/describe.expected` was printed
//! by psql 15 against PostgreSQL 15.18 initialised with superuser `zqlite`), pgbench's
//! partition probe, and driver reflection through `pg_catalog` and `information_schema`
//! with tokio-postgres and psycopg.

use std::path::Path;

use crate::server::Server;

fn catalog_file(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/e2e/catalog")
        .join(name)
}

fn run_psql(server: &Server, args: &[&str]) -> (bool, String, String) {
    let out = server.psql(args);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn psql_describe_commands_print_what_postgresql_prints() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"), &[]);
    let schema = catalog_file("schema.sql");
    let (ok, _, err) = run_psql(
        &server,
        &[
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-f",
            schema.to_str().unwrap(),
        ],
    );
    assert!(ok, "schema failed: {err}");
    let script = catalog_file("describe.psql");
    let (_, out, err) = run_psql(&server, &["-f", script.to_str().unwrap()]);
    // psql reports "Did not find any relations." on stderr for an empty list; with this
    // schema every command finds something, so stderr stays empty.
    assert_eq!(err, "", "psql wrote errors");
    let expected = std::fs::read_to_string(catalog_file("describe.expected")).unwrap();
    assert_eq!(out, expected);

    // A pattern psql turns into a regular expression, and a relation that does not exist.
    let (_, out, _) = run_psql(&server, &["-c", "\\dt b*"]);
    assert!(
        out.contains(" public | books | table | zqlite\n(1 row)"),
        "{out}"
    );
    let (_, _, err) = run_psql(&server, &["-c", "\\d nope"]);
    assert_eq!(err, "Did not find any relation named \"nope\".\n");

    // \l lists the one database with PostgreSQL's columns.
    let (ok, out, err) = run_psql(&server, &["-c", "\\l"]);
    assert!(ok, "{err}");
    assert!(
        out.contains(
            " Name  | Owner  | Encoding | Collate | Ctype | ICU Locale | Locale Provider | Access privileges"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            " zqlite | zqlite | UTF8     | C       | C     |            | libc            | "
        ),
        "{out}"
    );
}

#[tokio::test]
async fn pgbench_partition_probe_finds_its_table() {
    let (_tmp, _server, client) = Server::fresh().await;
    client
        .batch_execute("CREATE TABLE pgbench_accounts (aid int PRIMARY KEY, abalance int)")
        .await
        .unwrap();
    // pgbench 15's GetTableInfo, verbatim.
    let probe = "select o.n, p.partstrat, pg_catalog.count(i.inhparent) \
        from pg_catalog.pg_class as c \
        join pg_catalog.pg_namespace as n on (n.oid = c.relnamespace) \
        cross join lateral (select pg_catalog.array_position(pg_catalog.current_schemas(true), n.nspname)) as o(n) \
        left join pg_catalog.pg_partitioned_table as p on (p.partrelid = c.oid) \
        left join pg_catalog.pg_inherits as i on (c.oid = i.inhparent) \
        where c.relname = 'pgbench_accounts' and o.n is not null \
        group by 1, 2 \
        order by 1 asc \
        limit 1";
    let rows = client.simple_query(probe).await.unwrap();
    let rows: Vec<Vec<Option<String>>> = rows
        .iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => {
                Some((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect())
            }
            _ => None,
        })
        .collect();
    // PostgreSQL answers (2, NULL, 0): public is second on the search path, not partitioned.
    assert_eq!(
        rows,
        [vec![Some("2".to_string()), None, Some("0".to_string())]]
    );
}

#[tokio::test]
async fn tokio_postgres_reflects_columns_and_oids_survive_restarts() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let server = Server::start(&data, &[]);
    let client = server.client().await;
    client
        .batch_execute(
            "CREATE TABLE accounts (id bigint PRIMARY KEY, owner varchar(40) NOT NULL, \
             balance numeric(12,2) DEFAULT 0, opened date); \
             CREATE TABLE transfers (id bigint PRIMARY KEY, \
             account bigint REFERENCES accounts (id), amount numeric(12,2) CHECK (amount <> 0)); \
             CREATE INDEX transfers_account_idx ON transfers (account)",
        )
        .await
        .unwrap();
    let info = client
        .query(
            "SELECT column_name, data_type, udt_name, is_nullable, column_default, \
             character_maximum_length, numeric_precision, numeric_scale, datetime_precision \
             FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 \
             ORDER BY ordinal_position",
            &[&"accounts"],
        )
        .await
        .unwrap();
    let info: Vec<String> = info
        .iter()
        .map(|r| {
            let s = |i: usize| r.get::<_, Option<String>>(i).unwrap_or_else(|| "-".into());
            let n = |i: usize| {
                r.get::<_, Option<i32>>(i)
                    .map_or("-".into(), |v| v.to_string())
            };
            format!(
                "{} {} {} {} {} {} {} {} {}",
                s(0),
                s(1),
                s(2),
                s(3),
                s(4),
                n(5),
                n(6),
                n(7),
                n(8)
            )
        })
        .collect();
    // PostgreSQL 15's rows for the same table.
    assert_eq!(
        info,
        [
            "id bigint int8 NO - - 64 0 -",
            "owner character varying varchar NO - 40 - - -",
            "balance numeric numeric YES 0 - 12 2 -",
            "opened date date YES - - - - 0",
        ]
    );

    let attrs = client
        .query(
            "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull \
             FROM pg_catalog.pg_attribute a \
             WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY a.attnum",
            &[&"transfers"],
        )
        .await
        .unwrap();
    let attrs: Vec<(String, String, bool)> = attrs
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        attrs,
        [
            ("id".into(), "bigint".into(), true),
            ("account".into(), "bigint".into(), false),
            ("amount".into(), "numeric(12,2)".into(), false),
        ]
    );

    let oids_query = "SELECT c.conname, c.oid, c.conrelid, c.confrelid, \
        pg_catalog.pg_get_constraintdef(c.oid, true) \
        FROM pg_catalog.pg_constraint c \
        WHERE c.conrelid = 'transfers'::regclass ORDER BY c.conname";
    let before: Vec<(String, i64, i64, i64, String)> = client
        .query(oids_query, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect();
    let defs: Vec<&str> = before.iter().map(|r| r.4.as_str()).collect();
    assert_eq!(
        defs,
        [
            "FOREIGN KEY (account) REFERENCES accounts(id)",
            "CHECK (amount <> 0)",
            "PRIMARY KEY (id)",
        ]
    );
    let accounts: i64 = client
        .query_one("SELECT 'accounts'::regclass", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        before[0].3, accounts,
        "confrelid is the referenced table's oid"
    );
    let name: String = client
        .query_one(
            "SELECT conrelid::regclass::text FROM pg_constraint WHERE conname = 'transfers_pkey'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(name, "transfers");
    let err = client
        .query_one("SELECT 'nope'::regclass", &[])
        .await
        .expect_err("unknown relation");
    assert_eq!(err.code().map(|c| c.code()), Some("42P01"));

    drop(client);
    drop(server);
    let server = Server::start(&data, &[]);
    let client = server.client().await;
    let after: Vec<(String, i64, i64, i64, String)> = client
        .query(oids_query, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect();
    assert_eq!(before, after, "OIDs are the same after a restart");
}

#[tokio::test]
async fn regex_operators_match_like_postgresql() {
    let (_tmp, _server, client) = Server::fresh().await;
    let row = client
        .query_one(
            "SELECT 'abc' ~ '^a', 'ABC' ~* 'b', 'abc' !~ 'z', 'abc' !~* 'B', \
             'pg_toast' OPERATOR(pg_catalog.~) '^pg_' COLLATE pg_catalog.default, \
             'x' ~ NULL",
            &[],
        )
        .await
        .unwrap();
    let got: Vec<Option<bool>> = (0..6).map(|i| row.get(i)).collect();
    assert_eq!(
        got,
        [
            Some(true),
            Some(true),
            Some(true),
            Some(false),
            Some(true),
            None
        ]
    );
    let err = client
        .query_one("SELECT 'a' ~ '('", &[])
        .await
        .expect_err("invalid pattern");
    assert_eq!(err.code().map(|c| c.code()), Some("2201B"));
    let err = client
        .query_one("SELECT 1 ~ 'a'", &[])
        .await
        .expect_err("not a string");
    assert_eq!(err.code().map(|c| c.code()), Some("42883"));
}

#[test]
fn psycopg_reflects_a_schema_like_sqlalchemy() {
    crate::server::run_psycopg_script("psycopg_catalog.py");
}
