//! Log records made readable: a transaction's who and its changes as JSON objects, with table
//! ids resolved to names and rows to `{column: value}` objects.
//!
//! Changes refer to tables by id. [`Tables`] follows the definitions the way replay does:
//! it starts from a checkpoint's catalog (or empty, at LSN 0) and applies every DDL change of
//! every record after that, so a name is the table's name at the time of the change.
//! Describe each change with [`Tables::describe`] before [`Tables::track`]ing it (a
//! `DropTable` still needs the name it drops).

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value as Json, json};
use zqlite_log::{Record, RecordKind};
use zqlite_projections::{
    Catalog, Change, IndexColumn, SECURITY, TRANSACTION, TableDef, TableId, TxRecord,
};
use zqlite_query::value::Value;

use crate::output::json_value;

/// A record's payload, decoded as far as this zqlite understands it.
#[derive(Debug)]
pub enum Payload {
    Transaction(TxRecord),
    /// A kind this zqlite does not know (written by a newer one).
    Unknown,
    /// A transaction record whose payload does not decode.
    Undecodable(String),
}

pub fn decode(record: &Record) -> Payload {
    if record.kind != TRANSACTION {
        return Payload::Unknown;
    }
    match record.decode_msgpack::<TxRecord>() {
        Ok(tx) => Payload::Transaction(tx),
        Err(e) => Payload::Undecodable(e.to_string()),
    }
}

pub fn kind_name(kind: RecordKind) -> String {
    if kind == TRANSACTION {
        "transaction".to_string()
    } else if kind == SECURITY {
        "security_event".to_string()
    } else {
        format!("kind {}", kind.0)
    }
}

/// Table definitions by id, as of the record being read; see the module documentation.
#[derive(Debug, Default, Clone)]
pub struct Tables {
    defs: HashMap<TableId, Arc<TableDef>>,
}

impl Tables {
    pub fn from_catalog(catalog: &Catalog) -> Tables {
        Tables {
            defs: catalog.tables().map(|d| (d.id, d.clone())).collect(),
        }
    }

    pub fn get(&self, id: TableId) -> Option<&Arc<TableDef>> {
        self.defs.get(&id)
    }

    /// The table's name, or `#<id>` for a table this reader never saw created.
    pub fn name(&self, id: TableId) -> String {
        self.defs
            .get(&id)
            .map_or_else(|| format!("#{id}"), |d| d.name.clone())
    }

    /// The table a change is about, by the name it has when the change happens.
    pub fn table_of(&self, change: &Change) -> Option<String> {
        match change {
            Change::CreateTable(def) | Change::AlterTable(def) => Some(def.name.clone()),
            other => table_id(other).map(|id| self.name(id)),
        }
    }

    /// Whether a change concerns the table called `name` (before or after a rename).
    pub fn concerns(&self, change: &Change, name: &str) -> bool {
        if let Change::AlterTable(def) = change
            && self.get(def.id).is_some_and(|old| old.name == name)
        {
            return true;
        }
        self.table_of(change).is_some_and(|t| t == name)
    }

