//! A minimal HTTP/1.1 client over std sockets for the HTTP API tests: one request per
//! connection (`Connection: close`), chunked or sized bodies, and a Server-Sent Events
//! reader. Small enough to read, and no extra dependency.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value as Json;

/// A complete response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(&self) -> Json {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {} body is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn connect(port: u16) -> TcpStream {
    let socket = TcpStream::connect(("127.0.0.1", port)).expect("the HTTP API accepts");
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeouts can be set");
    socket
}

fn head(method: &str, path: &str, headers: &[(&str, &str)], body_len: Option<usize>) -> String {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(len) = body_len {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {len}\r\n"
        ));
    }
    head.push_str("\r\n");
    head
}

/// Reads the status line and headers (None when the connection ends first).
fn read_head(reader: &mut impl BufRead) -> Option<(u16, Vec<(String, String)>)> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    if line.is_empty() {
        return None;
    }
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {line:?}"));
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if let Some((name, value)) = trimmed.split_once(':') {
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    Some((status, headers))
}

fn is_chunked(headers: &[(String, String)]) -> bool {
    headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    })
}

/// One chunk of a chunked body (None at the last chunk).
fn read_chunk(reader: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let size = usize::from_str_radix(line.trim().split(';').next()?, 16).ok()?;
    if size == 0 {
        return None;
    }
    let mut chunk = vec![0; size + 2];
    reader.read_exact(&mut chunk).ok()?;
    chunk.truncate(size);
    Some(chunk)
}

/// Sends one request and reads the whole response. The body is written from another
/// thread, so a server that answers early (413) is heard even while the body is sent.
pub fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> Response {
    try_request(port, method, path, headers, body).expect("the server answers")
}

/// `POST` with a JSON body; None when the server is gone (refused or closed without an
/// answer), as when it was killed.
pub fn try_post(port: u16, path: &str, body: &Json) -> Option<Response> {
    try_request(port, "POST", path, &[], Some(body.to_string().into_bytes()))
}

/// [`request`], or None when the connection fails or ends before a response.
fn try_request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> Option<Response> {
    let socket = TcpStream::connect(("127.0.0.1", port)).ok()?;
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeouts can be set");
    let mut writer = socket.try_clone().expect("sockets clone");
    let head = head(method, path, headers, body.as_ref().map(Vec::len));
    let sender = std::thread::spawn(move || {
        let _ = writer.write_all(head.as_bytes());
        if let Some(body) = body {
            let _ = writer.write_all(&body);
        }
    });
    let mut reader = BufReader::new(socket);
    let head = read_head(&mut reader);
    let Some((status, headers)) = head else {
        let _ = sender.join();
        return None;
    };
    let mut body = Vec::new();
    if is_chunked(&headers) {
        while let Some(chunk) = read_chunk(&mut reader) {
            body.extend_from_slice(&chunk);
        }
    } else {
        let _ = reader.read_to_end(&mut body);
    }
    drop(reader);
    let _ = sender.join();
    Some(Response {
        status,
        headers,
        body,
    })
}

pub fn get(port: u16, path: &str) -> Response {
    request(port, "GET", path, &[], None)
}

pub fn post(port: u16, path: &str, body: &Json) -> Response {
    request(port, "POST", path, &[], Some(body.to_string().into_bytes()))
}

pub fn post_raw(port: u16, path: &str, body: &[u8]) -> Response {
    request(port, "POST", path, &[], Some(body.to_vec()))
}

/// One Server-Sent Events message.
#[derive(Debug, Clone, PartialEq)]
pub struct SseMessage {
    pub event: Option<String>,
    pub id: Option<String>,
    pub data: String,
}

/// An open SSE response, read message by message.
pub struct Sse {
    reader: BufReader<TcpStream>,
    chunked: bool,
    buffer: String,
}

impl Sse {
    /// Opens `path`, with `Last-Event-ID` when given; panics unless the answer is 200.
    pub fn open(port: u16, path: &str, last_event_id: Option<&str>) -> Sse {
        let mut socket = connect(port);
        let headers: Vec<(&str, &str)> = last_event_id
            .map(|id| vec![("Last-Event-ID", id)])
            .unwrap_or_default();
        socket
            .write_all(head("GET", path, &headers, None).as_bytes())
            .expect("request sent");
        let mut reader = BufReader::new(socket);
        let (status, headers) = read_head(&mut reader).expect("a response head");
        assert_eq!(status, 200, "subscribe {path}");
        Sse {
            reader,
            chunked: is_chunked(&headers),
            buffer: String::new(),
        }
    }

    /// The next message (keep-alive comments skipped), or None when the stream ends.
    pub fn next(&mut self) -> Option<SseMessage> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut message = SseMessage {
                    event: None,
                    id: None,
                    data: String::new(),
                };
                let mut any = false;
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("data:") {
                        if any && !message.data.is_empty() {
                            message.data.push('\n');
                        }
                        message.data.push_str(v.strip_prefix(' ').unwrap_or(v));
                        any = true;
                    } else if let Some(v) = line.strip_prefix("id:") {
                        message.id = Some(v.trim().to_string());
                        any = true;
                    } else if let Some(v) = line.strip_prefix("event:") {
                        message.event = Some(v.trim().to_string());
                        any = true;
                    }
                }
                if any {
                    return Some(message);
                }
                continue;
            }
            let bytes = if self.chunked {
                read_chunk(&mut self.reader)?
            } else {
                let mut buf = vec![0; 8192];
                let n = self.reader.read(&mut buf).ok()?;
                if n == 0 {
                    return None;
                }
                buf.truncate(n);
                buf
            };
            self.buffer.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
}
