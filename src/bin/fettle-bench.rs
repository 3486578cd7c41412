//! `cargo run --release --bin fettle-bench [-- --large]`: the benchmark behind BENCHMARKS.md.
//!
//! Generates deterministic returns in a temporary folder (nothing is committed) and prints a table:
//! for each size, the time to load the file into tables, the time to load and run every rule, and
//! the peak memory of a run (each measured in a fresh child process: `fettle-bench --one`), then a
//! folder of 153 council files validated in one run by the `fettle` binary, and 50,000 children
//! against last year's 50,000 (`--pair` runs only that). Times are the best of three runs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark tool, not the product"
)]

use fettle::generate::{cin_pair, cin_xml, templates};
use fettle::input::{self, Format};
use fettle::library::Library;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// One measurement in this process: `--one RET FORMAT PATH load|all`, printing seconds and KiB.
fn one(ret: &str, format: &str, path: &str, what: &str) {
    let lib = Library::shipped();
    let year = "2024-25";
    let c = lib.compile(ret, year);
    let prog = c.program.expect("rules compile");
    let format = match format {
        "xml" => Format::Xml,
        "xlsx" => Format::Xlsx,
        _ => Format::Csv,
    };
    let files: Vec<PathBuf> = if format == Format::Csv {
        let mut v: Vec<PathBuf> = std::fs::read_dir(path).unwrap().flatten().map(|e| e.path()).collect();
        v.sort();
        v
    } else {
        vec![PathBuf::from(path)]
    };
    let t = Instant::now();
    let data = input::read(&prog.schema, format, &files, path).expect("readable");
    let load = t.elapsed().as_secs_f64();
    let mut findings = 0;
    if what == "all" {
        let p = fettle::eval::prepare(&prog, data).expect("no engine fault");
        findings = fettle::eval::run(&prog, &p, &|_| true).expect("no engine fault").len();
    }
    println!("{:.3} {} {findings} {load:.3}", t.elapsed().as_secs_f64(), peak_kib());
}

fn measure(ret: &str, format: &str, path: &Path, what: &str) -> (f64, u64, usize) {
    let exe = std::env::current_exe().unwrap();
    let mut best = (f64::MAX, 0u64, 0usize);
    for _ in 0..3 {
        let out = Command::new(&exe).args(["--one", ret, format, &path.display().to_string(), what]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let parts: Vec<&str> = text.split_whitespace().collect();
        let secs: f64 = parts.first().and_then(|s| s.parse().ok()).unwrap_or(f64::NAN);
        let kib: u64 = parts.get(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let n: usize = parts.get(2).and_then(|s| s.parse().ok()).unwrap_or(0);
        if secs < best.0 {
            best = (secs, kib, n);
        }
    }
    best
}

fn row(label: &str, ret: &str, format: &str, path: &Path) {
    let (load, _, _) = measure(ret, format, path, "load");
    let (all, kib, n) = measure(ret, format, path, "all");
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    println!(
        "| {label} | {:.1} MB | {load:.3} s | {all:.3} s | {:.1}x | {} MB | {n} |",
        size as f64 / 1e6,
        all / load.max(1e-9),
        kib / 1024
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--one") {
        one(&args[2], &args[3], &args[4], &args[5]);
        return;
    }
    let large = args.iter().any(|a| a == "--large");
    let dir = std::env::temp_dir().join(format!("fettle-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    if args.iter().any(|a| a == "--pair") {
        pair(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }
    println!(
        "machine: {} cores; `fettle-bench{}`\n",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        if large { " --large" } else { "" }
    );
    println!("| input | size | load | load + all rules | ratio | peak memory | findings |");
    println!("|---|---|---|---|---|---|---|");
    let mut sizes = vec![1_000usize, 10_000, 50_000];
    if large {
        sizes.push(650_000);
    }
    for n in &sizes {
        let p = dir.join(format!("cin-{n}.xml"));
        std::fs::write(&p, cin_xml(*n, 7, 0.05, 2025)).unwrap();
        row(&format!("CIN XML, {n} children"), "cin", "xml", &p);
        if *n == 650_000 {
            let _ = std::fs::remove_file(&p);
        }
    }
    for n in [1_000usize, 10_000, 50_000] {
        let p = dir.join(format!("fgc-{n}.xlsx"));
        std::fs::write(&p, templates::xlsx(&templates::fgc(3, n / 2)).unwrap()).unwrap();
        row(&format!("FGC xlsx, {} families", n / 2), "fgc", "xlsx", &p);
        let p = dir.join(format!("dis-{n}.xlsx"));
        std::fs::write(&p, templates::xlsx(&templates::disability(5, n)).unwrap()).unwrap();
        row(&format!("disability xlsx, {n} children"), "disability", "xlsx", &p);
    }
    let p = dir.join("dis-100k.xlsx");
    std::fs::write(&p, templates::xlsx(&templates::disability(5, 100_000)).unwrap()).unwrap();
    row("disability xlsx, 100,000 rows", "disability", "xlsx", &p);
    // 153 councils in one folder, validated by the binary.
    let folder = dir.join("councils");
    std::fs::create_dir_all(&folder).unwrap();
    for i in 0..153u64 {
        std::fs::write(folder.join(format!("council-{i:03}.xml")), cin_xml(2_000, 100 + i, 0.05, 2025)).unwrap();
    }
    let fettle = std::env::current_exe().unwrap().with_file_name("fettle");
    let mut best = f64::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        let _ = Command::new(&fettle)
            .args(["validate", "--format", "json", "--output"])
            .arg(dir.join("out.json"))
            .arg(&folder)
            .status();
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!("\n153 council files of 2,000 children (306,000 children), one `fettle validate` run: {best:.2} s");
    pair(&dir);
    let _ = std::fs::remove_dir_all(&dir);
}

/// 50,000 children this year against 50,000 last year (`fettle generate cin --previous`), one whole
/// `fettle validate THIS --previous LAST` run each, best of three, and the same file alone.
fn pair(dir: &Path) {
    let (last, this, _) = cin_pair(50_000, 7, 2025, 0, &fettle::generate::Thresholds::default());
    let (lp, tp) = (dir.join("last-50k.xml"), dir.join("this-50k.xml"));
    std::fs::write(&lp, last).unwrap();
    std::fs::write(&tp, this).unwrap();
    let fettle = std::env::current_exe().unwrap().with_file_name("fettle");
    let time = |previous: bool| {
        let mut best = f64::MAX;
        for _ in 0..3 {
            let mut c = Command::new(&fettle);
            c.args(["validate", "--format", "json", "--output"]).arg(dir.join("out.json")).arg(&tp);
            if previous {
                c.arg("--previous").arg(&lp);
            }
            let t = Instant::now();
            let _ = c.stderr(std::process::Stdio::null()).status();
            best = best.min(t.elapsed().as_secs_f64());
        }
        best
    };
    let (alone, with) = (time(false), time(true));
    println!(
        "\n50,000 children against 50,000 last year, one `fettle validate THIS --previous LAST` run: {with:.2} s (this year alone: {alone:.2} s)"
    );
}
