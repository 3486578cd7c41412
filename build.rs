//! Rebuilds when the browser page changes: `fettle serve` embeds it, and a .wasm built after fettle
//! must be picked up. (The shipped rules and the grammar are compiled into fettle-core, whose own
//! build script watches them.)

fn main() {
    println!("cargo:rerun-if-changed=web/pkg");
    println!("cargo:rerun-if-changed=web/index.html");
    println!("cargo:rerun-if-changed=web/app.js");
    println!("cargo:rerun-if-changed=web/worker.js");
    println!("cargo:rerun-if-changed=web/style.css");
}
