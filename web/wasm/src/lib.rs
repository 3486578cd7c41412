//! fettle as a WebAssembly module for the page in `web/`, with a small hand-made ABI (no
//! wasm-bindgen). The logic lives in [`session`]; this file only moves bytes.
//!
//! # The ABI
//!
//! Memory is the module's exported `memory`. Every function below is exported by name.
//!
//! - `alloc(len) -> ptr` reserves `len` bytes for a request; `dealloc(ptr, len)` frees what `alloc`
//!   or a result gave.
//! - Requests: the caller `alloc`s a buffer, copies the bytes in and passes `(ptr, len)`; **the
//!   called function takes the buffer over and frees it** (the caller must not use it again).
//! - Results: a pointer to `[len: u32 little-endian][status: u8][payload: len - 1 bytes]`; status 0
//!   is success (payload: JSON, or the bytes of a file), 1 failure (payload: the message, UTF-8). The
//!   caller copies the payload out and calls `dealloc(ptr, 4 + len)`.
//! - `info() -> result`: JSON `{version, returns: [{name, years, latest}]}`.
//! - `add_file(name_ptr, name_len, data_ptr, data_len) -> result`: adds a file (UTF-8 name, a file
//!   name or a relative path; its bytes). Both buffers are taken over. Payload: `{"files": n}`.
//! - `remove_file(name_ptr, name_len) -> result`, `clear() -> result` (this year's files).
//! - `add_previous_file`, `remove_previous_file`, `clear_previous`: the same for the files of last
//!   year's return (what `fettle validate --previous` is given).
//! - `detect() -> result`: groups the files into submissions and tells each one's return and year:
//!   `{submissions: [{display, format, files, return, year, notes, error}], previous: [the same, for
//!   last year's files], skipped}`.
//! - `validate(ptr, len) -> result`: request JSON `{choices: [{return, year}], max_per_rule}` (a
//!   choice per detected submission, in order; `null` to detect); payload: the outcome JSON (see
//!   [`session::Outcome`]; `previous` names last year's file each submission was checked against). A
//!   file of last year's of another return, or not one year earlier, fails the request with the
//!   message `fettle validate --previous` gives.
//! - `report(ptr, len) -> result`: request JSON `{kind, submission}`, kind one of `xlsx`, `json`,
//!   `html`, `csv`, `annotated` (with `submission`, an xlsx submission's index); payload: the file.
//!
//! The module imports three functions from `env`: `fettle_now() -> f64` (milliseconds since 1970,
//! for the date written into xlsx files), `fettle_progress(ptr, len)` (a JSON [`session::Step`] while
//! reading and checking) and `fettle_panic(ptr, len)` (the message of a bug, before the module traps).

pub mod session;

use fettle_core::library::Library;
use fettle_io::submission::Rulebook;
use session::{Request, Session, Step};
use std::cell::RefCell;

thread_local! {
    static SESSION: RefCell<Option<Session>> = const { RefCell::new(None) };
}

#[cfg(target_arch = "wasm32")]
#[link(wasm_import_module = "env")]
unsafe extern "C" {
    fn fettle_progress(ptr: *const u8, len: usize);
    fn fettle_panic(ptr: *const u8, len: usize);
}

/// Tells the page how far a step has got.
fn progress(step: &Step) {
    let Ok(json) = serde_json::to_vec(step) else { return };
    #[cfg(target_arch = "wasm32")]
    // SAFETY: the page copies `len` bytes from `ptr` out of memory before returning.
    unsafe {
        fettle_progress(json.as_ptr(), json.len());
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = json;
}

/// Sends a panic's message to the page (the module traps after it).
fn install_panic_hook() {
    #[cfg(target_arch = "wasm32")]
    std::panic::set_hook(Box::new(|info| {
        let msg = info.to_string();
        // SAFETY: as for `fettle_progress`.
        unsafe { fettle_panic(msg.as_ptr(), msg.len()) }
    }));
}

/// Runs `f` on the session (made on first use).
fn with_session<T>(f: impl FnOnce(&mut Session) -> T) -> T {
    SESSION.with(|cell| {
        let mut slot = cell.borrow_mut();
        let session = slot.get_or_insert_with(|| {
            install_panic_hook();
            Session::new(Rulebook::new(Library::shipped()))
        });
        f(session)
    })
}

/// Reserves `len` bytes; the page writes a request into them.
#[unsafe(no_mangle)]
pub extern "C" fn alloc(len: usize) -> *mut u8 {
    let mut b = vec![0u8; len].into_boxed_slice();
    let ptr = b.as_mut_ptr();
    std::mem::forget(b);
    ptr
}

/// Frees `len` bytes at `ptr`, given by [`alloc`] or as a result.
///
/// # Safety
/// `ptr` and `len` must be those of one buffer from [`alloc`] or a result, not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dealloc(ptr: *mut u8, len: usize) {
    // SAFETY: the caller passes a buffer this module made as a boxed slice of `len` bytes.
    drop(unsafe { take(ptr, len) });
}

/// The buffer at `ptr` as an owned vector.
///
/// # Safety
/// As for [`dealloc`].
unsafe fn take(ptr: *mut u8, len: usize) -> Vec<u8> {
    // SAFETY: buffers are boxed slices of exactly `len` bytes (see `alloc` and `result`).
    unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len)) }.into_vec()
}

