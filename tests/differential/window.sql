-- Window functions: ranking, distribution, navigation, aggregates over windows, frames in
-- ROWS, RANGE and GROUPS mode with offsets and EXCLUDE, named windows. Application: SaaS
-- revenue analytics (monthly recurring revenue per account) and API latency samples.

CREATE TABLE mrr (
  account text NOT NULL,
  month date NOT NULL,
  region text NOT NULL,
  amount numeric(10,2),
  seats int NOT NULL,
  PRIMARY KEY (account, month)
);
INSERT INTO mrr VALUES
  ('acme', '2023-01-01', 'eu', 100.00, 5),
  ('acme', '2023-02-01', 'eu', 120.00, 6),
  ('acme', '2023-03-01', 'eu', 120.00, 6),
  ('acme', '2023-04-01', 'eu', 90.00, 4),
  ('globex', '2023-01-01', 'us', 300.00, 20),
  ('globex', '2023-02-01', 'us', NULL, 20),
  ('globex', '2023-03-01', 'us', 350.00, 25),
  ('initech', '2023-02-01', 'us', 50.00, 2),
  ('initech', '2023-03-01', 'us', 50.00, 2),
  ('initech', '2023-04-01', 'us', 75.00, 3),
  ('umbrella', '2023-03-01', 'eu', 500.00, 40),
  ('umbrella', '2023-04-01', 'eu', 500.00, 40);
