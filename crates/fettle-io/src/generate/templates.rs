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

/// The row of one child of a family's referral, for a period ending on `pe`.
fn referral_row(rng: &mut Rng, f: &Family, child: &str, pe: i32) -> Vec<Cell> {
    let dob = f.referral - 200 - rng.below(16 * 365) as i32;
    let dis = if rng.chance(0.2) { rng.pick(DIS).to_string() } else { "NONE".to_string() };
    let plan_agreed = f.held && rng.chance(0.9);
    let plan = f.conference + rng.below(3) as i32;
    let review = plan + 60 + rng.below(30) as i32;
    let closure = review + 10;
    let out6 = f.held && f.conference + 183 <= pe;
    let yn = |b: bool| if b { "Y" } else { "N" };
    vec![
        t(&f.id),
        t(child),
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
    ]
}

const REFERRAL_HEADERS: [&str; 28] = [
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
];

const FGC_SUMMARY_HEADERS: [&str; 12] = [
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
];

/// `families` families referred from `ps` to `pe`, numbered from `first` (and their children after
/// `child_no`): a row per child, and the Summary counts of the families and children referred,
/// consented and in conferences, the conferences not held and their reasons. With `known`, no
/// family's ethnicity is NOBT or REFU (so the share unknown is never past a template's threshold).
fn referrals(
    rng: &mut Rng,
    families: usize,
    first: usize,
    child_no: &mut u32,
    (ps, pe): (i32, i32),
    known: bool,
) -> (Vec<Vec<Cell>>, Vec<u32>) {
    let mut rows = vec![];
    // Families and children referred, consented, in conferences; conferences not held by reason.
    let (mut fam_ref, mut ch_ref, mut fam_con, mut ch_con, mut conf, mut ch_conf, mut not_held) =
        (0u32, 0u32, 0u32, 0u32, 0u32, 0u32, 0u32);
    let mut reasons = [0u32; 5];
    for fno in first..first + families {
        let mut f = family(rng, fno, ps, pe);
        if known && (f.ethnicity == "NOBT" || f.ethnicity == "REFU") {
            f.ethnicity = "WBRI";
        }
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
            *child_no += 1;
            ch_ref += 1;
            ch_con += u32::from(f.consent);
            ch_conf += u32::from(f.held);
            rows.push(referral_row(rng, &f, &format!("CH{:05}", 1000 + *child_no), pe));
        }
    }
    (rows, [fam_ref, ch_ref, fam_con, ch_con, conf, ch_conf, not_held].into_iter().chain(reasons).collect())
}

/// The three sheets of an FGC return for the period `ps` to `pe`.
fn fgc_sheets((ps, pe): (i32, i32), rows: Vec<Vec<Cell>>, counts: Vec<u32>) -> Vec<Sheet> {
    let about = Sheet {
        name: "About".into(),
        headers: ["LA", "LAName", "PeriodStart", "PeriodEnd", "TemplateVersion"].map(String::from).to_vec(),
        rows: vec![vec![t("201"), t("Example Borough Council"), d(ps), d(pe), t("FGC-1.0")]],
    };
    let referrals = Sheet { name: "Referrals".into(), headers: REFERRAL_HEADERS.map(String::from).to_vec(), rows };
    let summary = Sheet {
        name: "Summary".into(),
        headers: FGC_SUMMARY_HEADERS.map(String::from).to_vec(),
        rows: vec![counts.into_iter().map(n).collect()],
    };
    vec![about, referrals, summary]
}

/// The FGC return for April 2024 to March 2025.
pub fn fgc(seed: u64, families: usize) -> Vec<Sheet> {
    let mut rng = Rng::new(seed);
    let period = (ymd(2024, 4, 1), ymd(2025, 3, 31));
    let (mut rows, mut counts) = referrals(&mut rng, families, 0, &mut 0, period, false);
    // Deliberate mistakes: an invalid ethnicity code, a conference before the offer, a refusal with
    // no reason, a bad disability code in a list, an impossible date typed as text.
    set(&mut rows, 2, 6, t("WBR"));
    if let Some(Cell::Date(off)) = rows.get(5).and_then(|r| r.get(12)).cloned() {
        set(&mut rows, 5, 17, d(chrono::Datelike::num_days_from_ce(&off) - 2));
    }
    set(&mut rows, 8, 14, Cell::Blank);
    set(&mut rows, 11, 7, t("LD; XYZ"));
    set(&mut rows, 14, 3, t("31/02/2015"));
    // ChildrenReferred is two too many: a deliberate reconciliation mistake.
    if let Some(c) = counts.get_mut(1) {
        *c += 2;
    }
    fgc_sheets(period, rows, counts)
}

