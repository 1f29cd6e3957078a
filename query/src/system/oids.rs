//! Object identifiers (OIDs) of the catalog objects zqlite shows through `pg_catalog`.
//!
//! PostgreSQL stores an OID with every catalog row; zqlite derives them from what the log
//! stores, so the same catalog always gets the same OIDs, across restarts, replays and
//! rebuilds:
//! - built-in objects use PostgreSQL 15's fixed OIDs (`pg_catalog` = 11, `public` = 2200,
//!   types from [`DataType::oid`], the `btree` access method = 403, the bootstrap role = 10);
//! - a table with catalog id `t` owns the block of [`BLOCK`] OIDs starting at
//!   `16384 + t * BLOCK`: the table itself at offset 0, its primary-key index at 1, its
//!   secondary index number `i` (in catalog order) at `2 + i`, the constraints behind those
//!   indexes at `SLOT + 1` (primary key) and `SLOT + 2 + i`, its CHECK constraint `i` at
//!   `2 * SLOT + i`, its foreign key `i` at `3 * SLOT + i` and the default of column `k` at
//!   `4 * SLOT + k`;
//! - views, sequences and roles, which the catalog keys by name, get an OID hashed from
//!   their kind and name (FNV-1a) at or above 2^31, above every table block.
//!
//! Invariants:
//! - [`Object::oid`] and [`resolve`] are inverse on the objects of a catalog.
//! - A table's OIDs do not change while it exists; an index or constraint keeps its OID
//!   until an earlier one of the same table is dropped (positions are catalog order).

use std::sync::Arc;

use zqlite_projections::State;
use zqlite_projections::catalog::{SequenceDef, TableDef, ViewDef};

/// `pg_catalog`'s namespace OID.
pub const PG_CATALOG: i64 = 11;
/// `public`'s namespace OID.
pub const PUBLIC: i64 = 2200;
/// `information_schema`'s namespace OID (PostgreSQL assigns one at initdb; this is 15's).
pub const INFORMATION_SCHEMA: i64 = 13183;
/// The bootstrap superuser's OID, owner of every object.
pub const BOOTSTRAP_ROLE: i64 = 10;
/// The bootstrap superuser's name (the server's default user and database name).
pub const BOOTSTRAP_ROLE_NAME: &str = "zqlite";
/// `pg_database_owner`, the owner of `public` (PostgreSQL 15), a role nobody logs in as.
pub const DATABASE_OWNER_ROLE: i64 = 6171;
/// The database's OID.
pub const DATABASE: i64 = 5;
/// The `heap` table access method.
pub const HEAP_AM: i64 = 2;
/// The `btree` index access method.
pub const BTREE_AM: i64 = 403;
/// The default collation (`pg_collation`), which text columns have.
pub const DEFAULT_COLLATION: i64 = 100;
/// `pg_default`, the tablespace of everything.
pub const DEFAULT_TABLESPACE: i64 = 1663;

/// The first OID of user objects (PostgreSQL's `FirstNormalObjectId`).
const FIRST_NORMAL: i64 = 16384;
/// OIDs per table block (see the module doc).
pub const BLOCK: i64 = 8192;
/// Objects of one kind per table (indexes, checks, foreign keys).
const SLOT: i64 = 2048;
/// Where hashed OIDs start.
const HASHED: i64 = 1 << 31;

/// A catalog object that has an OID.
#[derive(Debug, Clone)]
pub enum Object {
    Table(Arc<TableDef>),
    /// The index behind the primary key.
    PrimaryKeyIndex(Arc<TableDef>),
    /// Secondary index number `.1` of the table.
    Index(Arc<TableDef>, usize),
    /// The PRIMARY KEY constraint.
    PrimaryKey(Arc<TableDef>),
    /// The UNIQUE constraint behind secondary index `.1`.
    Unique(Arc<TableDef>, usize),
    Check(Arc<TableDef>, usize),
    ForeignKey(Arc<TableDef>, usize),
    /// The default of column `.1`.
    Default(Arc<TableDef>, usize),
    View(Arc<ViewDef>),
    Sequence(Arc<SequenceDef>),
}

fn block(t: &TableDef) -> i64 {
    FIRST_NORMAL + i64::try_from(t.id).unwrap_or(i64::MAX / BLOCK - 1) * BLOCK
}

fn at(t: &TableDef, offset: usize) -> i64 {
    block(t) + i64::try_from(offset).unwrap_or(SLOT - 1)
}