SELECT account, month, row_number() OVER (ORDER BY account, month) FROM mrr ORDER BY 3;
SELECT account, month, row_number() OVER (PARTITION BY account ORDER BY month) FROM mrr ORDER BY account, month;
SELECT account, month, amount, rank() OVER (ORDER BY amount DESC), dense_rank() OVER (ORDER BY amount DESC) FROM mrr ORDER BY amount DESC NULLS LAST, account, month;
SELECT account, month, amount, rank() OVER (ORDER BY amount DESC NULLS LAST) FROM mrr ORDER BY 4, account, month;
SELECT account, month, percent_rank() OVER (ORDER BY seats), cume_dist() OVER (ORDER BY seats) FROM mrr ORDER BY seats, account, month;
SELECT account, month, ntile(3) OVER (ORDER BY account, month) FROM mrr ORDER BY account, month;
SELECT account, month, ntile(5) OVER (PARTITION BY region ORDER BY month, account) FROM mrr ORDER BY region, month, account;
SELECT account, month, amount, lag(amount) OVER w, lead(amount) OVER w FROM mrr WINDOW w AS (PARTITION BY account ORDER BY month) ORDER BY account, month;
SELECT account, month, lag(amount, 2) OVER w, lead(amount, 2, 0) OVER w, lag(seats, 1, -1) OVER w FROM mrr WINDOW w AS (PARTITION BY account ORDER BY month) ORDER BY account, month;
SELECT account, month, amount - lag(amount) OVER (PARTITION BY account ORDER BY month) AS delta FROM mrr ORDER BY account, month;
SELECT account, month, first_value(amount) OVER w, last_value(amount) OVER w, nth_value(amount, 2) OVER w FROM mrr WINDOW w AS (PARTITION BY account ORDER BY month) ORDER BY account, month;
SELECT account, month, last_value(amount) OVER (PARTITION BY account ORDER BY month ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) FROM mrr ORDER BY account, month;
SELECT account, month, nth_value(month, 3) OVER (PARTITION BY account ORDER BY month RANGE BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) FROM mrr ORDER BY account, month;
SELECT account, month, sum(amount) OVER (PARTITION BY account ORDER BY month) AS running FROM mrr ORDER BY account, month;
SELECT account, month, sum(amount) OVER (PARTITION BY account) AS total, amount / sum(amount) OVER (PARTITION BY account) AS share FROM mrr ORDER BY account, month;
SELECT month, sum(amount) OVER (ORDER BY month) FROM mrr ORDER BY month, account;
SELECT month, sum(amount) OVER (ORDER BY month, account ROWS UNBOUNDED PRECEDING) FROM mrr ORDER BY month, account;
SELECT account, month, count(*) OVER (), count(amount) OVER (), avg(seats) OVER () FROM mrr ORDER BY account, month;
SELECT account, month, avg(amount) OVER (PARTITION BY account ORDER BY month ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM mrr ORDER BY account, month;
SELECT account, month, avg(amount) OVER (PARTITION BY account ORDER BY month ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) FROM mrr ORDER BY account, month;
SELECT account, month, sum(seats) OVER (PARTITION BY account ORDER BY month ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) FROM mrr ORDER BY account, month;
SELECT account, month, sum(seats) OVER (PARTITION BY account ORDER BY month ROWS BETWEEN 2 FOLLOWING AND 3 FOLLOWING) FROM mrr ORDER BY account, month;
SELECT account, month, sum(seats) OVER (PARTITION BY account ORDER BY month ROWS BETWEEN 3 PRECEDING AND 2 PRECEDING) FROM mrr ORDER BY account, month;
SELECT account, month, min(amount) OVER w, max(amount) OVER w FROM mrr WINDOW w AS (PARTITION BY account ORDER BY month ROWS 1 PRECEDING) ORDER BY account, month;
SELECT account, seats, sum(seats) OVER (ORDER BY seats RANGE BETWEEN 2 PRECEDING AND 2 FOLLOWING) FROM mrr ORDER BY seats, account, month;
SELECT account, seats, count(*) OVER (ORDER BY seats RANGE BETWEEN 5 PRECEDING AND CURRENT ROW) FROM mrr ORDER BY seats, account, month;
SELECT account, seats, count(*) OVER (ORDER BY seats DESC RANGE BETWEEN 5 PRECEDING AND CURRENT ROW) FROM mrr ORDER BY seats DESC, account, month;
SELECT account, amount, sum(amount) OVER (ORDER BY amount RANGE BETWEEN 50 PRECEDING AND 50 FOLLOWING) FROM mrr ORDER BY amount NULLS FIRST, account, month;
SELECT account, month, count(*) OVER (ORDER BY month RANGE BETWEEN interval '1 month' PRECEDING AND CURRENT ROW) FROM mrr ORDER BY month, account;
SELECT account, month, sum(amount) OVER (PARTITION BY account ORDER BY month RANGE BETWEEN interval '40 days' PRECEDING AND interval '1 day' PRECEDING) FROM mrr ORDER BY account, month;
SELECT account, month, sum(seats) OVER (ORDER BY month GROUPS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM mrr ORDER BY month, account;
SELECT account, month, count(*) OVER (ORDER BY month GROUPS BETWEEN CURRENT ROW AND 1 FOLLOWING) FROM mrr ORDER BY month, account;
SELECT account, month, sum(seats) OVER (ORDER BY month GROUPS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) FROM mrr ORDER BY month, account;
SELECT account, month, sum(seats) OVER (ORDER BY month, account ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE CURRENT ROW) FROM mrr ORDER BY month, account;
SELECT account, month, count(*) OVER (ORDER BY month RANGE BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING EXCLUDE GROUP) FROM mrr ORDER BY month, account;
SELECT account, month, string_agg(account, ',') OVER (ORDER BY month RANGE BETWEEN CURRENT ROW AND CURRENT ROW EXCLUDE TIES) FROM mrr ORDER BY month, account;
SELECT account, month, sum(seats) OVER (ORDER BY month GROUPS BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE TIES) FROM mrr ORDER BY month, account;
SELECT account, month, sum(seats) OVER (ORDER BY month, account ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW EXCLUDE NO OTHERS) FROM mrr ORDER BY month, account;
SELECT account, month, first_value(account) OVER (ORDER BY month, account ROWS BETWEEN 1 FOLLOWING AND 2 FOLLOWING) FROM mrr ORDER BY month, account;
SELECT account, month, last_value(account) OVER (ORDER BY month GROUPS BETWEEN CURRENT ROW AND CURRENT ROW) FROM mrr ORDER BY month, account;
SELECT region, account, month, rank() OVER w, sum(amount) OVER w FROM mrr WINDOW w AS (PARTITION BY region ORDER BY amount DESC NULLS LAST) ORDER BY region, 4, account, month;
SELECT account, month, sum(seats) OVER (w ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM mrr WINDOW w AS (PARTITION BY account ORDER BY month) ORDER BY account, month;
SELECT account, month, row_number() OVER (w ORDER BY month DESC) FROM mrr WINDOW w AS (PARTITION BY account) ORDER BY account, month;
SELECT account, month, rank() OVER w2 FROM mrr WINDOW w1 AS (PARTITION BY region), w2 AS (w1 ORDER BY seats) ORDER BY region, seats, account, month;
SELECT account, sum(amount) AS total, rank() OVER (ORDER BY sum(amount) DESC NULLS LAST) FROM mrr GROUP BY account ORDER BY 3, account;
SELECT region, sum(amount), sum(sum(amount)) OVER () AS grand, round(100 * sum(amount) / sum(sum(amount)) OVER (), 1) AS pct FROM mrr GROUP BY region ORDER BY region;
SELECT month, sum(amount) AS mrr, sum(sum(amount)) OVER (ORDER BY month) AS cumulative FROM mrr GROUP BY month ORDER BY month;
SELECT month, count(*) AS accounts, count(*) - lag(count(*)) OVER (ORDER BY month) AS net_new FROM mrr GROUP BY month ORDER BY month;
SELECT * FROM (SELECT account, month, amount, row_number() OVER (PARTITION BY account ORDER BY month DESC) AS rn FROM mrr) t WHERE rn = 1 ORDER BY account;
SELECT * FROM (SELECT account, month, amount, rank() OVER (PARTITION BY month ORDER BY amount DESC NULLS LAST) AS r FROM mrr) t WHERE r <= 2 ORDER BY month, r, account;
SELECT account, month, amount FROM mrr ORDER BY row_number() OVER (PARTITION BY account ORDER BY month DESC), account;
SELECT account, month, amount, CASE WHEN amount > lag(amount) OVER w THEN 'expansion' WHEN amount < lag(amount) OVER w THEN 'contraction' ELSE 'flat' END FROM mrr WINDOW w AS (PARTITION BY account ORDER BY month) ORDER BY account, month;
SELECT account, month, bool_and(amount IS NOT NULL) OVER (PARTITION BY account), bool_or(seats > 20) OVER (PARTITION BY region) FROM mrr ORDER BY account, month;
SELECT account, month, array_agg(seats) OVER (PARTITION BY account ORDER BY month) FROM mrr ORDER BY account, month;
SELECT account, month, string_agg(to_char(month, 'Mon'), '>') OVER (PARTITION BY account ORDER BY month) FROM mrr ORDER BY account, month;
SELECT account, month, count(*) FILTER (WHERE amount >= 100) OVER (ORDER BY month) FROM mrr ORDER BY month, account;
SELECT account, month, sum(amount) FILTER (WHERE region = 'eu') OVER (PARTITION BY month) FROM mrr ORDER BY month, account;
SELECT account, month, row_number() OVER () IS NOT NULL FROM mrr ORDER BY account, month;
SELECT account, month, dense_rank() OVER (ORDER BY region, account) FROM mrr ORDER BY account, month;
SELECT account, month, lag(month) OVER (PARTITION BY account ORDER BY month), month - lag(month) OVER (PARTITION BY account ORDER BY month) AS gap_days FROM mrr ORDER BY account, month;
SELECT account, month, ntile(2) OVER (PARTITION BY account ORDER BY month), percent_rank() OVER (PARTITION BY account ORDER BY month) FROM mrr ORDER BY account, month;
SELECT account, month, cume_dist() OVER (PARTITION BY region ORDER BY amount NULLS FIRST) FROM mrr ORDER BY region, amount NULLS FIRST, account, month;
SELECT account, month, max(amount) OVER (PARTITION BY account ORDER BY month ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prior_peak FROM mrr ORDER BY account, month;
SELECT account, month FROM (SELECT account, month, amount, max(amount) OVER (PARTITION BY account ORDER BY month ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS peak FROM mrr) t WHERE amount < peak ORDER BY account, month;
SELECT DISTINCT account, first_value(month) OVER (PARTITION BY account ORDER BY month) AS since FROM mrr ORDER BY account;
SELECT region, count(DISTINCT account), max(row_count) FROM (SELECT region, account, count(*) OVER (PARTITION BY region) AS row_count FROM mrr) t GROUP BY region ORDER BY region;
SELECT account, month, lead(amount, 1) OVER (ORDER BY account, month), lead(account) OVER (ORDER BY account, month) FROM mrr ORDER BY account, month;
SELECT account, month, lag(amount, 0) OVER (ORDER BY account, month), lead(amount, -1) OVER (ORDER BY account, month) FROM mrr ORDER BY account, month;
SELECT account, month, nth_value(account, 1) OVER (ORDER BY month DESC, account), nth_value(account, 20) OVER () FROM mrr ORDER BY month DESC, account;
SELECT account, month, sum(seats) OVER (PARTITION BY account ORDER BY month RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) FROM mrr ORDER BY account, month;
SELECT account, month, sum(seats) OVER (PARTITION BY account ORDER BY month ROWS BETWEEN 0 PRECEDING AND 0 FOLLOWING) FROM mrr ORDER BY account, month;
SELECT account, month, count(*) OVER (ORDER BY month, account ROWS BETWEEN 10 PRECEDING AND 10 FOLLOWING) FROM mrr ORDER BY month, account;
SELECT account, month, avg(seats) OVER (ORDER BY seats RANGE BETWEEN 0.5 PRECEDING AND 0.5 FOLLOWING) FROM mrr ORDER BY seats, account, month;
SELECT account, month, sum(amount) OVER (ORDER BY amount DESC RANGE BETWEEN UNBOUNDED PRECEDING AND 10 FOLLOWING) FROM mrr ORDER BY amount DESC NULLS FIRST, account, month;
SELECT account, month, count(*) OVER (ORDER BY amount RANGE BETWEEN 10 PRECEDING AND 10 FOLLOWING) FROM mrr ORDER BY amount NULLS FIRST, account, month;
SELECT account, month, count(*) OVER (ORDER BY month GROUPS 2 PRECEDING EXCLUDE GROUP) FROM mrr ORDER BY month, account;
SELECT x, sum(x) OVER (ORDER BY x ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE CURRENT ROW), sum(x) OVER (ORDER BY x RANGE BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE TIES) FROM (VALUES (1), (2), (2), (3), (5), (5), (6)) t (x) ORDER BY x, 2, 3;
SELECT x, first_value(x) OVER w, last_value(x) OVER w, count(*) OVER w FROM (VALUES (1), (2), (2), (3), (5)) t (x) WINDOW w AS (ORDER BY x GROUPS BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE GROUP) ORDER BY x;
SELECT x, rank() OVER (ORDER BY x), dense_rank() OVER (ORDER BY x), percent_rank() OVER (ORDER BY x), cume_dist() OVER (ORDER BY x) FROM (VALUES (10), (20), (20), (30), (NULL)) t (x) ORDER BY x NULLS LAST;
SELECT x, ntile(4) OVER (ORDER BY x) FROM generate_series(1, 10) x ORDER BY x;
SELECT x, ntile(20) OVER (ORDER BY x) FROM generate_series(1, 3) x ORDER BY x;
SELECT x, avg(x) OVER (ORDER BY x ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) FROM generate_series(1, 6) x ORDER BY x;
SELECT x, sum(x::numeric) OVER (ORDER BY x RANGE BETWEEN 2 PRECEDING AND 1 PRECEDING) FROM generate_series(1, 6) x ORDER BY x;
SELECT ts, count(*) OVER (ORDER BY ts RANGE BETWEEN interval '1 hour' PRECEDING AND CURRENT ROW) FROM (VALUES (timestamp '2023-06-01 10:00'), ('2023-06-01 10:30'), ('2023-06-01 11:15'), ('2023-06-01 13:00')) t (ts) ORDER BY ts;
SELECT d, sum(v) OVER (ORDER BY d RANGE BETWEEN interval '2 days' PRECEDING AND interval '1 day' FOLLOWING) FROM (VALUES (date '2023-06-01', 1), ('2023-06-02', 2), ('2023-06-05', 4), ('2023-06-06', 8)) t (d, v) ORDER BY d;
CREATE TABLE latency (endpoint text NOT NULL, at timestamp NOT NULL, ms int NOT NULL);
INSERT INTO latency VALUES ('/login', '2023-06-01 10:00:00', 120), ('/login', '2023-06-01 10:00:05', 80), ('/login', '2023-06-01 10:00:30', 300), ('/login', '2023-06-01 10:01:10', 95), ('/search', '2023-06-01 10:00:01', 40), ('/search', '2023-06-01 10:00:02', 45), ('/search', '2023-06-01 10:00:03', 900), ('/search', '2023-06-01 10:00:20', 50), ('/search', '2023-06-01 10:02:00', 42);
SELECT endpoint, at, ms, avg(ms) OVER (PARTITION BY endpoint ORDER BY at RANGE BETWEEN interval '30 seconds' PRECEDING AND CURRENT ROW)::numeric(8,2) AS rolling FROM latency ORDER BY endpoint, at;
SELECT endpoint, at, ms, max(ms) OVER (PARTITION BY endpoint ORDER BY at ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) FROM latency ORDER BY endpoint, at;
SELECT endpoint, at, at - lag(at) OVER (PARTITION BY endpoint ORDER BY at) AS since_prev FROM latency ORDER BY endpoint, at;
SELECT endpoint, at, ms, percent_rank() OVER (PARTITION BY endpoint ORDER BY ms) FROM latency ORDER BY endpoint, ms;
SELECT endpoint, ms FROM (SELECT endpoint, ms, ntile(4) OVER (PARTITION BY endpoint ORDER BY ms) AS q FROM latency) t WHERE q = 4 ORDER BY endpoint, ms;
SELECT endpoint, at, sum(CASE WHEN gap THEN 1 ELSE 0 END) OVER (PARTITION BY endpoint ORDER BY at) AS session FROM (SELECT endpoint, at, coalesce(at - lag(at) OVER (PARTITION BY endpoint ORDER BY at) > interval '20 seconds', true) AS gap FROM latency) t ORDER BY endpoint, at;
SELECT endpoint, count(*) AS n, max(rn) FROM (SELECT endpoint, row_number() OVER (PARTITION BY endpoint ORDER BY at) AS rn FROM latency) t GROUP BY endpoint ORDER BY endpoint;
SELECT endpoint, at, ms, ms - first_value(ms) OVER (PARTITION BY endpoint ORDER BY at) AS vs_first FROM latency ORDER BY endpoint, at;
SELECT endpoint, at, ms, rank() OVER (PARTITION BY endpoint ORDER BY ms DESC) FROM latency ORDER BY endpoint, 4, at;
SELECT at, endpoint, lead(endpoint) OVER (ORDER BY at) FROM latency ORDER BY at;
SELECT endpoint, avg(ms)::numeric(10,2), stddev_samp(ms)::numeric(10,2) FROM latency GROUP BY endpoint ORDER BY endpoint;
SELECT endpoint, at, ms, sum(ms) OVER (PARTITION BY endpoint ORDER BY at GROUPS BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE CURRENT ROW) FROM latency ORDER BY endpoint, at;
SELECT endpoint, at, count(*) OVER (PARTITION BY endpoint ORDER BY at RANGE BETWEEN CURRENT ROW AND interval '10 seconds' FOLLOWING) FROM latency ORDER BY endpoint, at;
SELECT account, month, row_number() OVER (ORDER BY month DESC, account DESC) FROM mrr ORDER BY 3 LIMIT 5;
SELECT account, month, amount, avg(amount) OVER (PARTITION BY account) FROM mrr WHERE region = 'us' ORDER BY account, month;
SELECT account, amount, sum(amount) OVER (PARTITION BY account ORDER BY month) FROM mrr WHERE month >= '2023-03-01' ORDER BY account, month;
SELECT account, month, sum(seats) OVER (ORDER BY month RANGE CURRENT ROW) FROM mrr ORDER BY month, account;
SELECT account, month, sum(seats) OVER (ORDER BY month, account ROWS CURRENT ROW) FROM mrr ORDER BY month, account;
SELECT row_number() OVER (ORDER BY account, month) AS n, account, month FROM mrr ORDER BY n DESC LIMIT 3;
SELECT rank() OVER (ORDER BY seats) FROM mrr GROUP BY seats ORDER BY 1;
SELECT seats, count(*), rank() OVER (ORDER BY count(*) DESC, seats) FROM mrr GROUP BY seats ORDER BY 3;
SELECT account, month, min(month) OVER (PARTITION BY account), max(month) OVER (PARTITION BY account) - min(month) OVER (PARTITION BY account) AS tenure FROM mrr ORDER BY account, month;
SELECT account, month, lag(amount) IGNORE NULLS OVER (ORDER BY month) FROM mrr ORDER BY month, account;
SELECT rank(1) OVER (ORDER BY seats) FROM mrr;
SELECT row_number() FROM mrr;
SELECT account FROM mrr WHERE row_number() OVER (ORDER BY month) = 1;
SELECT account, count(*) FROM mrr GROUP BY account HAVING rank() OVER (ORDER BY account) = 1;
SELECT account, ntile(0) OVER (ORDER BY month) FROM mrr;
SELECT account, nth_value(account, 0) OVER (ORDER BY month) FROM mrr;
SELECT account, sum(seats) OVER (ORDER BY month ROWS BETWEEN -1 PRECEDING AND CURRENT ROW) FROM mrr;
SELECT account, sum(seats) OVER (ORDER BY month RANGE BETWEEN 1 PRECEDING AND CURRENT ROW) FROM mrr;
SELECT account, sum(seats) OVER (ORDER BY account, month RANGE BETWEEN 1 PRECEDING AND CURRENT ROW) FROM mrr;
SELECT account, sum(seats) OVER (ROWS BETWEEN CURRENT ROW AND 1 PRECEDING) FROM mrr;
SELECT account, sum(seats) OVER (ROWS BETWEEN UNBOUNDED FOLLOWING AND CURRENT ROW) FROM mrr;
SELECT account, sum(seats) OVER (GROUPS 1 PRECEDING) FROM mrr;
SELECT account, sum(seats) OVER w FROM mrr;
SELECT account, sum(seats) OVER (w ORDER BY month) FROM mrr WINDOW w AS (ORDER BY account);
SELECT account, sum(sum(seats) OVER ()) FROM mrr GROUP BY account;
SELECT account, lag(seats, -1) OVER (ORDER BY account, month) FROM mrr ORDER BY account, month;
SELECT account, count(DISTINCT seats) OVER (PARTITION BY account) FROM mrr;
CREATE VIEW account_trend AS SELECT account, month, amount, amount - lag(amount) OVER (PARTITION BY account ORDER BY month) AS delta FROM mrr;
SELECT * FROM account_trend WHERE delta IS NOT NULL ORDER BY account, month;
SELECT account, sum(delta) FROM account_trend GROUP BY account ORDER BY account;
WITH ranked AS (SELECT account, month, amount, dense_rank() OVER (PARTITION BY month ORDER BY amount DESC NULLS LAST) AS dr FROM mrr) SELECT month, string_agg(account, ',' ORDER BY account) FROM ranked WHERE dr = 1 GROUP BY month ORDER BY month;
SELECT account, month, (amount / nullif(lag(amount) OVER (PARTITION BY account ORDER BY month), 0) - 1) * 100 AS growth_pct FROM mrr ORDER BY account, month;
SELECT account, month, round(avg(amount) OVER (PARTITION BY account ORDER BY month ROWS BETWEEN 2 PRECEDING AND CURRENT ROW), 2) FROM mrr ORDER BY account, month;
SELECT account, month, sum(amount) OVER (PARTITION BY region ORDER BY month RANGE BETWEEN interval '1 month' PRECEDING AND CURRENT ROW EXCLUDE GROUP) FROM mrr ORDER BY region, month, account;
SELECT account, month, count(amount) OVER (PARTITION BY account ORDER BY month GROUPS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) FROM mrr ORDER BY account, month;
SELECT account, month, json_agg(seats) OVER (PARTITION BY account ORDER BY month ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM mrr ORDER BY account, month;
SELECT account, month, jsonb_agg(month) OVER (PARTITION BY account ORDER BY month ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) FROM mrr ORDER BY account, month;
SELECT month, count(*) OVER (ORDER BY month RANGE BETWEEN interval '31 days' PRECEDING AND interval '31 days' FOLLOWING) FROM (SELECT DISTINCT month FROM mrr) m ORDER BY month;
SELECT x, sum(x) OVER (ORDER BY x DESC RANGE BETWEEN 1 PRECEDING AND 2 FOLLOWING) FROM generate_series(1, 6) x ORDER BY x DESC;
SELECT x, y, rank() OVER (PARTITION BY x % 2 ORDER BY y DESC), row_number() OVER (PARTITION BY x % 2 ORDER BY y DESC, x) FROM (VALUES (1, 'b'), (2, 'a'), (3, 'b'), (4, 'c'), (5, 'a')) t (x, y) ORDER BY x;
SELECT min(x) OVER (), max(x) OVER (), sum(x) OVER () FROM (VALUES (1.5::float8), (2.25), (NULL)) t (x) ORDER BY x;
SELECT x, avg(x) OVER (ORDER BY x ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING), sum(x) OVER (ORDER BY x) FROM (VALUES (1::bigint), (9223372036854775806)) t (x) ORDER BY x;
SELECT x, count(*) OVER (ORDER BY x RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) FROM (VALUES (NULL::int), (1), (NULL), (2)) t (x) ORDER BY x NULLS FIRST;
SELECT x, sum(x) OVER (ORDER BY x NULLS FIRST RANGE BETWEEN 1 PRECEDING AND 1 FOLLOWING) FROM (VALUES (NULL::int), (1), (2), (NULL), (4)) t (x) ORDER BY x NULLS FIRST;
