//! Made-up FGC and disability returns in their templates, with a few deliberate mistakes, written as
//! xlsx workbooks or folders of CSV files. Deterministic for a seed.

use super::Rng;
use chrono::Datelike;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};

/// A cell of a generated sheet.
#[derive(Clone, Debug)]
pub enum Cell {
    /// Empty.
    Blank,
    /// Text.
    Text(String),
    /// A number.
    Num(f64),
    /// A real date (an Excel date cell; ISO text in CSV).
    Date(chrono::NaiveDate),
}

/// A generated sheet: its name, headers and rows.
pub struct Sheet {
    /// Sheet name.
    pub name: String,
    /// Column headers.
    pub headers: Vec<String>,
    /// Rows of cells.
    pub rows: Vec<Vec<Cell>>,
}

fn t(s: &str) -> Cell {
    if s.is_empty() { Cell::Blank } else { Cell::Text(s.to_string()) }
}

fn d(days: i32) -> Cell {
    chrono::NaiveDate::from_num_days_from_ce_opt(days).map_or(Cell::Blank, Cell::Date)
}

fn ymd(y: i32, m: u32, dd: u32) -> i32 {
    chrono::NaiveDate::from_ymd_opt(y, m, dd).map_or(0, |x| chrono::Datelike::num_days_from_ce(&x))
}

fn n(x: u32) -> Cell {
    Cell::Num(f64::from(x))
}

const ETH: &[&str] = &[
    "WBRI", "WBRI", "WBRI", "WBRI", "WBRI", "WIRI", "WOTH", "MWBC", "MWBA", "MOTH", "AIND", "APKN", "ABAN", "BCRB", "BAFR",
    "CHNE", "OOTH", "NOBT", "REFU",
];
const DIS: &[&str] = &["LD", "AUT", "BEH", "COMM", "MOB", "HEAR", "VIS", "PC", "HAND", "CON", "INC", "DDA"];
const NOT_HELD: [&str; 5] = ["WITHDREW", "CLOSED", "CHANGED", "COURT", "OTHER"];

/// One family's referral, before it is written out as a row per child.
struct Family {
    id: String,
    kids: usize,
    referral: i32,
    offer: i32,
    consent: bool,
    held: bool,
    conference: i32,
    not_held: &'static str,
    stage: &'static str,
    legal: &'static str,
    source: &'static str,
    ethnicity: &'static str,
}

fn family(rng: &mut Rng, no: usize, ps: i32, pe: i32) -> Family {
    let referral = ps + rng.below(330) as i32;
    let offer = referral + 3 + rng.below(10) as i32;
    let consent = rng.chance(0.78);
    let held = consent && rng.chance(0.85) && offer + 40 < pe;
    let stage = rng.pick(&["PREPROC", "CP", "CIN", "EDGE", "REUNIFY", "EH", "OTHER"]);
    let legal = match stage {
        "PREPROC" => "PLO",
        "CP" => "CPP",
        "CIN" => "CIN",
        "REUNIFY" => "CLA",
        "EH" => "EH",
        _ => rng.pick(&["CIN", "EH", "NONE"]),
    };
    Family {
        id: format!("F{:04}", no + 1),
        kids: 1 + rng.below(3) as usize,
        referral,
        offer,
        consent,
        held,
        conference: offer + 14 + rng.below(20) as i32,
        not_held: if consent && !held { rng.pick(&NOT_HELD) } else { "" },
        stage,
        legal,
        source: rng.pick(&["SW", "SW", "SW", "EH", "HEALTH", "SCHOOL", "FAMILY", "COURT", "OTHER"]),
        ethnicity: rng.pick(ETH),
    }
}

fn set(rows: &mut [Vec<Cell>], r: usize, c: usize, v: Cell) {
    if let Some(cell) = rows.get_mut(r).and_then(|row| row.get_mut(c)) {
        *cell = v;
    }
}

