//! System relations: read-only tables and table functions whose rows are computed when a
//! statement reads them, from the statement's state snapshot (catalog, event store) and, for
//! the audit relations, from the log.
//!
//! A relation lives in one namespace ([`Namespace`]). `pg_catalog` and `zq` are searched
//! before user tables for unqualified names, as PostgreSQL searches `pg_catalog` first;
//! `information_schema` relations must be qualified.
//!
//! Invariants:
//! - Every row a relation produces has one value per declared column, of the declared type
//!   or NULL.
//! - Rows are computed from the snapshot the statement reads, so a system relation never
//!   disagrees with the user tables read by the same statement.
//! - [`SystemContext::constraints`] only hint which rows are wanted; the executor still
//!   applies the scan's whole filter, so a relation may return more rows than asked for,
//!   never fewer.

mod audit;
pub mod catalog_functions;
mod events;
mod information_schema;
pub mod oids;
pub(crate) mod pg_catalog;
mod pg_misc;
mod projections;
mod query_cache;
pub(crate) mod settings_names;

use std::fmt;

use zqlite_projections::value::{BinaryOp, DataType, Value};
use zqlite_projections::{State, Store};

use crate::error::Result;

/// A row of a system relation.
pub type Row = Vec<Value>;

/// The schema a system relation belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Namespace {
    PgCatalog,
    InformationSchema,
    /// zqlite's own relations (`zq_events`, ...): searched like `pg_catalog`.
    Zq,
}

impl Namespace {
    pub fn name(self) -> &'static str {
        match self {
            Namespace::PgCatalog => "pg_catalog",
            Namespace::InformationSchema => "information_schema",
            Namespace::Zq => "zq",
        }
    }

    /// Whether unqualified names find relations of this namespace.
    fn on_search_path(self) -> bool {
        !matches!(self, Namespace::InformationSchema)
    }
}

/// A comparison of one column with a constant, taken from the scan's filter.
#[derive(Debug, Clone, PartialEq)]
pub struct Constraint {
    pub column: usize,
    /// One of `Eq`, `Lt`, `LtEq`, `Gt`, `GtEq`, with the column on the left.
    pub op: BinaryOp,
    pub value: Value,
}

/// What a relation's row function can read.
pub struct SystemContext<'a> {
    pub state: &'a State,
    /// The store behind the snapshot (absent where a statement runs on a bare state, as in
    /// DDL checks); relations that read the log fail without it.
    pub store: Option<&'a Store>,
    /// Column comparisons the executor will apply anyway; a relation may use them to read
    /// less (an index, a log range).
    pub constraints: &'a [Constraint],
    /// The database's query result cache, for `zq_query_cache`.
    pub query_cache: Option<&'a crate::result_cache::ResultCache>,
}

impl fmt::Debug for SystemContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SystemContext")
            .field("lsn", &self.state.lsn())
            .field("constraints", &self.constraints)
            .finish_non_exhaustive()
    }
}

impl SystemContext<'_> {
    /// The constant a column is compared to with `=`, if the filter has one.
    pub fn equal_to(&self, column: usize) -> Option<&Value> {
        self.constraints
            .iter()
            .find(|c| c.column == column && c.op == BinaryOp::Eq)
            .map(|c| &c.value)
    }
}

/// Computes the rows of a relation from the context and the (already cast) arguments.
pub type RowsFn = fn(&SystemContext<'_>, &[Value]) -> Result<Vec<Row>>;

/// A system relation: a view (`args` empty) or a table function (`FROM name(args)`).
pub struct SystemRelation {
    pub name: &'static str,
    pub namespace: Namespace,
    pub columns: &'static [(&'static str, DataType)],
    /// Argument types of a table function, in order; empty for a view.
    pub args: &'static [DataType],
    pub rows: RowsFn,
}

impl SystemRelation {
    pub fn is_function(&self) -> bool {
        !self.args.is_empty()
    }
}

impl fmt::Debug for SystemRelation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.namespace.name(), self.name)
    }
}

impl PartialEq for SystemRelation {
    fn eq(&self, other: &Self) -> bool {
        self.namespace == other.namespace && self.name == other.name
    }
}

/// Every system relation, grouped by the module that defines it.
const RELATIONS: &[&[SystemRelation]] = &[
    events::RELATIONS,
    projections::RELATIONS,
    audit::RELATIONS,
    query_cache::RELATIONS,
    pg_catalog::RELATIONS,
    pg_misc::RELATIONS,
    information_schema::RELATIONS,
];

/// All system relations.
pub fn all() -> impl Iterator<Item = &'static SystemRelation> {
    RELATIONS.iter().flat_map(|group| group.iter())
}

/// The relation `schema.name` (or `name` on the search path when `schema` is None), a view
/// or a table function as `function` says.
pub fn lookup(schema: Option<&str>, name: &str, function: bool) -> Option<&'static SystemRelation> {
    all().find(|r| {
        r.name == name
            && r.is_function() == function
            && match schema {
                Some(s) => s == r.namespace.name(),
                None => r.namespace.on_search_path(),
            }
    })
}

/// Whether `schema` names one of the system namespaces.
pub fn is_system_schema(schema: &str) -> bool {
    matches!(schema, "pg_catalog" | "information_schema" | "zq")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_per_namespace_and_kind() {
        let mut seen = std::collections::HashSet::new();
        for r in all() {
            assert!(
                seen.insert((r.namespace, r.name, r.is_function())),
                "{r:?} is defined twice"
            );
        }
    }

    #[test]
    fn information_schema_needs_qualification() {
        assert!(lookup(None, "zq_events", false).is_some());
        assert!(lookup(Some("zq"), "zq_events", false).is_some());
        assert!(lookup(Some("public"), "zq_events", false).is_none());
        assert!(lookup(None, "zq_events", true).is_none());
    }
}
