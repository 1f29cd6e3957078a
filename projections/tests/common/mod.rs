//! Helpers for the projections' integration tests: tables defined without SQL.
#![allow(dead_code)]

use zqlite_projections::{
    Change, ColumnDef, DataType, FkAction, ForeignKey, IndexDef, Store, TableDef, TableId,
    Transaction, TxMeta, Value,
};

pub fn column(name: &str, data_type: DataType, nullable: bool) -> ColumnDef {
    ColumnDef {
        name: name.into(),
        data_type,
        nullable,
        default: None,
        identity: None,
    }
}

/// `CREATE TABLE name (id bigint PRIMARY KEY, <extra columns>)`.
pub fn table(id: TableId, name: &str, extra: &[(&str, DataType)]) -> TableDef {
    let mut columns = vec![column("id", DataType::Int8, false)];
    columns.extend(extra.iter().map(|(n, t)| column(n, *t, true)));
    TableDef {
        id,
        name: name.into(),
        columns,
        primary_key: Some(vec![0]),
        primary_key_name: Some(format!("{name}_pkey")),
        indexes: Vec::new(),
        checks: Vec::new(),
        foreign_keys: Vec::new(),
        materialized: None,
    }
}

pub fn unique_index(name: &str, columns: Vec<usize>) -> IndexDef {
    IndexDef::on_columns(name.into(), &columns, true, true)
}

pub fn fk(name: &str, column: usize, ref_table: TableId, on_delete: FkAction) -> ForeignKey {
    ForeignKey {
        name: name.into(),
        columns: vec![column],
        ref_table,
        ref_columns: vec![0],
        on_delete,
        on_update: FkAction::Restrict,
    }
}

pub fn int(v: i64) -> Value {
    Value::Int8(v)
}

pub fn text(v: &str) -> Value {
    Value::Text(v.into())
}

/// Commits a transaction built by `f` and waits for it.
pub fn commit_with(store: &Store, f: impl FnOnce(&mut Transaction)) -> u64 {
    let mut txn = store.begin();
    f(&mut txn);
    let pending = store
        .commit(txn, TxMeta::default())
        .expect("commit validates");
    store.wait(pending).expect("commit is durable")
}

pub fn create(store: &Store, def: TableDef) {
    commit_with(store, |t| t.apply(Change::CreateTable(def)).unwrap());
}

/// All rows of a table by name, in key order.
pub fn rows(store: &Store, name: &str) -> Vec<Vec<Value>> {
    let snap = store.snapshot();
    let (_, data) = snap.table_by_name(name).expect("table exists");
    data.scan().map(|(_, e)| e.row.to_vec()).collect()
}

/// A table without a primary key (rows keyed by hidden row ids), all columns nullable.
pub fn heap_table(id: TableId, name: &str, columns: &[(&str, DataType)]) -> TableDef {
    TableDef {
        id,
        name: name.into(),
        columns: columns.iter().map(|(n, t)| column(n, *t, true)).collect(),
        primary_key: None,
        primary_key_name: None,
        indexes: Vec::new(),
        checks: Vec::new(),
        foreign_keys: Vec::new(),
        materialized: None,
    }
}
