//! `fettle lsp`: scripted JSON-RPC sessions with the server binary over piped stdin and stdout.
//! Every read fails after 10 seconds, so a server that hangs fails the test instead of blocking it.

use insta::assert_json_snapshot;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(10);

/// Formatting options, as every client sends them.
fn options() -> Value {
    json!({ "tabSize": 2, "insertSpaces": true })
}

const SCHEMA: &str = r#"return demo 2024-25

codes Colour "Favourite colours" {
  RED "Red"
  GREEN "Green"
}

table ChildIdentifiers "One row per child" {
  key LAchildID
  field LAchildID: text required "LA child ID"
  field PersonBirthDate: date "Date of birth"
  field Colour: code Colour "Favourite colour"
}
"#;

/// The rules with a misspelt field on line 6, after a non-ASCII string (so UTF-16 columns matter).
const BROKEN: &str = r#"return demo 2024-25

derive ReferenceDate = 2025-03-31

rule R1 error "birth date after the reference date" on ChildIdentifiers {
  fields PersonBirthDate
  require LAchildID != "😀" and PersonBrithDate <= ReferenceDate
  example pass { ChildIdentifiers { LAchildID: "A" PersonBirthDate: 2020-01-01 } }
  example fail { ChildIdentifiers { LAchildID: "A" PersonBirthDate: 2026-01-01 } }
}
"#;

