//! `fettle lsp`: a Language Server Protocol server for rule files, over stdin and stdout.
//!
//! Diagnostics as you type (the whole rule set of a document is compiled on every change, with the
//! open documents' text in place of their files), completion, hover, go to definition and formatting.
//! Messages are JSON-RPC 2.0 with `Content-Length` framing ([`rpc`]). The server never panics on
//! input: a bad frame is skipped, a bad message answered with an error, and a failure while answering
//! one request becomes an `InternalError` response.

mod complete;
mod ide;
pub mod rpc;
pub mod text;
mod workspace;

use crate::library::Compiled;
use rpc::Incoming;
use serde_json::{Value, json};
use std::io::{self, Write};
use text::LineIndex;
use workspace::Workspace;

/// Serves the protocol on stdin and stdout until `exit` or the end of input. Returns the exit code:
/// 0 after a `shutdown` request, 1 otherwise.
pub fn serve() -> u8 {
    let stdin = io::stdin();
    let stdout = io::stdout();
    serve_on(&mut stdin.lock(), &mut stdout.lock())
}

/// Serves the protocol on any streams (see [`serve`]).
pub fn serve_on(input: &mut impl io::BufRead, output: &mut impl Write) -> u8 {
    let mut server = Server::default();
    loop {
        let body = match rpc::read_frame(input) {
            Ok(rpc::Frame::Body(b)) => b,
            Ok(rpc::Frame::Skipped(why)) => {
                eprintln!("fettle lsp: skipped input: {why}");
                continue;
            }
            Ok(rpc::Frame::Eof) => return server.exit_code(),
            Err(e) => {
                eprintln!("fettle lsp: cannot read input: {e}");
                return server.exit_code();
            }
        };
        let replies = match serde_json::from_slice::<Value>(&body) {
            Ok(msg) => {
                // A bug in answering one message must not take the server down.
                let handled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| server.handle(msg.clone())));
                handled.unwrap_or_else(|_| match rpc::classify(msg) {
                    Incoming::Request { id, .. } => vec![rpc::error(&id, rpc::INTERNAL_ERROR, "internal error")],
                    _ => vec![],
                })
            }
            Err(e) => vec![rpc::error(&Value::Null, rpc::PARSE_ERROR, &format!("invalid JSON: {e}"))],
        };
        for r in &replies {
            if let Err(e) = rpc::write_message(output, r) {
                eprintln!("fettle lsp: cannot write output: {e}");
                return 1;
            }
        }
        if server.exit {
            return server.exit_code();
        }
    }
}

/// Protocol state and the documents.
#[derive(Default)]
struct Server {
    initialized: bool,
    shutdown: bool,
    exit: bool,
    ws: Workspace,
}

impl Server {
    fn exit_code(&self) -> u8 {
        if self.shutdown { 0 } else { 1 }
    }

    /// Handles one message; returns the messages to send.
    fn handle(&mut self, msg: Value) -> Vec<Value> {
        match rpc::classify(msg) {
            Incoming::Request { id, method, params } => vec![self.request(&id, &method, &params)],
            Incoming::Notification { method, params } => self.notification(&method, &params),
            Incoming::Response => vec![],
            Incoming::Invalid(id) => vec![rpc::error(&id, rpc::INVALID_REQUEST, "not a JSON-RPC request")],
        }
    }

    fn request(&mut self, id: &Value, method: &str, params: &Value) -> Value {
        if method == "initialize" {
            self.initialized = true;
            return rpc::response(id, capabilities());
        }
        if !self.initialized {
            return rpc::error(id, rpc::SERVER_NOT_INITIALIZED, "the server is not initialized");
        }
        if self.shutdown {
            return rpc::error(id, rpc::INVALID_REQUEST, "the server is shutting down");
        }
        let result = match method {
            "shutdown" => {
                self.shutdown = true;
                Some(Value::Null)
            }
            "textDocument/completion" => self.at_position(params, |ws, uri, text, offset| {
                let models: Vec<&Compiled> = ws.models(uri).into_iter().map(|(c, _)| c).collect();
                complete::completion(&models, text, offset)
            }),
            "textDocument/hover" => self.at_position(params, |ws, uri, text, offset| {
                ws.models(uri).into_iter().find_map(|(c, _)| ide::hover(c, text, offset)).unwrap_or(Value::Null)
            }),
            "textDocument/definition" => self.at_position(params, |ws, uri, text, offset| {
                ws.models(uri)
                    .into_iter()
                    .map(|(c, uris)| ide::definition(c, uris, text, offset))
                    .find(|v| !v.is_null())
                    .unwrap_or(Value::Null)
            }),
            "textDocument/references" => self.at_position(params, |ws, uri, text, offset| {
                let declaration = params.pointer("/context/includeDeclaration").and_then(Value::as_bool).unwrap_or(true);
                ws.models(uri)
                    .into_iter()
                    .find_map(|(c, uris)| ide::references(c, uris, text, offset, declaration))
                    .map_or(Value::Null, Value::Array)
            }),
            "textDocument/formatting" => uri_of(params).map(|uri| match self.ws.docs.get(uri) {
                Some(d) if self.ws.is_rules(uri) => format(&d.text),
                _ => Value::Null,
            }),
            _ => return rpc::error(id, rpc::METHOD_NOT_FOUND, &format!("`{method}` is not served")),
        };
        match result {
            Some(r) => rpc::response(id, r),
            None => rpc::error(id, rpc::INVALID_PARAMS, "missing or malformed parameters"),
        }
    }

