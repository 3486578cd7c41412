//! Rebuilds when shipped rule files change (they are compiled into the binary).

fn main() {
    println!("cargo:rerun-if-changed=rules");
    println!("cargo:rerun-if-changed=grammar");
    let mut stack = vec![std::path::PathBuf::from("rules")];
    while let Some(dir) = stack.pop() {
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
