//! The DfE catalogue (section 2.3 of the CIN census specification): every code must be shipped.

use fettle::library::Library;

/// The 109 codes of the 2024-25 / 2025-26 catalogue.
const CODES: &[&str] = &[
    "100", "1103", "1104", "1105", "1510", "1520", "1530", "1540", "1550", "1560Q", "1570", "1580", "2883", "2884", "2885",
    "2886Q", "2887Q", "2888Q", "2889", "2990", "2991Q", "4000", "4001", "4003", "4004", "4008", "4009Q", "4010", "4011", "4012Q",
    "4013", "4014", "4015", "4016", "4017", "4180", "4220", "8500", "8510", "8520", "8525Q", "8530Q", "8535Q", "8540", "8545Q",
    "8555Q", "8565", "8568", "8569Q", "8585Q", "8590", "8600", "8606", "8608", "8610", "8614", "8615", "8620", "8630", "8640",
    "8650", "8670Q", "8675Q", "8696", "8715", "8720", "8730", "8736", "8740", "8750", "8770Q", "8772", "8775Q", "8790", "8794",
    "8805", "8810", "8815", "8816", "8820", "8825Q", "8831", "8832", "8839", "8840", "8841", "8842Q", "8863Q", "8866", "8867",
    "8868", "8869", "8870Q", "8873Q", "8875", "8890", "8896", "8897Q", "8898", "8905", "8910", "8915", "8920", "8925", "8930",
    "8935", "8940", "8945Q", "8950Q",
];

/// The shipped CIN rules are the catalogue: each code once, none missing, none that the DfE does not
/// list (a rule of our own under a made-up code would look like a DfE rule in every report).
#[test]
fn the_shipped_cin_rules_are_exactly_the_catalogue() {
    let catalogue: std::collections::BTreeSet<&str> = CODES.iter().copied().collect();
    assert_eq!(catalogue.len(), CODES.len(), "a code is listed twice");
    let lib = Library::shipped();
    for year in ["2024-25", "2025-26"] {
        let p = lib.compile("cin", year).program.expect("cin rules check");
        let shipped: std::collections::BTreeSet<&str> = p.rules.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(shipped.len(), p.rules.len(), "cin {year} ships a code twice");
        // fettle's own year-on-year rules (CINY..) are not the DfE's.
        let extra: Vec<&&str> = shipped.difference(&catalogue).filter(|c| !c.starts_with("CINY")).collect();
        let missing: Vec<&&str> = catalogue.difference(&shipped).collect();
        assert!(extra.is_empty() && missing.is_empty(), "cin {year}: not in the catalogue {extra:?}, not shipped {missing:?}");
    }
}

#[test]
fn every_catalogue_rule_is_shipped_with_its_severity() {
    let lib = Library::shipped();
    for year in ["2024-25"] {
        let c = lib.compile("cin", year);
        let p = c.program.expect("cin rules check");
        let shipped: Vec<&str> = p.rules.iter().map(|r| r.code.as_str()).collect();
        let missing: Vec<&&str> = CODES.iter().filter(|c| !shipped.contains(c)).collect();
        assert!(missing.is_empty(), "cin {year} lacks {} rules: {missing:?}", missing.len());
        for r in &p.rules {
            let query = r.code.ends_with('Q');
            assert_eq!(r.severity == fettle::syntax::ast::Severity::Query, query, "{} severity", r.code);
        }
    }
}
