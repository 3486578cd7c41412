//! A deterministic generator of realistic CIN census XML, for samples, tests and benchmarks, and of
//! a consistent pair of years (`cin_pair`): last year's census and this year's, where every episode
//! open at last year's end carries on with the same child and dates, so the year-on-year rules find
//! nothing but the breaks injected on purpose.
//!
//! The same seed and size always give the same bytes. Children are consistent with the DfE rules
//! unless a mistake is injected: each child gets one with probability `error_rate`, chosen from a
//! fixed list of common mistakes (wrong UPN check letter, closure before referral, ...).

use std::fmt::Write;

/// A small, fast, deterministic random source (SplitMix64).
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }
    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    /// One of the items.
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items.get(self.below(items.len() as u64) as usize).copied().unwrap_or("")
    }
}

const ETHNICITY: &[&str] = &[
    "WBRI", "WBRI", "WBRI", "WBRI", "WIRI", "WOTH", "MWBC", "MWBA", "MWAS", "MOTH", "AIND", "APKN", "ABAN", "AOTH", "BCRB",
    "BAFR", "BOTH", "CHNE", "OOTH", "NOBT",
];
const DISABILITY: &[&str] = &["MOB", "HAND", "PC", "INC", "COMM", "LD", "HEAR", "VIS", "BEH", "CON", "AUT", "DDA"];
const SOURCES: &[&str] = &["1A", "1B", "1C", "2A", "2B", "3A", "3B", "3E", "3F", "4", "5A", "5B", "5D", "6", "7", "8", "9", "10"];
const NEED: &[&str] = &["N1", "N1", "N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8", "N9"];
const CLOSE: &[&str] = &["RC1", "RC3", "RC4", "RC5", "RC6", "RC7", "RC7", "RC7"];
const FACTORS: &[&str] = &[
    "1B", "2B", "3A", "3B", "4A", "4B", "5B", "6B", "7A", "10A", "11A", "14A", "15A", "16A", "17A", "18B", "18C", "19B", "19C",
    "20", "24A",
];
const ABUSE: &[&str] = &["NEG", "NEG", "EMO", "PHY", "SAB", "MUL"];
const LA: &[&str] = &[
    "201", "202", "203", "204", "205", "206", "207", "208", "209", "210", "211", "212", "213", "301", "302", "303", "304", "305",
    "306", "307", "308", "309", "310",
];
const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRTUVWXYZ";

/// Days from the common era of 1 April of `year`.
fn april(year: i32) -> i32 {
    chrono::NaiveDate::from_ymd_opt(year, 4, 1).map_or(0, |d| chrono::Datelike::num_days_from_ce(&d))
}

fn day(d: i32) -> String {
    crate::table::date_string(d)
}

fn upn(rng: &mut Rng) -> String {
    let la = rng.pick(LA);
    let mut body = String::from(la);
    for _ in 0..9 {
        body.push(char::from(b'0' + rng.below(10) as u8));
    }
    let check = crate::eval::builtins::upn_check_letter(&format!("A{body}")).unwrap_or('A');
    format!("{check}{body}")
}

fn wrong_letter(u: &str) -> String {
    let first = u.chars().next().unwrap_or('A');
    let i = ALPHABET.iter().position(|c| char::from(*c) == first).unwrap_or(0);
    let other = char::from(ALPHABET.get((i + 1) % ALPHABET.len()).copied().unwrap_or(b'A'));
    format!("{other}{}", u.get(1..).unwrap_or(""))
}

struct Assessment {
    start: i32,
    auth: Option<i32>,
    factors: Vec<&'static str>,
}

struct S47 {
    start: i32,
    target: Option<i32>,
    icpc: Option<i32>,
    not_required: bool,
}

struct Plan {
    start: i32,
    end: Option<i32>,
    abuse: &'static str,
    previous: u64,
    reviews: Vec<i32>,
}

struct Episode {
    referral: i32,
    source: &'static str,
    need: Option<&'static str>,
    closure: Option<i32>,
    reason: Option<String>,
    nfa: bool,
    assessments: Vec<Assessment>,
    s47: Vec<S47>,
    cin_plans: Vec<(i32, Option<i32>)>,
    plans: Vec<Plan>,
}

