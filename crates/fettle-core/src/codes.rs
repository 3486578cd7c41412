//! The codes of findings, typed ([`Code`]: a rule's, a schema check's, an input check's), and the
//! long explanation of every diagnostic and input code fettle emits (`check::unknown-field`,
//! `input::invalid-date`): what `fettle explain CODE` prints and the SARIF report's rule help.
//! tests/it/check.rs keeps [`DIAGNOSTICS`] a catalogue: every code emitted has an entry, and every
//! entry a code that some source file emits.

use crate::syntax::ast::Severity;

/// Long explanations of diagnostic and input codes.
pub const DIAGNOSTICS: &[(&str, &str)] = &[
    (
        "check::never-holds",
        "The comparisons in a condition exclude each other (`Age > 10 and Age < 5`, `Colour == \"RED\" and Colour == \"GREEN\"`), so a `when` never applies or a `forbid` never fails. fettle reads conditions made of comparisons, code lists and ranges on the rule's own fields; it says nothing about other conditions.",
    ),
    (
        "check::contradiction",
        "Two rules on one table require things no row can have at once (`Age < 5` and `Age > 10`): every row fails one of them.",
    ),
    (
        "check::redundant",
        "Every row one rule reports is also reported, at the same or a higher severity, by another (`forbid Age > 20` beside `forbid Age > 10`).",
    ),
    (
        "check::unused-derive",
        "A `derive` is never used by a rule, a message, or another derivation that is used. Remove it, or report it with an `info` rule.",
    ),
    (
        "syntax::expected",
        "The rule file does not follow the grammar here. The message lists what could come next (for example `on` after a rule's message, or an operator between two values). Every top-level declaration is checked on its own, so one run reports the syntax errors of every declaration.",
    ),
    (
        "syntax::too-deep",
        "Brackets and `if`s nested more than 64 deep, or an expression with more than 200 operators and brackets inside one another. No real rule comes close; the bound keeps the checker and the evaluator, which walk expressions recursively, safe from text that is broken or made up. Split the expression with `let` or `derive`.",
    ),
    (
        "syntax::invisible",
        "The rule text holds a character that shows as nothing: a zero-width space or joiner, a byte-order mark after the start of the file, a direction mark or a soft hyphen (often pasted from a web page or a document). In a name it makes a name that looks right and is not; in a string, a code that never matches the data. Delete it. Comments may hold them, and a byte-order mark at the very start of a file is allowed.",
    ),
    ("syntax::bad-date", "A date literal such as `2024-02-30` names a day that does not exist."),
    ("syntax::number", "A whole number is too large to hold (more than 19 digits)."),
    (
        "syntax::template",
        "A message has a `{` without its `}`. Holes in messages are written `{expression}`; write `{{` and `}}` for literal braces.",
    ),
    (
        "check::unknown-table",
        "No table of the return has this name. Tables are declared with `table Name { ... }`; names are case-sensitive. The help suggests the closest name.",
    ),
    (
        "check::unknown-field",
        "The table has no field of this name. In a rule on a table, a bare name means a field of that table or of a table above it (its parent, grandparent...). Fields of other tables are reached through related rows: `exists(x in Parent.Table where x.Field == ...)`.",
    ),
    (
        "check::unknown-name",
        "The name is not a field of a row in scope, a `let` of the rule, a `param`, a `derive`, or a singleton table. A field of another table needs that table's rows in scope: use an aggregate over them (`count(Table where ...)`).",
    ),
    (
        "check::no-schema",
        "In an editor: the file's rule set declares no tables, so none of the tables its rules name exist. A rule set is every `.fettle` file with the same `return NAME YEAR` header in one folder (laid out as `rules/<return>/<year>/`); a copy of one rule file opened on its own is a set of one file, without the schema. The message names the shipped rule set that declares the table; put the file in the folder with the set's schema, or copy the schema beside it. The errors about unknown names that follow from it are not listed until then.",
    ),
    ("check::unknown-codes", "A field is typed `code List` but no code list of that name is declared (`codes List { ... }`)."),
    (
        "check::unknown-code",
        "A text literal compared with a coded field is not one of the list's codes, so the comparison could never be true. Codes match exactly, case included. In examples this is a warning: quote the value (`\"X\"`) to give an invalid code on purpose.",
    ),
    (
        "check::unknown-function",
        "There is no built-in function of this name. `docs/language.md` lists them; aggregates (`count`, `exists`, `all`, ...) take related rows, not values.",
    ),
    ("check::unknown-return", "`uses NAME` names a return for which there are no rules."),
    (
        "check::previous-return",
        "`uses previous NAME` reads last year's submission of the rule set's own return (`fettle validate THIS --previous LAST`), so NAME must be that return. To read another return validated in the same run, write `uses NAME`.",
    ),
    (
        "check::previous-alias",
        "The name given to last year's tables (`uses previous cin as last`) is already a table or a return the rules use; `last.Table` would be ambiguous. Choose another name.",
    ),
    ("check::unknown-year", "`extends YEAR` names a year for which the return has no rules."),
    (
        "check::type",
        "Two values of different kinds meet: a date compared with a number, text added to a date, a condition that is not yes/no. Durations (`30 days`, `45 working days`) only follow a date: `date - 30 days`.",
    ),
    (
        "check::arity",
        "A function or aggregate is given the wrong number of arguments. `count`, `exists` and `none` filter with `where`; `all`, `share`, `min`, `max`, `sum` take a second argument.",
    ),
    (
        "check::duplicate",
        "A name is declared twice. In a later year, change a declaration with `replace`, or a table with `extend table`.",
    ),
    (
        "check::duplicate-rule",
        "Two rules have the same code. Every rule code is unique within a return and year; a later year changes a rule with `replace rule CODE ...`.",
    ),
    ("check::duplicate-code", "A code list lists a code twice."),
    (
        "check::bad-code-range",
        "A range of codes (`001 ..= 005`) joins two numeric codes of the same width, the first not above the second.",
    ),
    (
        "check::nothing-to-replace",
        "`replace` changes a declaration of the year being extended, but there is none of this name. Drop `replace` to declare a new one.",
    ),
    ("check::nothing-to-remove", "`remove` names something that the rule set does not have."),
    ("check::extends-cycle", "Years extend each other in a circle."),
    ("check::mixed-returns", "The files of one folder name different returns."),
    ("check::parent-cycle", "Tables are each other's parents; the table hierarchy must be a tree."),
    ("check::cycle", "A derived value is defined in terms of itself, directly or through other derived values."),
    (
        "check::param-reads-data",
        "A `param` is a fixed value of the rule set (a threshold, a list); it cannot read the data. Use `derive` for values computed from the data.",
    ),
    ("check::detect", "`detect year from` must name a date field of a singleton table, such as `Header.ReferenceDate`."),
    (
        "check::no-check",
        "An `error` or `query` rule needs a `require` (fails where false) or `forbid` (fails where true). Only `info` rules may have no check: they report every item.",
    ),
    ("check::no-row", "`this` is the row a rule runs on; a rule `on return` has none."),
    (
        "check::unrelated",
        "The rows named are not related to the rule's rows in the way written: `Anchor.Table` needs `Anchor` to be the rule's table or a table above it, and `Table` below `Anchor`.",
    ),
    (
        "check::example-type",
        "An example gives a value that does not fit the field's type. Write it in the type (`2024-05-01`, `12`, `true`, a code), or quote it to give raw text exactly as a file would (`\"31/02/2024\"`).",
    ),
    ("check::example-shape", "Example rows nest like the data: a child table's rows go inside a row of its parent table."),
    (
        "check::cross-join",
        "An aggregate compares every row of a table with every row of the rule's table: the cost grows with the square of the rows. Name the parent to mean rows of the same record (`Parent.Table`), or join on a key with `where x.Key == Key`, which is evaluated as a hash join.",
    ),
    ("check::unused-param", "A `param` is declared but no rule or derivation uses it."),
    (
        "check::coalesce-constant",
        "`a ?? b` gives `b` when `a` is missing; a constant is never missing. Usually a comparison was meant: `??` binds tighter than `==`, so write `(a == b) ?? false`.",
    ),
    (
        "schema::unknown-element",
        "An XML element that the return's schema (XSD) does not have at this place, such as a misspelt `<Upn>` for `<UPN>` or an element the DfE never defined. The DfE portal rejects the file. Its value is not read: rename the element (the finding says which name was probably meant) or remove it.",
    ),
    (
        "schema::repeated-element",
        "An XML element that the schema allows once (or a set number of times) appears more often, such as two `<PersonBirthDate>` in one child. The DfE portal rejects the file. Only the first value is read; remove the extra element.",
    ),
    (
        "schema::missing-element",
        "An element the schema requires is not there, such as a `<CINdetails>` without `<ReferralNFA>`. The DfE portal rejects the file. The rules treat the value as missing.",
    ),
    (
        "schema::misplaced-element",
        "Elements in the wrong order: the schema fixes the order of the elements inside each element (in `<CINdetails>`, `<ReferralNFA>` comes before `<ChildProtectionPlans>`). The DfE portal rejects the file even though every value is right; the values are read as usual. Write the elements in the schema's order (your case management system's export usually does).",
    ),
    (
        "schema::unexpected-text",
        "Text directly inside an element that holds only other elements. The DfE portal rejects the file.",
    ),
    (
        "schema::unknown-attribute",
        "An attribute the schema does not declare (the census schema declares none). The DfE portal rejects the file.",
    ),
    (
        "schema::invalid-date",
        "An XML date that is not an xs:date (YYYY-MM-DD, optionally with a time zone such as `2024-11-29Z`): `14/03/2025`, `2025/03/14` or `2025-03-14T00:00:00` are refused by the DfE portal. The value is missing for the rules, so a rule that needs the date (8600 for the referral date) fires too. Spreadsheets and CSV files accept more forms; XML does not.",
    ),
    (
        "schema::invalid-number",
        "An XML value that should be a whole number (or a year) holds something else. The DfE portal rejects the file; the value is missing for the rules.",
    ),
    (
        "schema::invalid-code",
        "An XML value that is not one of the values the schema lists, compared exactly: `WBR` for `WBRI`, or a code with spaces around it (` M `), which the schema does not trim. The DfE portal rejects the file. The value is kept as written, so the DfE rule on the code fires as well.",
    ),
    (
        "schema::pattern",
        "An XML value that does not have the shape the schema gives it (a UPN is a letter and 12 digits, or a letter, 11 digits and a letter; a serial number is at least three digits). The DfE portal rejects the file. A census given as a spreadsheet or CSV files is checked the same way, as each cell becomes that element when the census is written as XML.",
    ),
    (
        "schema::length",
        "An XML value that is shorter or longer than the schema allows, such as an empty `<LAchildID>`. The DfE portal rejects the file. A census given as a spreadsheet or CSV files is checked the same way (an empty cell is missing rather than too short).",
    ),
    (
        "check::pattern",
        "A `pattern` facet in a `layout xml` declaration that is not a valid regular expression. Backslashes are written twice in rule-file strings: `\"\\\\d{3}\"`.",
    ),
    (
        "input::invalid-date",
        "A cell that should hold a date holds something else, or a day that does not exist (31/02/2024). fettle reads YYYY-MM-DD, DD/MM/YYYY, DD-MM-YYYY, DD.MM.YYYY, YYYY/MM/DD and Excel dates. The value is missing for the rules.",
    ),
    ("input::invalid-number", "A cell that should hold a number holds text. The value is missing for the rules."),
    (
        "input::repaired-blank",
        "Spreadsheets and CSV: cells that hold only spaces were read as empty, so the rules see no value there. One finding per column counts the cells and shows the first ones. Clear the cells, or give the value.",
    ),
    (
        "input::repaired-spaces",
        "Spreadsheets and CSV: values with spaces (or non-breaking spaces, shown as <NBSP>) around them were read without those spaces. One finding per column counts the cells and shows the first ones. The DfE's XML schema compares codes exactly, so remove the spaces before the data goes into the census file.",
    ),
    (
        "input::repaired-date-form",
        "Spreadsheets and CSV: dates written in another form than YYYY-MM-DD (31/03/2025, 31.03.2025, 2025/03/31) were read as day, month, year (year, month, day when the year comes first). One finding per column shows the first ones and the date read; check that it is the date meant. The DfE's form is YYYY-MM-DD.",
    ),
    (
        "input::repaired-date-time",
        "Spreadsheets and CSV: dates followed by a time of midnight (2025-03-31T00:00:00, 31/03/2025 00:00) were read as the date alone, losing nothing. The DfE's date fields are xs:date, which holds no time: its portal refuses `2025-03-31T00:00:00` in the census XML, so the date alone is what it accepts. A time other than midnight is input::repaired-time-of-day.",
    ),
    (
        "input::repaired-time-of-day",
        "Spreadsheets and CSV: dates holding a time of day other than midnight (an Excel date-time cell showing 31/03/2025 14:30, the serial 45747.5, the text 2025-03-30T23:00:00Z) were read as the date alone. The DfE's date fields are xs:date, which holds no time: its portal refuses a date with a time in the census XML, so whatever writes the file must drop the time, as fettle did, and the DfE sees only the date. It is a query, not an info, because a time of day in a date column is a sign the date may not be the one meant: a timestamp of when the record was entered rather than the day of the event, or a date moved between time zones (midnight in British Summer Time is 23:00 the day before in UTC, so the date read is a day early). One finding per column shows the first cells, what they held and the date read; check those dates, and format the column as a date without a time.",
    ),
    (
        "input::repaired-excel-serial",
        "Spreadsheets: numbers in a date column were read as Excel dates (days since 1900: 45747 is 2025-03-31), as Excel shows a date whose cell lost its date format. One finding per column shows the first ones and the date read; check that it is the date meant.",
    ),
    (
        "input::repaired-thousands",
        "Spreadsheets and CSV: numbers with commas between groups of three digits (1,234) were read without the commas. A comma anywhere else (3,0) is not read as a number (input::invalid-number).",
    ),
    (
        "input::repaired-whole-number",
        "Spreadsheets and CSV: whole numbers written with a decimal point or an exponent (3.0, 1e3) were read as whole numbers.",
    ),
    (
        "input::repaired-header",
        "Spreadsheets and CSV: a column header that does not spell the template's name exactly, but differs from it only in case, spaces around it, or a space or hyphen where the name has an underscore (`referraldate`, ` ReferralDate `), was read as that column. One finding per column names the header as written and the column it was read as. The DfE's names are exact (its XML schema compares element names letter for letter, and its own tools may not match a header written otherwise), so write the header as the template does.",
    ),
    (
        "input::repaired-sheet-name",
        "Spreadsheets and CSV: a sheet (or a CSV file, by its name without `.csv`) whose name does not spell the template's exactly, but differs from it only in case, spaces around it, or a space or hyphen where the name has an underscore (`referrals`, ` Referrals `, `child-protection-plans.csv`), was read as that table's sheet. One finding per sheet or file names it as written and the name it was read as. The DfE's names are exact, and its own tools may not find a sheet named otherwise, so name the sheet (or file) as the template does.",
    ),
    (
        "input::duplicate-sheet",
        "Spreadsheets and CSV: two sheets (or CSV files) name the same table, their names differing only in case, spaces around them, or a space or hyphen for an underscore (`Referrals.csv` and `REFERRALS.csv`). One is read, the one spelt as the template spells it when there is one; the other is not, so its rows are not in the return fettle checked, nor in the one the DfE would get: an error, so that a run with a file left unread is never clean. Keep one of them.",
    ),
    (
        "input::invalid-bool",
        "A yes/no cell holds a value the return does not accept. The CIN census accepts true, false, 1 and 0; the templates also Y, N, yes and no.",
    ),
    ("input::cell-error", "A spreadsheet cell holds an error value such as #REF! or #N/A, usually from a broken formula."),
    (
        "input::missing-sheet",
        "The workbook (or folder of CSV files) has no sheet for a table whose columns are required. Sheet names match ignoring case, spaces and underscores.",
    ),
    (
        "input::missing-table",
        "The submission has no row at all for a table that holds exactly one (the CIN census `<Header>`, the FGC `About` sheet). Without it, the rules that read it see missing values: the reference date, the period, the LA.",
    ),
    (
        "input::missing-column",
        "A column is not in the sheet or CSV file: a required one, one that a rule needs, or a key column (such as LAchildID) that links a child sheet's rows to their parent. It is one finding, counting the rows left without a value; the rules that need the column do not run (the finding names them), rather than failing on every row. A header that looks like a misspelling of the column is named with it.",
    ),
    (
        "input::unknown-column",
        "A header of a sheet or CSV file names no column of the table, so what is under it is not read; a close name is suggested (`ReferalDate`: did you mean `ReferralDate`?). Rename the header to the template's name, or remove the column.",
    ),
    ("input::duplicate-column", "Two columns of a sheet have the same header; the first is read."),
    (
        "input::repeated-header",
        "A row in the middle of a sheet or CSV file repeats the header row, as when two exports are joined into one file. The row is not read as data (it would be a child called `LAchildID`); check that the rows after it belong to this return and are not there twice.",
    ),
    (
        "input::hidden-sheet",
        "A hidden sheet has a table's name. fettle reads the sheet a person sees: a visible sheet with the name, else the hidden sheet's one visible copy (`Referrals (2)`), else the hidden sheet itself, and says which it read.",
    ),
    (
        "input::merged-header",
        "A header cell is merged over several columns. A merged cell keeps its text in its first column only, so the other columns have no header and what is under them is not read; unmerge the cells and give each column its header.",
    ),
    ("input::no-header", "No row near the top of the sheet has the expected column names."),
    (
        "input::unknown-parent",
        "A row's key columns (such as LAchildID and CINdetailsID) match no row of its parent sheet, or are empty, so the row belongs to no child or episode. Rules about its child or episode cannot see it. Rows unlinked for one cause (no LAchildID, a child not in ChildIdentifiers) are one finding listing them, and what rules find on them because they are unlinked is folded into it (`also`).",
    ),
    (
        "input::duplicate-key",
        "Two rows of a sheet have the same key (two children with one LAchildID); rows of child sheets are linked to the first.",
    ),
    (
        "explain::unused",
        "An explanation given with `--explain` matches no query of the run: the query was fixed, or the code or key is wrong. Only queries can be explained; errors must be fixed.",
    ),
];

