//! Index expressions: an index key column that is an expression over the table's columns
//! (`CREATE INDEX ON users ((lower(email)))`), stored as SQL text and evaluated here
//! without this crate knowing SQL.
//!
//! The query layer owns SQL. It registers one [`ExpressionCompiler`] per process
//! ([`register_expression_compiler`], done when a database opens), which turns an
//! expression's text and its table's definition into a [`CompiledExpression`]; index
//! maintenance, replay and checkpoint loading evaluate keys through it.
//!
//! Invariants:
//! - Only the text is stored (log records, checkpoints, digests); index contents are derived
//!   from the rows, like every index.
//! - An index expression is immutable (the query layer refuses anything else at CREATE
//!   INDEX), so evaluating it again (at update, delete, replay, checkpoint load) gives the
//!   value it gave when the row was written: replay rebuilds identical index contents.
//! - The compiled form is cached in the definition that holds the text. It depends on the
//!   table's columns, so the cache is never copied: a clone starts empty and compiles again
//!   against whatever definition it ends up in. Every definition change clones (definitions
//!   are shared as immutable `Arc<TableDef>`), so a cached form always matches its table.

use std::any::Any;
use std::fmt;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::catalog::TableDef;
use crate::error::{Error, Result};
use crate::value::Value;

/// Compiles index expressions; implemented by the query layer.
pub trait ExpressionCompiler: Send + Sync {
    /// Compiles `sql`, an expression over the columns of `table`.
    fn compile(&self, table: &TableDef, sql: &str) -> Result<Arc<dyn CompiledExpression>>;
}

/// An index expression ready to evaluate against rows of the table it was compiled for.
pub trait CompiledExpression: Send + Sync + fmt::Debug {
    /// The expression's value for `row`. Deterministic: same row, same value.
    fn eval(&self, row: &[Value]) -> Result<Value>;

    /// The expression as PostgreSQL prints it in a key (`lower(email)`,
    /// `(doc ->> 'key'::text)`): in `pg_get_indexdef` and unique violation details.
    fn display(&self) -> &str;

    /// The implementation, for the layer that made it (the planner reads its bound form).
    fn as_any(&self) -> &dyn Any;
}

static COMPILER: OnceLock<&'static dyn ExpressionCompiler> = OnceLock::new();

/// Makes `compiler` the one that compiles index expressions in this process. The first
/// registration wins; later ones are ignored (there is one SQL layer per binary).
pub fn register_expression_compiler(compiler: &'static dyn ExpressionCompiler) {
    let _ = COMPILER.set(compiler);
}

fn compiler() -> Result<&'static dyn ExpressionCompiler> {
    COMPILER.get().copied().ok_or_else(|| {
        Error::Internal(
            "an index expression needs the SQL layer to evaluate it, and none is registered \
             (zqlite_query registers it when a database opens)"
                .into(),
        )
    })
}

/// The SQL text of an index expression, with its compiled form cached (see the module
/// documentation for when the cache is valid). Equal, serialized and shown as its text.
pub struct IndexExpression {
    sql: String,
    compiled: OnceLock<Arc<dyn CompiledExpression>>,
}

impl IndexExpression {
    pub fn new(sql: impl Into<String>) -> Self {
        IndexExpression {
            sql: sql.into(),
            compiled: OnceLock::new(),
        }
    }

    /// The expression as stored.
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// The compiled expression, compiled against `table` on first use.
    pub fn compiled(&self, table: &TableDef) -> Result<&Arc<dyn CompiledExpression>> {
        if let Some(compiled) = self.compiled.get() {
            return Ok(compiled);
        }
        let compiled = compiler()?.compile(table, &self.sql)?;
        // A concurrent first use may have set it already; both compiled the same text.
        let _ = self.compiled.set(compiled);
        Ok(self
            .compiled
            .get()
            .expect("set just above, and a OnceLock is never emptied"))
    }

    /// The expression's value for `row`, a row of `table`.
    pub fn eval(&self, table: &TableDef, row: &[Value]) -> Result<Value> {
        self.compiled(table)?.eval(row)
    }

    /// The expression as PostgreSQL prints it (its stored text if it does not compile).
    pub fn display(&self, table: &TableDef) -> String {
        self.compiled(table)
            .map_or_else(|_| self.sql.clone(), |c| c.display().to_string())
    }
}

