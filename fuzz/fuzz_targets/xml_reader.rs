//! The CIN census XML reader (and its sniffer) on arbitrary bytes, with the shipped 2024-25 schema.
#![no_main]

use fettle::schema::Schema;
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static SCHEMA: LazyLock<Schema> = LazyLock::new(|| {
    let compiled = fettle::library::Library::shipped().compile("cin", "2024-25");
    compiled.program.as_ref().map(|p| p.schema.clone()).expect("the shipped CIN rules compile")
});

/// A per-process scratch file for the sniffer, which reads from disk.
static SCRATCH: LazyLock<std::path::PathBuf> = LazyLock::new(|| {
    let dir = std::env::temp_dir().join(format!("fettle-fuzz-xml-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    dir.join("fuzz.xml")
});

fuzz_target!(|data: &[u8]| {
    let _ = fettle::input::xml::read(&SCHEMA, data, "fuzz");
    if std::fs::write(&*SCRATCH, data).is_ok() {
        let _ = fettle::input::xml::sniff(&SCRATCH);
    }
});