    /// The change as a JSON object: `op`, the table (or view or sequence) and the rows.
    pub fn describe(&self, change: &Change) -> Json {
        let table = |id: &TableId| Json::String(self.name(*id));
        match change {
            Change::CreateTable(def) => json!({
                "op": "create_table",
                "table": def.name,
                "columns": columns(def),
                "primary_key": primary_key(def),
            }),
            Change::AlterTable(def) => {
                let mut object = json!({
                    "op": "alter_table",
                    "table": def.name,
                    "columns": columns(def),
                    "primary_key": primary_key(def),
                });
                if let Some(old) = self.get(def.id).filter(|old| old.name != def.name) {
                    object["previous_name"] = Json::String(old.name.clone());
                }
                object
            }
            Change::DropTable { table: id } => json!({"op": "drop_table", "table": table(id)}),
            Change::AddColumn {
                table: id,
                column,
                fill,
            } => json!({
                "op": "add_column",
                "table": table(id),
                "column": {"name": column.name, "type": column.data_type.to_string()},
                "fill": json_value(fill),
            }),
            Change::DropColumn { table: id, column } => json!({
                "op": "drop_column",
                "table": table(id),
                "column": self.get(*id).and_then(|d| d.columns.get(*column)).map_or_else(
                    || Json::from(*column),
                    |c| Json::String(c.name.clone()),
                ),
            }),
            Change::CreateIndex { table: id, index } => json!({
                "op": "create_index",
                "table": table(id),
                "index": index.name,
                "columns": index.columns.iter().map(|c| match c {
                    IndexColumn::Column(c) => self.column_name(*id, *c),
                    IndexColumn::Expression(e) => Json::String(e.sql().to_string()),
                }).collect::<Vec<_>>(),
                "unique": index.unique,
            }),
            Change::DropIndex { table: id, name } => {
                json!({"op": "drop_index", "table": table(id), "index": name})
            }
            Change::Truncate { table: id } => json!({"op": "truncate", "table": table(id)}),
            Change::Insert {
                table: id,
                rowid,
                row,
            } => {
                let mut object = json!({
                    "op": "insert",
                    "table": table(id),
                    "row": self.row(*id, row),
                });
                if let Some(rowid) = rowid {
                    object["rowid"] = Json::from(*rowid);
                }
                object
            }
            Change::Update {
                table: id,
                key,
                row,
                before,
            } => {
                let mut object = json!({
                    "op": "update",
                    "table": table(id),
                    "key": self.key(*id, key),
                    "row": self.row(*id, row),
                });
                if let Some(before) = before {
                    object["before"] = self.row(*id, before);
                }
                object
            }
            Change::Delete {
                table: id,
                key,
                before,
            } => {
                let mut object = json!({
                    "op": "delete",
                    "table": table(id),
                    "key": self.key(*id, key),
                });
                if let Some(before) = before {
                    object["before"] = self.row(*id, before);
                }
                object
            }
            Change::CreateView(def) => json!({"op": "create_view", "view": def.name}),
            Change::DropView { name } => json!({"op": "drop_view", "view": name}),
            Change::CreateSequence(def) => json!({"op": "create_sequence", "sequence": def.name}),
            Change::DropSequence { name } => json!({"op": "drop_sequence", "sequence": name}),
            Change::AdvanceSequence { name, last_value } => json!({
                "op": "advance_sequence",
                "sequence": name,
                "last_value": last_value,
            }),
            Change::SetSequence {
                name,
                last_value,
                is_called,
            } => json!({
                "op": "set_sequence",
                "sequence": name,
                "last_value": last_value,
                "is_called": is_called,
            }),
            // The verifier is not printed: it is as sensitive as a password hash.
            Change::CreateRole(role) | Change::AlterRole(role) => json!({
                "op": if matches!(change, Change::CreateRole(_)) { "create_role" } else { "alter_role" },
                "role": role.name,
                "login": role.login,
                "password_set": role.password.is_some(),
            }),
            Change::DropRole { name } => json!({"op": "drop_role", "role": name}),
            Change::AppendEvents {
                stream,
                expected,
                events,
            } => json!({
                "op": "append_events",
                "stream": stream,
                "expected_version": expected.to_string(),
                "events": events
                    .iter()
                    .map(|e| {
                        let parse = |text: &str| {
                            serde_json::from_str::<Json>(text)
                                .unwrap_or_else(|_| Json::String(text.to_string()))
                        };
                        json!({
                            "id": e.id.to_string(),
                            "type": e.event_type,
                            "data": parse(&e.data),
                            "metadata": e.metadata.as_deref().map(parse),
                        })
                    })
                    .collect::<Vec<_>>(),
            }),
            Change::DeleteStream { stream, hard } => json!({
                "op": "delete_stream",
                "stream": stream,
                "hard": hard,
            }),
            Change::SetStreamMetadata {
                stream,
                max_count,
                max_age_seconds,
            } => json!({
                "op": "set_stream_metadata",
                "stream": stream,
                "max_count": max_count,
                "max_age_seconds": max_age_seconds,
            }),
            Change::CreateProjection(def) => json!({
                "op": "create_projection",
                "projection": def.name,
                "event_types": def.event_types,
                "targets": def.targets,
                "sql": def.sql,
            }),
            Change::DropProjection { name } => {
                json!({"op": "drop_projection", "projection": name})
            }
            Change::SetProjectionProgress {
                name,
                last_position,
                events_applied,
            } => json!({
                "op": "set_projection_progress",
                "projection": name,
                "last_position": last_position,
                "events_applied": events_applied,
            }),
        }
    }

    /// Follows the definitions a change makes (a no-op for row changes).
    pub fn track(&mut self, change: &Change) {
        match change {
            Change::CreateTable(def) | Change::AlterTable(def) => {
                self.defs.insert(def.id, Arc::new(def.clone()));
            }
            Change::DropTable { table } => {
                self.defs.remove(table);
            }
            Change::AddColumn { table, column, .. } => {
                if let Some(def) = self.defs.get_mut(table) {
                    Arc::make_mut(def).columns.push(column.clone());
                }
            }
            Change::DropColumn { table, column } => {
                if let Some(def) = self.defs.get_mut(table)
                    && *column < def.columns.len()
                {
                    Arc::make_mut(def).columns.remove(*column);
                }
            }
            Change::CreateIndex { table, index } => {
                if let Some(def) = self.defs.get_mut(table) {
                    Arc::make_mut(def).indexes.push(index.clone());
                }
            }
            Change::DropIndex { table, name } => {
                if let Some(def) = self.defs.get_mut(table) {
                    Arc::make_mut(def).indexes.retain(|i| &i.name != name);
                }
            }
            _ => {}
        }
    }

    fn column_name(&self, table: TableId, column: usize) -> Json {
        self.get(table)
            .and_then(|d| d.columns.get(column))
            .map_or_else(|| Json::from(column), |c| Json::String(c.name.clone()))
    }

