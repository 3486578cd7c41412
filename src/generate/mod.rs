//! A deterministic generator of realistic CIN census XML, for samples, tests and benchmarks.
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

/// Writes a census of `children` children for the collection ending 31 March `year`.
pub fn cin_xml(children: usize, seed: u64, error_rate: f64, year: i32) -> String {
    let mut rng = Rng::new(seed);
    let start = april(year - 1);
    let end = april(year) - 1;
    let mut x = String::with_capacity(children * 1500 + 1000);
    let _ = write!(
        x,
        "<Message>\n  <Header>\n    <CollectionDetails>\n      <Collection>CIN</Collection>\n      <Year>{year}</Year>\n      <ReferenceDate>{}</ReferenceDate>\n    </CollectionDetails>\n    <Source>\n      <SourceLevel>L</SourceLevel>\n      <LEA>201</LEA>\n      <SoftwareCode>fettle generator</SoftwareCode>\n      <Release>1</Release>\n      <SerialNo>{seed:03}</SerialNo>\n      <DateTime>{}T09:00:00</DateTime>\n    </Source>\n  </Header>\n  <Children>\n",
        day(end),
        day(end + 30)
    );
    for i in 0..children {
        let mistake = if rng.chance(error_rate) { Some(rng.below(12)) } else { None };
        let id = format!("C{:07}", i + 1);
        let age_days = rng.below(17 * 365) as i32 + 30;
        let dob = end - age_days;
        let referral = (start + rng.below(330) as i32).max(dob + 1);
        let open = rng.chance(0.45);
        let nfa = !open && rng.chance(0.15);
        let closure = if open { None } else { Some((referral + 20 + rng.below(200) as i32).min(end)) };
        let mut u = if age_days > 5 * 365 { Some(upn(&mut rng)) } else { None };
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
        let _ = write!(x, "    <Child>\n      <ChildIdentifiers>\n        <LAchildID>{child_id}</LAchildID>\n");
        match &u {
            Some(v) => {
                let _ = writeln!(x, "        <UPN>{v}</UPN>");
            }
            None => {
                let _ = writeln!(x, "        <UPNunknown>UN1</UPNunknown>");
            }
        }
        let sex = if mistake == Some(5) { "X" } else { rng.pick(&["M", "F"]) };
        let _ = write!(
            x,
            "        <PersonBirthDate>{}</PersonBirthDate>\n        <Sex>{sex}</Sex>\n      </ChildIdentifiers>\n",
            day(dob)
        );
        let _ = write!(x, "      <ChildCharacteristics>\n        <Ethnicity>{eth}</Ethnicity>\n        <Disabilities>\n");
        if rng.chance(0.12) {
            let a = rng.pick(DISABILITY);
            let _ = writeln!(x, "          <Disability>{a}</Disability>");
            if rng.chance(0.3) {
                let b = rng.pick(DISABILITY);
                if b != a {
                    let _ = writeln!(x, "          <Disability>{b}</Disability>");
                }
            }
            if mistake == Some(6) {
                let _ = writeln!(x, "          <Disability>NONE</Disability>");
            }
        } else {
            let _ = writeln!(x, "          <Disability>NONE</Disability>");
        }
        let _ = write!(x, "        </Disabilities>\n      </ChildCharacteristics>\n");
        let _ = write!(
            x,
            "      <CINdetails>\n        <CINreferralDate>{}</CINreferralDate>\n        <ReferralSource>{}</ReferralSource>\n",
            day(referral),
            rng.pick(SOURCES)
        );
        if !nfa {
            let _ = writeln!(x, "        <PrimaryNeedCode>{}</PrimaryNeedCode>", rng.pick(NEED));
        }
        if let Some(c) = closure {
            let _ = writeln!(x, "        <CINclosureDate>{}</CINclosureDate>", day(c));
        }
        if let Some(r) = &reason {
            let _ = writeln!(x, "        <ReasonForClosure>{r}</ReasonForClosure>");
        }
        let last = closure.unwrap_or(end);
        // Child protection plans come after ReferralNFA in the schema's sequence.
        let mut plans = String::new();
        if !nfa {
            // An assessment, authorised unless the episode is open and recent.
            let a_start = referral + rng.below(5) as i32;
            let a_start = if mistake == Some(7) { referral - 10 } else { a_start };
            let auth = (a_start + 10 + rng.below(30) as i32).min(last);
            let authorised = closure.is_some() || auth < end - 10;
            let _ = write!(
                x,
                "        <Assessments>\n          <AssessmentActualStartDate>{}</AssessmentActualStartDate>\n",
                day(a_start)
            );
            if authorised {
                let _ = writeln!(
                    x,
                    "          <AssessmentAuthorisationDate>{}</AssessmentAuthorisationDate>",
                    day(auth.max(a_start))
                );
                let _ = writeln!(x, "          <FactorsIdentifiedAtAssessment>");
                let n = 1 + rng.below(3);
                let mut used: Vec<&str> = vec![];
                for _ in 0..n {
                    let f = rng.pick(FACTORS);
                    if !used.contains(&f) {
                        used.push(f);
                        let _ = writeln!(x, "            <AssessmentFactors>{f}</AssessmentFactors>");
                    }
                }
                let _ = writeln!(x, "          </FactorsIdentifiedAtAssessment>");
            }
            let _ = writeln!(x, "        </Assessments>");
            // Section 47 and a child protection plan for some children.
            if rng.chance(0.3) && auth + 15 < last {
                let s47 = auth + 1;
                let icpc = s47 + 10;
                let weekday_icpc = icpc
                    + match chrono::NaiveDate::from_num_days_from_ce_opt(icpc)
                        .map(|d| chrono::Datelike::weekday(&d).number_from_monday())
                    {
                        Some(6) => 2,
                        Some(7) => 1,
                        _ => 0,
                    };
                let _ = write!(
                    x,
                    "        <Section47>\n          <S47ActualStartDate>{}</S47ActualStartDate>\n          <InitialCPCtarget>{}</InitialCPCtarget>\n          <DateOfInitialCPC>{}</DateOfInitialCPC>\n          <ICPCnotRequired>false</ICPCnotRequired>\n        </Section47>\n",
                    day(s47),
                    day(weekday_icpc),
                    day(weekday_icpc)
                );
                let cpp_start = if mistake == Some(8) { weekday_icpc + 1 } else { weekday_icpc };
                let cpp_end = closure;
                let _ =
                    write!(plans, "        <ChildProtectionPlans>\n          <CPPstartDate>{}</CPPstartDate>\n", day(cpp_start));
                if let Some(e) = cpp_end {
                    let _ = writeln!(plans, "          <CPPendDate>{}</CPPendDate>", day(e.max(cpp_start + 1)));
                }
                let abuse = rng.pick(ABUSE);
                let _ = write!(
                    plans,
                    "          <InitialCategoryOfAbuse>{abuse}</InitialCategoryOfAbuse>\n          <LatestCategoryOfAbuse>{abuse}</LatestCategoryOfAbuse>\n          <NumberOfPreviousCPP>{}</NumberOfPreviousCPP>\n",
                    rng.below(3)
                );
                if cpp_start + 90 < last {
                    let _ = write!(
                        plans,
                        "          <Reviews>\n            <CPPreviewDate>{}</CPPreviewDate>\n          </Reviews>\n",
                        day(cpp_start + 90)
                    );
                }
                let _ = writeln!(plans, "        </ChildProtectionPlans>");
            } else if rng.chance(0.5) && auth + 2 < last {
                let p_start = auth + 1;
                let _ = write!(x, "        <CINPlanDates>\n          <CINPlanStartDate>{}</CINPlanStartDate>\n", day(p_start));
                if let Some(c) = closure {
                    let _ = writeln!(x, "          <CINPlanEndDate>{}</CINPlanEndDate>", day(c.max(p_start + 1)));
                }
                let _ = writeln!(x, "        </CINPlanDates>");
            }
        }
        let _ = write!(
            x,
            "        <ReferralNFA>{}</ReferralNFA>\n{plans}      </CINdetails>\n    </Child>\n",
            if nfa { "true" } else { "false" }
        );
    }
    x.push_str("  </Children>\n</Message>\n");
    x
}
pub mod templates;
