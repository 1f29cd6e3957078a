"""psycopg 3 against `zqlite serve`: connect, parameterised insert/select, executemany,
transaction rollback, SQLSTATE on errors, binary results and server-side prepared statements.

Usage: python3 psycopg_client.py "host=... port=... user=zqlite dbname=zqlite"
Prints "ok" last when every check passed; any failed check raises (non-zero exit).
"""

import datetime
import decimal
import sys
import uuid

import psycopg

D = decimal.Decimal


def main(dsn):
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "CREATE TABLE items (id bigint PRIMARY KEY, name text, price numeric(10,2),"
            " added date, tag uuid, ok boolean)"
        )
        conn.execute(
            "INSERT INTO items VALUES (%s, %s, %s, %s, %s, %s)",
            (1, "one", D("1.50"), datetime.date(2026, 11, 28), uuid.UUID(int=1), True),
        )
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO items (id, name, price) VALUES (%s, %s, %s)",
                [(i, f"item {i}", D(i) / 4) for i in range(2, 102)],
            )
        conn.commit()

        row = conn.execute(
            "SELECT id, name, price, added, tag, ok FROM items WHERE id = %s", (1,)
        ).fetchone()
        assert row == (1, "one", D("1.50"), datetime.date(2026, 11, 28), uuid.UUID(int=1), True), row
        totals = conn.execute("SELECT count(*), sum(price) FROM items").fetchone()
        assert totals == (101, D("1289.00")), totals

        # A rolled-back transaction leaves nothing behind.
        try:
            with conn.transaction():
                conn.execute("INSERT INTO items (id, name) VALUES (%s, %s)", (1000, "gone"))
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        assert conn.execute("SELECT count(*) FROM items WHERE id = 1000").fetchone() == (0,)

        # Errors carry their SQLSTATE as psycopg's exception classes.
        try:
            conn.execute("INSERT INTO items (id) VALUES (1)")
            raise AssertionError("a duplicate key was accepted")
        except psycopg.errors.UniqueViolation as e:
            assert e.sqlstate == "23505", e.sqlstate
        conn.rollback()

        # Binary results through server-side prepared statements (prepared after reuse).
        with conn.cursor(binary=True) as cur:
            for i in range(1, 8):
                cur.execute("SELECT name, price FROM items WHERE id = %s", (i,), prepare=True)
                name, price = cur.fetchone()
                assert name == ("one" if i == 1 else f"item {i}"), name
        conn.execute("DEALLOCATE ALL")
        conn.commit()
    print("ok")


if __name__ == "__main__":
    main(sys.argv[1])