/// A finding's code: which kind of check made the finding, and which check. Reports decide by the
/// kind (a rule's finding has its rule's text; an input check's has its explanation) and show the
/// code as its text ([`Code::as_str`], `Display`): `8600`, `schema::unknown-element`,
/// `input::repaired-spaces`. Codes order by their text, so findings sort as they always have.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Code {
    /// A rule of the rule files, by its code as written (a DfE code: `8600`, `CINY02Q`).
    Rule(String),
    /// The XML document checked against the return's layout, as the DfE's schema checks it.
    Schema(Schema),
    /// A problem met while reading the data, or a repair made to read it.
    Input(Input),
    /// An explanation given with `--explain` that matches no query (`explain::unused`).
    UnusedExplanation,
}

impl Code {
    /// The code as reports show it.
    pub fn as_str(&self) -> &str {
        match self {
            Code::Rule(c) => c,
            Code::Schema(s) => s.as_str(),
            Code::Input(i) => i.as_str(),
            Code::UnusedExplanation => "explain::unused",
        }
    }
    /// The rule's code, for a rule's finding.
    pub fn rule(&self) -> Option<&str> {
        match self {
            Code::Rule(c) => Some(c),
            _ => None,
        }
    }
    /// Which kind of check made it, as the JSON report names it (`"kind"`): `rule`, `schema`,
    /// `input`, `explain`.
    pub fn kind(&self) -> &'static str {
        match self {
            Code::Rule(_) => "rule",
            Code::Schema(_) => "schema",
            Code::Input(_) => "input",
            Code::UnusedExplanation => "explain",
        }
    }
    /// Whether a rule of the rule files made it.
    pub fn is_rule(&self) -> bool {
        matches!(self, Code::Rule(_))
    }
    /// Whether reading the data made it (a schema or an input check).
    pub fn is_check(&self) -> bool {
        matches!(self, Code::Schema(_) | Code::Input(_))
    }
    /// Whether it is a value that did not fit its column's type (`input::invalid-date`, a
    /// spreadsheet error value): the values of many columns under one title.
    pub fn is_misfit(&self) -> bool {
        matches!(self, Code::Input(i) if i.is_misfit())
    }
    /// The code of a text as [`Code::as_str`] writes it: a check's when the text is one, else a
    /// rule's. For text from outside (an explanations file, a test's table), never for deciding
    /// what a finding is: a finding carries its code typed.
    pub fn parse(text: &str) -> Code {
        if let Some(s) = Schema::ALL.iter().find(|s| s.as_str() == text) {
            return Code::Schema(*s);
        }
        if let Some(i) = Input::all().find(|i| i.as_str() == text) {
            return Code::Input(i);
        }
        if text == Code::UnusedExplanation.as_str() {
            return Code::UnusedExplanation;
        }
        Code::Rule(text.to_string())
    }
}