struct Child {
    id: String,
    upn: Option<String>,
    dob: i32,
    sex: String,
    eth: String,
    disabilities: Vec<&'static str>,
    episode: Episode,
    /// Carried over from last year's return (a pair's this year).
    carried: bool,
    /// Given a UPN this year for the first time (a pair's this year).
    upn_new: bool,
}

/// The next weekday on or after `d`.
fn weekday_on_or_after(d: i32) -> i32 {
    d + match chrono::NaiveDate::from_num_days_from_ce_opt(d).map(|d| chrono::Datelike::weekday(&d).number_from_monday()) {
        Some(6) => 2,
        Some(7) => 1,
        _ => 0,
    }
}

fn factors(rng: &mut Rng) -> Vec<&'static str> {
    let n = 1 + rng.below(3);
    let mut used: Vec<&'static str> = vec![];
    for _ in 0..n {
        let f = rng.pick(FACTORS);
        if !used.contains(&f) {
            used.push(f);
        }
    }
    used
}

/// `children` made-up children for the collection ending 31 March `year`, numbered from `first`.
fn children_of(children: usize, first: usize, rng: &mut Rng, error_rate: f64, year: i32) -> Vec<Child> {
    let start = april(year - 1);
    let end = april(year) - 1;
    let mut out = Vec::with_capacity(children);
    for i in 0..children {
        let mistake = if rng.chance(error_rate) { Some(rng.below(12)) } else { None };
        let id = format!("C{:07}", i + first);
        let age_days = rng.below(17 * 365) as i32 + 30;
        let dob = end - age_days;
        let referral = (start + rng.below(330) as i32).max(dob + 1);
        let open = rng.chance(0.45);
        let nfa = !open && rng.chance(0.15);
        let closure = if open { None } else { Some((referral + 20 + rng.below(200) as i32).min(end)) };
        let mut u = if age_days > 5 * 365 { Some(upn(rng)) } else { None };
        let mut child_id = id.clone();
        let mut eth = rng.pick(ETHNICITY).to_string();
        let mut closure = closure;
        // A referral with no further action had no assessment, so it cannot close as RC8/RC9.
        let mut reason = closure.map(|_| if nfa { "RC7" } else { rng.pick(CLOSE) }.to_string());
        match mistake {
            Some(0) => u = u.map(|v| wrong_letter(&v)),
            Some(1) => child_id.clear(),
            Some(2) => closure = Some(referral - 3),
            Some(3) => eth = "WBR".into(),
            Some(4) => reason = None,
            _ => {}
        }
        let sex = if mistake == Some(5) { "X" } else { rng.pick(&["M", "F"]) }.to_string();
        let mut disabilities = vec![];
        if rng.chance(0.12) {
            let a = rng.pick(DISABILITY);
            disabilities.push(a);
            if rng.chance(0.3) {
                let b = rng.pick(DISABILITY);
                if b != a {
                    disabilities.push(b);
                }
            }
            if mistake == Some(6) {
                disabilities.push("NONE");
            }
        } else {
            disabilities.push("NONE");
        }
        let source = rng.pick(SOURCES);
        let need = (!nfa).then(|| rng.pick(NEED));
        let mut ep = Episode {
            referral,
            source,
            need,
            closure,
            reason,
            nfa,
            assessments: vec![],
            s47: vec![],
            cin_plans: vec![],
            plans: vec![],
        };
        let last = closure.unwrap_or(end);
        if !nfa {
            // An assessment, authorised unless the episode is open and recent.
            let a_start = referral + rng.below(5) as i32;
            let a_start = if mistake == Some(7) { referral - 10 } else { a_start };
            let auth = (a_start + 10 + rng.below(30) as i32).min(last);
            let authorised = closure.is_some() || auth < end - 10;
            let (a_auth, a_factors) = if authorised { (Some(auth.max(a_start)), factors(rng)) } else { (None, vec![]) };
            ep.assessments.push(Assessment { start: a_start, auth: a_auth, factors: a_factors });
            // Section 47 and a child protection plan for some children.
            if rng.chance(0.3) && auth + 15 < last {
                let s47 = auth + 1;
                let icpc = weekday_on_or_after(s47 + 10);
                ep.s47.push(S47 { start: s47, target: Some(icpc), icpc: Some(icpc), not_required: false });
                let cpp_start = if mistake == Some(8) { icpc + 1 } else { icpc };
                let cpp_end = closure.map(|e| e.max(cpp_start + 1));
                let abuse = rng.pick(ABUSE);
                let previous = rng.below(3);
                let reviews = if cpp_start + 90 < last { vec![cpp_start + 90] } else { vec![] };
                ep.plans.push(Plan { start: cpp_start, end: cpp_end, abuse, previous, reviews });
            } else if rng.chance(0.5) && auth + 2 < last {
                let p_start = auth + 1;
                ep.cin_plans.push((p_start, closure.map(|c| c.max(p_start + 1))));
            }
        }
        out.push(Child { id: child_id, upn: u, dob, sex, eth, disabilities, episode: ep, carried: false, upn_new: false });
    }
    out
}

