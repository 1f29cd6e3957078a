//! Window functions, checked against PostgreSQL 15: every expected answer and error below
//! was produced by running the same statement on PostgreSQL 15 with the same data
//! (`psql -A -t -F'|' -P null=NULL`), so rows are written as `a|b|c` with NULL as `NULL`.

use zqlite_query::{Database, QueryResult, Session};

/// The tables every test reads (the same statements ran on PostgreSQL).
const SETUP: &str = "CREATE TABLE emp (id int PRIMARY KEY, dept text, name text, salary int, bonus numeric(6,2), hired date); \
     INSERT INTO emp VALUES (1,'eng','ann',100,10.50,'2020-01-01'), (2,'eng','bob',120,NULL,'2020-03-01'), (3,'eng','cid',120,5.25,'2021-01-01'), (4,'ops','dan',90,NULL,'2019-06-01'), (5,'ops','eve',NULL,2.00,'2022-01-01'), (6,'ops','fay',90,1.00,'2020-07-15'), (7,'hr','gus',70,NULL,'2018-01-01'), (8,NULL,'hal',80,3.00,'2023-01-01'); \
     CREATE TABLE dept (name text PRIMARY KEY, floor int); \
     INSERT INTO dept VALUES ('eng', 2), ('ops', 1), ('hr', 1); \
     CREATE TABLE nums (id int PRIMARY KEY, x int); \
     INSERT INTO nums VALUES (1,1),(2,2),(3,2),(4,3),(5,5),(6,5),(7,5),(8,8),(9,NULL),(10,NULL); \
     CREATE TABLE empty_t (a int);";

fn session() -> Session {
    let db = Database::open_in_memory().unwrap();
    let mut s = db.session();
    s.execute(SETUP, &[]).unwrap();
    s
}

/// The rows of `sql`, each as its values' text joined with `|` (NULL as `NULL`).
fn lines(s: &mut Session, sql: &str) -> Vec<String> {
    let results = s.execute(sql, &[]).unwrap_or_else(|e| panic!("{sql}: {e}"));
    match results.last() {
        Some(QueryResult::Rows { rows, .. }) => rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect(),
        other => panic!("{sql}: expected rows, got {other:?}"),
    }
}

fn check(cases: &[(&str, &[&str])]) {
    let mut s = session();
    for (sql, want) in cases {
        assert_eq!(lines(&mut s, sql), *want, "{sql}");
    }
}
#[test]
fn ranking_functions_with_ties_nulls_and_one_row_partitions() {
    check(&[
        (
            "SELECT dept, id, row_number() OVER (PARTITION BY dept ORDER BY salary DESC, id), rank() OVER w, dense_rank() OVER w, percent_rank() OVER w, cume_dist() OVER w FROM emp WINDOW w AS (PARTITION BY dept ORDER BY salary DESC) ORDER BY dept, id",
            &[
                "eng|1|3|3|2|1|1",
                "eng|2|1|1|1|0|0.6666666666666666",
                "eng|3|2|1|1|0|0.6666666666666666",
                "hr|7|1|1|1|0|1",
                "ops|4|2|2|2|0.5|1",
                "ops|5|1|1|1|0|0.3333333333333333",
                "ops|6|3|2|2|0.5|1",
                "NULL|8|1|1|1|0|1",
            ],
        ),
        (
            "SELECT id, rank() OVER (), dense_rank() OVER (), percent_rank() OVER (), cume_dist() OVER (), row_number() OVER (ORDER BY id) FROM emp ORDER BY id",
            &[
                "1|1|1|0|1|1",
                "2|1|1|0|1|2",
                "3|1|1|0|1|3",
                "4|1|1|0|1|4",
                "5|1|1|0|1|5",
                "6|1|1|0|1|6",
                "7|1|1|0|1|7",
                "8|1|1|0|1|8",
            ],
        ),
        (
            "SELECT id, ntile(3) OVER (ORDER BY id), ntile(5) OVER (ORDER BY id), ntile(10) OVER (ORDER BY id), ntile(2) OVER (PARTITION BY dept ORDER BY id) FROM emp ORDER BY id",
            &[
                "1|1|1|1|1",
                "2|1|1|2|1",
                "3|1|2|3|2",
                "4|2|2|4|1",
                "5|2|3|5|1",
                "6|2|3|6|2",
                "7|3|4|7|1",
                "8|3|5|8|1",
            ],
        ),
    ]);
}