/// As its text, quoted (`"8600"`, `"input::invalid-date"`): a finding's `Debug` reads as it always has.
impl std::fmt::Debug for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// By their text, as the reports have always ordered findings and groups.
impl Ord for Code {
    fn cmp(&self, other: &Code) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for Code {
    fn partial_cmp(&self, other: &Code) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// As its text: `"code": "8600"`, `"code": "input::invalid-date"`.
impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl From<Check> for Code {
    fn from(c: Check) -> Code {
        match c {
            Check::Schema(s) => Code::Schema(s),
            Check::Input(i) => Code::Input(i),
        }
    }
}

/// The code of a problem met while reading (`table::InputIssue`): a schema or an input check.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Check {
    /// The XML document checked against the layout.
    Schema(Schema),
    /// The data read.
    Input(Input),
}

impl Check {
    /// The code as reports show it.
    pub fn as_str(self) -> &'static str {
        match self {
            Check::Schema(s) => s.as_str(),
            Check::Input(i) => i.as_str(),
        }
    }
}

impl From<Schema> for Check {
    fn from(s: Schema) -> Check {
        Check::Schema(s)
    }
}

impl From<Input> for Check {
    fn from(i: Input) -> Check {
        Check::Input(i)
    }
}

/// As its text, quoted, as [`Code`].
impl std::fmt::Debug for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A check of an XML document against the return's layout (`layout xml`), as the DfE's XSD makes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Schema {
    /// An element the layout has no place for.
    UnknownElement,
    /// An element more often than the layout allows.
    RepeatedElement,
    /// A required element absent.
    MissingElement,
    /// An element out of the layout's order.
    MisplacedElement,
    /// Text where the layout has only elements.
    UnexpectedText,
    /// An attribute the layout does not declare.
    UnknownAttribute,
    /// Not an xs:date.
    InvalidDate,
    /// Not a number of the element's type.
    InvalidNumber,
    /// Not one of the element's codes.
    InvalidCode,
    /// Not matching the element's pattern.
    Pattern,
    /// Not of the element's length.
    Length,
}