/// The census XML of `children` for the collection ending 31 March `year`: GenderCurrent (1, 2) up
/// to 2023-24, Sex (M, F) from 2024-25.
fn render(children: &[Child], seed: u64, year: i32) -> String {
    let end = april(year) - 1;
    let mut x = String::with_capacity(children.len() * 1500 + 1000);
    let _ = write!(
        x,
        "<Message>\n  <Header>\n    <CollectionDetails>\n      <Collection>CIN</Collection>\n      <Year>{year}</Year>\n      <ReferenceDate>{}</ReferenceDate>\n    </CollectionDetails>\n    <Source>\n      <SourceLevel>L</SourceLevel>\n      <LEA>201</LEA>\n      <SoftwareCode>fettle generator</SoftwareCode>\n      <Release>1</Release>\n      <SerialNo>{seed:03}</SerialNo>\n      <DateTime>{}T09:00:00</DateTime>\n    </Source>\n  </Header>\n  <Children>\n",
        day(end),
        day(end + 30)
    );
    for c in children {
        let _ = write!(x, "    <Child>\n      <ChildIdentifiers>\n        <LAchildID>{}</LAchildID>\n", c.id);
        match &c.upn {
            Some(v) => {
                let _ = writeln!(x, "        <UPN>{v}</UPN>");
            }
            None => {
                let _ = writeln!(x, "        <UPNunknown>UN1</UPNunknown>");
            }
        }
        let _ = writeln!(x, "        <PersonBirthDate>{}</PersonBirthDate>", day(c.dob));
        if year <= 2024 {
            let g = match c.sex.as_str() {
                "M" => "1",
                "F" => "2",
                other => other,
            };
            let _ = writeln!(x, "        <GenderCurrent>{g}</GenderCurrent>");
        } else {
            let _ = writeln!(x, "        <Sex>{}</Sex>", c.sex);
        }
        let _ = write!(
            x,
            "      </ChildIdentifiers>\n      <ChildCharacteristics>\n        <Ethnicity>{}</Ethnicity>\n        <Disabilities>\n",
            c.eth
        );
        for d in &c.disabilities {
            let _ = writeln!(x, "          <Disability>{d}</Disability>");
        }
        let _ = write!(x, "        </Disabilities>\n      </ChildCharacteristics>\n");
        let e = &c.episode;
        let _ = write!(
            x,
            "      <CINdetails>\n        <CINreferralDate>{}</CINreferralDate>\n        <ReferralSource>{}</ReferralSource>\n",
            day(e.referral),
            e.source
        );
        if let Some(n) = e.need {
            let _ = writeln!(x, "        <PrimaryNeedCode>{n}</PrimaryNeedCode>");
        }
        if let Some(c) = e.closure {
            let _ = writeln!(x, "        <CINclosureDate>{}</CINclosureDate>", day(c));
        }
        if let Some(r) = &e.reason {
            let _ = writeln!(x, "        <ReasonForClosure>{r}</ReasonForClosure>");
        }
        for a in &e.assessments {
            let _ = write!(
                x,
                "        <Assessments>\n          <AssessmentActualStartDate>{}</AssessmentActualStartDate>\n",
                day(a.start)
            );
            if let Some(auth) = a.auth {
                let _ = writeln!(x, "          <AssessmentAuthorisationDate>{}</AssessmentAuthorisationDate>", day(auth));
                let _ = writeln!(x, "          <FactorsIdentifiedAtAssessment>");
                for f in &a.factors {
                    let _ = writeln!(x, "            <AssessmentFactors>{f}</AssessmentFactors>");
                }
                let _ = writeln!(x, "          </FactorsIdentifiedAtAssessment>");
            }
            let _ = writeln!(x, "        </Assessments>");
        }
        for (s, end) in &e.cin_plans {
            let _ = write!(x, "        <CINPlanDates>\n          <CINPlanStartDate>{}</CINPlanStartDate>\n", day(*s));
            if let Some(c) = end {
                let _ = writeln!(x, "          <CINPlanEndDate>{}</CINPlanEndDate>", day(*c));
            }
            let _ = writeln!(x, "        </CINPlanDates>");
        }
        for s in &e.s47 {
            let _ = write!(x, "        <Section47>\n          <S47ActualStartDate>{}</S47ActualStartDate>\n", day(s.start));
            if let Some(t) = s.target {
                let _ = writeln!(x, "          <InitialCPCtarget>{}</InitialCPCtarget>", day(t));
            }
            if let Some(d) = s.icpc {
                let _ = writeln!(x, "          <DateOfInitialCPC>{}</DateOfInitialCPC>", day(d));
            }
            let _ = write!(x, "          <ICPCnotRequired>{}</ICPCnotRequired>\n        </Section47>\n", s.not_required);
        }
        let _ = writeln!(x, "        <ReferralNFA>{}</ReferralNFA>", e.nfa);
        for p in &e.plans {
            let _ = write!(x, "        <ChildProtectionPlans>\n          <CPPstartDate>{}</CPPstartDate>\n", day(p.start));
            if let Some(end) = p.end {
                let _ = writeln!(x, "          <CPPendDate>{}</CPPendDate>", day(end));
            }
            let _ = write!(
                x,
                "          <InitialCategoryOfAbuse>{a}</InitialCategoryOfAbuse>\n          <LatestCategoryOfAbuse>{a}</LatestCategoryOfAbuse>\n          <NumberOfPreviousCPP>{}</NumberOfPreviousCPP>\n",
                p.previous,
                a = p.abuse
            );
            if !p.reviews.is_empty() {
                let _ = writeln!(x, "          <Reviews>");
                for r in &p.reviews {
                    let _ = writeln!(x, "            <CPPreviewDate>{}</CPPreviewDate>", day(*r));
                }
                let _ = writeln!(x, "          </Reviews>");
            }
            let _ = writeln!(x, "        </ChildProtectionPlans>");
        }
        let _ = write!(x, "      </CINdetails>\n    </Child>\n");
    }
    x.push_str("  </Children>\n</Message>\n");
    x
}