#[test]
fn lag_and_lead_with_offsets_and_defaults() {
    check(&[
        (
            "SELECT id, lag(salary) OVER (ORDER BY id), lead(salary, 2) OVER (ORDER BY id), lag(name, 1, 'none') OVER (PARTITION BY dept ORDER BY id), lead(salary, 1, -1) OVER (PARTITION BY dept ORDER BY id), lag(salary, -1) OVER (ORDER BY id), lead(bonus, 1, 0) OVER (ORDER BY id), lag(id, 0) OVER (ORDER BY id) FROM emp ORDER BY id",
            &[
                "1|NULL|120|none|120|120|NULL|1",
                "2|100|90|ann|120|120|5.25|2",
                "3|120|NULL|bob|-1|90|NULL|3",
                "4|120|90|none|NULL|NULL|2.00|4",
                "5|90|70|dan|90|90|1.00|5",
                "6|NULL|80|eve|-1|70|NULL|6",
                "7|90|NULL|none|-1|80|3.00|7",
                "8|70|NULL|none|-1|NULL|0|8",
            ],
        ),
        (
            "SELECT id, lag(id, 1) OVER (ORDER BY id) + lead(id) OVER (ORDER BY id) AS s, 10 * row_number() OVER (ORDER BY id DESC) AS r FROM emp ORDER BY id",
            &[
                "1|NULL|80",
                "2|4|70",
                "3|6|60",
                "4|8|50",
                "5|10|40",
                "6|12|30",
                "7|14|20",
                "8|NULL|10",
            ],
        ),
    ]);
}

#[test]
fn first_last_and_nth_value_over_frames() {
    check(&[
        (
            "SELECT id, first_value(name) OVER w, last_value(name) OVER w, nth_value(name, 2) OVER w, last_value(name) OVER (PARTITION BY dept ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING), nth_value(salary, 3) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) FROM emp WINDOW w AS (PARTITION BY dept ORDER BY id) ORDER BY id",
            &[
                "1|ann|ann|NULL|cid|NULL",
                "2|ann|bob|bob|cid|120",
                "3|ann|cid|bob|cid|90",
                "4|dan|dan|NULL|fay|NULL",
                "5|dan|eve|eve|fay|90",
                "6|dan|fay|eve|fay|70",
                "7|gus|gus|NULL|gus|80",
                "8|hal|hal|NULL|hal|NULL",
            ],
        ),
        (
            "SELECT id, x, first_value(id) OVER (ORDER BY x, id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE CURRENT ROW), last_value(id) OVER (ORDER BY x, id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE CURRENT ROW), nth_value(id, 2) OVER (ORDER BY x, id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING EXCLUDE CURRENT ROW) FROM nums ORDER BY id",
            &[
                "1|1|2|2|3",
                "2|2|1|3|3",
                "3|2|2|4|2",
                "4|3|3|5|2",
                "5|5|4|6|2",
                "6|5|5|7|2",
                "7|5|6|8|2",
                "8|8|7|9|2",
                "9|NULL|8|10|2",
                "10|NULL|9|9|2",
            ],
        ),
    ]);
}

