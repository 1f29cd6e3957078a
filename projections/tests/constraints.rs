//! Constraint checks and foreign-key actions through the transaction API, with PostgreSQL's
//! SQLSTATEs and wording.

mod common;

use common::*;
use zqlite_projections::{Change, DataType, FkAction, Store, StoreOptions, TxMeta, Value};

fn store() -> Store {
    Store::open("/db", StoreOptions::in_memory()).unwrap()
}

#[test]
fn primary_key_unique_and_not_null_violations() {
    let store = store();
    let mut def = table(
        1,
        "users",
        &[("email", DataType::Text), ("name", DataType::Text)],
    );
    def.indexes.push(unique_index("users_email_key", vec![1]));
    def.columns[2].nullable = false;
    create(&store, def);
    let mut txn = store.begin();
    txn.insert(1, vec![int(1), text("a@x"), text("Ann")])
        .unwrap();

    let err = txn
        .insert(1, vec![int(1), text("b@x"), text("Bob")])
        .unwrap_err();
    assert_eq!(err.sqlstate(), "23505");
    assert_eq!(
        err.to_string(),
        "duplicate key value violates unique constraint \"users_pkey\""
    );
    assert_eq!(err.detail().unwrap(), "Key (id)=(1) already exists.");

    let err = txn
        .insert(1, vec![int(2), text("a@x"), text("Bob")])
        .unwrap_err();
    assert_eq!(err.sqlstate(), "23505");
    assert!(err.to_string().contains("users_email_key"));
    assert_eq!(err.detail().unwrap(), "Key (email)=(a@x) already exists.");

    let err = txn
        .insert(1, vec![int(2), text("b@x"), Value::Null])
        .unwrap_err();
    assert_eq!(err.sqlstate(), "23502");
    assert_eq!(
        err.to_string(),
        "null value in column \"name\" of relation \"users\" violates not-null constraint"
    );
    // NULLs never clash in a unique index.
    txn.insert(1, vec![int(3), Value::Null, text("C")]).unwrap();
    txn.insert(1, vec![int(4), Value::Null, text("D")]).unwrap();
    // Failed changes left nothing behind.
    assert_eq!(txn.state().table_data(1).unwrap().len(), 3);
    // Updating a row to its own unique values is fine; onto another's is not.
    txn.update(1, &[int(1)], vec![int(1), text("a@x"), text("Ann B")])
        .unwrap();
    let err = txn
        .update(1, &[int(3)], vec![int(3), text("a@x"), text("C")])
        .unwrap_err();
    assert_eq!(err.sqlstate(), "23505");
    let pending = store.commit(txn, TxMeta::default()).unwrap();
    store.wait(pending).unwrap();
    assert_eq!(rows(&store, "users").len(), 3);
}

#[test]
fn foreign_keys_restrict_cascade_and_set_null() {
    let store = store();
    create(&store, table(1, "parents", &[]));
    let mut restrict = table(2, "restricted", &[("parent", DataType::Int8)]);
    restrict
        .foreign_keys
        .push(fk("restricted_parent_fkey", 1, 1, FkAction::Restrict));
    create(&store, restrict);
    let mut cascade = table(3, "cascaded", &[("parent", DataType::Int8)]);
    cascade
        .foreign_keys
        .push(fk("cascaded_parent_fkey", 1, 1, FkAction::Cascade));
    create(&store, cascade);
    let mut set_null = table(4, "nulled", &[("parent", DataType::Int8)]);
    set_null
        .foreign_keys
        .push(fk("nulled_parent_fkey", 1, 1, FkAction::SetNull));
    create(&store, set_null);
    // A grandchild of the cascaded table cascades too.
    let mut grandchild = table(5, "grandchildren", &[("child", DataType::Int8)]);
    grandchild
        .foreign_keys
        .push(fk("grandchildren_child_fkey", 1, 3, FkAction::Cascade));
    create(&store, grandchild);

    let mut txn = store.begin();
    for p in 1..=3 {
        txn.insert(1, vec![int(p)]).unwrap();
    }
    let err = txn.insert(2, vec![int(10), int(99)]).unwrap_err();
    assert_eq!(err.sqlstate(), "23503");
    assert_eq!(
        err.to_string(),
        "insert or update on table \"restricted\" violates foreign key constraint \"restricted_parent_fkey\""
    );
    assert_eq!(
        err.detail().unwrap(),
        "Key (parent)=(99) is not present in table \"parents\"."
    );
    txn.insert(2, vec![int(10), int(1)]).unwrap();
    txn.insert(2, vec![int(11), Value::Null]).unwrap(); // NULL references nothing
    txn.insert(3, vec![int(20), int(2)]).unwrap();
    txn.insert(3, vec![int(21), int(2)]).unwrap();
    txn.insert(5, vec![int(30), int(20)]).unwrap();
    txn.insert(4, vec![int(40), int(2)]).unwrap();

    let err = txn.delete(1, &[int(1)]).unwrap_err();
    assert_eq!(err.sqlstate(), "23503");
    assert!(err.to_string().starts_with(
        "delete on table \"parents\" violates foreign key constraint \"restricted_parent_fkey\""
    ));
    assert_eq!(
        txn.state().table_data(1).unwrap().len(),
        3,
        "the failed delete changed nothing"
    );

    txn.delete(1, &[int(2)]).unwrap();
    let state = txn.state();
    assert_eq!(state.table_data(3).unwrap().len(), 0, "children cascaded");
    assert_eq!(
        state.table_data(5).unwrap().len(),
        0,
        "grandchildren cascaded"
    );
    let nulled = state.table_data(4).unwrap().get(&[int(40)]).unwrap();
    assert!(nulled.row[1].is_null(), "SET NULL applied");
    let pending = store.commit(txn, TxMeta::default()).unwrap();
    store.wait(pending).unwrap();

    // Dropping a referenced table is refused while the reference exists.
    let mut txn = store.begin();
    let err = txn.apply(Change::DropTable { table: 1 }).unwrap_err();
    assert_eq!(err.sqlstate(), "2BP01");
}

#[test]
fn ddl_errors_have_postgres_codes() {
    let store = store();
    create(&store, table(1, "t", &[]));
    let mut txn = store.begin();
    let err = txn
        .apply(Change::CreateTable(table(2, "t", &[])))
        .unwrap_err();
    assert_eq!(err.sqlstate(), "42P07");
    assert_eq!(err.to_string(), "relation \"t\" already exists");
    let err = txn
        .apply(Change::DropView { name: "v".into() })
        .unwrap_err();
    assert_eq!(err.sqlstate(), "42P01");
    txn.insert(1, vec![int(1)]).unwrap();
    txn.insert(1, vec![int(1 + 1)]).unwrap();
    // A unique index over duplicate data cannot be built.
    txn.apply(Change::AddColumn {
        table: 1,
        column: column("c", DataType::Int8, true),
        fill: int(7),
    })
    .unwrap();
    let err = txn
        .apply(Change::CreateIndex {
            table: 1,
            index: unique_index("t_c_key", vec![1]),
        })
        .unwrap_err();
    assert_eq!(err.sqlstate(), "23505");
    assert_eq!(err.detail().unwrap(), "Key (c)=(7) is duplicated.");
    // A NOT NULL column cannot be added with NULLs to a non-empty table.
    let err = txn
        .apply(Change::AddColumn {
            table: 1,
            column: column("d", DataType::Int8, false),
            fill: Value::Null,
        })
        .unwrap_err();
    assert_eq!(err.sqlstate(), "23502");
}
