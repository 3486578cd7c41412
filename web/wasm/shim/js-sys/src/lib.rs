//! A stand-in for js-sys with only `Date::now`, which rust_xlsxwriter calls to date workbooks. On
//! wasm32 the time comes from the page's `env.fettle_now` import (JavaScript's `Date.now()`); on other
//! targets (native tests) from the system clock.

/// JavaScript's `Date`.
pub struct Date;

#[cfg(target_arch = "wasm32")]
#[link(wasm_import_module = "env")]
unsafe extern "C" {
    /// Milliseconds since 1970-01-01 UTC, from the page.
    fn fettle_now() -> f64;
}

impl Date {
    /// Milliseconds since 1970-01-01 UTC.
    #[cfg(target_arch = "wasm32")]
    pub fn now() -> f64 {
        // SAFETY: an imported function taking nothing and returning a number.
        unsafe { fettle_now() }
    }

    /// Milliseconds since 1970-01-01 UTC.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn now() -> f64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_millis() as f64)
    }
}
