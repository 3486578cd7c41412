//! Rule files read from disk: a folder given with `--rules` (or one file), into a [`Library`].

use fettle_core::library::Library;
use std::path::Path;

/// Rule sets in a folder: `DIR/<return>/<year>/*.fettle`, or a single set when `DIR` (or a file)
/// holds `.fettle` files directly. Each file's header names its set ([`Library::from_files`]).
pub fn read(dir: &Path) -> std::io::Result<Library> {
    let mut files: Vec<std::path::PathBuf> = vec![];
    if dir.is_file() {
        files.push(dir.to_path_buf());
    } else {
        for e in walkdir::WalkDir::new(dir).follow_links(false).max_depth(6).sort_by_file_name() {
            let e = e.map_err(std::io::Error::other)?;
            if e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "fettle") {
                files.push(e.path().to_path_buf());
            }
        }
    }
    let mut texts = Vec::with_capacity(files.len());
    for f in files {
        let text = std::fs::read_to_string(&f)?;
        texts.push((f.display().to_string(), text));
    }
    Ok(Library::from_files(texts))
}