/// Writes a census of `children` children for the collection ending 31 March `year`.
pub fn cin_xml(children: usize, seed: u64, error_rate: f64, year: i32) -> String {
    let mut rng = Rng::new(seed);
    render(&children_of(children, 1, &mut rng, error_rate, year), seed, year)
}

/// A break between two years injected by a pair generator ([`cin_pair`], [`templates::disability_pair`],
/// [`templates::fgc_pair`]): the year-on-year rule that must find it and the child it names.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Break {
    /// The rule code (`CINY02Q`).
    pub code: &'static str,
    /// The child's LAchildID in the return the finding is about; empty for a rule on the whole return
    /// (a count that moved too far).
    pub child: String,
}

/// The thresholds a pair generator's return-level breaks must cross, by the name of the `param`
/// that declares each in the rule files (`MaxChildrenChange = 0.25`): the caller reads them from the
/// compiled rules, so the generator holds no threshold of its own. A return-level break whose
/// threshold is not given is not made.
#[derive(Clone, Debug, Default)]
pub struct Thresholds(pub std::collections::BTreeMap<String, f64>);

impl Thresholds {
    /// The threshold declared as `name`.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.0.get(name).copied()
    }
}

/// Whether `now` moved from `before` by more than the share `limit`, upwards (`up`) or downwards, with
/// a margin of one point so that rounding never decides.
fn moved(before: usize, now: usize, limit: f64, up: bool) -> bool {
    if before == 0 {
        return false;
    }
    let change = (now as f64 - before as f64) / before as f64;
    if up { change > limit + 0.01 } else { -change > limit + 0.01 }
}

