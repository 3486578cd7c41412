//! `fettle lsp`: a Language Server Protocol server for rule files, over stdin and stdout.
//!
//! Diagnostics as you type (the whole rule set of a document is compiled on every change, with the
//! open documents' text in place of their files), completion, hover, go to definition, references
//! and formatting. Messages are [`lsp_server::Message`]s with parameters and replies typed by
//! [`lsp_types`] (a reply is of its request's `Result` type, see [`reply`]); a
//! frame is read by [`rpc::read_frame`] (bounded, see there) and written by lsp-server. The server
//! never panics on input: a bad frame or message is skipped with a line on stderr, a request with
//! bad parameters is answered with an error, and a failure while answering one request becomes an
//! `InternalError` response. A failed write to stdout ends the server with exit code 2.

mod complete;
mod ide;
pub mod rpc;
pub mod text;
mod workspace;

use crate::library::Compiled;
use lsp_server::{ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, DidSaveTextDocument, Exit, Notification as _,
    PublishDiagnostics,
};
use lsp_types::request::{Completion, Formatting, GotoDefinition, HoverRequest, Initialize, References, Request as _, Shutdown};
use lsp_types::{
    CompletionOptions, Diagnostic, DidChangeTextDocumentParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
    DidSaveTextDocumentParams, DocumentFormattingParams, InitializeResult, OneOf, PublishDiagnosticsParams, ReferenceParams,
    SaveOptions, ServerCapabilities, ServerInfo, TextDocumentContentChangeEvent, TextDocumentPositionParams,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextDocumentSyncOptions, TextDocumentSyncSaveOptions, TextEdit,
};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::io::{self, Write};
use text::LineIndex;
use workspace::Workspace;