impl Schema {
    /// Every schema check.
    pub const ALL: [Schema; 11] = [
        Schema::UnknownElement,
        Schema::RepeatedElement,
        Schema::MissingElement,
        Schema::MisplacedElement,
        Schema::UnexpectedText,
        Schema::UnknownAttribute,
        Schema::InvalidDate,
        Schema::InvalidNumber,
        Schema::InvalidCode,
        Schema::Pattern,
        Schema::Length,
    ];
    /// The code as reports show it.
    pub fn as_str(self) -> &'static str {
        match self {
            Schema::UnknownElement => "schema::unknown-element",
            Schema::RepeatedElement => "schema::repeated-element",
            Schema::MissingElement => "schema::missing-element",
            Schema::MisplacedElement => "schema::misplaced-element",
            Schema::UnexpectedText => "schema::unexpected-text",
            Schema::UnknownAttribute => "schema::unknown-attribute",
            Schema::InvalidDate => "schema::invalid-date",
            Schema::InvalidNumber => "schema::invalid-number",
            Schema::InvalidCode => "schema::invalid-code",
            Schema::Pattern => "schema::pattern",
            Schema::Length => "schema::length",
        }
    }
    /// Whether it refuses one element's value as written (a code not in its list, a pattern or a
    /// length not met, not a date or a number), rather than the document's structure.
    pub fn refuses_value(self) -> bool {
        matches!(self, Schema::InvalidCode | Schema::Pattern | Schema::Length | Schema::InvalidDate | Schema::InvalidNumber)
    }
}