/// FNV-1a of `kind:name`, folded into the hashed range.
pub fn hashed(kind: &str, name: &str) -> i64 {
    let mut h: u32 = 0x811c_9dc5;
    for b in kind.bytes().chain([b':']).chain(name.bytes()) {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    HASHED + i64::from(h & 0x7fff_ffff)
}

impl Object {
    pub fn oid(&self) -> i64 {
        match self {
            Object::Table(t) => block(t),
            Object::PrimaryKeyIndex(t) => at(t, 1),
            Object::Index(t, i) => at(t, 2 + i),
            Object::PrimaryKey(t) => block(t) + SLOT + 1,
            Object::Unique(t, i) => at(t, 2 + i) + SLOT,
            Object::Check(t, i) => at(t, *i) + 2 * SLOT,
            Object::ForeignKey(t, i) => at(t, *i) + 3 * SLOT,
            Object::Default(t, k) => at(t, *k) + 4 * SLOT,
            Object::View(v) => view_oid(&v.name),
            Object::Sequence(s) => sequence_oid(&s.name),
        }
    }
}

pub fn table_oid(t: &TableDef) -> i64 {
    block(t)
}

pub fn view_oid(name: &str) -> i64 {
    hashed("view", name)
}

pub fn sequence_oid(name: &str) -> i64 {
    hashed("sequence", name)
}

/// A role's OID: 10 for the bootstrap role, hashed from the name for the others.
pub fn role_oid(name: &str) -> i64 {
    if name == BOOTSTRAP_ROLE_NAME {
        BOOTSTRAP_ROLE
    } else {
        hashed("role", name)
    }
}

/// The name of the role with this OID.
pub fn role_name(state: &State, oid: i64) -> Option<String> {
    if oid == BOOTSTRAP_ROLE {
        return Some(BOOTSTRAP_ROLE_NAME.to_string());
    }
    if oid == DATABASE_OWNER_ROLE {
        return Some("pg_database_owner".to_string());
    }
    state
        .catalog()
        .roles()
        .find(|r| role_oid(&r.name) == oid)
        .map(|r| r.name.clone())
}

/// Whether a table has an object at `offset` of its block.
fn table_object(t: &Arc<TableDef>, offset: i64) -> Option<Object> {
    let slot = usize::try_from(offset % SLOT).ok()?;
    let t = t.clone();
    let obj = match offset / SLOT {
        0 if slot == 0 => Object::Table(t),
        0 if slot == 1 => Object::PrimaryKeyIndex(t),
        0 => Object::Index(t, slot - 2),
        1 if slot == 1 => Object::PrimaryKey(t),
        1 if slot >= 2 => Object::Unique(t, slot - 2),
        2 => Object::Check(t, slot),
        3 => Object::ForeignKey(t, slot),
        4 => Object::Default(t, slot),
        _ => return None,
    };
    let exists = match &obj {
        Object::Table(_) => true,
        Object::PrimaryKeyIndex(t) | Object::PrimaryKey(t) => t.primary_key.is_some(),
        Object::Index(t, i) => *i < t.indexes.len(),
        Object::Unique(t, i) => t.indexes.get(*i).is_some_and(|x| x.constraint),
        Object::Check(t, i) => *i < t.checks.len(),
        Object::ForeignKey(t, i) => *i < t.foreign_keys.len(),
        Object::Default(t, k) => t.columns.get(*k).is_some_and(|c| c.default.is_some()),
        Object::View(_) | Object::Sequence(_) => false,
    };
    exists.then_some(obj)
}

/// The object with this OID in `state`'s catalog.
pub fn resolve(state: &State, oid: i64) -> Option<Object> {
    let catalog = state.catalog();
    if oid >= HASHED {
        if let Some(v) = catalog.views().find(|v| view_oid(&v.name) == oid) {
            return Some(Object::View(v.clone()));
        }
        return catalog
            .sequences()
            .find(|s| sequence_oid(&s.name) == oid)
            .map(|s| Object::Sequence(s.clone()));
    }
    if oid < FIRST_NORMAL {
        return None;
    }
    let id = u64::try_from((oid - FIRST_NORMAL) / BLOCK).ok()?;
    let t = catalog.table(id)?;
    table_object(t, (oid - FIRST_NORMAL) % BLOCK)
}

/// The OID of the relation (table, view, sequence or index) named `name`.
pub fn relation_by_name(state: &State, name: &str) -> Option<i64> {
    let catalog = state.catalog();
    if let Some(t) = catalog.table_by_name(name) {
        return Some(table_oid(t));
    }
    if catalog.view(name).is_some() {
        return Some(view_oid(name));
    }
    if catalog.sequence(name).is_some() {
        return Some(sequence_oid(name));
    }
    for t in catalog.tables() {
        if t.primary_key.is_some() && primary_key_name(t) == name {
            return Some(Object::PrimaryKeyIndex(t.clone()).oid());
        }
        if let Some(i) = t.indexes.iter().position(|x| x.name == name) {
            return Some(Object::Index(t.clone(), i).oid());
        }
    }
    None
}

/// The name of a table's primary key constraint and index.
pub fn primary_key_name(t: &TableDef) -> String {
    t.primary_key_name
        .clone()
        .unwrap_or_else(|| format!("{}_pkey", t.name))
}

/// The name of a relation-like object (what `oid::regclass` prints).
pub fn relation_name(obj: &Object) -> Option<String> {
    Some(match obj {
        Object::Table(t) => t.name.clone(),
        Object::PrimaryKeyIndex(t) => primary_key_name(t),
        Object::Index(t, i) => t.indexes[*i].name.clone(),
        Object::View(v) => v.name.clone(),
        Object::Sequence(s) => s.name.clone(),
        _ => return None,
    })
}
