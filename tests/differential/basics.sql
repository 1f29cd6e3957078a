-- Basics: DDL and DML, constraints, joins, subqueries, aggregates, set operations,
-- ORDER BY / LIMIT, NULL semantics, casts, numeric, text and boolean operators.
-- The schema is a small SaaS billing system: plans, customers, subscriptions, invoices.

CREATE TABLE plans (
  id int PRIMARY KEY,
  code text NOT NULL UNIQUE,
  monthly_cents int NOT NULL CHECK (monthly_cents >= 0),
  seats int,
  active boolean NOT NULL DEFAULT true
);
CREATE TABLE customers (
  id bigint PRIMARY KEY,
  email text NOT NULL UNIQUE,
  name text,
  country char(2),
  created date NOT NULL,
  credit numeric(10,2) DEFAULT 0
);
CREATE TABLE subscriptions (
  id int PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES customers (id),
  plan_id int NOT NULL REFERENCES plans (id),
  started date NOT NULL,
  ended date,
  quantity int NOT NULL DEFAULT 1
);
CREATE TABLE invoices (
  id int PRIMARY KEY,
  subscription_id int REFERENCES subscriptions (id),
  issued date NOT NULL,
  amount numeric(12,2) NOT NULL,
  paid boolean,
  note varchar(40)
);
INSERT INTO plans VALUES (1, 'free', 0, 1, true), (2, 'team', 2900, 10, true), (3, 'business', 9900, 50, true), (4, 'legacy', 1500, NULL, false);
INSERT INTO customers VALUES
  (10, 'ada@example.com', 'Ada', 'GB', '2023-01-05', 12.50),
  (11, 'bob@example.com', 'Bob', 'US', '2023-02-11', 0),
  (12, 'cyd@example.com', NULL, 'FR', '2023-02-28', NULL),
  (13, 'dee@example.com', 'Dee', 'US', '2023-03-01', 100.00),
  (14, 'eve@example.com', 'Eve', NULL, '2023-03-15', 5.25);
INSERT INTO subscriptions VALUES
  (100, 10, 2, '2023-01-05', NULL, 3),
  (101, 11, 1, '2023-02-11', '2023-05-01', 1),
  (102, 11, 3, '2023-05-01', NULL, 12),
  (103, 12, 2, '2023-03-01', '2023-04-01', 2),
  (104, 13, 4, '2023-03-01', NULL, 1);
INSERT INTO invoices VALUES
  (1000, 100, '2023-02-01', 87.00, true, 'first'),
  (1001, 100, '2023-03-01', 87.00, true, NULL),
  (1002, 102, '2023-06-01', 1188.00, false, 'net 30'),
  (1003, 103, '2023-04-01', 58.00, NULL, 'prorated'),
  (1004, 104, '2023-04-01', 15.00, true, ''),
  (1005, NULL, '2023-04-15', 0.00, true, 'manual credit');
