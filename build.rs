//! Rebuilds when shipped rule files change (they are compiled into the binary).

fn main() {
    println!("cargo:rerun-if-changed=rules");
    println!("cargo:rerun-if-changed=grammar");
    // The browser page is embedded by `fettle serve`; a .wasm built after fettle must be picked up.
    println!("cargo:rerun-if-changed=web/pkg");
    println!("cargo:rerun-if-changed=web/index.html");
    println!("cargo:rerun-if-changed=web/app.js");
    println!("cargo:rerun-if-changed=web/worker.js");
    println!("cargo:rerun-if-changed=web/style.css");
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