#[test]
fn aggregates_over_partitions_and_the_default_frame_with_peers() {
    check(&[
        (
            "SELECT id, count(*) OVER (PARTITION BY dept), count(salary) OVER (PARTITION BY dept), sum(salary) OVER (PARTITION BY dept), avg(salary) OVER (PARTITION BY dept), min(salary) OVER (PARTITION BY dept), max(bonus) OVER (PARTITION BY dept) FROM emp ORDER BY id",
            &[
                "1|3|3|340|113.3333333333333333|100|10.50",
                "2|3|3|340|113.3333333333333333|100|10.50",
                "3|3|3|340|113.3333333333333333|100|10.50",
                "4|3|2|180|90.0000000000000000|90|2.00",
                "5|3|2|180|90.0000000000000000|90|2.00",
                "6|3|2|180|90.0000000000000000|90|2.00",
                "7|1|1|70|70.0000000000000000|70|NULL",
                "8|1|1|80|80.0000000000000000|80|3.00",
            ],
        ),
        (
            "SELECT id, salary, sum(salary) OVER (ORDER BY salary), count(*) OVER (ORDER BY salary), avg(bonus) OVER (ORDER BY salary DESC) FROM emp ORDER BY id",
            &[
                "1|100|430|5|5.9166666666666667",
                "2|120|670|7|3.6250000000000000",
                "3|120|670|7|3.6250000000000000",
                "4|90|330|4|4.6875000000000000",
                "5|NULL|670|8|2.0000000000000000",
                "6|90|330|4|4.6875000000000000",
                "7|70|70|1|4.3500000000000000",
                "8|80|150|2|4.3500000000000000",
            ],
        ),
        (
            "SELECT id, string_agg(name, ',') OVER (ORDER BY id), array_agg(salary) OVER (PARTITION BY dept ORDER BY id), bool_and(salary > 85) OVER (ORDER BY id), bool_or(salary > 110) OVER (ORDER BY id), count(*) FILTER (WHERE salary > 85) OVER (ORDER BY id) FROM emp ORDER BY id",
            &[
                "1|ann|{100}|t|f|1",
                "2|ann,bob|{100,120}|t|t|2",
                "3|ann,bob,cid|{100,120,120}|t|t|3",
                "4|ann,bob,cid,dan|{90}|t|t|4",
                "5|ann,bob,cid,dan,eve|{90,NULL}|t|t|4",
                "6|ann,bob,cid,dan,eve,fay|{90,NULL,90}|t|t|5",
                "7|ann,bob,cid,dan,eve,fay,gus|{70}|f|t|5",
                "8|ann,bob,cid,dan,eve,fay,gus,hal|{80}|f|t|5",
            ],
        ),
        (
            "SELECT x, count(*) OVER (PARTITION BY x) FROM nums ORDER BY x NULLS FIRST, 2",
            &[
                "NULL|2", "NULL|2", "1|1", "2|2", "2|2", "3|1", "5|3", "5|3", "5|3", "8|1",
            ],
        ),
    ]);
}