    /// `{column: value}` when the table's columns are known and match, else an array.
    fn row(&self, table: TableId, row: &[Value]) -> Json {
        match self.get(table) {
            Some(def) if def.columns.len() == row.len() => Json::Object(
                def.columns
                    .iter()
                    .zip(row)
                    .map(|(c, v)| (c.name.clone(), json_value(v)))
                    .collect::<Map<_, _>>(),
            ),
            _ => Json::Array(row.iter().map(json_value).collect()),
        }
    }

    /// `{pk column: value}`, `{"rowid": n}` for a table without a primary key, or an array
    /// when the definition is unknown.
    fn key(&self, table: TableId, key: &[Value]) -> Json {
        let Some(def) = self.get(table) else {
            return Json::Array(key.iter().map(json_value).collect());
        };
        let names: Vec<String> = match &def.primary_key {
            Some(cols) => cols
                .iter()
                .map(|&c| {
                    def.columns
                        .get(c)
                        .map_or_else(|| c.to_string(), |col| col.name.clone())
                })
                .collect(),
            None => vec!["rowid".to_string()],
        };
        if names.len() != key.len() {
            return Json::Array(key.iter().map(json_value).collect());
        }
        Json::Object(
            names
                .into_iter()
                .zip(key)
                .map(|(n, v)| (n, json_value(v)))
                .collect(),
        )
    }
}

/// The table a change is about, if it is about one.
pub fn table_id(change: &Change) -> Option<TableId> {
    match change {
        Change::CreateTable(def) | Change::AlterTable(def) => Some(def.id),
        Change::DropTable { table }
        | Change::AddColumn { table, .. }
        | Change::DropColumn { table, .. }
        | Change::CreateIndex { table, .. }
        | Change::DropIndex { table, .. }
        | Change::Truncate { table }
        | Change::Insert { table, .. }
        | Change::Update { table, .. }
        | Change::Delete { table, .. } => Some(*table),
        Change::CreateView(_)
        | Change::DropView { .. }
        | Change::CreateSequence(_)
        | Change::DropSequence { .. }
        | Change::AdvanceSequence { .. }
        | Change::SetSequence { .. }
        | Change::CreateRole(_)
        | Change::AlterRole(_)
        | Change::DropRole { .. }
        | Change::AppendEvents { .. }
        | Change::DeleteStream { .. }
        | Change::SetStreamMetadata { .. }
        | Change::CreateProjection(_)
        | Change::DropProjection { .. }
        | Change::SetProjectionProgress { .. } => None,
    }
}

fn columns(def: &TableDef) -> Json {
    def.columns
        .iter()
        .map(|c| json!({"name": c.name, "type": c.data_type.to_string(), "nullable": c.nullable}))
        .collect()
}

fn primary_key(def: &TableDef) -> Json {
    match &def.primary_key {
        Some(cols) => cols
            .iter()
            .filter_map(|&c| def.columns.get(c).map(|col| Json::String(col.name.clone())))
            .collect(),
        None => Json::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zqlite_projections::ColumnDef;
    use zqlite_query::value::DataType;

    fn def(id: TableId, name: &str) -> TableDef {
        let col = |name: &str, data_type| ColumnDef {
            name: name.into(),
            data_type,
            nullable: true,
            default: None,
            identity: None,
        };
        TableDef {
            id,
            name: name.into(),
            columns: vec![col("id", DataType::Int4), col("v", DataType::Text)],
            primary_key: Some(vec![0]),
            primary_key_name: None,
            indexes: vec![],
            checks: vec![],
            foreign_keys: vec![],
            materialized: None,
        }
    }

    #[test]
    fn names_follow_ddl_and_rows_become_objects() {
        let mut tables = Tables::default();
        let create = Change::CreateTable(def(7, "t"));
        assert_eq!(tables.describe(&create)["op"], "create_table");
        tables.track(&create);
        let insert = Change::Insert {
            table: 7,
            rowid: None,
            row: Arc::from(vec![Value::Int4(1), Value::Text("a".into())]),
        };
        assert_eq!(
            tables.describe(&insert),
            json!({"op": "insert", "table": "t", "row": {"id": 1, "v": "a"}})
        );
        let rename = Change::AlterTable(def(7, "u"));
        assert_eq!(tables.describe(&rename)["previous_name"], "t");
        assert!(tables.concerns(&rename, "t") && tables.concerns(&rename, "u"));
        tables.track(&rename);
        let delete = Change::Delete {
            table: 7,
            key: vec![Value::Int4(1)].into(),
            before: None,
        };
        assert_eq!(
            tables.describe(&delete),
            json!({"op": "delete", "table": "u", "key": {"id": 1}})
        );
        let drop = Change::DropTable { table: 7 };
        assert_eq!(tables.describe(&drop)["table"], "u");
        tables.track(&drop);
        assert_eq!(tables.describe(&delete)["table"], "#7");
        assert_eq!(tables.describe(&delete)["key"], json!([1]));
    }
}
