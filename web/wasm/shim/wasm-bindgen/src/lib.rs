//! A stand-in for wasm-bindgen with only what rust_xlsxwriter's `wasm` feature names: `JsValue`.

/// A JavaScript value (here, only the text of an error).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JsValue(pub String);

impl JsValue {
    /// A string value.
    #[allow(clippy::should_implement_trait)]
    pub fn from_str(s: &str) -> JsValue {
        JsValue(s.to_string())
    }
}