/// The FGC return for April 2024 to March 2025.
pub fn fgc(seed: u64, families: usize) -> Vec<Sheet> {
    let mut rng = Rng::new(seed);
    let (ps, pe) = (ymd(2024, 4, 1), ymd(2025, 3, 31));
    let about = Sheet {
        name: "About".into(),
        headers: ["LA", "LAName", "PeriodStart", "PeriodEnd", "TemplateVersion"].map(String::from).to_vec(),
        rows: vec![vec![t("201"), t("Example Borough Council"), d(ps), d(pe), t("FGC-1.0")]],
    };
    let headers: Vec<String> = [
        "FamilyID",
        "LAchildID",
        "KnownToCSC",
        "PersonBirthDate",
        "ExpectedPersonBirthDate",
        "Sex",
        "Ethnicity",
        "Disabilities",
        "LegalStatus",
        "Stage",
        "ReferralDate",
        "ReferralSource",
        "OfferDate",
        "Consent",
        "ReasonNoConsent",
        "ConferenceHeld",
        "ReasonNotHeld",
        "ConferenceDate",
        "FamilyAttendees",
        "ProfessionalAttendees",
        "PrivateFamilyTime",
        "PlanAgreed",
        "PlanDate",
        "ReviewDate",
        "ClosureDate",
        "Outcome6m",
        "Outcome12m",
        "FamilyFeedback",
    ]
    .map(String::from)
    .to_vec();
    let mut rows = vec![];
    let mut child_no = 0u32;
    // Families and children referred, consented, in conferences; conferences not held by reason.
    let (mut fam_ref, mut ch_ref, mut fam_con, mut ch_con, mut conf, mut ch_conf, mut not_held) =
        (0u32, 0u32, 0u32, 0u32, 0u32, 0u32, 0u32);
    let mut reasons = [0u32; 5];
    for fno in 0..families {
        let f = family(&mut rng, fno, ps, pe);
        fam_ref += 1;
        fam_con += u32::from(f.consent);
        conf += u32::from(f.held);
        if f.consent && !f.held {
            not_held += 1;
            if let Some(c) = NOT_HELD.iter().position(|r| *r == f.not_held).and_then(|i| reasons.get_mut(i)) {
                *c += 1;
            }
        }
        for _ in 0..f.kids {
            child_no += 1;
            ch_ref += 1;
            ch_con += u32::from(f.consent);
            ch_conf += u32::from(f.held);
            let dob = f.referral - 200 - rng.below(16 * 365) as i32;
            let dis = if rng.chance(0.2) { rng.pick(DIS).to_string() } else { "NONE".to_string() };
            let plan_agreed = f.held && rng.chance(0.9);
            let plan = f.conference + rng.below(3) as i32;
            let review = plan + 60 + rng.below(30) as i32;
            let closure = review + 10;
            let out6 = f.held && f.conference + 183 <= pe;
            let yn = |b: bool| if b { "Y" } else { "N" };
            rows.push(vec![
                t(&f.id),
                t(&format!("CH{:05}", 1000 + child_no)),
                t(yn(rng.chance(0.8))),
                d(dob),
                Cell::Blank,
                t(rng.pick(&["1", "2"])),
                t(f.ethnicity),
                t(&dis),
                t(f.legal),
                t(f.stage),
                d(f.referral),
                t(f.source),
                d(f.offer),
                t(yn(f.consent)),
                t(if f.consent { "" } else { rng.pick(&["PARENT", "YP", "NONETWORK", "ALREADY", "OTHER"]) }),
                t(if f.held {
                    "Y"
                } else if f.consent {
                    "N"
                } else {
                    ""
                }),
                t(f.not_held),
                if f.held { d(f.conference) } else { Cell::Blank },
                if f.held { n(2 + rng.below(8) as u32) } else { Cell::Blank },
                if f.held { n(1 + rng.below(4) as u32) } else { Cell::Blank },
                t(if f.held { yn(rng.chance(0.9)) } else { "" }),
                t(if f.held { yn(plan_agreed) } else { "" }),
                if plan_agreed { d(plan) } else { Cell::Blank },
                if plan_agreed && review <= pe { d(review) } else { Cell::Blank },
                if plan_agreed && closure <= pe { d(closure) } else { Cell::Blank },
                t(if out6 { rng.pick(&["HOME", "HOME", "KIN", "CLA", "OTHER"]) } else { "" }),
                Cell::Blank,
                if f.held && rng.chance(0.6) { n(3 + rng.below(3) as u32) } else { Cell::Blank },
            ]);
        }
    }
    // Deliberate mistakes: an invalid ethnicity code, a conference before the offer, a refusal with
    // no reason, a bad disability code in a list, an impossible date typed as text.
    set(&mut rows, 2, 6, t("WBR"));
    if let Some(Cell::Date(off)) = rows.get(5).and_then(|r| r.get(12)).cloned() {
        set(&mut rows, 5, 17, d(chrono::Datelike::num_days_from_ce(&off) - 2));
    }
    set(&mut rows, 8, 14, Cell::Blank);
    set(&mut rows, 11, 7, t("LD; XYZ"));
    set(&mut rows, 14, 3, t("31/02/2015"));
    let referrals = Sheet { name: "Referrals".into(), headers, rows };
    let summary = Sheet {
        name: "Summary".into(),
        headers: [
            "FamiliesReferred",
            "ChildrenReferred",
            "FamiliesConsented",
            "ChildrenConsented",
            "ConferencesHeld",
            "ChildrenInConferences",
            "ConferencesNotHeld",
            "NotHeldWithdrew",
            "NotHeldClosed",
            "NotHeldChanged",
            "NotHeldCourt",
            "NotHeldOther",
        ]
        .map(String::from)
        .to_vec(),
        // ChildrenReferred is two too many: a deliberate reconciliation mistake.
        rows: vec![[fam_ref, ch_ref + 2, fam_con, ch_con, conf, ch_conf, not_held].into_iter().chain(reasons).map(n).collect()],
    };
    vec![about, referrals, summary]
}