/// A scratch folder, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("fettle-lsp-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    fn write(&self, name: &str, text: &str) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        uri(&p)
    }
    /// Replaces the folder's URI in a value with `file:///TMP`.
    fn redact(&self, v: &Value) -> Value {
        let prefix = uri(&self.0);
        serde_json::from_str(&serde_json::to_string(v).unwrap().replace(&prefix, "file:///TMP")).unwrap()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn uri(p: &Path) -> String {
    format!("file://{}", p.display())
}

/// Reads one framed message; `None` at the end of the stream.
fn read_message(r: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(n) = line.strip_prefix("Content-Length: ") {
            length = n.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    r.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

/// Reads a result as a client does, into the lsp-types type of its request's result; panics when
/// it does not fit.
fn client_reads(method: &str, result: &Value) {
    use lsp_types::request::{Completion, Formatting, GotoDefinition, HoverRequest, Initialize, References, Request, Shutdown};
    fn read<R: Request>(v: &Value) {
        if let Err(e) = serde_json::from_value::<R::Result>(v.clone()) {
            panic!("a client cannot read the reply to `{}`: {e}\n{v}", R::METHOD);
        }
    }
    match method {
        Initialize::METHOD => read::<Initialize>(result),
        Shutdown::METHOD => read::<Shutdown>(result),
        Completion::METHOD => read::<Completion>(result),
        HoverRequest::METHOD => read::<HoverRequest>(result),
        GotoDefinition::METHOD => read::<GotoDefinition>(result),
        References::METHOD => read::<References>(result),
        Formatting::METHOD => read::<Formatting>(result),
        _ => {}
    }
}

/// A running `fettle lsp`.
struct Session {
    child: Child,
    stdin: Option<ChildStdin>,
    rx: Receiver<Value>,
    next_id: i64,
    /// Messages read while waiting for something else.
    seen: Vec<Value>,
}

impl Session {
    fn start() -> Session {
        Session::start_with(Stdio::null())
    }

    /// Starts the server with its stderr going to `stderr`.
    fn start_with(stderr: Stdio) -> Session {
        let mut child = crate::fettle().arg("lsp").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(stderr).spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            while let Some(v) = read_message(&mut r) {
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        Session { stdin: child.stdin.take(), child, rx, next_id: 0, seen: vec![] }
    }

    fn send_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(bytes).unwrap();
        stdin.flush().unwrap();
    }

    fn send(&mut self, msg: &Value) {
        let body = serde_json::to_vec(msg).unwrap();
        let mut framed = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        framed.extend(body);
        self.send_raw(&framed);
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request and returns its whole response message.
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        let response = self.wait(&format!("the response to `{method}`"), |m| m["id"] == json!(id));
        if let Some(result) = response.get("result") {
            client_reads(method, result);
        }
        response
    }

    /// The first message (seen before or arriving within the timeout) that `pred` accepts.
    fn wait(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.seen.iter().position(&pred) {
            return self.seen.remove(i);
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(m) if pred(&m) => return m,
                Ok(m) => self.seen.push(m),
                Err(RecvTimeoutError::Timeout) => panic!("no {what} within {TIMEOUT:?}; seen: {:#?}", self.seen),
                Err(RecvTimeoutError::Disconnected) => panic!("the server stopped before {what}; seen: {:#?}", self.seen),
            }
        }
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        let m = self.wait(&format!("diagnostics for {uri}"), |m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        });
        serde_json::from_value::<lsp_types::PublishDiagnosticsParams>(m["params"].clone())
            .unwrap_or_else(|e| panic!("a client cannot read {m}: {e}"));
        m["params"]["diagnostics"].as_array().unwrap().clone()
    }

    fn initialize(&mut self, root: &str) {
        let r = self.request("initialize", json!({ "processId": null, "rootUri": root, "capabilities": {} }));
        assert_eq!(r["result"]["capabilities"]["hoverProvider"], true, "{r}");
        self.notify("initialized", json!({}));
    }

    fn change(&mut self, uri: &str, version: i64, text: &str) {
        let params = json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": [{ "text": text }] });
        self.notify("textDocument/didChange", params);
    }

    fn at(&mut self, method: &str, uri: &str, line: u32, character: u32) -> Value {
        let r =
            self.request(method, json!({ "textDocument": { "uri": uri }, "position": { "line": line, "character": character } }));
        r["result"].clone()
    }

    /// Sends `exit` (after `shutdown` when `clean`) and returns the exit code.
    fn exit(mut self, clean: bool) -> i32 {
        if clean {
            let r = self.request("shutdown", Value::Null);
            assert_eq!(r["result"], Value::Null, "{r}");
        }
        self.notify("exit", Value::Null);
        drop(self.stdin.take());
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the server did not exit within {TIMEOUT:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[test]
fn editing_session() {
    crate::in_suite("lsp", || {
        let dir = TempDir::new("session");
        let schema = dir.write("00-schema.fettle", SCHEMA);
        let rules = dir.write("10-rules.fettle", BROKEN);
        let fixed = BROKEN.replace("PersonBrithDate", "PersonBirthDate");
        let mut s = Session::start();
        s.initialize(&uri(&dir.0));
        let open = json!({ "textDocument": { "uri": rules, "languageId": "fettle", "version": 1, "text": BROKEN } });
        s.notify("textDocument/didOpen", open);

        // Every file of the set gets diagnostics; the error is at UTF-16 column 32 of line 6.
        assert_eq!(s.diagnostics(&schema), Vec::<Value>::new());
        let diags = s.diagnostics(&rules);
        assert_eq!(diags.len(), 1, "{diags:#?}");
        assert_eq!(diags[0]["range"]["start"], json!({ "line": 6, "character": 32 }));
        assert_json_snapshot!("diagnostics_unknown_field", dir.redact(&json!(diags)));

        // Fixing it clears them.
        s.change(&rules, 2, &fixed);
        assert_eq!(s.diagnostics(&rules), Vec::<Value>::new());

        // Completion while the line does not parse uses the last good compilation.
        let typing = fixed.replace("LAchildID != \"😀\" and PersonBirthDate <= ReferenceDate", "ChildIdentifiers.");
        s.change(&rules, 3, &typing);
        let diags = s.diagnostics(&rules);
        assert_eq!(diags[0]["code"], "syntax::expected", "{diags:#?}");
        let items = s.at("textDocument/completion", &rules, 6, 27);
        let labels: Vec<&str> = items["items"].as_array().unwrap().iter().map(|i| i["label"].as_str().unwrap()).collect();
        assert_eq!(labels, ["Colour", "LAchildID", "PersonBirthDate"]);
        assert_json_snapshot!("completion_table_fields", items);

        // Completion at the start of a line offers everything.
        let all = s.at("textDocument/completion", &rules, 2, 0);
        let all: Vec<&str> = all["items"].as_array().unwrap().iter().map(|i| i["label"].as_str().unwrap()).collect();
        for want in ["ChildIdentifiers", "Colour", "RED", "ReferenceDate", "present", "count", "require"] {
            assert!(all.contains(&want), "{want} not offered: {all:?}");
        }

        s.change(&rules, 4, &fixed);
        assert_eq!(s.diagnostics(&rules), Vec::<Value>::new());

        // Hover over a field (line 6 `PersonBirthDate`), a table and a rule code.
        let hover = s.at("textDocument/hover", &rules, 6, 35);
        assert!(hover["contents"]["value"].as_str().unwrap().contains("`date`"), "{hover}");
        assert_json_snapshot!("hover_field", hover);
        let hover = s.at("textDocument/hover", &rules, 4, 60);
        assert!(hover["contents"]["value"].as_str().unwrap().starts_with("**table ChildIdentifiers**"), "{hover}");
        let hover = s.at("textDocument/hover", &rules, 4, 6);
        assert_eq!(hover["contents"]["value"], "**rule R1** (error)\n\nbirth date after the reference date");

        // Definition of a derived value: its `derive` line; of a field: its declaration in the other file.
        let def = s.at("textDocument/definition", &rules, 6, 52);
        assert_eq!(def["uri"], rules.as_str());
        assert_eq!(def["range"]["start"]["line"], 2);
        assert_json_snapshot!("definition_derive", dir.redact(&def));
        let def = s.at("textDocument/definition", &rules, 5, 12);
        assert_eq!(def["uri"], schema.as_str());
        assert_eq!(def["range"], json!({ "start": { "line": 10, "character": 8 }, "end": { "line": 10, "character": 23 } }));

        // Formatting returns one edit replacing the document with the canonical layout.
        let messy = fixed.replace("derive ReferenceDate = ", "derive   ReferenceDate=").replace("  fields", "fields");
        s.change(&rules, 5, &messy);
        let _ = s.diagnostics(&rules);
        let edits = s.request(
            "textDocument/formatting",
            json!({ "textDocument": { "uri": rules }, "options": { "tabSize": 2, "insertSpaces": true } }),
        );
        assert_eq!(edits["result"][0]["newText"], fixed.as_str());
        assert_json_snapshot!("formatting", edits["result"]);
        s.change(&rules, 6, &fixed);
        let _ = s.diagnostics(&rules);
        let edits = s.request("textDocument/formatting", json!({ "textDocument": { "uri": rules }, "options": options() }));
        assert_eq!(edits["result"], json!([]));

        assert_eq!(s.exit(true), 0);
    });
}

#[test]
fn bad_input_gets_errors_and_the_server_keeps_going() {
    let dir = TempDir::new("bad-input");
    let log = dir.0.join("stderr.txt");
    let mut s = Session::start_with(Stdio::from(std::fs::File::create(&log).unwrap()));
    // Before `initialize`.
    let r = s.request("textDocument/hover", json!({}));
    assert_eq!(r["error"]["code"], -32002, "{r}");
    s.initialize("file:///nowhere");
    // Not JSON, a frame without a length, a JSON value that is not a message: each is skipped (with a line on stderr) and the server keeps going.
    s.send_raw(b"Content-Length: 5\r\n\r\n{oops");
    s.send_raw(b"X-Junk: 1\r\n\r\n");
    s.send(&json!([1, 2]));
    let r = s.request("workspace/symbol", json!({ "query": "" }));
    assert_eq!(r["error"]["code"], -32601, "{r}");
    assert!(s.seen.is_empty(), "{:#?}", s.seen);
    // Unknown methods: a request is answered, a notification ignored.
    s.notify("$/unknownNotification", json!({ "x": 1 }));
    let r = s.request("workspace/symbol", json!({ "query": "" }));
    assert_eq!(r["error"]["code"], -32601, "{r}");
    // Malformed parameters, and positions in documents that are not open.
    let r = s.request("textDocument/hover", json!({ "textDocument": {} }));
    assert_eq!(r["error"]["code"], -32602, "{r}");
    assert_eq!(s.at("textDocument/hover", "file:///nowhere/x.fettle", 3, 1), Value::Null);
    assert_eq!(s.at("textDocument/definition", "file:///nowhere/x.fettle", 99, 99), Value::Null);
    // A document that is not a file, with a position past its end.
    let open = json!({ "textDocument": { "uri": "untitled:1", "languageId": "fettle", "version": 1, "text": "return x 2024-25\nrule" } });
    s.notify("textDocument/didOpen", open);
    assert_eq!(s.diagnostics("untitled:1")[0]["code"], "syntax::expected");
    let r = s.request(
        "textDocument/completion",
        json!({ "textDocument": { "uri": "untitled:1" }, "position": { "line": 50, "character": 3 } }),
    );
    assert!(r["result"]["items"].as_array().is_some_and(|i| !i.is_empty()), "{r}");
    let r = s.request("textDocument/formatting", json!({ "textDocument": { "uri": "untitled:1" }, "options": options() }));
    assert_eq!(r["result"], Value::Null, "{r}");
    // Other plain-text files (an editor without a `fettle` language sends them) are left alone.
    let open = json!({ "textDocument": { "uri": "file:///nowhere/notes.txt", "languageId": "plaintext", "version": 1, "text": "rule" } });
    s.notify("textDocument/didOpen", open);
    let r = s.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": "file:///nowhere/notes.txt" }, "options": options() }),
    );
    assert_eq!(r["result"], Value::Null, "{r}");
    assert!(!s.seen.iter().any(|m| m["params"]["uri"] == "file:///nowhere/notes.txt"), "{:#?}", s.seen);
    // `exit` without `shutdown` is an error exit.
    assert_eq!(s.exit(false), 1);
    // What was skipped is said on stderr.
    crate::in_suite("lsp", || insta::assert_snapshot!("bad_input_stderr", std::fs::read_to_string(&log).unwrap()));
}

#[test]
fn shipped_rules_are_served_with_their_base_year() {
    let path = crate::root().join("rules/cin/2025-26/00-year.fettle");
    let text = std::fs::read_to_string(&path).unwrap();
    let doc = uri(&path);
    let mut s = Session::start();
    s.initialize(&uri(crate::root()));
    s.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": doc, "languageId": "fettle", "version": 1, "text": text } }),
    );
    // 2025-26 extends 2024-25, which is loaded from the sibling folder.
    let errors: Vec<Value> = s.diagnostics(&doc).into_iter().filter(|d| d["severity"] == 1).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let line = text.lines().count() as u32;
    s.change(&doc, 2, &format!("{text}\nderive Probe = ChildIdentifiers.\n"));
    let _ = s.diagnostics(&doc);
    let items = s.at("textDocument/completion", &doc, line + 1, 32);
    let labels: Vec<&str> = items["items"].as_array().unwrap().iter().map(|i| i["label"].as_str().unwrap()).collect();
    assert!(labels.contains(&"LAchildID") && labels.contains(&"PersonBirthDate"), "{labels:?}");
    // A field of the fixture's `Header` row is declared in the base year's folder.
    let (line, col) = text.lines().enumerate().find_map(|(i, l)| Some((i as u32, l.find("ReferenceDate:")? as u32))).unwrap();
    let def = s.at("textDocument/definition", &doc, line, col + 2);
    assert!(def["uri"].as_str().unwrap().ends_with("/rules/cin/2024-25/00-schema.fettle"), "{def}");

    // A document that is broken when opened completes from its set as saved.
    let path = crate::root().join("rules/cin/2024-25/20-child.fettle");
    let child = uri(&path);
    let text = format!("{}\nderive Probe = ChildIdentifiers.\n", std::fs::read_to_string(&path).unwrap());
    s.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": child, "languageId": "fettle", "version": 1, "text": text } }),
    );
    assert!(s.diagnostics(&child).iter().any(|d| d["code"] == "syntax::expected"));
    let items = s.at("textDocument/completion", &child, text.lines().count() as u32 - 1, 32);
    let labels: Vec<&str> = items["items"].as_array().unwrap().iter().map(|i| i["label"].as_str().unwrap()).collect();
    assert!(labels.contains(&"LAchildID"), "{labels:?}");
    assert_eq!(s.exit(true), 0);
}

/// The 0-based line and character of the `nth` occurrence of `needle` in `text`, plus `shift`
/// characters (the rule files used here are ASCII, so bytes are UTF-16 units).
fn pos(text: &str, needle: &str, nth: usize, shift: u32) -> (u32, u32) {
    let at = text.match_indices(needle).nth(nth).unwrap_or_else(|| panic!("no {needle:?} #{nth}")).0;
    let before = &text[..at];
    let line = before.matches('\n').count() as u32;
    let col = (at - before.rfind('\n').map_or(0, |n| n + 1)) as u32;
    (line, col + shift)
}

fn labels(items: &Value) -> Vec<String> {
    items["items"].as_array().unwrap().iter().map(|i| i["label"].as_str().unwrap().to_string()).collect()
}

fn hover_text(h: &Value) -> String {
    h["contents"]["value"].as_str().unwrap_or_else(|| panic!("no hover: {h}")).to_string()
}

/// A copy of the shipped FGC rule set in `<dir>/fgc/2024-25/`, with `20-events.fettle` as `events`.
fn fgc_copy(dir: &TempDir, events: &str) -> (String, String) {
    let set = dir.0.join("fgc/2024-25");
    std::fs::create_dir_all(&set).unwrap();
    let shipped = crate::root().join("rules/fgc/2024-25");
    for e in std::fs::read_dir(&shipped).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, set.join(p.file_name().unwrap())).unwrap();
    }
    let events_path = set.join("20-events.fettle");
    std::fs::write(&events_path, events).unwrap();
    (uri(&events_path), uri(&set.join("00-schema.fettle")))
}

