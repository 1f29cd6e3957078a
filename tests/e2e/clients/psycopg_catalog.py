"""psycopg 3 reflecting a schema from `zqlite serve` with the catalog queries SQLAlchemy's
PostgreSQL dialect sends (has_table, get_table_oid, get_columns, get_pk_constraint,
get_foreign_keys, get_indexes) and through information_schema.

Usage: python3 psycopg_catalog.py "host=... port=... user=zqlite dbname=zqlite"
Prints "ok" last when every check passed; any failed check raises (non-zero exit).
"""

import sys

import psycopg

HAS_TABLE = """
SELECT pg_catalog.pg_class.relname FROM pg_catalog.pg_class
JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace
WHERE pg_catalog.pg_class.relname = %(table_name)s
  AND pg_catalog.pg_class.relkind = ANY (ARRAY[%(p1)s, %(p2)s, %(p3)s, %(p4)s, %(p5)s])
  AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid)
  AND pg_catalog.pg_namespace.nspname != %(nspname_1)s
"""

TABLE_OID = """
SELECT c.oid FROM pg_catalog.pg_class c
LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE (pg_catalog.pg_table_is_visible(c.oid)) AND c.relname = %(table_name)s
  AND c.relkind in ('r', 'v', 'm', 'f', 'p')
"""

COLUMNS = """
SELECT pg_catalog.pg_attribute.attname AS name,
  pg_catalog.format_type(pg_catalog.pg_attribute.atttypid, pg_catalog.pg_attribute.atttypmod)
    AS format_type,
  (SELECT pg_catalog.pg_get_expr(pg_catalog.pg_attrdef.adbin, pg_catalog.pg_attrdef.adrelid)
     AS pg_get_expr_1
   FROM pg_catalog.pg_attrdef
   WHERE pg_catalog.pg_attrdef.adrelid = pg_catalog.pg_attribute.attrelid
     AND pg_catalog.pg_attrdef.adnum = pg_catalog.pg_attribute.attnum
     AND pg_catalog.pg_attribute.atthasdef) AS "default",
  pg_catalog.pg_attribute.attnotnull AS not_null,
  pg_catalog.pg_class.relname AS table_name,
  pg_catalog.pg_description.description AS comment,
  pg_catalog.pg_attribute.attgenerated AS generated,
  pg_catalog.pg_attribute.attidentity AS identity
FROM pg_catalog.pg_class
LEFT OUTER JOIN pg_catalog.pg_attribute
  ON pg_catalog.pg_class.oid = pg_catalog.pg_attribute.attrelid
  AND pg_catalog.pg_attribute.attnum > %(attnum_1)s
  AND NOT pg_catalog.pg_attribute.attisdropped
LEFT OUTER JOIN pg_catalog.pg_description
  ON pg_catalog.pg_description.objoid = pg_catalog.pg_attribute.attrelid
  AND pg_catalog.pg_description.objsubid = pg_catalog.pg_attribute.attnum
JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace
WHERE pg_catalog.pg_class.relkind = ANY (ARRAY[%(p1)s, %(p2)s, %(p3)s, %(p4)s, %(p5)s])
  AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid)
  AND pg_catalog.pg_namespace.nspname != %(nspname_1)s
  AND pg_catalog.pg_class.relname IN (%(filter_names_1)s)
ORDER BY pg_catalog.pg_class.relname, pg_catalog.pg_attribute.attnum
"""

PK_COLUMNS = """
SELECT a.attname
FROM pg_class t
JOIN pg_index ix ON t.oid = ix.indrelid
JOIN pg_attribute a ON t.oid = a.attrelid AND a.attnum = ANY(ix.indkey)
WHERE t.oid = %(table_oid)s AND ix.indisprimary = 't'
ORDER BY a.attnum
"""

PK_NAME = """
SELECT conname FROM pg_catalog.pg_constraint r
WHERE r.conrelid = %(table_oid)s AND r.contype = 'p'
ORDER BY 1
"""

FOREIGN_KEYS = """
SELECT r.conname, pg_catalog.pg_get_constraintdef(r.oid, true) as condef, n.nspname as conschema
FROM pg_catalog.pg_constraint r, pg_namespace n, pg_class c
WHERE r.conrelid = %(table)s AND r.contype = 'f'
  AND c.oid = confrelid AND n.oid = c.relnamespace
ORDER BY 1
"""

