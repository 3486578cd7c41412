//! Every example of every shipped rule must behave as written: `fettle test` inside `cargo test`.

use fettle::library::Library;

#[test]
fn every_shipped_example_passes_or_fails_as_written() {
    let lib = Library::shipped();
    let mut failures = vec![];
    let mut total = 0;
    for (ret, year) in lib.sets.keys() {
        let c = lib.compile(ret, year);
        let program = c.program.unwrap_or_else(|| panic!("{ret} {year} rules have errors"));
        for o in fettle::examples::run_all(&program, None).unwrap() {
            total += 1;
            if !o.ok {
                failures.push(format!(
                    "{ret} {year} {} {} (expected to {})",
                    o.code,
                    o.label,
                    if o.expect_fail { "fail" } else { "pass" }
                ));
            }
        }
        // A rule is only done with an example that passes and one that fails.
        for r in &program.rules {
            if r.severity == fettle::syntax::ast::Severity::Info {
                continue;
            }
            let fails = r.examples.iter().filter(|e| e.fail).count();
            let passes = r.examples.len() - fails;
            if fails == 0 || passes == 0 {
                failures.push(format!(
                    "{ret} {year} {}: needs a passing and a failing example ({passes} pass, {fails} fail)",
                    r.code
                ));
            }
        }
    }
    assert!(total > 0);
    assert!(failures.is_empty(), "{} of {total} examples:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn a_wrong_example_is_reported() {
    // The harness itself can fail: an example claiming the wrong outcome is caught.
    let text = "return t 2024-25\ntable T { xml \"R/T\" field A: int }\nrule X1 error \"m\" on T {\n  require A > 0\n  example pass { T { A: 0 } }\n  example fail { T { A: 1 } }\n}\n";
    let dir = std::env::temp_dir().join(format!("fettle-wrong-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("t.fettle"), text).unwrap();
    let lib = fettle::rules::read(&dir).unwrap();
    let c = lib.compile("t", "2024-25");
    let outcomes = fettle::examples::run_all(c.program.as_ref().unwrap(), None).unwrap();
    assert_eq!(outcomes.len(), 2);
    assert!(outcomes.iter().all(|o| !o.ok));
    let _ = std::fs::remove_dir_all(dir);
}
