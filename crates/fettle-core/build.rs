//! Rebuilds when the grammar or a shipped rule file changes (the rules are compiled into the crate
//! with include_dir, which does not tell cargo what it read). Both stay at the top of the repository.

fn main() {
    println!("cargo:rerun-if-changed=../../grammar");
    let mut stack = vec![std::path::PathBuf::from("../../rules")];
    while let Some(dir) = stack.pop() {
        println!("cargo:rerun-if-changed={}", dir.display());
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            println!("cargo:rerun-if-changed={}", p.display());
            if p.is_dir() {
                stack.push(p);
            }
        }
    }
}