#[test]
fn rows_range_and_groups_frames_with_offsets() {
    check(&[
        (
            "SELECT x, sum(x) OVER (ORDER BY x ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) AS s, count(x) OVER (ORDER BY x ROWS BETWEEN CURRENT ROW AND 2 FOLLOWING) AS c, sum(x) OVER (ORDER BY x ROWS BETWEEN 2 PRECEDING AND 1 PRECEDING) AS p FROM nums ORDER BY 1, 2, 3, 4",
            &[
                "1|3|3|NULL",
                "2|5|3|1",
                "2|7|3|3",
                "3|10|3|4",
                "5|13|3|5",
                "5|15|3|8",
                "5|18|2|10",
                "8|13|1|10",
                "NULL|8|0|13",
                "NULL|NULL|0|8",
            ],
        ),
        (
            "SELECT id, x, sum(x) OVER (ORDER BY x RANGE BETWEEN 1 PRECEDING AND 1 FOLLOWING), count(*) OVER (ORDER BY x RANGE BETWEEN 2 PRECEDING AND CURRENT ROW), count(*) OVER (ORDER BY x DESC RANGE BETWEEN 2 PRECEDING AND CURRENT ROW), count(*) OVER (ORDER BY x NULLS FIRST RANGE BETWEEN 1 PRECEDING AND 1 FOLLOWING), count(*) OVER (ORDER BY x RANGE BETWEEN 1 FOLLOWING AND 3 FOLLOWING) FROM nums ORDER BY id",
            &[
                "1|1|5|1|4|3|3",
                "2|2|8|3|3|4|4",
                "3|2|8|3|3|4|4",
                "4|3|7|4|4|3|3",
                "5|5|15|4|3|3|1",
                "6|5|15|4|3|3|1",
                "7|5|15|4|3|3|1",
                "8|8|8|1|1|1|0",
                "9|NULL|NULL|2|2|2|2",
                "10|NULL|NULL|2|2|2|2",
            ],
        ),
        (
            "SELECT id, x, sum(x) OVER (ORDER BY x GROUPS BETWEEN 1 PRECEDING AND 1 FOLLOWING), count(*) OVER (ORDER BY x GROUPS BETWEEN CURRENT ROW AND 1 FOLLOWING), sum(x) OVER (ORDER BY x RANGE BETWEEN CURRENT ROW AND CURRENT ROW), sum(x) OVER (ORDER BY x RANGE BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING), count(*) OVER (ORDER BY x GROUPS 2 PRECEDING) FROM nums ORDER BY id",
            &[
                "1|1|5|3|1|31|1",
                "2|2|8|3|4|31|3",
                "3|2|8|3|4|31|3",
                "4|3|22|4|3|31|4",
                "5|5|26|4|15|31|6",
                "6|5|26|4|15|31|6",
                "7|5|26|4|15|31|6",
                "8|8|23|3|8|31|5",
                "9|NULL|8|2|NULL|31|6",
                "10|NULL|8|2|NULL|31|6",
            ],
        ),
        (
            "SELECT id, hired, count(*) OVER (ORDER BY hired RANGE BETWEEN '1 year' PRECEDING AND CURRENT ROW), sum(bonus) OVER (ORDER BY bonus RANGE BETWEEN 1.5 PRECEDING AND 1.5 FOLLOWING) FROM emp ORDER BY id",
            &[
                "1|2020-01-01|2|10.50",
                "2|2020-03-01|3|NULL",
                "3|2021-01-01|4|5.25",
                "4|2019-06-01|1|NULL",
                "5|2022-01-01|2|6.00",
                "6|2020-07-15|3|3.00",
                "7|2018-01-01|1|NULL",
                "8|2023-01-01|2|5.00",
            ],
        ),
        (
            "SELECT id, x, sum(x) OVER (ORDER BY x ROWS BETWEEN 2147483647 PRECEDING AND 2147483647 FOLLOWING), sum(x) OVER (ORDER BY x RANGE BETWEEN 2147483647 PRECEDING AND 10 FOLLOWING) FROM nums ORDER BY id",
            &[
                "1|1|31|31",
                "2|2|31|31",
                "3|2|31|31",
                "4|3|31|31",
                "5|5|31|31",
                "6|5|31|31",
                "7|5|31|31",
                "8|8|31|31",
                "9|NULL|31|NULL",
                "10|NULL|31|NULL",
            ],
        ),
        (
            "SELECT id, avg(x) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW), sum(x::float8) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) FROM nums ORDER BY id",
            &[
                "1|1.00000000000000000000|3",
                "2|1.5000000000000000|5",
                "3|1.6666666666666667|7",
                "4|2.3333333333333333|10",
                "5|3.3333333333333333|13",
                "6|4.3333333333333333|15",
                "7|5.0000000000000000|18",
                "8|6.0000000000000000|13",
                "9|6.5000000000000000|8",
                "10|8.0000000000000000|NULL",
            ],
        ),
    ]);
}

#[test]
fn frame_exclusions() {
    check(&[
        (
            "SELECT id, x, sum(x) OVER (ORDER BY x ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE CURRENT ROW), sum(x) OVER (ORDER BY x ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE NO OTHERS), sum(x) OVER (ORDER BY x RANGE BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE GROUP), sum(x) OVER (ORDER BY x GROUPS BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE TIES), count(*) OVER (ORDER BY x RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW EXCLUDE TIES) FROM nums WHERE x IS NOT NULL ORDER BY id",
            &[
                "1|1|2|3|4|5|1",
                "2|2|3|5|4|6|2",
                "3|2|5|7|4|6|2",
                "4|3|7|10|4|22|4",
                "5|5|8|13|NULL|16|5",
                "6|5|10|15|NULL|16|5",
                "7|5|13|18|NULL|16|5",
                "8|8|5|13|NULL|23|8",
            ],
        ),
        (
            "SELECT id, sum(id) OVER w FROM emp WINDOW w AS (ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW EXCLUDE CURRENT ROW) ORDER BY id",
            &["1|NULL", "2|1", "3|2", "4|3", "5|4", "6|5", "7|6", "8|7"],
        ),
    ]);
}

#[test]
fn named_windows() {
    check(&[(
        "SELECT id, sum(salary) OVER w2, count(*) OVER (w ORDER BY id), rank() OVER w2, min(id) OVER w FROM emp WINDOW w AS (PARTITION BY dept), w2 AS (w ORDER BY salary) ORDER BY id",
        &[
            "1|100|1|1|1",
            "2|340|2|2|1",
            "3|340|3|2|1",
            "4|180|1|1|4",
            "5|180|2|3|4",
            "6|180|3|1|4",
            "7|70|1|1|7",
            "8|80|1|1|8",
        ],
    )]);
}