/// This year's episode of a child whose episode was open at last year's end (`last_end`): the same
/// referral, the assessments, enquiries and plans still open then (with the same start dates),
/// finished this year or still open; closed this year for some children.
fn carry(e: &Episode, rng: &mut Rng, start: i32, end: i32) -> Episode {
    let last_end = start - 1;
    let closure = rng.chance(0.45).then(|| start + 30 + rng.below(300) as i32);
    let last = closure.unwrap_or(end);
    let assessments = e
        .assessments
        .iter()
        .filter(|a| a.auth.is_none_or(|d| d > last_end))
        .map(|a| Assessment { start: a.start, auth: Some((start + rng.below(20) as i32).min(last)), factors: factors(rng) })
        .collect();
    let s47 = e
        .s47
        .iter()
        .filter(|s| s.icpc.is_none_or(|d| d > last_end) && !s.not_required)
        .map(|s| {
            let icpc = weekday_on_or_after(start + 5).min(last);
            S47 { start: s.start, target: s.target, icpc: Some(icpc), not_required: false }
        })
        .collect();
    let cin_plans = e.cin_plans.iter().filter(|p| p.1.is_none()).map(|p| (p.0, closure.map(|c| c.max(p.0 + 1)))).collect();
    let plans = e
        .plans
        .iter()
        .filter(|p| p.end.is_none_or(|d| d > last_end))
        .map(|p| {
            let mut review = p.start + 90;
            while review <= last_end {
                review += 180;
            }
            Plan {
                start: p.start,
                end: closure.map(|c| c.max(p.start + 1)),
                abuse: p.abuse,
                previous: p.previous,
                reviews: if review < last { vec![review] } else { vec![] },
            }
        })
        .collect();
    Episode {
        referral: e.referral,
        source: e.source,
        need: e.need,
        closure,
        reason: closure.map(|_| rng.pick(CLOSE).to_string()),
        nfa: false,
        assessments,
        s47,
        cin_plans,
        plans,
    }
}

/// A consistent pair of censuses: last year's (ending 31 March `year - 1`) and this year's (ending
/// 31 March `year`), each of `children` children, with no mistakes. Every child whose episode was
/// open at last year's end is in this year's return with the same identifiers and dates; the rest of
/// this year's children are new. Up to `breaks` breaks are then made, cycling through the
/// year-on-year rules: for one child carried over each (a child left out, a referral date, an
/// episode replaced, a date of birth, a UPN, an ID, a plan's start, sex, ethnicity, an assessment's
/// start, an enquiry's start), and once each for the whole return (the number of children, of open
/// episodes, of open plans moved past the threshold `limits` gives for it); fewer when too few
/// children fit. Returns (last year's XML, this year's XML, the findings the breaks must give: a
/// changed ID gives two, the new ID's CINY06Q and the old ID's CINY01Q).
pub fn cin_pair(children: usize, seed: u64, year: i32, breaks: usize, limits: &Thresholds) -> (String, String, Vec<Break>) {
    let mut rng = Rng::new(seed);
    let mut before = children_of(children, 1, &mut rng, 0.0, year - 1);
    let (start, end) = (april(year - 1), april(year) - 1);
    let last_end = start - 1;
    // Some episodes open at last year's end have an enquiry under way then: an assessment and a
    // section 47 enquiry started in the last days of March.
    for c in &mut before {
        let e = &mut c.episode;
        let quiet =
            e.s47.is_empty() && e.plans.is_empty() && e.assessments.iter().all(|a| a.auth.is_some_and(|d| d < last_end - 12));
        if e.closure.is_none() && !e.nfa && quiet && e.referral < last_end - 20 && rng.chance(0.05) {
            e.assessments.push(Assessment { start: last_end - 8, auth: None, factors: vec![] });
            e.s47.push(S47 {
                start: last_end - 5,
                target: Some(weekday_on_or_after(last_end + 10)),
                icpc: None,
                not_required: false,
            });
        }
    }
    let mut now: Vec<Child> = vec![];
    for c in before.iter().filter(|c| c.episode.closure.is_none()) {
        // A child who has reached school age since last year has a UPN now.
        let upn = match &c.upn {
            Some(u) => Some(u.clone()),
            None if c.dob < end - 5 * 365 => Some(upn(&mut rng)),
            None => None,
        };
        let upn_new = c.upn.is_none() && upn.is_some();
        now.push(Child {
            id: c.id.clone(),
            upn,
            dob: c.dob,
            sex: c.sex.clone(),
            eth: c.eth.clone(),
            disabilities: c.disabilities.clone(),
            episode: carry(&c.episode, &mut rng, start, end),
            carried: true,
            upn_new,
        });
    }
    let fresh = children.saturating_sub(now.len());
    now.extend(children_of(fresh, children + 1, &mut rng, 0.0, year));
    let carried = before.iter().filter(|c| c.episode.closure.is_none()).count();
    let (mut made, whole) = inject(&mut now, carried, &mut rng, start, breaks);
    let mut next = children + fresh + 1;
    for code in whole {
        if let Some(limit) = RETURN_BREAKS.iter().find(|(c, _)| *c == code).and_then(|(_, name)| limits.get(name))
            && break_count(code, limit, &before, &mut now, &mut rng, &mut next, year)
        {
            made.push(Break { code, child: String::new() });
        }
    }
    made.sort();
    (render(&before, seed, year - 1), render(&now, seed, year), made)
}