/// A problem met while reading a submission's data (a sheet, a column, a cell, a row's links), or a
/// repair made to read a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Input {
    /// A cell that should hold a date does not.
    InvalidDate,
    /// A cell that should hold a number does not.
    InvalidNumber,
    /// A cell that should hold yes/no does not.
    InvalidBool,
    /// A spreadsheet error value (`#REF!`).
    CellError,
    /// Cells read with a repair.
    Repaired(Repair),
    /// A header matched only loosely (by case or spaces).
    RepairedHeader,
    /// A sheet or CSV file whose name matched its table's only loosely (by case or spaces).
    RepairedSheetName,
    /// Two sheets or CSV files named alike for one table: one read, the other not.
    DuplicateSheet,
    /// A sheet the return needs is absent.
    MissingSheet,
    /// A file or table the return needs is absent.
    MissingTable,
    /// A column the return needs is absent.
    MissingColumn,
    /// A column the return does not declare.
    UnknownColumn,
    /// Two columns with one header.
    DuplicateColumn,
    /// A header row repeated below the first.
    RepeatedHeader,
    /// A hidden sheet.
    HiddenSheet,
    /// Merged header cells.
    MergedHeader,
    /// No header row found.
    NoHeader,
    /// A row linked to no parent row.
    UnknownParent,
    /// Two rows with one key.
    DuplicateKey,
}