SELECT count(*) FROM plans;
SELECT * FROM plans ORDER BY id;
SELECT id, code FROM plans WHERE active ORDER BY monthly_cents DESC;
SELECT code, monthly_cents / 100.0 AS dollars FROM plans ORDER BY code;
SELECT code, monthly_cents / 100 AS whole, monthly_cents % 100 AS cents FROM plans ORDER BY id;
SELECT id, email FROM customers WHERE country = 'US' ORDER BY id;
SELECT id FROM customers WHERE country IS NULL;
SELECT id FROM customers WHERE country <> 'US' ORDER BY id;
SELECT id, name IS NULL AS anonymous FROM customers ORDER BY id;
SELECT id, coalesce(name, email) AS display FROM customers ORDER BY id;
SELECT id, nullif(credit, 0) FROM customers ORDER BY id;
SELECT id, credit FROM customers ORDER BY credit NULLS FIRST, id;
SELECT id, credit FROM customers ORDER BY credit DESC NULLS LAST, id;
SELECT id, credit FROM customers ORDER BY credit DESC, id;
SELECT id FROM customers ORDER BY id LIMIT 2;
SELECT id FROM customers ORDER BY id LIMIT 2 OFFSET 2;
SELECT id FROM customers ORDER BY id OFFSET 4;
SELECT id FROM customers ORDER BY id FETCH FIRST 3 ROWS ONLY;
SELECT c.name, p.code, s.quantity FROM subscriptions s JOIN customers c ON c.id = s.customer_id JOIN plans p ON p.id = s.plan_id ORDER BY s.id;
SELECT c.id, s.id AS sub FROM customers c LEFT JOIN subscriptions s ON s.customer_id = c.id ORDER BY c.id, s.id;
SELECT c.id FROM customers c LEFT JOIN subscriptions s ON s.customer_id = c.id WHERE s.id IS NULL;
SELECT p.code, s.id FROM subscriptions s RIGHT JOIN plans p ON p.id = s.plan_id ORDER BY p.id, s.id;
SELECT i.id, s.id FROM invoices i FULL JOIN subscriptions s ON s.id = i.subscription_id ORDER BY i.id NULLS LAST, s.id;
SELECT count(*) FROM plans CROSS JOIN customers;
SELECT p.code, c.id FROM plans p, customers c WHERE p.id = 1 AND c.id < 12 ORDER BY c.id;
SELECT s.id, p.code FROM subscriptions s JOIN plans p USING (id) ORDER BY 1;
SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS v (n, s) NATURAL JOIN (VALUES (2, 'b'), (3, 'c')) AS w (n, s);
SELECT a.id AS a, b.id AS b FROM customers a JOIN customers b ON a.country = b.country AND a.id < b.id ORDER BY 1, 2;
SELECT c.name, (SELECT count(*) FROM subscriptions s WHERE s.customer_id = c.id) AS subs FROM customers c ORDER BY c.id;
SELECT id FROM customers WHERE id IN (SELECT customer_id FROM subscriptions WHERE ended IS NULL) ORDER BY id;
SELECT id FROM customers WHERE id NOT IN (SELECT customer_id FROM subscriptions) ORDER BY id;
SELECT id FROM customers c WHERE EXISTS (SELECT 1 FROM subscriptions s WHERE s.customer_id = c.id AND s.quantity > 2) ORDER BY id;
SELECT id FROM customers c WHERE NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.customer_id = c.id) ORDER BY id;
SELECT id FROM plans WHERE monthly_cents > ALL (SELECT monthly_cents FROM plans WHERE NOT active) ORDER BY id;
SELECT id FROM plans WHERE monthly_cents < ANY (SELECT monthly_cents FROM plans WHERE seats > 5) ORDER BY id;
SELECT 1 WHERE 3 NOT IN (1, 2, NULL);
SELECT 1 WHERE 2 IN (1, 2, NULL);
SELECT 3 NOT IN (1, 2, NULL) AS unknown_result;
SELECT (SELECT max(amount) FROM invoices) AS top, (SELECT min(issued) FROM invoices) AS first;
SELECT * FROM (SELECT customer_id, sum(quantity) AS q FROM subscriptions GROUP BY customer_id) t WHERE q > 1 ORDER BY customer_id;
SELECT count(*), count(name), count(DISTINCT country), count(credit) FROM customers;
SELECT sum(amount), avg(amount), min(amount), max(amount) FROM invoices;
SELECT sum(quantity), avg(quantity), sum(quantity::bigint) FROM subscriptions;
SELECT avg(monthly_cents)::numeric(10,3) FROM plans;
SELECT country, count(*) FROM customers GROUP BY country ORDER BY country NULLS FIRST;
SELECT country, count(*) FROM customers GROUP BY country HAVING count(*) > 1 ORDER BY country;
SELECT paid, count(*), sum(amount) FROM invoices GROUP BY paid ORDER BY paid NULLS LAST;
SELECT plan_id, string_agg(customer_id::text, ',' ORDER BY customer_id) FROM subscriptions GROUP BY plan_id ORDER BY plan_id;
SELECT bool_and(paid), bool_or(paid), every(active) FROM invoices, plans WHERE plans.id = 1;
SELECT sum(x) FROM (VALUES (NULL::int), (NULL)) v (x);
SELECT count(*) FROM customers WHERE false;
SELECT max(created) - min(created) AS span FROM customers;
SELECT extract(month FROM issued) AS m, sum(amount) FROM invoices GROUP BY 1 ORDER BY 1;
SELECT customer_id, count(*) FILTER (WHERE ended IS NULL) AS live FROM subscriptions GROUP BY customer_id ORDER BY customer_id;
SELECT code FROM plans WHERE active UNION SELECT 'extra' ORDER BY 1;
SELECT country FROM customers UNION ALL SELECT country FROM customers WHERE id > 12 ORDER BY 1 NULLS FIRST;
SELECT country FROM customers INTERSECT SELECT 'US' ORDER BY 1;
SELECT id FROM customers EXCEPT SELECT customer_id FROM subscriptions ORDER BY 1;
SELECT country FROM customers EXCEPT ALL SELECT 'US' ORDER BY 1;
SELECT customer_id FROM subscriptions INTERSECT ALL SELECT customer_id FROM subscriptions WHERE plan_id > 1 ORDER BY 1;
(SELECT id FROM plans ORDER BY id DESC LIMIT 1) UNION ALL (SELECT id FROM plans ORDER BY id LIMIT 1) ORDER BY 1;
SELECT 1 UNION SELECT 1.5 ORDER BY 1;
SELECT NULL UNION SELECT 'x' ORDER BY 1;
SELECT DISTINCT country FROM customers ORDER BY country;
SELECT DISTINCT plan_id, quantity > 1 AS multi FROM subscriptions ORDER BY 1, 2;
SELECT id, CASE WHEN monthly_cents = 0 THEN 'free' WHEN monthly_cents < 5000 THEN 'small' ELSE 'large' END FROM plans ORDER BY id;
SELECT id, CASE seats WHEN 1 THEN 'solo' WHEN 10 THEN 'team' END FROM plans ORDER BY id;
SELECT greatest(1, 5, 3), least(4, 2, 8), greatest('a', 'b'), least(NULL, 2);
SELECT NULL = NULL, NULL IS NULL, NULL IS DISTINCT FROM NULL, 1 IS DISTINCT FROM NULL;
SELECT true AND NULL, false AND NULL, true OR NULL, false OR NULL, NOT NULL::boolean;
SELECT NULL::int + 1, 'a' || NULL, NULL::text IS NOT NULL;
SELECT paid IS TRUE, paid IS NOT FALSE, paid IS UNKNOWN FROM invoices ORDER BY id;
SELECT 7 / 2, 7 % 3, -7 / 2, -7 % 3, 7.0 / 2, 2 ^ 10, |/ 16.0, @ -5;
SELECT 1 + 2 * 3, (1 + 2) * 3, 10 - 2 - 3, 2 ^ 3 ^ 2;
SELECT 5 & 3, 5 | 3, 5 # 3, ~5, 1 << 4, 256 >> 2;
SELECT 9223372036854775807::bigint, (-2147483648)::int, 32767::smallint;
SELECT -2147483648::int;
SELECT 1.0 / 3, 10::numeric / 4, 1 / 3.0::float8, 0.1 + 0.2, 0.1::float8 + 0.2::float8;
SELECT round(2.5), round(-2.5), round(2.567, 2), round(1234.5, -2), trunc(2.789, 1), trunc(-2.7);
SELECT ceil(1.2), floor(-1.2), ceiling(4.0), abs(-3.5), sign(-2), sign(0.0), mod(17, 5);
SELECT sqrt(2::float8), power(2, 0.5), exp(1.0), ln(10), log(1000), log(2, 64);
SELECT round(3.14159::float8), round(123.456::numeric(6,2), 1), 1e3::int, 2.5e-3;
SELECT 12345.678::numeric(7,2), 0.005::numeric(3,2), 99.994::numeric(4,2)::text;
SELECT 99.995::numeric(4,2);
SELECT 1::numeric(10,4), 1.50::numeric, 100::numeric / 3;
SELECT '3.14'::float4, '1e10'::float8, 'NaN'::float8, 'Infinity'::float8, '-inf'::float8;
SELECT 1.5::float8 * 2, 1 / 3::float4, 123456789.123::float8;
SELECT div(17, 5), gcd(12, 18), lcm(4, 6), factorial(5);
SELECT width_bucket(42, 0, 100, 10), scale(1.2300), trim_scale(1.2300), min_scale(1.2300);
SELECT '42'::int, '  42  '::int, '-0'::int, '+7'::smallint;
SELECT 42::text, 4.20::text, true::text, 'yes'::boolean, 'off'::boolean, 't'::bool;
SELECT '2023-05-01'::date, '2023-05-01 12:30'::timestamp, 1::boolean, 0::boolean;
SELECT CAST('12.5' AS numeric) * 2, CAST(12.5 AS int), CAST(-12.5 AS int), 12.49::int, '12'::numeric(5,1);
SELECT 3.7::int, (-3.5)::int, 4.5::int, 5.5::int, 3.7::bigint, 1e9::int;
SELECT 'abc'::varchar(2), 'abc'::char(5) || '|', length('ab '::char(4)), 'x'::char(3) = 'x';
SELECT 'Hello' || ', ' || 'World', 'n=' || 42, 42 || '!';
SELECT upper('mixed Case'), lower('MiXeD'), initcap('hello wORLD'), length('héllo'), octet_length('héllo');
SELECT substr('subscription', 4), substr('subscription', 4, 3), substring('invoice' FROM 2 FOR 3), left('abcdef', 2), right('abcdef', -2);
SELECT position('scr' IN 'subscription'), strpos('banana', 'an'), replace('a-b-c', '-', '+'), reverse('stressed');
SELECT trim('  pad  '), ltrim('xxabcxx', 'x'), rtrim('xxabcxx', 'x'), btrim('--a--', '-'), trim(BOTH '*' FROM '**x**');
SELECT lpad('7', 3, '0'), rpad('ab', 5, '.'), repeat('ab', 3), split_part('a.b.c', '.', 2), split_part('a.b.c', '.', -1);
SELECT concat('a', NULL, 'b', 1), concat_ws('/', 'usr', NULL, 'lib'), translate('12345', '143', 'ax');
SELECT 'abc' < 'abd', 'Z' < 'a', 'abc' = 'ABC', 'abc' LIKE 'a%', 'abc' LIKE '_b_', 'ABC' ILIKE 'a%c', 'abc' NOT LIKE '%d';
SELECT 'a_c' LIKE 'a\_c', 'abc' LIKE 'a\_c', '100%' LIKE '100\%', 'x' SIMILAR TO '[a-z]';
SELECT starts_with('invoice-42', 'invoice'), chr(65), ascii('A'), to_hex(255), md5('') IS NOT NULL;
SELECT 'a' || 'b' = 'ab' AND 2 > 1 OR false;
SELECT email FROM customers WHERE email LIKE '%@example.com' AND name ILIKE '%e%' ORDER BY email;
SELECT id, quantity BETWEEN 2 AND 10 AS mid, quantity NOT BETWEEN 2 AND 10 AS outside FROM subscriptions ORDER BY id;
SELECT id FROM invoices WHERE amount BETWEEN SYMMETRIC 100 AND 50 ORDER BY id;
UPDATE customers SET credit = credit + 10 WHERE country = 'US';
SELECT id, credit FROM customers ORDER BY id;
UPDATE customers SET name = upper(name), country = coalesce(country, 'ZZ') WHERE id >= 13;
SELECT id, name, country FROM customers WHERE id >= 13 ORDER BY id;
UPDATE invoices SET paid = true WHERE paid IS NULL RETURNING id, paid;
UPDATE subscriptions s SET quantity = s.quantity + 1 FROM plans p WHERE p.id = s.plan_id AND p.code = 'team' RETURNING s.id, s.quantity;
DELETE FROM invoices WHERE amount = 0 RETURNING id, note;
DELETE FROM invoices WHERE id = 9999;
INSERT INTO plans (id, code, monthly_cents) VALUES (5, 'starter', 900) RETURNING *;
INSERT INTO plans (id, code, monthly_cents) VALUES (6, 'pro', 4900), (7, 'enterprise', 29900);
INSERT INTO plans (id, code, monthly_cents) SELECT id + 100, code || '-eu', monthly_cents * 2 FROM plans WHERE id IN (2, 3);
SELECT id, code, monthly_cents, seats, active FROM plans ORDER BY id;
INSERT INTO plans (id, code, monthly_cents) VALUES (2, 'dup', 1);
INSERT INTO plans (id, code, monthly_cents) VALUES (8, 'team', 1);
INSERT INTO plans (id, code, monthly_cents) VALUES (8, 'negative', -1);
INSERT INTO plans (id, code) VALUES (8, 'nocost');
INSERT INTO subscriptions VALUES (200, 999, 1, '2023-01-01', NULL, 1);
DELETE FROM plans WHERE id = 1;
INSERT INTO plans (id, code, monthly_cents) VALUES (2, 'team', 2900) ON CONFLICT (id) DO NOTHING;
INSERT INTO plans (id, code, monthly_cents) VALUES (2, 'team', 3100) ON CONFLICT (id) DO UPDATE SET monthly_cents = excluded.monthly_cents RETURNING id, monthly_cents;
INSERT INTO plans (id, code, monthly_cents) VALUES (9, 'pro', 1) ON CONFLICT (code) DO UPDATE SET monthly_cents = plans.monthly_cents + 1 RETURNING id, code, monthly_cents;
INSERT INTO plans (id, code, monthly_cents) VALUES (10, 'flex', 100) ON CONFLICT DO NOTHING RETURNING id;
BEGIN;
UPDATE plans SET active = false WHERE id = 2;
SELECT active FROM plans WHERE id = 2;
ROLLBACK;
SELECT active FROM plans WHERE id = 2;
BEGIN;
INSERT INTO plans (id, code, monthly_cents) VALUES (11, 'tx', 1);
SELECT 1 / 0;
SELECT count(*) FROM plans;
ROLLBACK;
SELECT count(*) FROM plans WHERE id = 11;
BEGIN;
INSERT INTO plans (id, code, monthly_cents) VALUES (11, 'tx', 1);
SAVEPOINT s1;
INSERT INTO plans (id, code, monthly_cents) VALUES (12, 'tx2', 1);
ROLLBACK TO SAVEPOINT s1;
COMMIT;
SELECT id FROM plans WHERE id IN (11, 12) ORDER BY id;
CREATE TABLE usage_events (id serial PRIMARY KEY, customer_id bigint NOT NULL, metric text NOT NULL, qty numeric NOT NULL DEFAULT 1, at timestamp NOT NULL);
INSERT INTO usage_events (customer_id, metric, qty, at) VALUES (10, 'api_calls', 120, '2023-06-01 10:00'), (10, 'api_calls', 80, '2023-06-02 11:00'), (11, 'storage_gb', 2.5, '2023-06-01 00:00'), (11, 'api_calls', 5, '2023-06-03 09:30'), (13, 'storage_gb', 0.25, '2023-06-04 12:00');
INSERT INTO usage_events (customer_id, metric, at) VALUES (12, 'seats', '2023-06-05 08:00') RETURNING id, qty;
SELECT customer_id, metric, sum(qty) FROM usage_events GROUP BY customer_id, metric ORDER BY customer_id, metric;
SELECT metric, count(*), round(avg(qty), 2) FROM usage_events GROUP BY metric HAVING sum(qty) > 1 ORDER BY metric;
SELECT customer_id, max(at) FROM usage_events GROUP BY customer_id ORDER BY max(at) DESC;
ALTER TABLE customers ADD COLUMN tier text DEFAULT 'standard';
SELECT id, tier FROM customers ORDER BY id;
ALTER TABLE customers RENAME COLUMN tier TO segment;
SELECT segment FROM customers WHERE id = 10;
ALTER TABLE customers DROP COLUMN segment;
SELECT * FROM customers WHERE id = 10;
CREATE INDEX invoices_issued ON invoices (issued);
SELECT id FROM invoices WHERE issued >= '2023-04-01' ORDER BY issued, id;
CREATE UNIQUE INDEX customers_lower_email ON customers (lower(email));
INSERT INTO customers VALUES (15, 'ADA@example.com', 'Ada2', 'GB', '2023-07-01', 0);
CREATE TABLE tmp_rollup AS SELECT plan_id, count(*) AS n FROM subscriptions GROUP BY plan_id;
SELECT * FROM tmp_rollup ORDER BY plan_id;
TRUNCATE tmp_rollup;
SELECT count(*) FROM tmp_rollup;
DROP TABLE tmp_rollup;
DROP TABLE IF EXISTS tmp_rollup;
SELECT * FROM tmp_rollup;
SELECT x, x * 2 AS y FROM generate_series(1, 4) AS x ORDER BY x DESC;
SELECT * FROM (VALUES (3, 'c'), (1, 'a'), (2, NULL)) AS t (n, s) ORDER BY s NULLS FIRST;
SELECT v FROM (VALUES (1), (NULL), (3)) t (v) ORDER BY v DESC NULLS LAST;
SELECT c.country, sum(i.amount) AS billed FROM invoices i JOIN subscriptions s ON s.id = i.subscription_id JOIN customers c ON c.id = s.customer_id GROUP BY c.country ORDER BY billed DESC;
SELECT c.email FROM customers c WHERE c.credit > (SELECT avg(credit) FROM customers) ORDER BY 1;
SELECT p.code, coalesce(sum(s.quantity), 0) AS seats_sold FROM plans p LEFT JOIN subscriptions s ON s.plan_id = p.id GROUP BY p.code ORDER BY seats_sold DESC, p.code;
SELECT id, amount, amount * 1.2 AS gross, round(amount * 0.2, 2) AS vat FROM invoices ORDER BY id;
SELECT typeof_check FROM (SELECT pg_typeof(1.5)::text AS typeof_check) t;
SELECT pg_typeof(1), pg_typeof(1::bigint), pg_typeof(1.0), pg_typeof('a'::text), pg_typeof(now()::date);
SELECT 'a'::text = ALL (ARRAY['a', 'a']), 2 = ANY ('{1,2,3}'::int[]);
SELECT count(*) AS n FROM customers HAVING count(*) > 3;
SELECT 1 AS a, 2 AS a;
SELECT id AS "Customer Id", email AS "e-mail" FROM customers ORDER BY "Customer Id" LIMIT 1;
SELECT customers.* FROM customers ORDER BY id DESC LIMIT 1;
SELECT sum(amount) FILTER (WHERE paid) AS paid_total, sum(amount) FILTER (WHERE NOT paid) AS open_total FROM invoices;
SELECT s.id, (SELECT code FROM plans p WHERE p.id = s.plan_id) FROM subscriptions s ORDER BY s.id;
SELECT id FROM subscriptions WHERE (customer_id, plan_id) = (11, 3);
SELECT id FROM subscriptions WHERE (customer_id, plan_id) IN ((11, 3), (10, 2)) ORDER BY id;
SELECT ROW(1, 'a') = ROW(1, 'a'), (1, 2) < (1, 3), (2, NULL) = (2, NULL);
SELECT id FROM customers ORDER BY length(email) DESC, id LIMIT 3;
SELECT upper(code) AS c FROM plans ORDER BY c LIMIT 3;
SELECT count(DISTINCT plan_id), count(DISTINCT customer_id) FROM subscriptions;
SELECT 'x' WHERE NULL;
SELECT CASE WHEN NULL THEN 1 ELSE 2 END, CASE NULL WHEN NULL THEN 'eq' ELSE 'ne' END;
SELECT 10 / 4 * 4, 10 / 4.0 * 4, 2 * 3 % 4, -2 ^ 2;
SELECT 'true'::boolean AND 'f'::boolean, true > false, bool_and(x) FROM (VALUES (true), (NULL::boolean)) t (x);