/// Outcome6m (column 25) recorded exactly for the conferences (ConferenceDate, column 17) held at
/// least 6 calendar months before the period's end `pe`: the generator's own test, 183 days, differs
/// from the template's by a day or two.
fn six_months(rng: &mut Rng, rows: &mut [Vec<Cell>], pe: i32) {
    let Some(due) = chrono::NaiveDate::from_num_days_from_ce_opt(pe).and_then(|d| d.checked_sub_months(chrono::Months::new(6)))
    else {
        return;
    };
    for r in rows.iter_mut() {
        let held = matches!(r.get(17), Some(Cell::Date(c)) if *c <= due);
        let given = matches!(r.get(25), Some(Cell::Text(_)));
        if held && !given {
            set(std::slice::from_mut(r), 0, 25, t(rng.pick(&["HOME", "HOME", "KIN", "CLA", "OTHER"])));
        } else if !held && given {
            set(std::slice::from_mut(r), 0, 25, Cell::Blank);
        }
    }
}

/// A consistent pair of FGC returns without mistakes: last year's (April `year - 2` to March
/// `year - 1`) and this year's (April `year - 1` to March `year`), each of `families` families
/// referred in its period. This year's also carries over every child of last year's conferences, whose
/// 12-month outcome falls due in this period, with the same FamilyID, LAchildID and ReferralDate and
/// the outcomes recorded. Up to `breaks` of those children are then left out, one break each (the
/// rule FGCY01Q); fewer when too few children fit. Returns (last year's sheets, this year's, the
/// findings due).
pub fn fgc_pair(seed: u64, families: usize, year: i32, breaks: usize) -> (Vec<Sheet>, Vec<Sheet>, Vec<super::Break>) {
    let mut rng = Rng::new(seed);
    let before = (ymd(year - 2, 4, 1), ymd(year - 1, 3, 31));
    let period = (ymd(year - 1, 4, 1), ymd(year, 3, 31));
    let mut child_no = 0;
    let (mut last_rows, last_counts) = referrals(&mut rng, families, 0, &mut child_no, before, true);
    six_months(&mut rng, &mut last_rows, before.1);
    let text = |row: &[Cell], c: usize| match row.get(c) {
        Some(Cell::Text(v)) => v.clone(),
        _ => String::new(),
    };
    // ConferenceHeld is column 15, Outcome6m 25, Outcome12m 26.
    let mut carried: Vec<Vec<Cell>> = last_rows.iter().filter(|r| text(r, 15) == "Y").cloned().collect();
    for r in &mut carried {
        let outcomes = ["HOME", "HOME", "KIN", "CLA", "OTHER"];
        if text(r, 25).is_empty() {
            set(std::slice::from_mut(r), 0, 25, t(rng.pick(&outcomes)));
        }
        set(std::slice::from_mut(r), 0, 26, t(rng.pick(&outcomes)));
    }
    // Every other child carried over first, so that a family's children are not all left out together.
    let mut due = vec![];
    let mut keep = vec![true; carried.len()];
    for i in (0..carried.len()).step_by(2).chain((1..carried.len()).step_by(2)) {
        if due.len() >= breaks {
            break;
        }
        if let (Some(r), Some(k)) = (carried.get(i), keep.get_mut(i)) {
            *k = false;
            due.push(super::Break { code: "FGCY01Q", child: text(r, 1) });
        }
    }
    let (mut rows, counts) = referrals(&mut rng, families, families, &mut child_no, period, true);
    six_months(&mut rng, &mut rows, period.1);
    let mut now: Vec<Vec<Cell>> = carried.into_iter().zip(keep).filter(|(_, k)| *k).map(|(r, _)| r).collect();
    now.extend(rows);
    due.sort();
    (fgc_sheets(before, last_rows, last_counts), fgc_sheets(period, now, counts), due)
}