/// A result buffer: length, status, payload.
fn result(r: Result<Vec<u8>, String>) -> *mut u8 {
    let (status, payload) = match r {
        Ok(b) => (0u8, b),
        Err(e) => (1u8, e.into_bytes()),
    };
    let len = u32::try_from(payload.len() + 1).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(payload.len() + 5);
    out.extend_from_slice(&len.to_le_bytes());
    out.push(status);
    out.extend_from_slice(&payload);
    let mut b = out.into_boxed_slice();
    let ptr = b.as_mut_ptr();
    std::mem::forget(b);
    ptr
}

fn json<T: serde::Serialize>(v: &T) -> Result<Vec<u8>, String> {
    serde_json::to_vec(v).map_err(|e| format!("cannot write JSON: {e}"))
}

/// The returns and years fettle has rules for.
#[unsafe(no_mangle)]
pub extern "C" fn info() -> *mut u8 {
    result(with_session(|s| {
        let returns: Vec<serde_json::Value> = s
            .book()
            .returns()
            .into_iter()
            .map(|r| {
                let years = s.book().years(&r);
                let latest = years.iter().max().cloned();
                serde_json::json!({ "name": r, "years": years, "latest": latest })
            })
            .collect();
        json(&serde_json::json!({ "version": env!("CARGO_PKG_VERSION"), "returns": returns }))
    }))
}

/// Adds a file.
///
/// # Safety
/// Both buffers must come from [`alloc`] with these lengths; they are taken over.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn add_file(name_ptr: *mut u8, name_len: usize, data_ptr: *mut u8, data_len: usize) -> *mut u8 {
    // SAFETY: as documented.
    let (name, data) = unsafe { (take(name_ptr, name_len), take(data_ptr, data_len)) };
    let name = String::from_utf8_lossy(&name).into_owned();
    result(with_session(|s| {
        s.add_file(name, data);
        json(&serde_json::json!({ "ok": true }))
    }))
}

/// Removes a file by name.
///
/// # Safety
/// The buffer must come from [`alloc`] with this length; it is taken over.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn remove_file(name_ptr: *mut u8, name_len: usize) -> *mut u8 {
    // SAFETY: as documented.
    let name = unsafe { take(name_ptr, name_len) };
    let name = String::from_utf8_lossy(&name).into_owned();
    result(with_session(|s| {
        s.remove_file(&name);
        json(&serde_json::json!({ "ok": true }))
    }))
}

/// Removes every file.
#[unsafe(no_mangle)]
pub extern "C" fn clear() -> *mut u8 {
    result(with_session(|s| {
        s.clear();
        json(&serde_json::json!({ "ok": true }))
    }))
}

/// Adds a file of last year's return.
///
/// # Safety
/// Both buffers must come from [`alloc`] with these lengths; they are taken over.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn add_previous_file(name_ptr: *mut u8, name_len: usize, data_ptr: *mut u8, data_len: usize) -> *mut u8 {
    // SAFETY: as documented.
    let (name, data) = unsafe { (take(name_ptr, name_len), take(data_ptr, data_len)) };
    let name = String::from_utf8_lossy(&name).into_owned();
    result(with_session(|s| {
        s.add_previous_file(name, data);
        json(&serde_json::json!({ "ok": true }))
    }))
}

/// Removes a file of last year's return by name.
///
/// # Safety
/// The buffer must come from [`alloc`] with this length; it is taken over.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn remove_previous_file(name_ptr: *mut u8, name_len: usize) -> *mut u8 {
    // SAFETY: as documented.
    let name = unsafe { take(name_ptr, name_len) };
    let name = String::from_utf8_lossy(&name).into_owned();
    result(with_session(|s| {
        s.remove_previous_file(&name);
        json(&serde_json::json!({ "ok": true }))
    }))
}

/// Removes every file of last year's return.
#[unsafe(no_mangle)]
pub extern "C" fn clear_previous() -> *mut u8 {
    result(with_session(|s| {
        s.clear_previous();
        json(&serde_json::json!({ "ok": true }))
    }))
}

/// Groups the files into submissions and tells each one's return and year.
#[unsafe(no_mangle)]
pub extern "C" fn detect() -> *mut u8 {
    result(with_session(|s| {
        json(&s.detect(&progress))
    }))
}

/// Validates the submissions.
///
/// # Safety
/// The buffer must come from [`alloc`] with this length; it is taken over.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn validate(ptr: *mut u8, len: usize) -> *mut u8 {
    // SAFETY: as documented.
    let req = unsafe { take(ptr, len) };
    result(with_session(|s| {
        let req: Request = if req.is_empty() {
            Request::default()
        } else {
            serde_json::from_slice(&req).map_err(|e| format!("bad request: {e}"))?
        };
        let out = s.validate(&req, &progress)?;
        json(&out)
    }))
}

/// A report request.
#[derive(serde::Deserialize)]
struct ReportRequest {
    kind: String,
    #[serde(default)]
    submission: Option<usize>,
}

/// Makes a report of the last validation.
///
/// # Safety
/// The buffer must come from [`alloc`] with this length; it is taken over.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn report(ptr: *mut u8, len: usize) -> *mut u8 {
    // SAFETY: as documented.
    let req = unsafe { take(ptr, len) };
    result(with_session(|s| {
        let req: ReportRequest = serde_json::from_slice(&req).map_err(|e| format!("bad request: {e}"))?;
        s.report(&req.kind, req.submission)
    }))
}