/// The kinds of break `cin_pair` makes, in turn: one child's, then the whole return's (made once each).
const BREAKS: &[&str] = &[
    "CINY01Q", "CINY02Q", "CINY03Q", "CINY04Q", "CINY05Q", "CINY06Q", "CINY07Q", "CINY08Q", "CINY09Q", "CINY11Q", "CINY12Q",
    "CINY10Q", "CINY13Q", "CINY14Q",
];

/// The breaks of the whole return, each with the `param` that declares its threshold.
const RETURN_BREAKS: &[(&str, &str)] =
    &[("CINY10Q", "MaxChildrenChange"), ("CINY13Q", "MaxOpenEpisodesChange"), ("CINY14Q", "MaxPlansChange")];

/// Changes up to `breaks` of the first `carried` children (those carried over from last year), one
/// break each, and returns the findings they must give, and the breaks of the whole return chosen
/// (made by [`break_count`] once the children's are).
fn inject(now: &mut Vec<Child>, carried: usize, rng: &mut Rng, start: i32, breaks: usize) -> (Vec<Break>, Vec<&'static str>) {
    let mut made = vec![];
    let mut whole: Vec<&'static str> = vec![];
    let mut gone: Vec<usize> = vec![];
    let mut used = vec![false; carried];
    let mut kind = 0;
    let mut misses = 0;
    let mut changed = 0;
    while changed < breaks && misses < BREAKS.len() {
        let code = BREAKS.get(kind % BREAKS.len()).copied().unwrap_or("CINY01Q");
        kind += 1;
        if RETURN_BREAKS.iter().any(|(c, _)| *c == code) {
            // Once for the return; a second turn is a miss, so the loop still ends.
            if whole.contains(&code) {
                misses += 1;
            } else {
                whole.push(code);
                changed += 1;
            }
            continue;
        }
        let fits = |c: &Child| -> bool {
            let e = &c.episode;
            match code {
                "CINY02Q" => e.referral - 7 > c.dob,
                // Nothing else of the episode carries on that another rule would miss.
                "CINY03Q" => e.assessments.is_empty() && e.s47.is_empty() && e.plans.is_empty() && e.cin_plans.is_empty(),
                "CINY04Q" => c.dob + 1 < e.referral,
                // A UPN last year too: a UPN given for the first time changes nothing.
                "CINY05Q" | "CINY06Q" => c.upn.is_some() && !c.upn_new,
                "CINY07Q" => !e.plans.is_empty(),
                "CINY08Q" => c.sex == "M" || c.sex == "F",
                "CINY09Q" => c.eth != "NOBT" && c.eth != "REFU",
                "CINY11Q" => e.assessments.iter().any(|a| a.start < start - 1 && a.auth.is_some_and(|d| d > a.start + 1)),
                "CINY12Q" => e.s47.iter().any(|s| s.icpc.is_some_and(|d| d > s.start + 1)),
                _ => true,
            }
        };
        let Some(i) = (0..carried).find(|i| !used.get(*i).copied().unwrap_or(true) && now.get(*i).is_some_and(fits)) else {
            misses += 1;
            continue;
        };
        misses = 0;
        changed += 1;
        if let Some(u) = used.get_mut(i) {
            *u = true;
        }
        let Some(c) = now.get_mut(i) else { continue };
        let id = c.id.clone();
        match code {
            "CINY01Q" => gone.push(i),
            "CINY02Q" => c.episode.referral -= 7,
            "CINY03Q" => {
                c.episode.referral = start + 20 + rng.below(100) as i32;
                c.episode.closure = None;
                c.episode.reason = None;
            }
            "CINY04Q" => c.dob += 1,
            "CINY05Q" => c.upn = Some(upn(rng)),
            "CINY06Q" => {
                c.id = format!("{id}N");
                made.push(Break { code: "CINY01Q", child: id.clone() });
            }
            "CINY07Q" => {
                if let Some(p) = c.episode.plans.first_mut() {
                    p.start -= 1;
                }
            }
            "CINY08Q" => c.sex = if c.sex == "M" { "F".into() } else { "M".into() },
            "CINY09Q" => c.eth = if c.eth == "WBRI" { "WIRI".into() } else { "WBRI".into() },
            "CINY11Q" => {
                if let Some(a) = c.episode.assessments.iter_mut().find(|a| a.start < start - 1) {
                    a.start += 1;
                }
            }
            "CINY12Q" => {
                if let Some(s) = c.episode.s47.first_mut() {
                    s.start += 1;
                }
            }
            _ => {}
        }
        let child = if code == "CINY06Q" { format!("{id}N") } else { id };
        made.push(Break { code, child });
    }
    gone.sort_unstable();
    for i in gone.into_iter().rev() {
        if i < now.len() {
            now.remove(i);
        }
    }
    (made, whole)
}

