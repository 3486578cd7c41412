//! `fettle serve`: the browser page (`web/`) served on 127.0.0.1, for people who have the binary.
//!
//! The page's files are compiled into fettle: `web/index.html`, `app.js`, `worker.js` and
//! `style.css` always, and `web/pkg/fettle.wasm` (the engine as WebAssembly, made by
//! `bash web/build.sh`) when it was built before fettle was compiled. Without it the page loads and
//! says how to build it.
//!
//! The server is deliberately small: HTTP/1.1 on `std::net::TcpListener`, bound to 127.0.0.1 only;
//! GET only (anything else is 405); exactly five paths, matched as they are (so no path can reach a
//! file outside the page: there is no file system behind it); requests whose `Host` is not this
//! machine's loopback address are refused (a web page elsewhere cannot reach the server through a
//! DNS name that points here); one response per connection. Every response forbids the page from
//! loading anything from anywhere else (Content-Security-Policy), so the files a user checks can
//! only be read inside the page. The server never sees them: the page reads them locally.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::time::Duration;

static PKG: include_dir::Dir<'static> = include_dir::include_dir!("$CARGO_MANIFEST_DIR/web/pkg");
const INDEX: &[u8] = include_bytes!("../web/index.html");
const APP: &[u8] = include_bytes!("../web/app.js");
const WORKER: &[u8] = include_bytes!("../web/worker.js");
const STYLE: &[u8] = include_bytes!("../web/style.css");

/// The largest request head read.
const MAX_HEAD: usize = 16 * 1024;

/// What every response says about where the page may load from: itself only.
const CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self'; \
                   style-src 'self'; img-src 'self' data: blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// What is sent when the page's engine was not built into this fettle.
const NO_WASM: &str = "fettle.wasm was not built into this fettle. Build it with `bash web/build.sh`, then rebuild \
                       fettle (`cargo build --release`) and run `fettle serve` again.\n";

/// The file served at a path, with its content type.
pub fn asset(path: &str) -> Option<(&'static [u8], &'static str)> {
    match path {
        "/" | "/index.html" => Some((INDEX, "text/html; charset=utf-8")),
        "/app.js" => Some((APP, "text/javascript; charset=utf-8")),
        "/worker.js" => Some((WORKER, "text/javascript; charset=utf-8")),
        "/style.css" => Some((STYLE, "text/css; charset=utf-8")),
        "/pkg/fettle.wasm" => PKG.get_file("fettle.wasm").map(|f| (f.contents(), "application/wasm")),
        _ => None,
    }
}

/// Whether the engine (`web/pkg/fettle.wasm`) was built into this fettle.
pub fn has_wasm() -> bool {
    PKG.get_file("fettle.wasm").is_some()
}

/// A complete response.
fn response(status: &str, content_type: &str, body: &[u8], head_only: bool, extra: &str) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n\
         X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\nContent-Security-Policy: {CSP}\r\n\
         Cross-Origin-Opener-Policy: same-origin\r\nCross-Origin-Resource-Policy: same-origin\r\n{extra}Connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if !head_only {
        out.extend_from_slice(body);
    }
    out
}

fn text(status: &str, msg: &str, extra: &str) -> Vec<u8> {
    response(status, "text/plain; charset=utf-8", msg.as_bytes(), false, extra)
}

/// Whether a `Host` header names this server: 127.0.0.1 or localhost, with its port.
fn host_ok(host: &str, port: u16) -> bool {
    let host = host.trim().to_ascii_lowercase();
    let (name, p) = match host.rsplit_once(':') {
        Some((n, p)) => (n.to_string(), p.parse::<u16>().ok()),
        None => (host.clone(), Some(80)),
    };
    (name == "127.0.0.1" || name == "localhost") && p == Some(port)
}

/// The response to a request head (the request line and headers, without the blank line).
pub fn respond(head: &str, port: u16) -> Vec<u8> {
    let mut lines = head.split("\r\n");
    let request = lines.next().unwrap_or("");
    let mut parts = request.split(' ');
    let (Some(method), Some(target), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return text("400 Bad Request", "bad request\n", "");
    };
    if !version.starts_with("HTTP/1.") {
        return text("505 HTTP Version Not Supported", "HTTP/1.1 only\n", "");
    }
    let host = lines.filter_map(|l| l.split_once(':')).find(|(k, _)| k.trim().eq_ignore_ascii_case("host")).map(|(_, v)| v);
    if !host.is_some_and(|h| host_ok(h, port)) {
        return text("403 Forbidden", "fettle serves this machine only: open http://127.0.0.1 with the port given\n", "");
    }
    if method != "GET" {
        return text("405 Method Not Allowed", "GET only\n", "Allow: GET\r\n");
    }
    let path = target.split(['?', '#']).next().unwrap_or("");
    match asset(path) {
        Some((body, ty)) => response("200 OK", ty, body, false, ""),
        None if path == "/pkg/fettle.wasm" => text("404 Not Found", NO_WASM, ""),
        None => text("404 Not Found", "not found\n", ""),
    }
}