/// The disability return at 31 March 2025.
pub fn disability(seed: u64, children: usize) -> Vec<Sheet> {
    let mut rng = Rng::new(seed);
    let snap = ymd(2025, 3, 31);
    let about = Sheet {
        name: "About".into(),
        headers: ["LA", "LAName", "SnapshotDate", "TemplateVersion"].map(String::from).to_vec(),
        rows: vec![vec![t("201"), t("Example Borough Council"), d(snap), t("DIS-1.0")]],
    };
    let headers: Vec<String> = [
        "LAchildID",
        "Cohort",
        "PersonBirthDate",
        "Sex",
        "Ethnicity",
        "Disabilities",
        "RecordedBy",
        "SelfReported",
        "EHCP",
        "LastReviewed",
    ]
    .map(String::from)
    .to_vec();
    let codes = ["MOB", "HAND", "PC", "INC", "COMM", "LD", "HEAR", "VIS", "BEH", "CON", "AUT", "DDA", "MH"];
    let mut rows = vec![];
    // Per cohort: total, with a disability, not recorded, and per type.
    let mut counts: std::collections::BTreeMap<&str, (u32, u32, u32, [u32; 13])> = std::collections::BTreeMap::new();
    let mut cin_no = 0;
    for i in 0..children {
        let cohort = rng.pick(&["CLA", "CLA", "CL", "CIN", "CIN", "CIN"]);
        let age = if cohort == "CL" { 16 + rng.below(9) as i32 } else { rng.below(18) as i32 };
        let dob = snap - age * 365 - 30 - rng.below(300) as i32;
        let recorded = rng.chance(0.93);
        let mut list: Vec<&str> = vec![];
        if recorded && rng.chance(if cohort == "CL" { 0.2 } else { 0.15 }) {
            for _ in 0..1 + rng.below(2) {
                let c = rng.pick(&codes);
                if !list.contains(&c) {
                    list.push(c);
                }
            }
        }
        let entry = counts.entry(cohort).or_insert((0, 0, 0, [0; 13]));
        entry.0 += 1;
        entry.1 += u32::from(!list.is_empty());
        entry.2 += u32::from(!recorded);
        for c in &list {
            if let Some(k) = codes.iter().position(|x| x == c).and_then(|k| entry.3.get_mut(k)) {
                *k += 1;
            }
        }
        let dis = if !recorded {
            String::new()
        } else if list.is_empty() {
            "NONE".into()
        } else {
            list.join(", ")
        };
        // Children in need share their LAchildID with the CIN census sample (C0000001, ...).
        let id = if cohort == "CIN" {
            cin_no += 1;
            format!("C{cin_no:07}")
        } else {
            format!("D{:05}", i + 1)
        };
        rows.push(vec![
            t(&id),
            t(cohort),
            d(dob),
            t(rng.pick(&["1", "2"])),
            t(rng.pick(ETH)),
            t(&dis),
            t(if recorded { rng.pick(&["PRACT", "PRACT", "HEALTH", "EHCP", "SELF", "MIXED"]) } else { "" }),
            t(if cohort == "CL" { rng.pick(&["Y", "N", "N", "NA"]) } else { "NA" }),
            t(if !list.is_empty() && rng.chance(0.5) { "Y" } else { "N" }),
            if recorded { d(snap - 30 - rng.below(300) as i32) } else { Cell::Blank },
        ]);
    }
    // A deliberate mistake: NONE together with another code.
    set(&mut rows, 3, 5, t("NONE, LD"));
    let summary_headers: Vec<String> =
        ["Cohort", "Total", "WithDisability", "NotRecorded"].iter().chain(codes.iter()).map(|s| s.to_string()).collect();
    let mut summary_rows: Vec<Vec<Cell>> = counts
        .iter()
        .map(|(cohort, (total, with, not_rec, per))| {
            [t(cohort), n(*total), n(*with), n(*not_rec)].into_iter().chain(per.iter().map(|x| n(*x))).collect()
        })
        .collect();
    // The first cohort's total is one short: a deliberate reconciliation mistake.
    if let Some(Cell::Num(x)) = summary_rows.first_mut().and_then(|r| r.get_mut(1)) {
        *x -= 1.0;
    }
    let children_sheet = Sheet { name: "Children".into(), headers, rows };
    vec![about, children_sheet, Sheet { name: "Summary".into(), headers: summary_headers, rows: summary_rows }]
}

