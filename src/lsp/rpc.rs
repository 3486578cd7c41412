//! Reading LSP's `Content-Length` frames from a byte stream; messages themselves are
//! [`lsp_server::Message`]s, and lsp-server writes them.
//!
//! Frames are read here rather than with `lsp_server::Message::read`, for a measured reason: that
//! reader allocates whatever `Content-Length` says before reading the body, so the header
//! `Content-Length: 100000000000` aborts the process ("memory allocation of 100000000000 bytes
//! failed", exit 134), and it gives up at the first malformed frame. Reading here never fails on bad
//! input: a frame without a usable `Content-Length` is skipped, an oversized body is skipped, and
//! only the end of input or an IO error stops the reader.

use std::io::{self, BufRead, Read};

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
}
