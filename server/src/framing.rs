//! [`MessageStream`]: frontend messages in, backend messages out, on one TCP socket (plain
//! or, after an `SSLRequest`, TLS).
//!
//! - Decoding uses `pgwire`'s message layer; a message is decoded only once its whole frame
//!   is buffered, so a read cancelled by shutdown never loses a partial frame.
//! - The frame header is checked here first: a length below 4 or above
//!   `max_message_bytes` is a protocol violation, before any byte of the body is buffered.
//! - Backend messages are buffered and written by [`MessageStream::flush`]; the connection
//!   flushes only when no further request is buffered, so pipelined requests (Bind,
//!   Describe, Execute, Sync) get their replies in one write.

use bytes::{Buf, BytesMut};
use pgwire::messages::{
    DecodeContext, PgWireBackendMessage, PgWireFrontendMessage, ProtocolVersion,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

use crate::error::{Error, Result};
use crate::tls::Socket;

/// Where the connection is in the protocol, as far as framing is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Before anything: an SSLRequest, GSSENCRequest, CancelRequest or StartupMessage.
    Negotiation,
    /// After refusing SSL/GSS: a StartupMessage or CancelRequest (no type byte).
    Startup,
    /// Typed messages (`Q`, `P`, `B`, ...).
    Typed,
}

#[derive(Debug)]
pub(crate) struct MessageStream {
    socket: Socket,
    read_buf: BytesMut,
    write_buf: BytesMut,
    ctx: DecodeContext,
    phase: Phase,
    max_message_bytes: usize,
}

impl MessageStream {
    pub(crate) fn new(socket: TcpStream, max_message_bytes: usize) -> MessageStream {
        MessageStream {
            socket: Socket::Plain(socket),
            read_buf: BytesMut::with_capacity(8 * 1024),
            write_buf: BytesMut::with_capacity(8 * 1024),
            ctx: DecodeContext::new(ProtocolVersion::PROTOCOL3_0),
            phase: Phase::Negotiation,
            max_message_bytes,
        }
    }

    pub(crate) fn set_phase(&mut self, phase: Phase) {
        self.phase = phase;
        self.ctx.awaiting_frontend_ssl = phase == Phase::Negotiation;
        self.ctx.awaiting_frontend_startup = phase != Phase::Typed;
    }

    /// The next message, or `None` when the client closed the socket between messages.
    /// Cancel-safe: bytes read so far stay buffered.
    pub(crate) async fn next(&mut self) -> Result<Option<PgWireFrontendMessage>> {
        loop {
            self.check_header()?;
            // pgwire's decoders index into the frame; a hostile frame must end only this
            // connection, so a panic in them is caught and treated as a protocol error.
            let (buf, ctx) = (&mut self.read_buf, &self.ctx);
            let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                PgWireFrontendMessage::decode(buf, ctx)
            }))
            .map_err(|_| Error::Protocol("malformed message".into()))?
            .map_err(|e| Error::Protocol(e.to_string()))?;
            if let Some(msg) = decoded {
                return Ok(Some(msg));
            }
            if self.socket.read_buf(&mut self.read_buf).await? == 0 {
                return if self.read_buf.is_empty() {
                    Ok(None)
                } else {
                    Err(Error::Protocol(format!(
                        "connection closed inside a message ({} bytes of it received)",
                        self.read_buf.len()
                    )))
                };
            }
        }
    }

    /// Whether a whole typed message is already buffered (then replies can wait: pipelined
    /// requests get their replies in one write).
    pub(crate) fn has_buffered_message(&self) -> bool {
        if self.phase != Phase::Typed || self.read_buf.len() < 5 {
            return false;
        }
        let mut len_bytes = &self.read_buf[1..5];
        let len = len_bytes.get_i32();
        len >= 4 && self.read_buf.len() > len as usize
    }

    /// Validates the length field of the buffered frame header, if complete.
    fn check_header(&self) -> Result<()> {
        let offset = usize::from(self.phase == Phase::Typed);
        if self.read_buf.len() < offset + 4 {
            return Ok(());
        }
        let mut len_bytes = &self.read_buf[offset..offset + 4];
        let len = len_bytes.get_i32();
        let min = if offset == 0 { 8 } else { 4 };
        if len < min || len as usize > self.max_message_bytes {
            return Err(Error::Protocol(format!(
                "invalid message length {len} (allowed {min}..={})",
                self.max_message_bytes
            )));
        }
        Ok(())
    }

    /// Buffers a message for the next [`MessageStream::flush`].
    pub(crate) fn send(&mut self, msg: PgWireBackendMessage) -> Result<()> {
        msg.encode(&mut self.write_buf)
            .map_err(|e| Error::Protocol(format!("cannot encode a reply: {e}")))
    }

    /// Writes a single raw byte (the SSL/GSS refusal `N`).
    pub(crate) fn send_byte(&mut self, byte: u8) {
        self.write_buf.extend_from_slice(&[byte]);
    }

    /// Writes everything buffered.
    pub(crate) async fn flush(&mut self) -> Result<()> {
        if !self.write_buf.is_empty() {
            self.socket.write_all(&self.write_buf).await?;
            self.write_buf.clear();
        }
        Ok(())
    }

    pub(crate) fn peer_addr(&self) -> Option<std::net::SocketAddr> {
        self.socket.peer_addr()
    }

    /// Answers an `SSLRequest` with `S` and runs the TLS handshake; every later byte is
    /// encrypted. The client sends nothing between its request and the handshake, so nothing
    /// may be buffered.
    pub(crate) async fn upgrade_to_tls(&mut self, acceptor: &TlsAcceptor) -> Result<()> {
        if !self.read_buf.is_empty() {
            return Err(Error::Protocol(
                "data after SSLRequest before the handshake".into(),
            ));
        }
        self.send_byte(b'S');
        self.flush().await?;
        let Socket::Plain(tcp) = std::mem::replace(&mut self.socket, Socket::Closed) else {
            return Err(Error::Protocol("SSLRequest inside TLS".into()));
        };
        let tls = acceptor
            .accept(tcp)
            .await
            .map_err(|e| Error::Protocol(format!("TLS handshake failed: {e}")))?;
        self.socket = Socket::Tls(Box::new(tls));
        Ok(())
    }
}

impl MessageStream {
    /// Flushes when more than `limit` bytes are buffered.
    pub(crate) async fn flush_if_over(&mut self, limit: usize) -> Result<()> {
        if self.write_buf.len() > limit {
            self.flush().await?;
        }
        Ok(())
    }
}