impl Input {
    /// Every input check.
    pub fn all() -> impl Iterator<Item = Input> {
        [Input::InvalidDate, Input::InvalidNumber, Input::InvalidBool, Input::CellError]
            .into_iter()
            .chain(Repair::ALL.into_iter().map(Input::Repaired))
            .chain([
                Input::RepairedHeader,
                Input::RepairedSheetName,
                Input::DuplicateSheet,
                Input::MissingSheet,
                Input::MissingTable,
                Input::MissingColumn,
                Input::UnknownColumn,
                Input::DuplicateColumn,
                Input::RepeatedHeader,
                Input::HiddenSheet,
                Input::MergedHeader,
                Input::NoHeader,
                Input::UnknownParent,
                Input::DuplicateKey,
            ])
    }
    /// The code as reports show it.
    pub fn as_str(self) -> &'static str {
        match self {
            Input::InvalidDate => "input::invalid-date",
            Input::InvalidNumber => "input::invalid-number",
            Input::InvalidBool => "input::invalid-bool",
            Input::CellError => "input::cell-error",
            Input::Repaired(Repair::Blank) => "input::repaired-blank",
            Input::Repaired(Repair::Trimmed) => "input::repaired-spaces",
            Input::Repaired(Repair::DateForm) => "input::repaired-date-form",
            Input::Repaired(Repair::DateTime) => "input::repaired-date-time",
            Input::Repaired(Repair::TimeOfDay) => "input::repaired-time-of-day",
            Input::Repaired(Repair::Serial) => "input::repaired-excel-serial",
            Input::Repaired(Repair::Thousands) => "input::repaired-thousands",
            Input::Repaired(Repair::WholeNumber) => "input::repaired-whole-number",
            Input::RepairedHeader => "input::repaired-header",
            Input::RepairedSheetName => "input::repaired-sheet-name",
            Input::DuplicateSheet => "input::duplicate-sheet",
            Input::MissingSheet => "input::missing-sheet",
            Input::MissingTable => "input::missing-table",
            Input::MissingColumn => "input::missing-column",
            Input::UnknownColumn => "input::unknown-column",
            Input::DuplicateColumn => "input::duplicate-column",
            Input::RepeatedHeader => "input::repeated-header",
            Input::HiddenSheet => "input::hidden-sheet",
            Input::MergedHeader => "input::merged-header",
            Input::NoHeader => "input::no-header",
            Input::UnknownParent => "input::unknown-parent",
            Input::DuplicateKey => "input::duplicate-key",
        }
    }
    /// Whether it is a value that did not fit its column's type.
    pub fn is_misfit(self) -> bool {
        matches!(self, Input::InvalidDate | Input::InvalidNumber | Input::InvalidBool | Input::CellError)
    }
}

