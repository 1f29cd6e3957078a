//! End-to-end tests: each starts the real `zqlite` binary in a temporary directory and checks
//! what a user would see. They belong to the `zqlite` package (see tools/Cargo.toml) so that
//! Cargo builds the binary for them.

mod audit;
mod bench;
mod catalog;
mod differential;
mod events_sql;
mod http_api;
mod http_client;
mod log_tools;
mod query_cache;
mod replay;
mod sequences;
mod server;
mod sql;
mod sql_crash;
mod time_travel;
mod window;

use std::path::PathBuf;

/// The `zqlite` binary under test.
pub fn zqlite_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_zqlite"))
}