/// A copy starts with an empty cache: it may end up in a definition with other columns.
impl Clone for IndexExpression {
    fn clone(&self) -> Self {
        IndexExpression::new(self.sql.clone())
    }
}

impl PartialEq for IndexExpression {
    fn eq(&self, other: &Self) -> bool {
        self.sql == other.sql
    }
}

impl Eq for IndexExpression {}

impl fmt::Debug for IndexExpression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("IndexExpression").field(&self.sql).finish()
    }
}

impl Serialize for IndexExpression {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.sql)
    }
}

impl<'de> Deserialize<'de> for IndexExpression {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d).map(IndexExpression::new)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::Path;
    use std::sync::Mutex;

    use zqlite_log::sim::SimFs;

    use super::*;
    use crate::catalog::{IndexColumn, IndexDef};
    use crate::change::{Change, TxMeta};
    use crate::replay::{open_state, replay_all};
    use crate::state::State;
    use crate::store::{Store, StoreOptions};
    use crate::value::DataType;

    /// Stands in for the SQL layer: knows `lower(<column>)` only, and counts compilations
    /// per text.
    struct Lower {
        compiled: Mutex<HashMap<String, usize>>,
    }

    #[derive(Debug)]
    struct LowerOf {
        column: usize,
        display: String,
    }

    impl ExpressionCompiler for Lower {
        fn compile(&self, table: &TableDef, sql: &str) -> Result<Arc<dyn CompiledExpression>> {
            *self
                .compiled
                .lock()
                .unwrap()
                .entry(sql.to_string())
                .or_default() += 1;
            let name = sql
                .strip_prefix("lower(")
                .and_then(|s| s.strip_suffix(')'))
                .map(str::trim);
            let column = name.and_then(|n| table.column_index(n));
            match (name, column) {
                (Some(name), Some(column)) => Ok(Arc::new(LowerOf {
                    column,
                    display: format!("lower({name})"),
                })),
                _ => Err(Error::Expression {
                    sqlstate: "42703",
                    message: format!("cannot compile {sql}"),
                    detail: None,
                }),
            }
        }
    }

    impl CompiledExpression for LowerOf {
        fn eval(&self, row: &[Value]) -> Result<Value> {
            Ok(match &row[self.column] {
                Value::Text(s) => Value::Text(s.to_lowercase()),
                other => other.clone(),
            })
        }

        fn display(&self) -> &str {
            &self.display
        }

        fn as_any(&self) -> &dyn Any {
            self
        }
    }

    fn lower() -> &'static Lower {
        static LOWER: OnceLock<Lower> = OnceLock::new();
        let lower = LOWER.get_or_init(|| Lower {
            compiled: Mutex::new(HashMap::new()),
        });
        register_expression_compiler(lower);
        lower
    }

    use crate::catalog::test_column as column;

    fn users(indexes: Vec<IndexDef>) -> TableDef {
        TableDef {
            id: 1,
            name: "users".into(),
            columns: vec![
                column("id", DataType::Int8),
                column("email", DataType::Text),
            ],
            primary_key: Some(vec![0]),
            primary_key_name: Some("users_pkey".into()),
            indexes,
            checks: Vec::new(),
            foreign_keys: Vec::new(),
            materialized: None,
        }
    }

    fn lower_email(name: &str, sql: &str, unique: bool) -> IndexDef {
        IndexDef {
            name: name.into(),
            columns: vec![IndexColumn::Expression(IndexExpression::new(sql))],
            unique,
            constraint: false,
        }
    }

    #[test]
    fn a_definition_compiles_once_and_its_copies_compile_again() {
        let lower = lower();
        let sql = "lower( email )";
        let count = || lower.compiled.lock().unwrap().get(sql).copied();
        let def = users(vec![lower_email("by_email", sql, false)]);
        let row = [Value::Int8(1), Value::Text("Ann@X.com".into())];
        let key = def.indexes[0].key_of(&def, &row).unwrap();
        assert_eq!(key, vec![Value::Text("ann@x.com".into())]);
        def.indexes[0].key_of(&def, &row).unwrap();
        assert_eq!(count(), Some(1));
        assert_eq!(def.indexes[0].describe_columns(&def), "lower(email)");

        let copy = def.clone();
        assert_eq!(copy, def);
        copy.indexes[0].key_of(&copy, &row).unwrap();
        assert_eq!(count(), Some(2));

        let broken = users(vec![lower_email("by_nothing", "lower(nothing)", false)]);
        let err = broken.indexes[0].key_of(&broken, &row).unwrap_err();
        assert_eq!(err.sqlstate(), "42703");
        // Shown as stored when it does not compile.
        assert_eq!(
            broken.indexes[0].describe_columns(&broken),
            "lower(nothing)"
        );
    }

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    /// The entries of the table's first index: (key values, row key).
    fn entries(state: &State) -> Vec<Vec<Value>> {
        let data = state.table_data(1).unwrap();
        data.index_range(0, std::ops::Bound::Unbounded, std::ops::Bound::Unbounded)
            .map(|k| k.to_vec())
            .collect()
    }

    #[test]
    fn a_unique_expression_index_is_enforced_and_replay_rebuilds_it_identically() {
        lower();
        let fs = SimFs::new();
        let store = Store::open("/db", StoreOptions::simulated(&fs)).unwrap();
        let commit = |txn| {
            store
                .wait(store.commit(txn, TxMeta::default()).unwrap())
                .unwrap()
        };
        let mut txn = store.begin();
        txn.apply(Change::CreateTable(users(Vec::new()))).unwrap();
        txn.insert(1, vec![Value::Int8(1), text("Bob@x.com")])
            .unwrap();
        txn.insert(1, vec![Value::Int8(2), Value::Null]).unwrap();
        commit(txn);

        // Built over the rows already there.
        let mut txn = store.begin();
        let index = lower_email("users_lower_email", "lower(email)", true);
        txn.apply(Change::CreateIndex { table: 1, index }).unwrap();
        commit(txn);

        let mut txn = store.begin();
        let err = txn
            .insert(1, vec![Value::Int8(3), text("BOB@X.COM")])
            .unwrap_err();
        assert_eq!(err.sqlstate(), "23505");
        assert_eq!(
            err.to_string(),
            "duplicate key value violates unique constraint \"users_lower_email\""
        );
        assert_eq!(
            err.detail().as_deref(),
            Some("Key (lower(email))=(bob@x.com) already exists.")
        );
        // NULLs do not conflict; an update keeping its key is no conflict with itself.
        txn.insert(1, vec![Value::Int8(3), Value::Null]).unwrap();
        txn.insert(1, vec![Value::Int8(4), text("Carol@x.com")])
            .unwrap();
        txn.update(
            1,
            &[Value::Int8(1)],
            vec![Value::Int8(1), text("BOB@x.com")],
        )
        .unwrap();
        commit(txn);
        store.checkpoint().unwrap();

        let mut txn = store.begin();
        txn.update(
            1,
            &[Value::Int8(4)],
            vec![Value::Int8(4), text("Dave@x.com")],
        )
        .unwrap();
        txn.delete(1, &[Value::Int8(2)]).unwrap();
        // The old key is gone, so it is free again.
        txn.insert(1, vec![Value::Int8(5), text("carol@X.com")])
            .unwrap();
        commit(txn);

        let live = store.snapshot();
        let key = |id: i64| Value::Int8(id);
        assert_eq!(
            entries(&live),
            vec![
                vec![text("bob@x.com"), key(1)],
                vec![text("carol@x.com"), key(5)],
                vec![text("dave@x.com"), key(4)],
                vec![Value::Null, key(3)],
            ]
        );
        // Replay from the start and from the checkpoint give equal states, index contents
        // included (the digest covers rows only; `State` equality covers indexes).
        let replayed = replay_all(store.log()).unwrap();
        assert_eq!(entries(&replayed), entries(&live));
        assert_eq!(replayed, *live);
        let opened = open_state(&fs, Path::new("/db/snapshots"), store.log()).unwrap();
        assert!(opened.checkpoint_lsn.is_some());
        assert_eq!(opened.state, *live);

        let mut txn = store.begin();
        txn.apply(Change::Truncate { table: 1 }).unwrap();
        txn.insert(1, vec![Value::Int8(9), text("Bob@x.com")])
            .unwrap();
        commit(txn);
        assert_eq!(
            entries(&store.snapshot()),
            vec![vec![text("bob@x.com"), key(9)]]
        );
        assert_eq!(replay_all(store.log()).unwrap(), *store.snapshot());
    }
}
