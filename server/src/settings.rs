//! Session parameters: `SET`, `SHOW`, `RESET` and the values `ParameterStatus` reports.
//!
//! The query layer accepts any `SET` as a no-op and has no `SHOW`, so the server keeps the
//! parameters clients care about and answers these statements itself (a small utility
//! parser; sqlparser's forms of `SET` vary by parameter). `SET` of a parameter not listed
//! here is passed on to the query layer unchanged.
//!
//! - Values zqlite cannot honour are refused with 22023 rather than silently ignored:
//!   client_encoding is UTF8, DateStyle is ISO, TimeZone is UTC, IntervalStyle is
//!   postgres, standard_conforming_strings is on (the value layer assumes them).
//! - Changes are transactional, as in PostgreSQL: a `SET` inside a transaction block is
//!   undone if the block rolls back; a `SET LOCAL` lasts until the block ends either way;
//!   `SET LOCAL` outside a block changes nothing and warns (25P01).

use std::collections::BTreeMap;

use sqlparser::tokenizer::Token;
use zqlite_query::{Column, DataType, QueryResult, Value};

use crate::sqlerror::SqlError;
use crate::startup::StartupInfo;

/// One known parameter.
struct Param {
    name: &'static str,
    /// Sent in `ParameterStatus` at startup and when it changes.
    report: bool,
    writable: bool,
    check: fn(&str) -> Option<String>,
}

fn any(v: &str) -> Option<String> {
    Some(v.to_string())
}

fn one_of(v: &str, accepted: &[&str], canonical: &str) -> Option<String> {
    accepted
        .iter()
        .any(|a| a.eq_ignore_ascii_case(v.trim()))
        .then(|| canonical.to_string())
}

const PARAMS: &[Param] = &[
    Param {
        name: "application_name",
        report: true,
        writable: true,
        check: any,
    },
    Param {
        name: "client_encoding",
        report: true,
        writable: true,
        check: |v| one_of(v, &["UTF8", "UTF-8", "unicode"], "UTF8"),
    },
    Param {
        name: "DateStyle",
        report: true,
        writable: true,
        check: |v| {
            let parts: Vec<String> = v.split(',').map(|p| p.trim().to_uppercase()).collect();
            parts
                .iter()
                .all(|p| matches!(p.as_str(), "ISO" | "MDY" | "US" | "NONEURO" | "NONEUROPEAN"))
                .then(|| "ISO, MDY".to_string())
        },
    },
    Param {
        name: "extra_float_digits",
        report: false,
        writable: true,
        check: |v| {
            v.trim()
                .parse::<i32>()
                .ok()
                .filter(|n| (-15..=3).contains(n))
                .map(|n| n.to_string())
        },
    },
    Param {
        name: "integer_datetimes",
        report: true,
        writable: false,
        check: any,
    },
    Param {
        name: "IntervalStyle",
        report: true,
        writable: true,
        check: |v| one_of(v, &["postgres"], "postgres"),
    },
    Param {
        name: "is_superuser",
        report: true,
        writable: false,
        check: any,
    },
    Param {
        name: "search_path",
        report: false,
        writable: true,
        check: any,
    },
    Param {
        name: "server_encoding",
        report: true,
        writable: false,
        check: any,
    },
    Param {
        name: "server_version",
        report: true,
        writable: false,
        check: any,
    },
    Param {
        name: "session_authorization",
        report: true,
        writable: false,
        check: any,
    },
    Param {
        name: "standard_conforming_strings",
        report: true,
        writable: true,
        check: |v| one_of(v, &["on", "true", "1", "yes"], "on"),
    },
    Param {
        name: "statement_timeout",
        report: false,
        writable: true,
        check: any,
    },
    Param {
        name: "TimeZone",
        report: true,
        writable: true,
        check: |v| {
            one_of(
                v,
                &["UTC", "GMT", "Etc/UTC", "Z", "Zulu", "UCT", "+00", "0"],
                "UTC",
            )
        },
    },
    // The tenant recorded with each commit (see docs/audit.md); its default is the one
    // the client gave at startup.
    Param {
        name: crate::startup::TENANT,
        report: false,
        writable: true,
        check: any,
    },
];

fn unrecognized(name: &str) -> SqlError {
    SqlError::new(
        "42704",
        format!("unrecognized configuration parameter \"{name}\""),
    )
}

