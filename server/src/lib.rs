//! zqlite's network front ends.
//!
//! This crate will own the PostgreSQL wire protocol server (on `pgwire`) and the HTTP/JSON API
//! (on `axum`): sessions, authentication, connection limits and graceful shutdown. Every
//! request is turned into calls on the query layer; nothing here touches the log directly.
