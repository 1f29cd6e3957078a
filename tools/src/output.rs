//! How `zqlite sql` prints results: psql's aligned format, CSV or JSON. Pure functions of a
//! [`QueryResult`], unit-tested against psql's output.

use std::fmt::Write;

use zqlite_query::value::{DataType, Value};
use zqlite_query::{Column, QueryResult};

/// Output formats of `zqlite sql`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Like psql's default: a table with a header and a row count.
    Aligned,
    /// RFC 4180 CSV with a header line; NULL is an empty field.
    Csv,
    /// One JSON array of objects per result; numbers and booleans as JSON values.
    Json,
}

/// Renders one statement's result.
pub fn render(result: &QueryResult, format: Format) -> String {
    match result {
        QueryResult::Command { .. } => match format {
            Format::Json => format!("{}\n", serde_json::json!({ "command": result.tag() })),
            _ => format!("{}\n", result.tag()),
        },
        QueryResult::Rows { columns, rows } => match format {
            Format::Aligned => aligned(columns, rows),
            Format::Csv => csv(columns, rows),
            Format::Json => json(columns, rows),
        },
    }
}

fn is_numeric(ty: &DataType) -> bool {
    matches!(
        ty,
        DataType::Int2
            | DataType::Int4
            | DataType::Int8
            | DataType::Numeric(_)
            | DataType::Float4
            | DataType::Float8
    )
}

fn text(value: &Value) -> String {
    value.to_text().unwrap_or_default()
}

/// psql's aligned format: every cell framed by one space, columns joined by `|`; headers
/// centred (and padded even in the last column); numbers right-aligned, text left-aligned
/// with no trailing blanks in the last column; a row-count footer and a blank line.
fn aligned(columns: &[Column], rows: &[Vec<Value>]) -> String {
    let cells: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(text).collect()).collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            cells
                .iter()
                .map(|r| r[i].chars().count())
                .chain([c.name.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let last = columns.len().saturating_sub(1);
    let mut out = String::new();
    for (i, c) in columns.iter().enumerate() {
        let pad = widths[i] - c.name.chars().count();
        if i > 0 {
            out.push('|');
        }
        let _ = write!(
            out,
            " {}{}{} ",
            " ".repeat(pad / 2),
            c.name,
            " ".repeat(pad - pad / 2)
        );
    }
    out.push('\n');
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(w + 2)).collect();
    out.push_str(&rule.join("+"));
    out.push('\n');
    for row in &cells {
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                out.push('|');
            }
            out.push(' ');
            let pad = " ".repeat(widths[i] - cell.chars().count());
            if is_numeric(&columns[i].data_type) {
                out.push_str(&pad);
                out.push_str(cell);
            } else {
                out.push_str(cell);
                if i != last {
                    out.push_str(&pad);
                }
            }
            if i != last {
                out.push(' ');
            }
        }
        out.push('\n');
    }
    let n = rows.len();
    let _ = writeln!(out, "({n} {})\n", if n == 1 { "row" } else { "rows" });
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv(columns: &[Column], rows: &[Vec<Value>]) -> String {
    let mut out = String::new();
    let header: Vec<String> = columns.iter().map(|c| csv_field(&c.name)).collect();
    out.push_str(&header.join(","));
    out.push('\n');
    for row in rows {
        let fields: Vec<String> = row.iter().map(|v| csv_field(&text(v))).collect();
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

/// A value as JSON: numbers and booleans as JSON values, JSON as itself, the rest as text.
pub(crate) fn json_value(value: &Value) -> serde_json::Value {
    match value {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Int2(v) => (*v).into(),
        Value::Int4(v) => (*v).into(),
        Value::Int8(v) => (*v).into(),
        Value::Float8(v) if v.is_finite() => (*v).into(),
        Value::Float4(v) if v.is_finite() => f64::from(*v).into(),
        Value::Json(text) => {
            serde_json::from_str(text).unwrap_or(serde_json::Value::String(text.clone()))
        }
        Value::Jsonb(_) => {
            serde_json::from_str(&value.to_string()).unwrap_or(serde_json::Value::Null)
        }
        Value::Array(a) => serde_json::Value::Array(a.items().iter().map(json_value).collect()),
        other => serde_json::Value::String(other.to_string()),
    }
}

fn json(columns: &[Column], rows: &[Vec<Value>]) -> String {
    let objects: Vec<serde_json::Value> = rows
        .iter()
        .map(|row| {
            let map = columns
                .iter()
                .zip(row)
                .map(|(c, v)| (c.name.clone(), json_value(v)))
                .collect::<serde_json::Map<_, _>>();
            serde_json::Value::Object(map)
        })
        .collect();
    format!("{}\n", serde_json::Value::Array(objects))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result() -> QueryResult {
        QueryResult::Rows {
            columns: vec![
                Column {
                    name: "id".into(),
                    data_type: DataType::Int4,
                },
                Column {
                    name: "name".into(),
                    data_type: DataType::Text,
                },
                Column {
                    name: "note".into(),
                    data_type: DataType::Text,
                },
            ],
            rows: vec![
                vec![
                    Value::Int4(1),
                    Value::Text("alice".into()),
                    Value::Text("a, \"b\"".into()),
                ],
                vec![Value::Int4(100), Value::Text("bo".into()), Value::Null],
            ],
        }
    }

    #[test]
    fn aligned_matches_psql() {
        // Byte for byte what psql 15 prints for
        // SELECT * FROM (VALUES (1,'alice','a, "b"'),(100,'bo',NULL)) t(id,name,note)
        let expected = concat!(
            " id  | name  |  note  \n",
            "-----+-------+--------\n",
            "   1 | alice | a, \"b\"\n",
            " 100 | bo    | \n",
            "(2 rows)\n",
            "\n",
        );
        assert_eq!(render(&result(), Format::Aligned), expected);
    }

    #[test]
    fn csv_quotes_and_json_types() {
        assert_eq!(
            render(&result(), Format::Csv),
            "id,name,note\n1,alice,\"a, \"\"b\"\"\"\n100,bo,\n"
        );
        assert_eq!(
            render(&result(), Format::Json),
            "[{\"id\":1,\"name\":\"alice\",\"note\":\"a, \\\"b\\\"\"},{\"id\":100,\"name\":\"bo\",\"note\":null}]\n"
        );
        let tag = QueryResult::Command {
            command: "INSERT".into(),
            rows: Some(2),
        };
        assert_eq!(render(&tag, Format::Aligned), "INSERT 0 2\n");
    }
}