fn find(name: &str) -> Option<&'static Param> {
    PARAMS.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

/// A parsed utility statement on a session parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Utility {
    Show(String),
    ShowAll,
    /// `None` value: back to the default (`SET x TO DEFAULT`).
    Set(String, Option<String>),
    /// `SET LOCAL x ...`: until the end of the transaction block.
    SetLocal(String, Option<String>),
    /// `RESET x`.
    Reset(String),
    ResetAll,
    /// `DEALLOCATE [PREPARE] name`, or `None` for `DEALLOCATE ALL` (the connection runs it:
    /// prepared statements are the connection's).
    Deallocate(Option<String>),
}

/// Recognises SET/SHOW/RESET; `None` for anything else and for `SET` of a parameter that
/// is not known here (the query layer gets those).
pub(crate) fn parse_utility(sql: &str) -> Option<Utility> {
    let first = sql
        .trim_start()
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()?;
    if !["set", "show", "reset", "deallocate"]
        .iter()
        .any(|k| k.eq_ignore_ascii_case(first))
    {
        return None;
    }
    let tokens = crate::split::significant_tokens(sql)?;
    let word = |i: usize| match tokens.get(i) {
        Some(Token::Word(w)) => Some(w.value.clone()),
        _ => None,
    };
    let is = |i: usize, k: &str| word(i).is_some_and(|w| w.eq_ignore_ascii_case(k));
    if is(0, "deallocate") {
        let at = if is(1, "prepare") { 2 } else { 1 };
        if tokens.len() != at + 1 {
            return None;
        }
        return Some(match &tokens[at] {
            Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("all") => {
                Utility::Deallocate(None)
            }
            Token::Word(w) if w.quote_style.is_none() => {
                Utility::Deallocate(Some(w.value.to_lowercase()))
            }
            Token::Word(w) => Utility::Deallocate(Some(w.value.clone())),
            _ => return None,
        });
    }
    // A dotted name (`zq.as_of`) is a custom parameter: ours only if listed (`zq.tenant`).
    let dotted = |i: usize| matches!(tokens.get(i + 1), Some(Token::Period));
    // The parameter name at `i` and the index after it.
    let name_at = |i: usize| -> Option<(String, usize)> {
        if dotted(i) {
            let name = format!("{}.{}", word(i)?, word(i + 2)?);
            find(&name).map(|_| (name, i + 3))
        } else {
            Some((word(i)?, i + 1))
        }
    };
    if is(0, "show") {
        return Some(match name_at(1) {
            _ if is(1, "all") && tokens.len() == 2 => Utility::ShowAll,
            _ if is(1, "time") && is(2, "zone") => Utility::Show("TimeZone".into()),
            Some((name, end)) if tokens.len() == end => Utility::Show(name),
            _ => return None,
        });
    }
    if is(0, "reset") {
        if is(1, "all") {
            return Some(Utility::ResetAll);
        }
        let (name, end) = name_at(1)?;
        return (tokens.len() == end && find(&name).is_some()).then_some(Utility::Reset(name));
    }
    let mut i = 1;
    let local = is(i, "local");
    if is(i, "session") || local {
        i += 1;
    }
    let set = |name: String, value: Option<String>| {
        if local {
            Utility::SetLocal(name, value)
        } else {
            Utility::Set(name, value)
        }
    };
    let (name, value_at) = if is(i, "time") && is(i + 1, "zone") {
        ("TimeZone".to_string(), i + 2)
    } else {
        let (name, end) = name_at(i)?;
        find(&name)?;
        if !matches!(tokens.get(end), Some(Token::Eq)) && !is(end, "to") {
            return None;
        }
        (name, end + 1)
    };
    let rest = &tokens[value_at.min(tokens.len())..];
    if rest.len() == 1
        && matches!(&rest[0], Token::Word(w) if w.value.eq_ignore_ascii_case("default") || w.value.eq_ignore_ascii_case("local"))
    {
        return Some(set(name, None));
    }
    let mut parts = Vec::new();
    for t in rest {
        match t {
            Token::Comma => {}
            Token::SingleQuotedString(s) => parts.push(s.clone()),
            Token::Word(w) => parts.push(w.value.clone()),
            Token::Number(n, _) => parts.push(n.clone()),
            Token::Minus => parts.push("-".into()),
            _ => return None,
        }
    }
    if parts.is_empty() {
        return None;
    }
    let mut value = String::new();
    for p in parts {
        if !value.is_empty() && value != "-" {
            value.push_str(", ");
        }
        value.push_str(&p);
    }
    Some(set(name, Some(value)))
}