/// The disability return at 31 March 2025.
pub fn disability(seed: u64, children: usize) -> Vec<Sheet> {
    let mut rng = Rng::new(seed);
    let snap = ymd(2025, 3, 31);
    let (about, headers) = (dis_about(snap), dis_headers());
    let codes = DIS_CODES;
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

const DIS_CODES: [&str; 13] = ["MOB", "HAND", "PC", "INC", "COMM", "LD", "HEAR", "VIS", "BEH", "CON", "AUT", "DDA", "MH"];

/// The About sheet of a generated disability return at `snap`.
fn dis_about(snap: i32) -> Sheet {
    Sheet {
        name: "About".into(),
        headers: ["LA", "LAName", "SnapshotDate", "TemplateVersion"].map(String::from).to_vec(),
        rows: vec![vec![t("201"), t("Example Borough Council"), d(snap), t("DIS-1.0")]],
    }
}

/// The columns of a generated disability return's Children sheet.
fn dis_headers() -> Vec<String> {
    [
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
    .to_vec()
}

/// A child of a generated disability return without mistakes.
#[derive(Clone)]
struct DisChild {
    id: String,
    cohort: &'static str,
    dob: i32,
    sex: &'static str,
    eth: &'static str,
    codes: Vec<&'static str>,
    by: &'static str,
    ehcp: bool,
    reviewed: i32,
}

impl DisChild {
    /// SelfReported: a care leaver says whether they have a disability; other cohorts are not asked.
    fn self_reported(&self) -> &'static str {
        match (self.cohort, self.codes.is_empty()) {
            ("CL", false) => "Y",
            ("CL", true) => "N",
            _ => "NA",
        }
    }
    /// Recorded with no disability (NONE), as a child known last year may wrongly be.
    fn set_none(&mut self) {
        self.codes.clear();
        self.ehcp = false;
    }
}

/// Whole years from `dob` to `on`.
fn age_on(dob: i32, on: i32) -> i32 {
    match (chrono::NaiveDate::from_num_days_from_ce_opt(dob), chrono::NaiveDate::from_num_days_from_ce_opt(on)) {
        (Some(b), Some(o)) => o.years_since(b).map_or(0, |y| y as i32),
        _ => 0,
    }
}

/// A child of `cohort` at the snapshot date `snap`, with a disability three times in ten.
fn dis_child(rng: &mut Rng, id: String, cohort: &'static str, snap: i32) -> DisChild {
    let age = if cohort == "CL" { 16 + rng.below(9) as i32 } else { rng.below(18) as i32 };
    let dob = snap - age * 365 - 30 - rng.below(300) as i32;
    let mut codes: Vec<&'static str> = vec![];
    if rng.chance(0.3) {
        for _ in 0..1 + rng.below(2) {
            let c = rng.pick(&DIS_CODES);
            if !codes.contains(&c) {
                codes.push(c);
            }
        }
    }
    let ehcp = !codes.is_empty() && rng.chance(0.5);
    DisChild {
        id,
        cohort,
        dob,
        sex: rng.pick(&["1", "2"]),
        eth: rng.pick(ETH),
        codes,
        by: rng.pick(&["PRACT", "PRACT", "HEALTH", "EHCP", "SELF", "MIXED"]),
        ehcp,
        reviewed: snap - 30 - rng.below(300) as i32,
    }
}

/// The three sheets of a disability return at `snap`, its Summary counted from its children.
fn dis_sheets(children: &[DisChild], snap: i32) -> Vec<Sheet> {
    let (about, headers) = (dis_about(snap), dis_headers());
    let mut counts: std::collections::BTreeMap<&str, (u32, u32, [u32; 13])> = std::collections::BTreeMap::new();
    let rows = children
        .iter()
        .map(|c| {
            let entry = counts.entry(c.cohort).or_insert((0, 0, [0; 13]));
            entry.0 += 1;
            entry.1 += u32::from(!c.codes.is_empty());
            for code in &c.codes {
                if let Some(k) = DIS_CODES.iter().position(|x| x == code).and_then(|k| entry.2.get_mut(k)) {
                    *k += 1;
                }
            }
            let dis = if c.codes.is_empty() { "NONE".to_string() } else { c.codes.join(", ") };
            vec![
                t(&c.id),
                t(c.cohort),
                d(c.dob),
                t(c.sex),
                t(c.eth),
                t(&dis),
                t(c.by),
                t(c.self_reported()),
                t(if c.ehcp { "Y" } else { "N" }),
                d(c.reviewed),
            ]
        })
        .collect();
    let summary_headers: Vec<String> =
        ["Cohort", "Total", "WithDisability", "NotRecorded"].iter().chain(DIS_CODES.iter()).map(|s| s.to_string()).collect();
    let summary_rows = counts
        .iter()
        .map(|(cohort, (total, with, per))| {
            [t(cohort), n(*total), n(*with), n(0)].into_iter().chain(per.iter().map(|x| n(*x))).collect()
        })
        .collect();
    let children_sheet = Sheet { name: "Children".into(), headers, rows };
    vec![about, children_sheet, Sheet { name: "Summary".into(), headers: summary_headers, rows: summary_rows }]
}

/// Whether the share of children with a disability fell from `before` to `now` (each children with
/// one, children) by more than `limit`, with a margin of one point.
fn share_fell((had, of): (usize, usize), (has, out_of): (usize, usize), limit: f64) -> bool {
    if had == 0 || of == 0 || out_of == 0 {
        return false;
    }
    let (b, a) = (had as f64 / of as f64, has as f64 / out_of as f64);
    (b - a) / b > limit + 0.01
}

/// A consistent pair of disability returns without mistakes: last year's (at 31 March `year - 1`)
/// and this year's (at 31 March `year`), of `children` children each. Every child still of their
/// cohort's age is in this year's return with the same identifiers and disabilities; each who left
/// is replaced by a new child of the same cohort and disabilities, so the share with a disability
/// stays the same. Up to `breaks` breaks are then made, in turn: a child carried over with a
/// disability last year recorded with NONE (DISY01Q; no more than would move the share by half its
/// threshold), and once for the return, new children with no disability added until the share has
/// fallen past the threshold `limits` gives as `MaxDisabilityShareFall` (DISY02Q); fewer when too few
/// children fit. Returns (last year's sheets, this year's, the findings due).
pub fn disability_pair(
    seed: u64,
    children: usize,
    year: i32,
    breaks: usize,
    limits: &super::Thresholds,
) -> (Vec<Sheet>, Vec<Sheet>, Vec<super::Break>) {
    let mut rng = Rng::new(seed);
    let (was, snap) = (ymd(year - 1, 3, 31), ymd(year, 3, 31));
    let cohorts = ["CLA", "CLA", "CL", "CIN", "CIN", "CIN"];
    let mut next = 0;
    let mut new_id = || {
        next += 1;
        format!("D{next:05}")
    };
    let before: Vec<DisChild> = (0..children)
        .map(|_| {
            let cohort = rng.pick(&cohorts);
            dis_child(&mut rng, new_id(), cohort, was)
        })
        .collect();
    // The children carried over first, then the new ones.
    let (mut now, mut fresh): (Vec<DisChild>, Vec<DisChild>) = (vec![], vec![]);
    for c in &before {
        let age = age_on(c.dob, snap);
        let stays = if c.cohort == "CL" { (16..=25).contains(&age) } else { age < 18 };
        if stays && rng.chance(0.8) {
            now.push(DisChild { reviewed: snap - 30 - rng.below(300) as i32, ..c.clone() });
        } else {
            let mut new = dis_child(&mut rng, new_id(), c.cohort, snap);
            new.codes.clone_from(&c.codes);
            new.ehcp = c.ehcp;
            fresh.push(new);
        }
    }
    let carried = now.len();
    now.extend(fresh);
    let with = |cs: &[DisChild]| (cs.iter().filter(|c| !c.codes.is_empty()).count(), cs.len());
    let limit = limits.get("MaxDisabilityShareFall");
    let mut due = vec![];
    let (mut kind, mut misses, mut share_done, mut next_child) = (0, 0, false, 0);
    while due.len() < breaks && misses < 2 {
        kind += 1;
        let made = if kind % 2 == 0 {
            // Once for the return: new children with NONE until the share has fallen past the threshold.
            let first = !share_done;
            share_done = true;
            first
                && limit.is_some_and(|l| {
                    while !share_fell(with(&before), with(&now), l) && now.len() < 20 * children + 100 {
                        let mut c = dis_child(&mut rng, new_id(), "CIN", snap);
                        c.set_none();
                        now.push(c);
                    }
                    share_fell(with(&before), with(&now), l)
                })
                && {
                    due.push(super::Break { code: "DISY02Q", child: String::new() });
                    true
                }
        } else {
            // The next child carried over with a disability; while the share has not been broken on
            // purpose, only as many as keep its fall within half the threshold.
            let (has, of) = with(&now);
            let within = due.iter().any(|b: &super::Break| b.code == "DISY02Q")
                || limit.is_none_or(|l| !share_fell(with(&before), (has.saturating_sub(1), of), l / 2.0));
            let pick = (next_child..carried).find(|i| now.get(*i).is_some_and(|c| !c.codes.is_empty()));
            match (pick, within) {
                (Some(i), true) => {
                    next_child = i + 1;
                    now.get_mut(i).is_some_and(|c| {
                        c.set_none();
                        due.push(super::Break { code: "DISY01Q", child: c.id.clone() });
                        true
                    })
                }
                _ => false,
            }
        };
        misses = if made { 0 } else { misses + 1 };
    }
    due.sort();
    (dis_sheets(&before, was), dis_sheets(&now, snap), due)
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