/// A repair made while reading a cell: the value read is not exactly what the cell holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Repair {
    /// A cell of only spaces, read as empty.
    Blank,
    /// Spaces (or non-breaking spaces) around the value, dropped.
    Trimmed,
    /// A date in another form than `YYYY-MM-DD` (`31/03/2025`, `2025/03/31`).
    DateForm,
    /// A date followed by midnight (`2025-03-31T00:00:00`), the time dropped: nothing is lost.
    DateTime,
    /// A date with a time of day other than midnight (`2025-03-30T23:00:00`, an Excel date-time
    /// cell showing 14:30, the serial `45747.5`), the time dropped: a query, as the date read may not
    /// be the date meant.
    TimeOfDay,
    /// A number in a date column, read as an Excel serial day number.
    Serial,
    /// Commas between groups of three digits (`1,234`), dropped.
    Thousands,
    /// A whole number written with a decimal point or an exponent (`3.0`), read as a whole number.
    WholeNumber,
}

impl Repair {
    /// Every kind of repair, in the order they are reported.
    pub const ALL: [Repair; 8] = [
        Repair::Blank,
        Repair::Trimmed,
        Repair::DateForm,
        Repair::DateTime,
        Repair::TimeOfDay,
        Repair::Serial,
        Repair::Thousands,
        Repair::WholeNumber,
    ];