/// The connection's parameter values.
#[derive(Debug)]
pub(crate) struct Settings {
    values: BTreeMap<&'static str, String>,
    defaults: BTreeMap<&'static str, String>,
    /// The values when the current transaction block first changed one (restored on
    /// rollback); `None` when the block changed nothing.
    before_block: Option<BTreeMap<&'static str, String>>,
    /// Parameters set with `SET LOCAL` in the current block.
    local: Vec<&'static str>,
}

/// What running a utility statement produced.
#[derive(Debug)]
pub(crate) struct Applied {
    pub result: QueryResult,
    /// Reported parameters whose value changed (send `ParameterStatus`).
    pub changed: Vec<(&'static str, String)>,
    /// A warning for the client (`NoticeResponse`).
    pub warning: Option<SqlError>,
}

impl Settings {
    pub(crate) fn new(info: &StartupInfo) -> Settings {
        let mut defaults: BTreeMap<&'static str, String> = crate::startup::server_parameters(info)
            .into_iter()
            .collect();
        defaults.insert("extra_float_digits", "1".into());
        defaults.insert("search_path", "\"$user\", public".into());
        defaults.insert("statement_timeout", "0".into());
        defaults.insert(crate::startup::TENANT, info.tenant.clone());
        Settings {
            values: defaults.clone(),
            defaults,
            before_block: None,
            local: Vec::new(),
        }
    }

    /// The current value of a known parameter (`None` for an unknown name).
    pub(crate) fn value(&self, name: &str) -> Option<&str> {
        let p = find(name)?;
        self.values.get(p.name).map(String::as_str)
    }

    /// The end of a transaction block: a rollback restores every value the block changed,
    /// a commit those set with `SET LOCAL`. Returns the reported parameters that changed.
    pub(crate) fn end_block(&mut self, committed: bool) -> Vec<(&'static str, String)> {
        let Some(before) = self.before_block.take() else {
            return Vec::new();
        };
        let local = std::mem::take(&mut self.local);
        let mut changed = Vec::new();
        for p in PARAMS {
            if committed && !local.contains(&p.name) {
                continue;
            }
            let Some(old) = before.get(p.name) else {
                continue;
            };
            if self.values.get(p.name) != Some(old) {
                self.values.insert(p.name, old.clone());
                if p.report {
                    changed.push((p.name, old.clone()));
                }
            }
        }
        changed
    }

    /// Runs a utility statement; `in_block` when a transaction block is open.
    pub(crate) fn apply(&mut self, u: Utility, in_block: bool) -> Result<Applied, SqlError> {
        let changes = matches!(
            u,
            Utility::Set(..) | Utility::SetLocal(..) | Utility::Reset(_) | Utility::ResetAll
        );
        if changes && in_block && self.before_block.is_none() {
            self.before_block = Some(self.values.clone());
        }
        let text_rows = |names: &[&str], rows: Vec<Vec<Value>>| QueryResult::Rows {
            columns: names
                .iter()
                .map(|n| Column {
                    name: n.to_string(),
                    data_type: DataType::Text,
                })
                .collect(),
            rows,
        };
        match u {
            Utility::Show(name) => {
                let p = find(&name).ok_or_else(|| unrecognized(&name))?;
                let v = self.values.get(p.name).cloned().unwrap_or_default();
                Ok(Applied {
                    result: text_rows(&[p.name], vec![vec![Value::Text(v)]]),
                    changed: Vec::new(),
                    warning: None,
                })
            }
            Utility::ShowAll => Ok(Applied {
                result: text_rows(
                    &["name", "setting"],
                    self.values
                        .iter()
                        .map(|(k, v)| vec![Value::Text(k.to_string()), Value::Text(v.clone())])
                        .collect(),
                ),
                changed: Vec::new(),
                warning: None,
            }),
            Utility::SetLocal(name, _) if !in_block => {
                find(&name).ok_or_else(|| unrecognized(&name))?;
                Ok(Applied {
                    result: QueryResult::Command {
                        command: "SET".into(),
                        rows: None,
                    },
                    changed: Vec::new(),
                    warning: Some(SqlError::new(
                        "25P01",
                        "SET LOCAL can only be used in transaction blocks",
                    )),
                })
            }
            Utility::SetLocal(name, value) => {
                let applied = self.set(&name, value, "SET")?;
                if let Some(p) = find(&name)
                    && !self.local.contains(&p.name)
                {
                    self.local.push(p.name);
                }
                Ok(applied)
            }
            Utility::Set(name, value) => self.set(&name, value, "SET"),
            Utility::Reset(name) => self.set(&name, None, "RESET"),
            Utility::Deallocate(_) => Err(SqlError::new(
                "XX000",
                "DEALLOCATE is run by the connection, not the settings",
            )),
            Utility::ResetAll => {
                let mut changed = Vec::new();
                for p in PARAMS.iter().filter(|p| p.writable) {
                    let default = self.defaults.get(p.name).cloned().unwrap_or_default();
                    let old = self.values.insert(p.name, default.clone());
                    if p.report && old.as_deref() != Some(default.as_str()) {
                        changed.push((p.name, default));
                    }
                }
                Ok(Applied {
                    result: QueryResult::Command {
                        command: "RESET".into(),
                        rows: None,
                    },
                    changed,
                    warning: None,
                })
            }
        }
    }