    /// Answers a request about a position in an open document (`null` for a document not open).
    fn at_position(&self, params: &Value, f: impl Fn(&Workspace, &str, &str, usize) -> Value) -> Option<Value> {
        let uri = uri_of(params)?;
        let pos = params.get("position")?;
        let Some(doc) = self.ws.docs.get(uri).filter(|_| self.ws.is_rules(uri)) else { return Some(Value::Null) };
        let offset = LineIndex::new(&doc.text).offset_of(pos)?;
        Some(f(&self.ws, uri, &doc.text, offset))
    }

    fn notification(&mut self, method: &str, params: &Value) -> Vec<Value> {
        if method == "exit" {
            self.exit = true;
            return vec![];
        }
        if !self.initialized || self.shutdown {
            return vec![];
        }
        let Some(uri) = uri_of(params).map(str::to_string) else { return vec![] };
        match method {
            "textDocument/didOpen" => {
                let Some(t) = params.pointer("/textDocument/text").and_then(Value::as_str) else { return vec![] };
                self.ws.open(&uri, t.to_string());
            }
            "textDocument/didChange" => {
                let Some(doc) = self.ws.docs.get_mut(&uri) else { return vec![] };
                for change in params.get("contentChanges").and_then(Value::as_array).into_iter().flatten() {
                    apply_change(&mut doc.text, change);
                }
            }
            "textDocument/didSave" => {
                if let (Some(t), Some(doc)) = (params.get("text").and_then(Value::as_str), self.ws.docs.get_mut(&uri)) {
                    doc.text = t.to_string();
                }
            }
            "textDocument/didClose" => {
                // Recompile the set from disk, then forget the document.
                let disk = self.ws.docs.get(&uri).and_then(|d| d.path.as_ref()).and_then(|p| std::fs::read_to_string(p).ok());
                let Some(disk) = disk else {
                    self.ws.docs.remove(&uri);
                    return vec![publish(&uri, vec![])];
                };
                self.ws.open(&uri, disk);
                let out = self.publish_all(&uri);
                self.ws.docs.remove(&uri);
                return out;
            }
            _ => return vec![],
        }
        self.publish_all(&uri)
    }

    fn publish_all(&mut self, uri: &str) -> Vec<Value> {
        self.ws.refresh(uri).into_iter().map(|(u, diags)| publish(&u, diags)).collect()
    }
}

fn publish(uri: &str, diagnostics: Vec<Value>) -> Value {
    rpc::notification("textDocument/publishDiagnostics", json!({ "uri": uri, "diagnostics": diagnostics }))
}

fn uri_of(params: &Value) -> Option<&str> {
    params.pointer("/textDocument/uri")?.as_str()
}

/// Applies one `contentChanges` entry: the whole text, or a range edit.
fn apply_change(text: &mut String, change: &Value) {
    let Some(new) = change.get("text").and_then(Value::as_str) else { return };
    let Some(range) = change.get("range") else {
        *text = new.to_string();
        return;
    };
    let ix = LineIndex::new(text);
    let (Some(a), Some(b)) = (range.get("start").and_then(|p| ix.offset_of(p)), range.get("end").and_then(|p| ix.offset_of(p)))
    else {
        return;
    };
    let (a, b) = (a.min(b), a.max(b));
    text.replace_range(a..b, new);
}

/// One edit replacing the whole document with its formatted text; `null` when it does not parse.
fn format(text: &str) -> Value {
    let (parsed, diags) = crate::syntax::parse(crate::span::FileId(0), text);
    let Some(ast) = parsed.filter(|_| diags.iter().all(|d| d.level != crate::diag::Level::Error)) else { return Value::Null };
    let formatted = crate::syntax::format::format(text, &ast);
    if formatted == text {
        return json!([]);
    }
    json!([{ "range": LineIndex::new(text).json_range(0, text.len()), "newText": formatted }])
}

fn capabilities() -> Value {
    json!({
        "capabilities": {
            "textDocumentSync": { "openClose": true, "change": 1, "save": { "includeText": false } },
            "completionProvider": { "triggerCharacters": ["."] },
            "hoverProvider": true,
            "definitionProvider": true,
            "referencesProvider": true,
            "documentFormattingProvider": true,
        },
        "serverInfo": { "name": "fettle", "version": env!("CARGO_PKG_VERSION") },
    })
}