INDEXES = """
SELECT i.relname as relname, ix.indisunique, ix.indexprs, ix.indpred, a.attname, a.attnum,
  c.conrelid, ix.indkey, ix.indoption, i.reloptions, am.amname
FROM pg_class t
JOIN pg_index ix ON t.oid = ix.indrelid
JOIN pg_class i ON i.oid = ix.indexrelid
LEFT OUTER JOIN pg_attribute a ON t.oid = a.attrelid AND a.attnum = ANY(ix.indkey)
LEFT OUTER JOIN pg_constraint c
  ON (ix.indrelid = c.conrelid AND ix.indexrelid = c.conindid AND c.contype IN ('p', 'u', 'x'))
LEFT OUTER JOIN pg_am am ON i.relam = am.oid
WHERE t.relkind IN ('r', 'v', 'f', 'm') AND t.oid = %(table_oid)s AND ix.indisprimary = 'f'
ORDER BY t.relname, i.relname
"""

INFO_COLUMNS = """
SELECT column_name, data_type, udt_name, is_nullable, column_default,
  character_maximum_length, numeric_precision, numeric_scale, ordinal_position
FROM information_schema.columns
WHERE table_schema = %s AND table_name = %s
ORDER BY ordinal_position
"""

KINDS = {"p1": "r", "p2": "p", "p3": "f", "p4": "v", "p5": "m"}


def main(dsn):
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE authors (id integer PRIMARY KEY, name text NOT NULL,"
            " email varchar(100) UNIQUE)"
        )
        conn.execute(
            "CREATE TABLE books (id bigint PRIMARY KEY,"
            " author_id integer NOT NULL REFERENCES authors (id) ON DELETE CASCADE,"
            " title text NOT NULL, price numeric(10,2) DEFAULT 0)"
        )
        conn.execute("CREATE INDEX books_title_idx ON books (title)")

        def rows(sql, params=None):
            return conn.execute(sql, params).fetchall()

        # has_table
        args = dict(KINDS, nspname_1="pg_catalog")
        assert rows(HAS_TABLE, dict(args, table_name="books")) == [("books",)]
        assert rows(HAS_TABLE, dict(args, table_name="nope")) == []

        # get_table_oid
        [(books_oid,)] = rows(TABLE_OID, {"table_name": "books"})
        [(authors_oid,)] = rows(TABLE_OID, {"table_name": "authors"})
        assert isinstance(books_oid, int) and books_oid >= 16384, books_oid

        # get_columns
        cols = rows(COLUMNS, dict(args, attnum_1=0, filter_names_1="books"))
        assert cols == [
            ("id", "bigint", None, True, "books", None, "", ""),
            ("author_id", "integer", None, True, "books", None, "", ""),
            ("title", "text", None, True, "books", None, "", ""),
            ("price", "numeric(10,2)", "0", False, "books", None, "", ""),
        ], cols

        # get_pk_constraint
        assert rows(PK_COLUMNS, {"table_oid": books_oid}) == [("id",)]
        assert rows(PK_NAME, {"table_oid": books_oid}) == [("books_pkey",)]

        # get_foreign_keys
        fks = rows(FOREIGN_KEYS, {"table": books_oid})
        assert fks == [
            (
                "books_author_id_fkey",
                "FOREIGN KEY (author_id) REFERENCES authors(id) ON DELETE CASCADE",
                "public",
            )
        ], fks

        # get_indexes: the secondary indexes with their columns
        def keys(indkey):
            # int2vector: PostgreSQL sends "3 1" (text); zqlite shows it as smallint[].
            return indkey if isinstance(indkey, list) else [int(k) for k in indkey.split()]

        idx = rows(INDEXES, {"table_oid": books_oid})
        assert [(r[0], r[1], r[4], r[6], keys(r[7]), r[10]) for r in idx] == [
            ("books_title_idx", False, "title", None, [3], "btree")
        ], idx
        idx = rows(INDEXES, {"table_oid": authors_oid})
        assert [(r[0], r[1], r[4], r[6] == authors_oid) for r in idx] == [
            ("authors_email_key", True, "email", True)
        ], idx

        # information_schema
        info = rows(INFO_COLUMNS, ("public", "books"))
        assert info == [
            ("id", "bigint", "int8", "NO", None, None, 64, 0, 1),
            ("author_id", "integer", "int4", "NO", None, None, 32, 0, 2),
            ("title", "text", "text", "NO", None, None, None, None, 3),
            ("price", "numeric", "numeric", "YES", "0", None, 10, 2, 4),
        ], info
        tables = rows(
            "SELECT table_name, table_type FROM information_schema.tables"
            " WHERE table_schema = 'public' ORDER BY table_name"
        )
        assert tables == [("authors", "BASE TABLE"), ("books", "BASE TABLE")], tables
    print("ok")


if __name__ == "__main__":
    main(sys.argv[1])