    fn set(&mut self, name: &str, value: Option<String>, tag: &str) -> Result<Applied, SqlError> {
        let p = find(name).ok_or_else(|| unrecognized(name))?;
        if !p.writable {
            return Err(SqlError::new(
                "55P02",
                format!("parameter \"{}\" cannot be changed", p.name),
            ));
        }
        let new = match value {
            None => self.defaults.get(p.name).cloned().unwrap_or_default(),
            Some(v) => (p.check)(&v).ok_or_else(|| SqlError {
                detail: Some(format!(
                    "zqlite supports {} = {} only",
                    p.name,
                    self.defaults
                        .get(p.name)
                        .map_or("its default", String::as_str)
                )),
                ..SqlError::new(
                    "22023",
                    format!("invalid value for parameter \"{}\": \"{v}\"", p.name),
                )
            })?,
        };
        let old = self.values.insert(p.name, new.clone());
        let changed = if p.report && old.as_deref() != Some(new.as_str()) {
            vec![(p.name, new)]
        } else {
            Vec::new()
        };
        Ok(Applied {
            result: QueryResult::Command {
                command: tag.into(),
                rows: None,
            },
            changed,
            warning: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> StartupInfo {
        StartupInfo::for_tests("alice", "psql")
    }

    #[test]
    fn parses_the_forms_clients_send() {
        let set = |n: &str, v: &str| Some(Utility::Set(n.into(), Some(v.into())));
        assert_eq!(
            parse_utility("SET DateStyle = ISO, MDY"),
            set("DateStyle", "ISO, MDY")
        );
        assert_eq!(
            parse_utility("set datestyle to 'ISO'"),
            set("datestyle", "ISO")
        );
        assert_eq!(
            parse_utility("SET SESSION TIME ZONE 'UTC'"),
            set("TimeZone", "UTC")
        );
        assert_eq!(
            parse_utility("SET extra_float_digits = -2"),
            set("extra_float_digits", "-2")
        );
        assert_eq!(
            parse_utility("SET application_name TO DEFAULT"),
            Some(Utility::Set("application_name".into(), None))
        );
        assert_eq!(parse_utility("show all"), Some(Utility::ShowAll));
        assert_eq!(
            parse_utility("SHOW server_version;"),
            Some(Utility::Show("server_version".into()))
        );
        assert_eq!(parse_utility("RESET ALL"), Some(Utility::ResetAll));
        assert_eq!(
            parse_utility("DEALLOCATE ALL"),
            Some(Utility::Deallocate(None))
        );
        assert_eq!(
            parse_utility("deallocate prepare _pg3_0;"),
            Some(Utility::Deallocate(Some("_pg3_0".into())))
        );
        assert_eq!(
            parse_utility("SET zq.tenant = 'acme'"),
            set("zq.tenant", "acme")
        );
        assert_eq!(
            parse_utility("SET LOCAL zq.tenant TO globex"),
            Some(Utility::SetLocal("zq.tenant".into(), Some("globex".into())))
        );
        assert_eq!(
            parse_utility("SHOW zq.tenant"),
            Some(Utility::Show("zq.tenant".into()))
        );
        assert_eq!(
            parse_utility("RESET zq.tenant"),
            Some(Utility::Reset("zq.tenant".into()))
        );
        // Not ours: the query layer decides.
        assert_eq!(parse_utility("SET zq.as_of = '2026-01-01'"), None);
        assert_eq!(parse_utility("SHOW zq.as_of"), None);
        assert_eq!(parse_utility("SET some_unknown = 1"), None);
        assert_eq!(parse_utility("SELECT 1"), None);
        assert_eq!(parse_utility("settle"), None);
    }

    #[test]
    fn set_show_reset_track_values_and_report_changes() {
        let mut s = Settings::new(&info());
        let shown = |s: &mut Settings, n: &str| match s
            .apply(Utility::Show(n.into()), false)
            .expect("known")
            .result
        {
            QueryResult::Rows { rows, .. } => rows[0][0].to_text().expect("text"),
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(shown(&mut s, "application_name"), "psql");
        let a = s
            .apply(
                parse_utility("SET application_name = 'etl'").expect("utility"),
                false,
            )
            .expect("writable");
        assert_eq!(a.changed, vec![("application_name", "etl".to_string())]);
        assert_eq!(a.result.tag(), "SET");
        assert_eq!(shown(&mut s, "APPLICATION_NAME"), "etl");
        let a = s
            .apply(
                parse_utility("RESET application_name").expect("utility"),
                false,
            )
            .expect("reset");
        assert_eq!(a.result.tag(), "RESET");
        assert_eq!(shown(&mut s, "application_name"), "psql");

        let e = s
            .apply(
                parse_utility("SET TimeZone = 'Europe/Paris'").expect("utility"),
                false,
            )
            .expect_err("UTC only");
        assert_eq!(e.code, "22023");
        let a = s
            .apply(
                parse_utility("SET TIME ZONE 'utc'").expect("utility"),
                false,
            )
            .expect("UTC is fine");
        assert!(a.changed.is_empty(), "TimeZone stays UTC");
        let e = s
            .apply(Utility::Show("nope".into()), false)
            .expect_err("unknown");
        assert_eq!(e.code, "42704");
        let e = s
            .apply(
                Utility::Set("server_version".into(), Some("16".into())),
                false,
            )
            .expect_err("read-only");
        assert_eq!(e.code, "55P02");
    }

    #[test]
    fn set_is_transactional_and_set_local_lasts_one_block() {
        let mut s = Settings::new(&info());
        let run = |s: &mut Settings, sql: &str, in_block: bool| {
            s.apply(parse_utility(sql).expect("utility"), in_block)
                .expect("applies")
        };
        let shown = |s: &mut Settings| match s
            .apply(Utility::Show("application_name".into()), false)
            .expect("known")
            .result
        {
            QueryResult::Rows { rows, .. } => rows[0][0].to_text().expect("text"),
            other => panic!("unexpected {other:?}"),
        };
        // Outside a block SET LOCAL warns and changes nothing.
        let a = run(&mut s, "SET LOCAL application_name = 'x'", false);
        assert_eq!(a.warning.map(|w| w.code), Some("25P01".to_string()));
        assert_eq!(shown(&mut s), "psql");
        // A rolled-back block undoes SET and SET LOCAL.
        run(&mut s, "SET application_name = 'a'", true);
        run(&mut s, "SET LOCAL application_name = 'b'", true);
        assert_eq!(shown(&mut s), "b");
        let changed = s.end_block(false);
        assert_eq!(changed, vec![("application_name", "psql".to_string())]);
        assert_eq!(shown(&mut s), "psql");
        // A committed block keeps SET but not SET LOCAL.
        run(&mut s, "SET application_name = 'kept'", true);
        assert!(s.end_block(true).is_empty());
        assert_eq!(shown(&mut s), "kept");
        run(&mut s, "SET LOCAL application_name = 'brief'", true);
        assert_eq!(
            s.end_block(true),
            vec![("application_name", "kept".to_string())]
        );
        assert_eq!(shown(&mut s), "kept");
        assert_eq!(
            parse_utility("SET LOCAL TIME ZONE 'UTC'"),
            Some(Utility::SetLocal("TimeZone".into(), Some("UTC".into())))
        );
    }
}
