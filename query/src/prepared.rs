//! [`Prepared`]: a statement parsed once and run many times with different `$n` parameters.
//!
//! A prepared statement keeps its parsed AST and, once it has run, the bound plan of a query
//! or an INSERT for the parameter types it ran with. The plan is reused while the catalog
//! version it was bound against is current: every DDL, committed or pending in a
//! transaction block, gives the catalog a version no other catalog had, so a stale plan is
//! never used; it is bound again instead. Parameters are never spliced into SQL text.

use std::sync::{Arc, Mutex};

use sqlparser::ast::Statement;
use zqlite_projections::State;
use zqlite_projections::value::{DataType, Value};

use crate::bind::OutputColumn;
use crate::dml::InsertPlan;
use crate::error::Result;
use crate::plan::Plan;

/// A parsed statement with its plan cache. Cheap to clone; clones share the cache.
#[derive(Debug, Clone)]
pub struct Prepared {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    sql: String,
    /// `None` for text with no statement (empty, or only comments).
    statement: Option<Statement>,
    plan: Mutex<Option<Arc<CachedPlan>>>,
}

/// A bound plan and what it is valid for.
#[derive(Debug)]
pub(crate) struct CachedPlan {
    catalog_version: u64,
    param_types: Vec<Option<DataType>>,
    pub(crate) bound: Bound,
}

/// The bound form of a statement.
#[derive(Debug)]
pub(crate) enum Bound {
    Query {
        plan: Box<Plan>,
        columns: Vec<OutputColumn>,
    },
    Insert(Box<InsertPlan>),
}

impl Prepared {
    pub(crate) fn new(sql: &str, statement: Option<Statement>) -> Prepared {
        Prepared {
            inner: Arc::new(Inner {
                sql: sql.to_string(),
                statement,
                plan: Mutex::new(None),
            }),
        }
    }

    /// The SQL text it was prepared from.
    pub fn sql(&self) -> &str {
        &self.inner.sql
    }

    /// The parsed statement (`None` for empty text).
    pub fn statement(&self) -> Option<&Statement> {
        self.inner.statement.as_ref()
    }

    /// Whether it is a query (returns rows without writing).
    pub fn is_query(&self) -> bool {
        matches!(self.inner.statement, Some(Statement::Query(_)))
    }

    /// Whether a plan is cached (for tests).
    pub fn has_plan(&self) -> bool {
        self.slot().is_some()
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<Arc<CachedPlan>>> {
        // A panic while the lock was held cannot leave a half-written plan: the slot is
        // only ever replaced whole.
        self.inner
            .plan
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The plan for running on `state` with `params`: the cached one when it is current,
    /// else a fresh one from `bind`, which replaces it.
    pub(crate) fn plan(
        &self,
        state: &State,
        params: &[Value],
        bind: impl FnOnce() -> Result<Bound>,
    ) -> Result<Arc<CachedPlan>> {
        let version = state.catalog().version();
        let current = |c: &CachedPlan| {
            c.catalog_version == version
                && c.param_types.len() == params.len()
                && c.param_types
                    .iter()
                    .zip(params)
                    .all(|(t, v)| *t == v.data_type())
        };
        if let Some(c) = self.slot().as_ref().filter(|c| current(c)) {
            return Ok(c.clone());
        }
        let fresh = Arc::new(CachedPlan {
            catalog_version: version,
            param_types: params.iter().map(Value::data_type).collect(),
            bound: bind()?,
        });
        *self.slot() = Some(fresh.clone());
        Ok(fresh)
    }
}
