//! `CREATE ROLE`, `ALTER ROLE` and (in `ddl.rs`) `DROP ROLE`: the roles clients log in as.
//!
//! A password is stored only as a SCRAM-SHA-256 verifier ([`crate::scram`]); a password given
//! already in verifier form (`'SCRAM-SHA-256$...'`, e.g. copied from PostgreSQL) is stored as
//! it is. Role attributes zqlite has no use for
//! (SUPERUSER, CREATEDB, INHERIT, ...) are accepted and ignored: every role may do
//! everything. Role changes are catalog changes, so they are log records like any DDL.

use sqlparser::ast;
use zqlite_projections::{Change, RoleDef, Transaction};

use crate::bind::{ident_name, object_name};
use crate::error::{Error, Result};
use crate::result::QueryResult;
use crate::scram::Verifier;

/// The stored form of a `PASSWORD` clause: a verifier, or `None` for `PASSWORD NULL`.
fn password(p: &ast::Password) -> Result<Option<String>> {
    let text = match p {
        ast::Password::NullPassword => return Ok(None),
        ast::Password::Password(ast::Expr::Value(v)) => match &v.value {
            ast::Value::SingleQuotedString(s) => s.clone(),
            ast::Value::Null => return Ok(None),
            _ => return Err(Error::bind("42601", "a password must be a string literal")),
        },
        ast::Password::Password(_) => {
            return Err(Error::bind("42601", "a password must be a string literal"));
        }
    };
    if text.is_empty() {
        // PostgreSQL: "empty string is not a valid password, clearing password".
        return Ok(None);
    }
    Ok(Some(match Verifier::parse(&text) {
        Some(v) => v.to_text(),
        None => Verifier::new(&text).to_text(),
    }))
}

pub(crate) fn create_role(txn: &mut Transaction, cr: &ast::CreateRole) -> Result<QueryResult> {
    let password = cr.password.as_ref().map(password).transpose()?.flatten();
    for name in &cr.names {
        let name = object_name(name)?;
        if txn.state().catalog().role(&name).is_some() {
            if cr.if_not_exists {
                continue;
            }
            return Err(Error::bind(
                "42710",
                format!("role \"{name}\" already exists"),
            ));
        }
        txn.apply(Change::CreateRole(RoleDef {
            name,
            login: cr.login.unwrap_or(false),
            password: password.clone(),
        }))?;
    }
    Ok(QueryResult::command("CREATE ROLE", None))
}

pub(crate) fn alter_role(
    txn: &mut Transaction,
    name: &ast::Ident,
    operation: &ast::AlterRoleOperation,
) -> Result<QueryResult> {
    let name = ident_name(name);
    let Some(current) = txn.state().catalog().role(&name).cloned() else {
        return Err(Error::bind(
            "42704",
            format!("role \"{name}\" does not exist"),
        ));
    };
    let mut role = RoleDef::clone(&current);
    match operation {
        ast::AlterRoleOperation::WithOptions { options } => {
            for option in options {
                match option {
                    ast::RoleOption::Login(login) => role.login = *login,
                    ast::RoleOption::Password(p) => role.password = password(p)?,
                    _ => {}
                }
            }
        }
        ast::AlterRoleOperation::RenameRole { role_name } => {
            let new_name = ident_name(role_name);
            if txn.state().catalog().role(&new_name).is_some() {
                return Err(Error::bind(
                    "42710",
                    format!("role \"{new_name}\" already exists"),
                ));
            }
            // PostgreSQL clears an MD5 password on rename; a SCRAM verifier does not depend on
            // the name, so it is kept.
            txn.apply(Change::DropRole { name })?;
            role.name = new_name;
            txn.apply(Change::CreateRole(role))?;
            return Ok(QueryResult::command("ALTER ROLE", None));
        }
        other => return Err(Error::unsupported(format!("ALTER ROLE {other}"))),
    }
    txn.apply(Change::AlterRole(role))?;
    Ok(QueryResult::command("ALTER ROLE", None))
}

/// The text of a role statement as the log's audit trail keeps it: with any password
/// replaced by `'********'` (`None` for other statements).
pub(crate) fn redacted(stmt: &ast::Statement) -> Option<String> {
    let masked = || {
        ast::Password::Password(ast::Expr::value(ast::Value::SingleQuotedString(
            "********".into(),
        )))
    };
    match stmt {
        ast::Statement::CreateRole(cr) => {
            let mut cr = cr.clone();
            if matches!(cr.password, Some(ast::Password::Password(_))) {
                cr.password = Some(masked());
            }
            Some(ast::Statement::CreateRole(cr).to_string())
        }
        ast::Statement::AlterRole { name, operation } => {
            let mut operation = operation.clone();
            if let ast::AlterRoleOperation::WithOptions { options } = &mut operation {
                for option in options {
                    if let ast::RoleOption::Password(p @ ast::Password::Password(_)) = option {
                        *p = masked();
                    }
                }
            }
            Some(
                ast::Statement::AlterRole {
                    name: name.clone(),
                    operation,
                }
                .to_string(),
            )
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_the_audit_text() {
        for sql in [
            "CREATE ROLE alice LOGIN PASSWORD 'wonder'",
            "ALTER ROLE alice WITH PASSWORD 'wonder' LOGIN",
        ] {
            let stmt = &crate::session::parse(sql).unwrap()[0];
            let text = redacted(stmt).unwrap();
            assert!(!text.contains("wonder"), "{text}");
            assert!(text.contains("'********'"), "{text}");
        }
    }
}
