//! JSON-RPC 2.0 messages with LSP's `Content-Length` framing, read from and written to byte streams.
//!
//! Reading never fails on bad input: a frame without a usable `Content-Length` is skipped, an
//! oversized body is skipped, and only the end of input or an IO error stops the reader.

use serde_json::{Value, json};
use std::io::{self, BufRead, Read, Write};

/// Invalid JSON.
pub const PARSE_ERROR: i64 = -32700;
/// Not a request object.
pub const INVALID_REQUEST: i64 = -32600;
/// The method is not served.
pub const METHOD_NOT_FOUND: i64 = -32601;
/// Missing or malformed parameters.
pub const INVALID_PARAMS: i64 = -32602;
/// The server failed while answering.
pub const INTERNAL_ERROR: i64 = -32603;
/// A request before `initialize`.
pub const SERVER_NOT_INITIALIZED: i64 = -32002;

/// Largest body accepted; larger bodies are skipped.
const MAX_BODY: usize = 64 << 20;
/// Longest header line read at once.
const MAX_LINE: u64 = 8192;

/// One frame read from the input.
pub enum Frame {
    /// A message body.
    Body(Vec<u8>),
    /// A frame that could not be used, and why; it has been skipped.
    Skipped(String),
    /// The end of the input.
    Eof,
}

/// Reads the next frame: header lines up to a blank line, then `Content-Length` bytes.
pub fn read_frame(r: &mut impl BufRead) -> io::Result<Frame> {
    let mut length: Option<usize> = None;
    let mut bad = None;
    let mut any = false;
    loop {
        let mut line = Vec::new();
        if r.by_ref().take(MAX_LINE).read_until(b'\n', &mut line)? == 0 {
            return Ok(Frame::Eof);
        }
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            if any {
                break;
            }
            continue;
        }
        any = true;
        match line.split_once(':') {
            Some((k, v)) if k.trim().eq_ignore_ascii_case("content-length") => match v.trim().parse() {
                Ok(n) => length = Some(n),
                Err(_) => bad = Some(format!("bad Content-Length `{}`", v.trim())),
            },
            Some(_) => {}
            None => bad = Some("a header line without `:`".to_string()),
        }
    }
    match (length, bad) {
        (Some(n), _) if n > MAX_BODY => {
            io::copy(&mut r.by_ref().take(n as u64), &mut io::sink())?;
            Ok(Frame::Skipped(format!("a message of {n} bytes is too large")))
        }
        (Some(n), None) => {
            let mut body = vec![0; n];
            match r.read_exact(&mut body) {
                Ok(()) => Ok(Frame::Body(body)),
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(Frame::Eof),
                Err(e) => Err(e),
            }
        }
        (_, Some(why)) => Ok(Frame::Skipped(why)),
        (None, None) => Ok(Frame::Skipped("a frame without Content-Length".to_string())),
    }
}

/// Writes one framed message and flushes.
pub fn write_message(w: &mut impl Write, msg: &Value) -> io::Result<()> {
    let body = serde_json::to_vec(msg)?;
    write!(w, "Content-Length: {}\r\n\r\n", body.len())?;
    w.write_all(&body)?;
    w.flush()
}

/// A successful response.
pub fn response(id: &Value, result: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "result": result })
}

/// An error response.
pub fn error(id: &Value, code: i64, message: &str) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } })
}

/// A notification from the server.
pub fn notification(method: &str, params: Value) -> Value {
    json!({ "jsonrpc": "2.0", "method": method, "params": params })
}

/// What an incoming message is.
pub enum Incoming {
    /// A request, to be answered.
    Request {
        /// Its id.
        id: Value,
        /// The method.
        method: String,
        /// Its parameters (`null` when absent).
        params: Value,
    },
    /// A notification, never answered.
    Notification {
        /// The method.
        method: String,
        /// Its parameters (`null` when absent).
        params: Value,
    },
    /// A response to a request of ours (none are sent, so it is ignored).
    Response,
    /// Not a message; answered with an error for this id (`null` when unknown).
    Invalid(Value),
}

/// Sorts a parsed message.
pub fn classify(mut v: Value) -> Incoming {
    let Some(obj) = v.as_object_mut() else { return Incoming::Invalid(Value::Null) };
    let id = obj.remove("id").filter(|id| id.is_string() || id.is_number());
    let params = obj.remove("params").unwrap_or(Value::Null);
    match (obj.remove("method"), id) {
        (Some(Value::String(method)), Some(id)) => Incoming::Request { id, method, params },
        (Some(Value::String(method)), None) => Incoming::Notification { method, params },
        (None, _) if obj.contains_key("result") || obj.contains_key("error") => Incoming::Response,
        (_, id) => Incoming::Invalid(id.unwrap_or(Value::Null)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &[u8]) -> Vec<String> {
        let mut r = io::BufReader::new(input);
        let mut out = vec![];
        loop {
            match read_frame(&mut r) {
                Ok(Frame::Body(b)) => out.push(String::from_utf8_lossy(&b).to_string()),
                Ok(Frame::Skipped(why)) => out.push(format!("skipped: {why}")),
                Ok(Frame::Eof) | Err(_) => return out,
            }
        }
    }

    #[test]
    fn frames_are_read_and_bad_ones_skipped() {
        let input = b"Content-Length: 2\r\n\r\n{}content-length:3\r\nContent-Type: x\r\n\r\n[1]garbage\r\n\r\nContent-Length: 9";
        assert_eq!(frames(input), ["{}", "[1]", "skipped: a header line without `:`"]);
        assert_eq!(frames(b"Content-Length: x\r\n\r\n"), ["skipped: bad Content-Length `x`"]);
        assert_eq!(frames(b"Content-Length: 10\r\n\r\nabc"), Vec::<String>::new());
    }

    #[test]
    fn messages_are_classified() {
        let r = classify(json!({"jsonrpc": "2.0", "id": 1, "method": "m"}));
        assert!(matches!(r, Incoming::Request { ref method, .. } if method == "m"));
        assert!(matches!(classify(json!({"method": "n"})), Incoming::Notification { .. }));
        assert!(matches!(classify(json!({"id": 1, "result": null})), Incoming::Response));
        assert!(matches!(classify(json!({"id": 1})), Incoming::Invalid(Value::Number(_))));
        assert!(matches!(classify(json!([1])), Incoming::Invalid(Value::Null)));
    }
}