/// The figures the return-level rules compare, for a census ending on `end`: the children, the
/// episodes open on `end`, the child protection plans open on `end`.
fn figures(children: &[Child], end: i32) -> [usize; 3] {
    let open = |d: Option<i32>| d.is_none_or(|d| d > end);
    [
        children.len(),
        children.iter().filter(|c| open(c.episode.closure)).count(),
        children.iter().map(|c| c.episode.plans.iter().filter(|p| open(p.end)).count()).sum(),
    ]
}

/// Moves one figure of this year's return (`now`) past `limit` from last year's (`before`), touching
/// nothing any other year-on-year rule compares: CINY10Q adds children whose episodes closed this
/// year (IDs from `next`), CINY13Q leaves open the closed episodes of children new this year, CINY14Q
/// ends open plans this year (after their reviews) while their episodes stay open. False when too
/// few children fit.
fn break_count(
    code: &str,
    limit: f64,
    before: &[Child],
    now: &mut Vec<Child>,
    rng: &mut Rng,
    next: &mut usize,
    year: i32,
) -> bool {
    let (start, end) = (april(year - 1), april(year) - 1);
    let (was, is) = (figures(before, start - 1), figures(now, end));
    match code {
        "CINY10Q" => {
            let mut n = is[0];
            let mut tries = 0;
            while !moved(was[0], n, limit, true) && tries < 20 * was[0] + 100 {
                tries += 1;
                let batch = children_of(1, *next, rng, 0.0, year);
                *next += 1;
                for c in batch.into_iter().filter(|c| c.episode.closure.is_some()) {
                    now.push(c);
                    n += 1;
                }
            }
            moved(was[0], n, limit, true)
        }
        "CINY13Q" => {
            let mut n = is[1];
            for c in now.iter_mut().filter(|c| !c.carried && c.episode.closure.is_some() && !c.episode.nfa) {
                if moved(was[1], n, limit, true) {
                    break;
                }
                c.episode.closure = None;
                c.episode.reason = None;
                n += 1;
            }
            moved(was[1], n, limit, true)
        }
        "CINY14Q" => {
            let mut n = is[2];
            for p in now.iter_mut().flat_map(|c| c.episode.plans.iter_mut()) {
                if moved(was[2], n, limit, false) {
                    break;
                }
                if p.end.is_none() {
                    let after = p.reviews.iter().copied().max().unwrap_or(p.start).max(p.start).max(start);
                    if after < end {
                        p.end = Some(after + 1);
                        n -= 1;
                    }
                }
            }
            moved(was[2], n, limit, false)
        }
        _ => false,
    }
}

pub mod templates;