    /// The issue code.
    pub fn code(self) -> Input {
        Input::Repaired(self)
    }

    /// What the cells held and how they were read, after "N cells of `Field` ...".
    pub fn describe(self) -> &'static str {
        match self {
            Repair::Blank => "held only spaces and were read as empty",
            Repair::Trimmed => "had spaces around the value, dropped when read",
            Repair::DateForm => "held a date not written YYYY-MM-DD (the DfE's form)",
            Repair::DateTime => "held a date with a time of midnight, read as the date alone",
            Repair::TimeOfDay => {
                "held a date with a time of day other than midnight, read as the date alone (check it is the date meant)"
            }
            Repair::Serial => "held a number, read as an Excel date (days since 1900)",
            Repair::Thousands => "held a number with commas between groups of three digits, read without them",
            Repair::WholeNumber => "held a whole number written with a decimal point or an exponent, read as a whole number",
        }
    }

    /// How the finding is reported: a time of day other than midnight is a query (the date read
    /// may be a day out, or not the event's date at all); every other repair loses nothing and is
    /// an info.
    pub fn severity(self) -> Severity {
        match self {
            Repair::TimeOfDay => Severity::Query,
            _ => Severity::Info,
        }
    }

    /// Its bit in a cell's set of repairs.
    pub(crate) fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::{Check, Code, DIAGNOSTICS, Input, Schema};

    #[test]
    fn every_check_is_explained_and_reads_back_as_itself() {
        let checks: Vec<Check> = Schema::ALL.into_iter().map(Check::Schema).chain(Input::all().map(Check::Input)).collect();
        for c in &checks {
            assert!(DIAGNOSTICS.iter().any(|(d, _)| *d == c.as_str()), "{c} is explained");
            assert_eq!(Code::parse(c.as_str()), Code::from(*c), "{c}");
        }
        let mut texts: Vec<&str> = checks.iter().map(|c| c.as_str()).collect();
        texts.sort_unstable();
        texts.dedup();
        assert_eq!(texts.len(), checks.len(), "every check has its own text");
    }

    #[test]
    fn a_code_says_its_kind_and_shows_as_its_text() {
        let rule = Code::parse("8600");
        assert_eq!(rule, Code::Rule("8600".into()));
        assert!(rule.is_rule() && !rule.is_check() && rule.rule() == Some("8600"));
        let schema = Code::parse("schema::unknown-element");
        assert_eq!(schema, Code::Schema(Schema::UnknownElement));
        assert!(schema.is_check() && !schema.is_rule() && schema.rule().is_none());
        let input = Code::parse("input::repaired-spaces");
        assert_eq!(input, Code::Input(Input::Repaired(crate::table::coerce::Repair::Trimmed)));
        assert!(input.is_check() && !input.is_misfit() && Code::Input(Input::CellError).is_misfit());
        assert_eq!(Code::parse("explain::unused"), Code::UnusedExplanation);
        // A rule code that merely looks like a check is a rule's.
        let lookalike = ["input", "nothing"].join("::");
        assert_eq!(Code::parse(&lookalike), Code::Rule(lookalike.clone()));
        for c in [&rule, &schema, &input, &Code::UnusedExplanation] {
            assert_eq!(Code::parse(&c.to_string()), *c);
            assert_eq!(serde_json::to_string(c).ok(), Some(format!("\"{c}\"")));
        }
        // Codes order by their text: rules' digits and capitals before `explain::`, `input::`, `schema::`.
        let mut v = [schema.clone(), Code::UnusedExplanation, input.clone(), Code::Rule("CINY02Q".into()), rule.clone()];
        v.sort();
        let shown: Vec<String> = v.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["8600", "CINY02Q", "explain::unused", "input::repaired-spaces", "schema::unknown-element"]);
    }
}
