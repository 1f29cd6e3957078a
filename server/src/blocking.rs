//! Runs session calls off the async runtime.
//!
//! Statement execution is synchronous and may wait for an fsync, so each call moves the
//! connection's [`Session`] to tokio's blocking pool and back. An idle connection therefore
//! holds no thread (cheap idle connections), and a busy one holds one while it runs.

use zqlite_query::{InterruptHandle, Session};

use crate::error::{Error, Result};

/// The connection's session, present except while a call runs on the blocking pool.
#[derive(Debug)]
pub(crate) struct SessionSlot {
    session: Option<Box<Session>>,
    interrupt: InterruptHandle,
}

impl SessionSlot {
    pub(crate) fn new(session: Session) -> SessionSlot {
        SessionSlot {
            interrupt: session.interrupt_handle(),
            session: Some(Box::new(session)),
        }
    }

    /// Runs `f` on the session in the blocking pool.
    pub(crate) async fn run<R, F>(&mut self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut Session) -> R + Send + 'static,
    {
        let Some(mut session) = self.session.take() else {
            // A previous call's worker panicked: the session is gone with it.
            return Err(Error::Worker("session lost by an earlier failure".into()));
        };
        let (session, out) = tokio::task::spawn_blocking(move || {
            let out = f(&mut session);
            (session, out)
        })
        .await
        .map_err(|e| Error::Worker(e.to_string()))?;
        self.session = Some(session);
        Ok(out)
    }

    /// Runs a quick call on the session on this thread (nothing when an earlier call's
    /// failure lost it).
    pub(crate) fn with(&mut self, f: impl FnOnce(&mut Session)) {
        if let Some(session) = &mut self.session {
            f(session);
        }
    }

    /// The handle that cancels the session's running statement (usable while it runs).
    pub(crate) fn interrupt_handle(&self) -> InterruptHandle {
        self.interrupt.clone()
    }

    /// Runs a quick, non-blocking `f` on the session in place (nothing if a call runs).
    pub(crate) fn with_session(&mut self, f: impl FnOnce(&mut Session)) {
        if let Some(session) = self.session.as_mut() {
            f(session);
        }
    }

    /// Whether a transaction block is open (false while a call runs).
    pub(crate) fn in_transaction(&self) -> bool {
        self.session.as_ref().is_some_and(|s| s.in_transaction())
    }
}
