//! The CSV reader on arbitrary bytes, as one file of the shipped FGC 2024-25 return (the first
//! byte picks which: About, Referrals or Summary), the other two files being well formed.
#![no_main]

use fettle::schema::Schema;
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::LazyLock;

static SCHEMA: LazyLock<Schema> = LazyLock::new(|| {
    let compiled = fettle::library::Library::shipped().compile("fgc", "2024-25");
    compiled.program.as_ref().map(|p| p.schema.clone()).expect("the shipped FGC rules compile")
});

const ABOUT: &str = "LA,LAName,PeriodStart,PeriodEnd,TemplateVersion\n201,Example,2024-04-01,2025-03-31,FGC-1.0\n";
const REFERRALS: &str = "FamilyID,LAchildID,KnownToCSC,ReferralDate\nF1,C1,Y,2024-06-03\n";
const SUMMARY: &str = "FamiliesReferred,ChildrenReferred\n1,1\n";

/// A per-process scratch folder holding the three files.
static DIR: LazyLock<PathBuf> = LazyLock::new(|| {
    let dir = std::env::temp_dir().join(format!("fettle-fuzz-csv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    dir
});

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else { return };
    let names = ["About", "Referrals", "Summary"];
    let fuzzed = names[usize::from(pick) % names.len()];
    let mut files = vec![];
    for (name, text) in names.iter().zip([ABOUT, REFERRALS, SUMMARY]) {
        let path = DIR.join(format!("{name}.csv"));
        let bytes = if *name == fuzzed { body } else { text.as_bytes() };
        if std::fs::write(&path, bytes).is_err() {
            return;
        }
        files.push(path);
    }
    let _ = fettle::input::sheet::read_csv(&SCHEMA, &files, "fuzz");
});