#[test]
fn a_broken_file_keeps_hover_completion_definition_and_references() {
    crate::in_suite("lsp", || {
        let shipped = std::fs::read_to_string(crate::root().join("rules/fgc/2024-25/20-events.fettle")).unwrap();
        // One unknown field in the saved text: FGC030 says `forbid OfferDat < ReferralDate`.
        let broken = shipped.replacen("forbid OfferDate < ReferralDate", "forbid OfferDat < ReferralDate", 1);
        assert_ne!(broken, shipped);
        let dir = TempDir::new("broken-fgc");
        let (doc, schema) = fgc_copy(&dir, &broken);
        let mut s = Session::start();
        s.initialize(&uri(&dir.0));
        s.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": doc, "languageId": "fettle", "version": 1, "text": broken } }),
        );

        // The diagnostic is right: one error, with its "did you mean".
        let diags = s.diagnostics(&doc);
        let errors: Vec<&Value> = diags.iter().filter(|d| d["severity"] == 1).collect();
        assert_eq!(errors.len(), 1, "{diags:#?}");
        assert!(errors[0]["message"].as_str().unwrap().contains("did you mean `OfferDate`?"), "{diags:#?}");
        assert_json_snapshot!("broken_diagnostics", dir.redact(&json!(errors)));

        // Hover works in the broken rule itself: a field, the rule code, the table.
        let (l, c) = pos(&broken, "ReferralDate", 4, 2); // `forbid OfferDat < ReferralDate`
        assert_eq!(pos(&broken, "forbid OfferDat < ReferralDate", 0, 18), (l, c - 2));
        let field = hover_text(&s.at("textDocument/hover", &doc, l, c));
        assert!(field.starts_with("**Referrals.ReferralDate**: `date` (required)"), "{field}");
        assert_json_snapshot!("broken_hover_field", hover_text(&s.at("textDocument/hover", &doc, l, c)));
        let (l, c) = pos(&broken, "FGC030", 0, 2);
        let rule = hover_text(&s.at("textDocument/hover", &doc, l, c));
        assert_eq!(rule, "**rule FGC030** (error)\n\nOfferDate {OfferDate} is before ReferralDate {ReferralDate}");
        let (l, c) = pos(&broken, "on Referrals", 0, 5);
        let table = hover_text(&s.at("textDocument/hover", &doc, l, c));
        assert!(table.starts_with("**table Referrals**") && table.contains("- `OfferDate`: date"), "{table}");

        // Go to definition of a field, from the broken rule: its declaration in the schema file.
        let (l, c) = pos(&broken, "forbid OfferDat < ReferralDate", 0, 20);
        let def = s.at("textDocument/definition", &doc, l, c);
        assert_eq!(def["uri"], schema.as_str(), "{def}");
        let schema_text = std::fs::read_to_string(dir.0.join("fgc/2024-25/00-schema.fettle")).unwrap();
        assert_eq!(def["range"]["start"]["line"], pos(&schema_text, "field ReferralDate", 0, 0).0, "{def}");
        assert_json_snapshot!("broken_definition_field", dir.redact(&def));

        // References to `OfferDate` across the set, including from this broken file.
        let (l, c) = pos(&broken, "fields ReferralDate, OfferDate", 0, 23);
        let refs = s.request(
            "textDocument/references",
            json!({ "textDocument": { "uri": doc }, "position": { "line": l, "character": c }, "context": { "includeDeclaration": true } }),
        );
        let refs = refs["result"].as_array().unwrap().clone();
        assert!(refs.iter().any(|r| r["uri"] == schema.as_str()), "no declaration: {refs:#?}");
        let here: Vec<&Value> = refs.iter().filter(|r| r["uri"] == doc.as_str()).collect();
        assert!(here.len() > 10, "{refs:#?}");
        // Comments and strings are not references.
        assert!(!here.iter().any(|r| r["range"]["start"]["line"] == 2), "{here:#?}");
        assert_json_snapshot!("broken_references", dir.redact(&json!(refs)));
        let first = &here[0]["range"]["start"];
        assert_eq!((first["line"].as_u64().unwrap() as u32, first["character"].as_u64().unwrap() as u32), (l, c - 2));

        // Completion of fields in general, inside the broken rule.
        let (l, c) = pos(&broken, "  forbid OfferDat", 0, 2);
        let all = labels(&s.at("textDocument/completion", &doc, l, c));
        for want in ["OfferDate", "ReferralDate", "Referrals", "forbid", "present"] {
            assert!(all.iter().any(|l| l == want), "{want} not offered: {all:?}");
        }

        // A syntax error elsewhere (FGC031), and `Referrals.` being typed in FGC030.
        let typing = broken.replacen("forbid ConferenceDate < earlier", "forbid ConferenceDate < < earlier", 1).replacen(
            "forbid OfferDat < ReferralDate",
            "forbid OfferDat < Referrals.",
            1,
        );
        s.change(&doc, 2, &typing);
        let diags = s.diagnostics(&doc);
        assert!(diags.iter().all(|d| d["code"] == "syntax::expected"), "{diags:#?}");
        assert_eq!(diags.len(), 2, "{diags:#?}");
        let (l, c) = pos(&typing, "Referrals.", 0, 10);
        let items = s.at("textDocument/completion", &doc, l, c);
        let fields = labels(&items);
        for want in ["FamilyID", "LAchildID", "OfferDate", "ReferralDate", "AgeAtReferral"] {
            assert!(fields.iter().any(|l| l == want), "{want} not offered: {fields:?}");
        }
        assert!(!fields.iter().any(|l| l == "forbid" || l == "count"), "{fields:?}");
        assert_json_snapshot!("broken_completion_after_table", fields);
        // Hover and definition in a declaration that parses, further down the broken file.
        let (l, c) = pos(&typing, "fields ReferralDate, OfferDate, ConferenceDate", 0, 35);
        let h = hover_text(&s.at("textDocument/hover", &doc, l, c));
        assert!(h.starts_with("**Referrals.ConferenceDate**: `date`"), "{h}");
        let def = s.at("textDocument/definition", &doc, l, c);
        assert_eq!(def["uri"], schema.as_str(), "{def}");
        let (l, c) = pos(&typing, "rule FGC032", 0, 7);
        assert!(hover_text(&s.at("textDocument/hover", &doc, l, c)).starts_with("**rule FGC032**"));

        assert_eq!(s.exit(true), 0);
    });
}

