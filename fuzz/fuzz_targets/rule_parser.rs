//! Rule files: parse, merge and check arbitrary text; nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (file, _diags) = fettle::syntax::parse(fettle::span::FileId(0), text);
    if let Some(f) = file {
        let mut decls = fettle::check::Decls::default();
        let mut diags = vec![];
        decls.apply(&f, &mut diags);
        let _ = fettle::check::check(&decls, &|_| (String::new(), 0));
    }
});
