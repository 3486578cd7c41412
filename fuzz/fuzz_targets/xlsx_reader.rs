//! The xlsx reader (and the sheet-name sniffer) on arbitrary bytes, with the shipped FGC 2024-25
//! schema. Seed the corpus with real workbooks (`samples/*/*.xlsx`) so mutations reach calamine's
//! XML parsing rather than stopping at the zip layer.
#![no_main]

use fettle::schema::Schema;
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::LazyLock;

static SCHEMA: LazyLock<Schema> = LazyLock::new(|| {
    let compiled = fettle::library::Library::shipped().compile("fgc", "2024-25");
    compiled.program.as_ref().map(|p| p.schema.clone()).expect("the shipped FGC rules compile")
});

static SCRATCH: LazyLock<PathBuf> = LazyLock::new(|| {
    let dir = std::env::temp_dir().join(format!("fettle-fuzz-xlsx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    dir.join("fuzz.xlsx")
});

fuzz_target!(|data: &[u8]| {
    if std::fs::write(&*SCRATCH, data).is_err() {
        return;
    }
    let _ = fettle::input::sheet::sheet_names(&SCRATCH);
    let _ = fettle::input::sheet::read_xlsx(&SCHEMA, &SCRATCH, "fuzz");
});