#[test]
fn windows_over_joins_groups_and_subqueries() {
    check(&[
        (
            "SELECT e.name, d.floor, rank() OVER (PARTITION BY d.floor ORDER BY e.salary), sum(e.salary) OVER (PARTITION BY d.floor) FROM emp e JOIN dept d ON e.dept = d.name ORDER BY e.name",
            &[
                "ann|2|1|340",
                "bob|2|2|340",
                "cid|2|2|340",
                "dan|1|2|250",
                "eve|1|4|250",
                "fay|1|2|250",
                "gus|1|1|250",
            ],
        ),
        (
            "SELECT dept, sum(salary), count(*), rank() OVER (ORDER BY sum(salary) DESC NULLS LAST), sum(sum(salary)) OVER (), sum(count(*)) OVER (ORDER BY dept) FROM emp GROUP BY dept ORDER BY dept",
            &[
                "eng|340|3|1|670|3",
                "hr|70|1|4|670|4",
                "ops|180|3|2|670|7",
                "NULL|80|1|3|670|8",
            ],
        ),
        (
            "SELECT dept, max(salary), lag(max(salary)) OVER (ORDER BY dept) FROM emp GROUP BY dept HAVING count(*) > 1 ORDER BY dept",
            &["eng|120|NULL", "ops|90|120"],
        ),
        (
            "SELECT DISTINCT dept, count(*) OVER (PARTITION BY dept) FROM emp ORDER BY 1",
            &["eng|3", "hr|1", "ops|3", "NULL|1"],
        ),
        (
            "SELECT id, rn FROM (SELECT id, row_number() OVER (PARTITION BY dept ORDER BY salary DESC NULLS LAST, id) AS rn FROM emp) s WHERE rn = 1 ORDER BY id",
            &["2|1", "4|1", "7|1", "8|1"],
        ),
        (
            "SELECT id, row_number() OVER (ORDER BY id) FROM emp WHERE id = 3",
            &["3|1"],
        ),
    ]);
}

#[test]
fn window_functions_in_order_by() {
    check(&[(
        "SELECT name FROM emp ORDER BY row_number() OVER (ORDER BY salary DESC NULLS LAST, id) DESC LIMIT 3",
        &["eve", "gus", "hal"],
    )]);
}

#[test]
fn empty_input() {
    check(&[
        (
            "SELECT row_number() OVER (), sum(a) OVER (), lag(a) OVER () FROM empty_t",
            &[],
        ),
        (
            "SELECT count(*) OVER (), rank() OVER (ORDER BY id) FROM emp WHERE false",
            &[],
        ),
    ]);
}