#[test]
fn a_lone_rule_file_says_where_its_schema_is() {
    crate::in_suite("lsp", || {
        let text = std::fs::read_to_string(crate::root().join("rules/fgc/2024-25/20-events.fettle")).unwrap();
        let dir = TempDir::new("lone");
        let doc = dir.write("20-events.fettle", &text);
        let mut s = Session::start();
        s.initialize(&uri(&dir.0));
        s.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": doc, "languageId": "fettle", "version": 1, "text": text } }),
        );
        let diags = s.diagnostics(&doc);
        assert_eq!(diags.len(), 1, "{diags:#?}");
        assert_eq!(diags[0]["code"], "check::no-schema");
        assert_json_snapshot!("lone_file_diagnostic", dir.redact(&json!(diags)));
        // The names still resolve, against the shipped set of its return and year.
        let (l, c) = pos(&text, "forbid OfferDate < ReferralDate", 0, 22);
        let h = hover_text(&s.at("textDocument/hover", &doc, l, c));
        assert!(h.starts_with("**Referrals.ReferralDate**"), "{h}");
        let (l, c) = pos(&text, "on Referrals", 0, 5);
        assert!(hover_text(&s.at("textDocument/hover", &doc, l, c)).starts_with("**table Referrals**"));
        assert_eq!(s.exit(true), 0);
    });
}

#[test]
#[cfg(target_os = "linux")]
fn a_failed_write_ends_the_server_with_exit_code_2() {
    crate::in_suite("lsp", || {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let mut child =
            crate::fettle().arg("lsp").stdin(Stdio::piped()).stdout(Stdio::from(full)).stderr(Stdio::piped()).spawn().unwrap();
        let body =
            serde_json::to_vec(&json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": { "capabilities": {} } }))
                .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes()).unwrap();
        stdin.write_all(&body).unwrap();
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        insta::assert_snapshot!("failed_write", String::from_utf8_lossy(&out.stderr));
    });
}