/// Serves the protocol on stdin and stdout until `exit` or the end of input. Returns the exit code:
/// 0 after a `shutdown` request, 1 otherwise, 2 when stdout cannot be written.
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
        let msg = match serde_json::from_slice::<Message>(&body) {
            Ok(msg) => msg,
            Err(e) => {
                eprintln!("fettle lsp: skipped a message that is not JSON-RPC: {e}");
                continue;
            }
        };
        let id = match &msg {
            Message::Request(r) => Some(r.id.clone()),
            _ => None,
        };
        // A bug in answering one message must not take the server down.
        let replies = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| server.handle(msg))).unwrap_or_else(|_| {
            id.map(|id| Response::new_err(id, ErrorCode::InternalError as i32, "internal error".into()).into())
                .into_iter()
                .collect()
        });
        for r in replies {
            if let Err(e) = r.write(output) {
                eprintln!("fettle lsp: cannot write to the editor (stdout): {e}");
                return 2;
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

/// Why a request got no result.
enum Failure {
    /// Its parameters do not fit its method.
    Params(String),
    /// The method is not served.
    Method,
    /// The reply could not be written as JSON.
    Internal(String),
}

/// A request's result as JSON: the compiler checks that it is of the type the protocol gives the
/// request `R`.
fn reply<R: lsp_types::request::Request>(result: R::Result) -> Result<Value, Failure> {
    serde_json::to_value(result).map_err(|e| Failure::Internal(format!("cannot write the reply: {e}")))
}

/// A notification `N` with its typed parameters (`None`, said on stderr, if they cannot be JSON).
fn notification<N: lsp_types::notification::Notification>(params: N::Params) -> Option<Message> {
    match serde_json::to_value(params) {
        Ok(params) => Some(Notification { method: N::METHOD.to_string(), params }.into()),
        Err(e) => {
            eprintln!("fettle lsp: cannot write `{}`: {e}", N::METHOD);
            None
        }
    }
}

/// A request's typed parameters.
fn params<P: DeserializeOwned>(v: &Value) -> Result<P, Failure> {
    serde_json::from_value(v.clone()).map_err(|e| Failure::Params(format!("malformed parameters: {e}")))
}

impl Server {
    fn exit_code(&self) -> u8 {
        if self.shutdown { 0 } else { 1 }
    }

    /// Handles one message; returns the messages to send.
    fn handle(&mut self, msg: Message) -> Vec<Message> {
        match msg {
            Message::Request(r) => vec![self.request(r).into()],
            Message::Notification(n) => self.notification(&n.method, &n.params),
            Message::Response(_) => vec![],
        }
    }

    fn request(&mut self, r: Request) -> Response {
        let Request { id, method, params: p } = r;
        let err = |id: RequestId, code: ErrorCode, m: &str| Response::new_err(id, code as i32, m.to_string());
        if method == "initialize" {
            self.initialized = true;
            return match reply::<Initialize>(capabilities()) {
                Ok(caps) => Response { id, response_result: Ok(caps) },
                Err(_) => err(id, ErrorCode::InternalError, "cannot write the capabilities"),
            };
        }
        if !self.initialized {
            return err(id, ErrorCode::ServerNotInitialized, "the server is not initialized");
        }
        if self.shutdown {
            return err(id, ErrorCode::InvalidRequest, "the server is shutting down");
        }
        match self.answer(&method, &p) {
            Ok(result) => Response { id, response_result: Ok(result) },
            Err(Failure::Params(why)) => err(id, ErrorCode::InvalidParams, &why),
            Err(Failure::Method) => err(id, ErrorCode::MethodNotFound, &format!("`{method}` is not served")),
            Err(Failure::Internal(why)) => err(id, ErrorCode::InternalError, &why),
        }
    }

    fn answer(&mut self, method: &str, p: &Value) -> Result<Value, Failure> {
        match method {
            Shutdown::METHOD => {
                self.shutdown = true;
                reply::<Shutdown>(())
            }
            Completion::METHOD => reply::<Completion>(self.at_position(p, |ws, uri, text, offset| {
                let models: Vec<&Compiled> = ws.models(uri).into_iter().map(|(c, _)| c).collect();
                Some(complete::completion(&models, text, offset))
            })?),
            HoverRequest::METHOD => reply::<HoverRequest>(self.at_position(p, |ws, uri, text, offset| {
                ws.models(uri).into_iter().find_map(|(c, _)| ide::hover(c, text, offset))
            })?),
            GotoDefinition::METHOD => reply::<GotoDefinition>(self.at_position(p, |ws, uri, text, offset| {
                ws.models(uri).into_iter().find_map(|(c, uris)| ide::definition(c, uris, text, offset))
            })?),
            References::METHOD => {
                let declaration = params::<ReferenceParams>(p)?.context.include_declaration;
                reply::<References>(self.at_position(p, |ws, uri, text, offset| {
                    ws.models(uri).into_iter().find_map(|(c, uris)| ide::references(c, uris, text, offset, declaration))
                })?)
            }
            Formatting::METHOD => {
                let uri = params::<DocumentFormattingParams>(p)?.text_document.uri;
                reply::<Formatting>(match self.ws.docs.get(uri.as_str()) {
                    Some(d) if self.ws.is_rules(uri.as_str()) => format(&d.text),
                    _ => None,
                })
            }
            _ => Err(Failure::Method),
        }
    }

    /// Answers a request about a position in an open document (`None` for a document not open).
    fn at_position<T>(&self, p: &Value, f: impl Fn(&Workspace, &str, &str, usize) -> Option<T>) -> Result<Option<T>, Failure> {
        let at = params::<TextDocumentPositionParams>(p)?;
        let uri = at.text_document.uri.as_str();
        let Some(doc) = self.ws.docs.get(uri).filter(|_| self.ws.is_rules(uri)) else { return Ok(None) };
        let offset = LineIndex::new(&doc.text).offset(at.position.line, at.position.character);
        Ok(f(&self.ws, uri, &doc.text, offset))
    }

    fn notification(&mut self, method: &str, p: &Value) -> Vec<Message> {
        if method == Exit::METHOD {
            self.exit = true;
            return vec![];
        }
        if !self.initialized || self.shutdown {
            return vec![];
        }
        let typed = |what: &str| eprintln!("fettle lsp: skipped `{what}` with malformed parameters");
        let uri = match method {
            DidOpenTextDocument::METHOD => {
                let Ok(o) = params::<DidOpenTextDocumentParams>(p) else {
                    typed(method);
                    return vec![];
                };
                self.ws.open(o.text_document.uri.as_str(), o.text_document.text);
                o.text_document.uri
            }
            DidChangeTextDocument::METHOD => {
                let Ok(c) = params::<DidChangeTextDocumentParams>(p) else {
                    typed(method);
                    return vec![];
                };
                let Some(doc) = self.ws.docs.get_mut(c.text_document.uri.as_str()) else { return vec![] };
                for change in &c.content_changes {
                    apply_change(&mut doc.text, change);
                }
                c.text_document.uri
            }
            DidSaveTextDocument::METHOD => {
                let Ok(sv) = params::<DidSaveTextDocumentParams>(p) else {
                    typed(method);
                    return vec![];
                };
                if let (Some(t), Some(doc)) = (sv.text, self.ws.docs.get_mut(sv.text_document.uri.as_str())) {
                    doc.text = t;
                }
                sv.text_document.uri
            }
            DidCloseTextDocument::METHOD => {
                let Ok(c) = params::<DidCloseTextDocumentParams>(p) else {
                    typed(method);
                    return vec![];
                };
                let uri = c.text_document.uri.as_str();
                // Recompile the set from disk, then forget the document.
                let disk = self.ws.docs.get(uri).and_then(|d| d.path.as_ref()).and_then(|p| std::fs::read_to_string(p).ok());
                let Some(disk) = disk else {
                    self.ws.docs.remove(uri);
                    return publish(uri, vec![]).into_iter().collect();
                };
                self.ws.open(uri, disk);
                let out = self.publish_all(uri);
                self.ws.docs.remove(uri);
                return out;
            }
            _ => return vec![],
        };
        self.publish_all(uri.as_str())
    }

    fn publish_all(&mut self, uri: &str) -> Vec<Message> {
        self.ws.refresh(uri).into_iter().filter_map(|(u, diags)| publish(&u, diags)).collect()
    }
}

fn publish(uri: &str, diagnostics: Vec<Diagnostic>) -> Option<Message> {
    let Some(uri) = text::lsp_uri(uri) else {
        eprintln!("fettle lsp: no diagnostics for `{uri}`, which is not a URI");
        return None;
    };
    notification::<PublishDiagnostics>(PublishDiagnosticsParams { uri, diagnostics, version: None })
}

/// Applies one `contentChanges` entry: the whole text, or a range edit.
fn apply_change(text: &mut String, change: &TextDocumentContentChangeEvent) {
    let Some(range) = change.range else {
        text.clone_from(&change.text);
        return;
    };
    let ix = LineIndex::new(text);
    let a = ix.offset(range.start.line, range.start.character);
    let b = ix.offset(range.end.line, range.end.character);
    let (a, b) = (a.min(b), a.max(b));
    text.replace_range(a..b, &change.text);
}

/// One edit replacing the whole document with its formatted text, none when it is formatted; `None`
/// when it does not parse.
fn format(text: &str) -> Option<Vec<TextEdit>> {
    let (parsed, diags) = crate::syntax::parse(crate::span::FileId(0), text);
    let ast = parsed.filter(|_| diags.iter().all(|d| d.level != crate::diag::Level::Error))?;
    let formatted = crate::syntax::format::format(text, &ast);
    if formatted == text {
        return Some(vec![]);
    }
    Some(vec![TextEdit { range: LineIndex::new(text).range(0, text.len()), new_text: formatted }])
}

fn capabilities() -> InitializeResult {
    let caps = ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Options(TextDocumentSyncOptions {
            open_close: Some(true),
            change: Some(TextDocumentSyncKind::FULL),
            save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions { include_text: Some(false) })),
            ..TextDocumentSyncOptions::default()
        })),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![".".to_string()]),
            ..CompletionOptions::default()
        }),
        hover_provider: Some(lsp_types::HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        ..ServerCapabilities::default()
    };
    let server_info = ServerInfo { name: "fettle".to_string(), version: Some(env!("CARGO_PKG_VERSION").to_string()) };
    InitializeResult { capabilities: caps, server_info: Some(server_info) }
}