#[test]
fn errors_match_postgresql() {
    let mut s = session();
    let cases: &[(&str, &str, &str)] = &[
        (
            "SELECT id FROM emp WHERE row_number() OVER () > 1",
            "42P20",
            "window functions are not allowed in WHERE",
        ),
        (
            "SELECT dept FROM emp GROUP BY dept HAVING rank() OVER () > 1",
            "42P20",
            "window functions are not allowed in HAVING",
        ),
        (
            "SELECT dept FROM emp GROUP BY row_number() OVER ()",
            "42P20",
            "window functions are not allowed in GROUP BY",
        ),
        (
            "SELECT * FROM emp e JOIN dept d ON row_number() OVER () = 1",
            "42P20",
            "window functions are not allowed in JOIN conditions",
        ),
        (
            "SELECT row_number() FROM emp",
            "42809",
            "window function row_number requires an OVER clause",
        ),
        (
            "SELECT lag(id) FROM emp",
            "42809",
            "window function lag requires an OVER clause",
        ),
        (
            "SELECT abs(id) OVER () FROM emp",
            "42809",
            "OVER specified, but abs is not a window function nor an aggregate function",
        ),
        (
            "SELECT ntile(0) OVER () FROM emp",
            "22014",
            "argument of ntile must be greater than zero",
        ),
        (
            "SELECT ntile(-1) OVER (ORDER BY id) FROM emp",
            "22014",
            "argument of ntile must be greater than zero",
        ),
        (
            "SELECT nth_value(id, 0) OVER () FROM emp",
            "22016",
            "argument of nth_value must be greater than zero",
        ),
        (
            "SELECT sum(row_number() OVER ()) FROM emp",
            "42803",
            "aggregate function calls cannot contain window function calls",
        ),
        (
            "SELECT sum(sum(id) OVER ()) OVER () FROM emp",
            "42P20",
            "window function calls cannot be nested",
        ),
        (
            "SELECT sum(id) OVER (PARTITION BY rank() OVER ()) FROM emp",
            "42P20",
            "window functions are not allowed in window definitions",
        ),
        (
            "SELECT sum(id) OVER (ORDER BY id, salary RANGE BETWEEN 1 PRECEDING AND CURRENT ROW) FROM emp",
            "42P20",
            "RANGE with offset PRECEDING/FOLLOWING requires exactly one ORDER BY column",
        ),
        (
            "SELECT sum(id) OVER (RANGE BETWEEN 1 PRECEDING AND CURRENT ROW) FROM emp",
            "42P20",
            "RANGE with offset PRECEDING/FOLLOWING requires exactly one ORDER BY column",
        ),
        (
            "SELECT sum(id) OVER (GROUPS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM emp",
            "42P20",
            "GROUPS mode requires an ORDER BY clause",
        ),
        (
            "SELECT sum(id) OVER (ROWS BETWEEN -1 PRECEDING AND CURRENT ROW) FROM emp",
            "22013",
            "frame starting offset must not be negative",
        ),
        (
            "SELECT sum(id) OVER (ROWS BETWEEN CURRENT ROW AND -1 FOLLOWING) FROM emp",
            "22013",
            "frame ending offset must not be negative",
        ),
        (
            "SELECT sum(id) OVER (ORDER BY id RANGE BETWEEN -1 PRECEDING AND CURRENT ROW) FROM emp",
            "22013",
            "invalid preceding or following size in window function",
        ),
        (
            "SELECT sum(id) OVER (ROWS BETWEEN NULL PRECEDING AND CURRENT ROW) FROM emp",
            "22004",
            "frame starting offset must not be null",
        ),
        (
            "SELECT sum(id) OVER (ROWS BETWEEN id PRECEDING AND CURRENT ROW) FROM emp",
            "42P10",
            "argument of ROWS must not contain variables",
        ),
        (
            "SELECT sum(id) OVER (ROWS BETWEEN UNBOUNDED FOLLOWING AND CURRENT ROW) FROM emp",
            "42P20",
            "frame start cannot be UNBOUNDED FOLLOWING",
        ),
        (
            "SELECT sum(id) OVER (ROWS BETWEEN CURRENT ROW AND UNBOUNDED PRECEDING) FROM emp",
            "42P20",
            "frame end cannot be UNBOUNDED PRECEDING",
        ),
        (
            "SELECT sum(id) OVER (ROWS BETWEEN CURRENT ROW AND 1 PRECEDING) FROM emp",
            "42P20",
            "frame starting from current row cannot have preceding rows",
        ),
        (
            "SELECT sum(id) OVER (ROWS BETWEEN 1 FOLLOWING AND CURRENT ROW) FROM emp",
            "42P20",
            "frame starting from following row cannot have preceding rows",
        ),
        (
            "SELECT sum(id) OVER (ROWS 1 FOLLOWING) FROM emp",
            "42P20",
            "frame starting from following row cannot end with current row",
        ),
        (
            "SELECT sum(DISTINCT id) OVER () FROM emp",
            "0A000",
            "DISTINCT is not implemented for window functions",
        ),
        (
            "SELECT sum(id ORDER BY id) OVER () FROM emp",
            "0A000",
            "aggregate ORDER BY is not implemented for window functions",
        ),
        (
            "SELECT row_number() FILTER (WHERE id > 1) OVER () FROM emp",
            "0A000",
            "FILTER is not implemented for non-aggregate window functions",
        ),
        (
            "SELECT sum(id) OVER w FROM emp WINDOW w AS (PARTITION BY dept), w AS (ORDER BY id)",
            "42P20",
            "window \"w\" is already defined",
        ),
        (
            "SELECT sum(id) OVER x FROM emp",
            "42704",
            "window \"x\" does not exist",
        ),
        (
            "SELECT sum(id) OVER (w PARTITION BY salary) FROM emp WINDOW w AS (PARTITION BY dept)",
            "42P20",
            "cannot override PARTITION BY clause of window \"w\"",
        ),
        (
            "SELECT sum(id) OVER (w ORDER BY salary) FROM emp WINDOW w AS (ORDER BY id)",
            "42P20",
            "cannot override ORDER BY clause of window \"w\"",
        ),
        (
            "SELECT sum(id) OVER (w ORDER BY salary) FROM emp WINDOW w AS (ROWS UNBOUNDED PRECEDING)",
            "42P20",
            "cannot copy window \"w\" because it has a frame clause",
        ),
        (
            "VALUES (row_number() OVER ())",
            "42P20",
            "window functions are not allowed in VALUES",
        ),
        (
            "SELECT salary, rank() OVER (ORDER BY id) FROM emp GROUP BY dept",
            "42803",
            "column \"emp.salary\" must appear in the GROUP BY clause or be used in an aggregate function",
        ),
        (
            "SELECT sum(name) OVER () FROM emp",
            "42883",
            "function sum(text) does not exist",
        ),
        (
            "SELECT sum(id) OVER (ORDER BY name RANGE BETWEEN 1 PRECEDING AND CURRENT ROW) FROM emp",
            "0A000",
            "RANGE with offset PRECEDING/FOLLOWING is not supported for column type text",
        ),
        (
            "SELECT sum(id) OVER (ORDER BY hired RANGE BETWEEN 1 PRECEDING AND CURRENT ROW) FROM emp",
            "0A000",
            "not supported for column type date and offset type integer",
        ),
        (
            "SELECT lag(id, 1, 'x') OVER (ORDER BY id) FROM emp",
            "22P02",
            "invalid input syntax for type integer: \"x\"",
        ),
        (
            "UPDATE emp SET salary = row_number() OVER ()",
            "42P20",
            "window functions are not allowed in UPDATE",
        ),
    ];
    for (sql, sqlstate, message) in cases {
        let err = s.execute(sql, &[]).expect_err(sql);
        assert_eq!(err.sqlstate(), *sqlstate, "{sql}: {err}");
        assert!(err.to_string().contains(message), "{sql}: {err}");
    }
    // Frame offsets are checked even without rows, as in PostgreSQL.
    let sql =
        "SELECT sum(id) OVER (ROWS BETWEEN -1 PRECEDING AND CURRENT ROW) FROM emp WHERE false";
    assert_eq!(s.execute(sql, &[]).expect_err(sql).sqlstate(), "22013");
    let sql = "SELECT sum(id) OVER (ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) FROM emp WHERE false";
    assert!(lines(&mut s, sql).is_empty());
}