/// Writes sheets to an xlsx workbook in memory.
pub fn xlsx(sheets: &[Sheet]) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for s in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(&s.name)?;
        for (c, h) in s.headers.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, h, &bold)?;
            ws.set_column_width(c as u16, (h.len() as f64 + 3.0).max(11.0))?;
        }
        for (r, row) in s.rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let (r, c) = (r as u32 + 1, c as u16);
                match cell {
                    Cell::Blank => {}
                    Cell::Text(v) => {
                        ws.write_string(r, c, v)?;
                    }
                    Cell::Num(x) => {
                        ws.write_number(r, c, *x)?;
                    }
                    Cell::Date(dt) => {
                        let x = ExcelDateTime::from_ymd(dt.year() as u16, dt.month() as u8, dt.day() as u8)?;
                        ws.write_date_with_format(r, c, &x, &date)?;
                    }
                }
            }
        }
    }
    wb.save_to_buffer()
}

/// Writes sheets as CSV text, one `(file name, contents)` per sheet.
pub fn csv(sheets: &[Sheet]) -> Vec<(String, String)> {
    sheets
        .iter()
        .map(|s| {
            let mut w = csv::Writer::from_writer(vec![]);
            let _ = w.write_record(&s.headers);
            for row in &s.rows {
                let cells: Vec<String> = row
                    .iter()
                    .map(|c| match c {
                        Cell::Blank => String::new(),
                        Cell::Text(v) => v.clone(),
                        Cell::Num(x) => crate::table::Scalar::Dec(*x).display(),
                        Cell::Date(dt) => dt.format("%Y-%m-%d").to_string(),
                    })
                    .collect();
                let _ = w.write_record(&cells);
            }
            let text = w.into_inner().map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
            (format!("{}.csv", s.name), text)
        })
        .collect()
}