/// Reads one request head and answers it.
fn handle(mut stream: TcpStream, port: u16) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(30)));
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let head = loop {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
        }
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break buf.get(..end).map(|h| String::from_utf8_lossy(h).into_owned()).unwrap_or_default();
        }
        if buf.len() > MAX_HEAD {
            let _ = stream.write_all(&text("431 Request Header Fields Too Large", "request too large\n", ""));
            return;
        }
    };
    let _ = stream.write_all(&respond(&head, port));
    let _ = stream.flush();
}

/// Binds 127.0.0.1 on `port` (0: any free port); returns the listener and the port bound.
pub fn bind(port: u16) -> std::io::Result<(TcpListener, u16)> {
    let listener = TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))?;
    let port = listener.local_addr()?.port();
    Ok((listener, port))
}

/// Serves connections until the process is stopped, a thread per connection.
pub fn run(listener: TcpListener, port: u16) {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let _ = std::thread::Builder::new().name("fettle-serve".into()).spawn(move || handle(stream, port));
    }
}

/// Prints where the page is served. A closed pipe is not an error (the server goes on); any other
/// failed write (a full disk, `/dev/full`) is, and the server does not start.
pub fn announce(out: &mut impl Write, port: u16) -> Result<(), String> {
    let mut text = format!(
        "fettle: open http://127.0.0.1:{port}/ in a web browser (Ctrl-C to stop)\n\
         fettle: files you choose there are checked inside the page; they are never sent to this server\n"
    );
    if !has_wasm() {
        text.push_str(&format!("warning: {}\n", NO_WASM.trim_end()));
    }
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(format!("cannot write to standard output: {e}; the address of the page is lost, so it is not served"))
        }
        _ => Ok(()),
    }
}

/// `fettle serve --port PORT`: prints the address and serves until stopped. Returns the exit code.
pub fn command(port: u16) -> u8 {
    let (listener, port) = match bind(port) {
        Ok(x) => x,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: cannot listen on 127.0.0.1:{port}: {e}");
            return 2;
        }
    };
    if let Err(e) = announce(&mut std::io::stdout().lock(), port) {
        let _ = writeln!(std::io::stderr(), "error: {e}");
        return 2;
    }
    run(listener, port);
    0
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn get(path: &str) -> String {
        String::from_utf8_lossy(&respond(&format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:8321"), 8321)).into_owned()
    }

    #[test]
    fn serves_the_page_with_its_types() {
        for (path, ty) in [
            ("/", "text/html"),
            ("/index.html", "text/html"),
            ("/app.js", "text/javascript"),
            ("/worker.js", "text/javascript"),
            ("/style.css", "text/css"),
        ] {
            let r = get(path);
            assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{path}: {r}");
            assert!(r.contains(&format!("Content-Type: {ty}")), "{path}");
            assert!(r.contains("Content-Security-Policy: default-src 'none'"));
        }
        assert!(get("/?x=1").starts_with("HTTP/1.1 200"));
        let wasm = get("/pkg/fettle.wasm");
        if has_wasm() {
            assert!(wasm.contains("Content-Type: application/wasm"));
            assert!(wasm.contains("\r\n\r\n\0asm"));
        } else {
            assert!(wasm.starts_with("HTTP/1.1 404") && wasm.contains("bash web/build.sh"));
        }
    }

    #[test]
    fn nothing_else() {
        for path in [
            "/../Cargo.toml",
            "/pkg/README.md",
            "/pkg/../index.html",
            "//etc/passwd",
            "/%2e%2e/Cargo.toml",
            "/web/index.html",
            "x",
        ] {
            assert!(get(path).starts_with("HTTP/1.1 404"), "{path}");
        }
        let post = String::from_utf8_lossy(&respond("POST / HTTP/1.1\r\nHost: 127.0.0.1:8321", 8321)).into_owned();
        assert!(post.starts_with("HTTP/1.1 405") && post.contains("Allow: GET"));
        let bad = String::from_utf8_lossy(&respond("GET /", 8321)).into_owned();
        assert!(bad.starts_with("HTTP/1.1 400"));
        for host in ["evil.example:8321", "127.0.0.1:9999", "192.168.0.2:8321"] {
            let r = String::from_utf8_lossy(&respond(&format!("GET / HTTP/1.1\r\nHost: {host}"), 8321)).into_owned();
            assert!(r.starts_with("HTTP/1.1 403"), "{host}");
        }
        let no_host = String::from_utf8_lossy(&respond("GET / HTTP/1.1", 8321)).into_owned();
        assert!(no_host.starts_with("HTTP/1.1 403"));
        let local = String::from_utf8_lossy(&respond("GET / HTTP/1.1\r\nhost: LOCALHOST:8321", 8321)).into_owned();
        assert!(local.starts_with("HTTP/1.1 200"));
    }

    #[test]
    fn answers_over_a_socket_on_loopback_only() {
        let (listener, port) = bind(0).unwrap();
        assert!(listener.local_addr().unwrap().ip().is_loopback());
        std::thread::spawn(move || run(listener, port));
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(s, "GET /style.css HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").unwrap();
        let mut got = String::new();
        s.read_to_string(&mut got).unwrap();
        assert!(
            got.starts_with("HTTP/1.1 200 OK") && got.contains("text/css") && got.ends_with(std::str::from_utf8(STYLE).unwrap())
        );
    }
}