/// The default frame and whole-partition frames are computed incrementally: on a 100k-row
/// partition a quadratic evaluation (5·10⁹ additions) would not finish in this test's time.
#[test]
fn default_frame_is_linear_on_a_large_partition() {
    let mut s = session();
    let start = std::time::Instant::now();
    let sql = "SELECT max(s), max(c), min(m), count(*) FROM (\
               SELECT sum(g::bigint) OVER (ORDER BY g) AS s, \
               count(*) OVER (ORDER BY g / 10) AS c, \
               max(g) OVER (ORDER BY g RANGE BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS m \
               FROM generate_series(1, 100000) AS t(g)) AS w";
    assert_eq!(lines(&mut s, sql), ["5000050000|100000|100000|100000"]);
    let elapsed = start.elapsed();
    println!("100k-row partition, three windows: {elapsed:?}");
    assert!(elapsed.as_secs() < 60, "{elapsed:?}");
}

#[test]
fn views_keep_their_window_functions() {
    let mut s = session();
    s.execute(
        "CREATE VIEW v AS SELECT id, sum(id) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS s, \
         rank() OVER w AS r FROM emp WINDOW w AS (ORDER BY dept)",
        &[],
    )
    .unwrap();
    assert_eq!(
        lines(&mut s, "SELECT id, s, r FROM v ORDER BY id"),
        [
            "1|1|1", "2|3|1", "3|5|1", "4|7|5", "5|9|5", "6|11|5", "7|13|4", "8|15|8"
        ]
    );
    let err = s
        .execute(
            "CREATE VIEW x AS SELECT sum(id) OVER (ORDER BY id ROWS 1 PRECEDING EXCLUDE TIES) FROM emp",
            &[],
        )
        .unwrap_err();
    assert_eq!(err.sqlstate(), "0A000", "{err}");
}
