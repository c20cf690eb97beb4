//! The claims and events of a run as tables: **one model, several renderings**.
//!
//! A [`Table`] decides *what* is shown: its [`Column`]s (a key, a header, what the column
//! means) and typed [`Cell`]s (an identifier, a count, a number in scientific notation, a
//! share of a tolerance, a [`Status`], a place, or nothing). The constructors [`claims`],
//! [`events`] and [`event_kinds`] are the only code that turns a [`Verdict`] or an [`Event`]
//! into cells. A consumer picks the columns it shows by key ([`Table::select`]) and calls a
//! renderer, which decides only *how* a cell looks:
//!
//! | renderer | used by | absent value | status | identifier |
//! |---|---|---|---|---|
//! | [`Table::to_text`] with a [`TextLayout`] | the CLI, the test snapshots | `-` | `FAILS` | as is |
//! | [`Table::to_markdown`] | the book | `—` | `**FAILS**` | `` `code` `` |
//! | [`Table::to_html`] | notebooks | `–` | `✘ FAILS` | `<code>` |
//!
//! Every renderer prints a status through [`Status::words`], so a new status needs one edit
//! there. Numbers are printed the same everywhere: [`Cell::Sci`] as `1.234e-5`, and
//! [`Cell::Usage`] in fixed point while it is readable (|u| < 10³), in scientific notation
//! beyond (a bound met with a wide margin gives usages like −1.7·10¹²).
//!
//! ```
//! use nmf_core::{tables, Experiment};
//! let out = Experiment::note(0, 20).run().unwrap();
//! let t = tables::claims(&out.claims).select(&["claim", "verdict", "checked"]);
//! assert!(t.to_markdown().starts_with("| claim | verdict | rows checked |\n|---|---|---:|\n"));
//! ```

use std::fmt::Write as _;

use crate::{Event, EventKind, Status, Verdict};

/// How a column's cells are aligned in a rendering that aligns (markdown, fixed-width text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// One column of a [`Table`].
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The name a consumer selects it by (stable; not shown).
    pub key: &'static str,
    /// Its header in prose (the book, notebooks).
    pub header: &'static str,
    /// Its header in a fixed-width text table (the CLI).
    pub short: &'static str,
    /// Numbers right, words left.
    pub align: Align,
    /// What the column means, in a sentence (notebooks show it as the header's tooltip).
    pub meaning: &'static str,
}

/// One typed cell. The type says what the value is; a renderer decides how it looks.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Prose (a claim's statement, what an event is).
    Text(String),
    /// An identifier a reader may type or search for (a claim's name, an event's kind).
    Code(String),
    /// A count or an iteration number.
    Count(usize),
    /// A real number, printed in scientific notation with 4 significant digits.
    Sci(f64),
    /// The fraction of a tolerance used (≤ 1 holds).
    Usage(f64),
    /// A claim's verdict.
    Status(Status),
    /// A 1-based position: an entry of a factor, or a column or a row of M.
    Place(Place),
    /// No value: the quantity is undefined for this row (e.g. no worst row of a claim that
    /// checked no row).
    Absent,
}

/// A 1-based position, as a person counts rows and columns of a CSV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The entry at (row, column).
    Entry(usize, usize),
    /// A column of M.
    Column(usize),
    /// A row of M.
    Row(usize),
}

/// How a status is written. [`Status::words`] is the only place that says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusWords {
    /// In a compact table (the CLI, the book's tables, the snapshots).
    pub compact: &'static str,
    /// In a sentence.
    pub prose: &'static str,
    /// A one-character mark put before the word where there is room (notebooks).
    pub mark: &'static str,
    /// Whether a reader must not miss it (rendered in bold where the format has bold).
    pub alarm: bool,
}

/// A table: columns and rows of typed cells (every row has one cell per column).
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

/// One field of a [`TextLayout`]: the column `key`, preceded by the literal `before`, padded
/// to `width` characters (0: not padded) on the side `align` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub key: &'static str,
    pub before: &'static str,
    pub width: usize,
    pub align: Align,
}

impl Field {
    /// Column `key` padded on the right to `width` (left-aligned), after one space (use
    /// [`after("")`](Self::after) for the first field of a line).
    pub const fn left(key: &'static str, width: usize) -> Self {
        Field {
            key,
            before: " ",
            width,
            align: Align::Left,
        }
    }

    /// Column `key` padded on the left to `width` (right-aligned), after one space.
    pub const fn right(key: &'static str, width: usize) -> Self {
        Field {
            key,
            before: " ",
            width,
            align: Align::Right,
        }
    }

    /// The same field after the literal `before` instead of one space.
    pub const fn after(self, before: &'static str) -> Self {
        Field { before, ..self }
    }
}

/// The layout of a plain-text rendering: which columns, in which order, how wide, between
/// which literals; optionally a header line of the columns' [`short`](Column::short) headers,
/// laid out alike.
#[derive(Debug, Clone, Copy)]
pub struct TextLayout<'a> {
    pub fields: &'a [Field],
    /// The literal printed after the last field of each line.
    pub end: &'a str,
    pub header: bool,
}

/// What the text rendering prints for [`Cell::Absent`].
pub const ABSENT_TEXT: &str = "-";
/// What the markdown rendering prints for [`Cell::Absent`].
pub const ABSENT_MARKDOWN: &str = "—";
/// What the HTML rendering prints for [`Cell::Absent`].
pub const ABSENT_HTML: &str = "–";

/// What every rendering of an empty [`events`] table says instead of the table.
pub const NO_EVENTS: &str = "No events: no entry of U or V became subnormal or exactly zero, \
and the note's square-root form stayed finite.";

const fn col(
    key: &'static str,
    header: &'static str,
    short: &'static str,
    align: Align,
    meaning: &'static str,
) -> Column {
    Column {
        key,
        header,
        short,
        align,
        meaning,
    }
}

/// The columns of [`claims`], in order.
pub const CLAIM_COLUMNS: [Column; 11] = [
    col("claim", "claim", "claim", Align::Left, "The claim's name."),
    col(
        "statement",
        "statement",
        "statement",
        Align::Left,
        "What the claim states, in words.",
    ),
    col(
        "verdict",
        "verdict",
        "verdict",
        Align::Left,
        "holds: checked on at least one row and within its tolerance on every row checked; \
FAILS: outside its tolerance on at least one row; not exercised: checked on no row; \
n/a: the claim does not apply to the solver (never counts as holding).",
    ),
    col(
        "checked",
        "rows checked",
        "checked",
        Align::Right,
        "Rows of the trace on which the claim was checked.",
    ),
    col(
        "skipped",
        "skipped",
        "skipped",
        Align::Right,
        "Rows skipped: the claim's quantity is undefined there (e.g. no step).",
    ),
    col(
        "unresolved",
        "unresolved",
        "unres",
        Align::Right,
        "Rows skipped as unresolved: their quantities are below what the double range resolves.",
    ),
    col(
        "violations",
        "violations",
        "viol",
        Align::Right,
        "Rows checked on which the claim is outside its tolerance.",
    ),
    col(
        "worst_iteration",
        "worst row",
        "worst@",
        Align::Right,
        "The iteration of the row where the claim came closest to failing (or failed worst); \
absent when no row was checked.",
    ),
    col(
        "value",
        "value there",
        "value",
        Align::Right,
        "The measured amount at the worst row (a residual, or how far outside a bound; ≤ 0 is \
inside), relative to the claim's round-off scale (σ, λ_max or s_k + s_k+1).",
    ),
    col(
        "tolerance",
        "tolerance there",
        "tolerance",
        Align::Right,
        "The tolerance at the worst row, in the units of the value.",
    ),
    col(
        "usage",
        "share of tolerance used",
        "usage",
        Align::Right,
        "value / tolerance at the worst row: the claim holds there when it is ≤ 1.",
    ),
];

/// The columns of [`events`], in order.
pub const EVENT_COLUMNS: [Column; 9] = [
    col(
        "iteration",
        "iteration",
        "iter",
        Align::Right,
        "The iteration in which it happened (0: found in the data before the first).",
    ),
    col(
        "kind",
        "kind",
        "kind",
        Align::Left,
        "The event's kind, as nmf-core names it.",
    ),
    col(
        "event",
        "event",
        "event",
        Align::Left,
        "What happened, in words.",
    ),
    col(
        "factor",
        "factor",
        "factor",
        Align::Left,
        "The matrix concerned: U, V, or the data M.",
    ),
    col(
        "entries",
        "entries",
        "entries",
        Align::Right,
        "How many entries of the factor did it in that iteration; absent for an event that is \
not about entries.",
    ),
    col(
        "first_entry",
        "first entry (row, column)",
        "first",
        Align::Left,
        "The first of those entries (1-based); absent for an event that is not about entries.",
    ),
    col(
        "count",
        "count",
        "count",
        Align::Right,
        "The event's count as recorded: entries, or all-zero columns or rows of M; 1 for an \
event that counts nothing.",
    ),
    col(
        "row",
        "row",
        "row",
        Align::Right,
        "The first row concerned as recorded (1-based; 0 when none).",
    ),
    col(
        "col",
        "column",
        "col",
        Align::Right,
        "The first column concerned as recorded (1-based; 0 when none).",
    ),
];

/// The columns of [`event_kinds`], in order.
pub const EVENT_KIND_COLUMNS: [Column; 6] = [
    col(
        "kind",
        "kind",
        "kind",
        Align::Left,
        "The event's kind, as nmf-core names it.",
    ),
    col(
        "event",
        "event",
        "event",
        Align::Left,
        "What happened, in words.",
    ),
    col(
        "events",
        "events",
        "events",
        Align::Right,
        "How many events of this kind the run recorded.",
    ),
    col(
        "first_iteration",
        "first iteration",
        "first@",
        Align::Right,
        "The iteration of the first; absent when it never happened.",
    ),
    col(
        "first_count",
        "count in the first",
        "count",
        Align::Right,
        "The first event's count (entries, or all-zero columns or rows of M); absent when it \
never happened.",
    ),
    col(
        "first_place",
        "first place",
        "place",
        Align::Left,
        "Where the first event's first entry, column or row is (1-based); absent when it never \
happened or is about no place.",
    ),
];

/// Every event kind, in the order [`event_kinds`] lists them.
pub const EVENT_KINDS: [EventKind; 6] = [
    EventKind::ZeroReached,
    EventKind::Underflow,
    EventKind::NoteFormUndefined,
    EventKind::Unresolved,
    EventKind::ZeroDataColumns,
    EventKind::ZeroDataRows,
];

// A new event kind does not compile until it is listed in `EVENT_KINDS` above.
const _: fn(EventKind) = |k| match k {
    EventKind::ZeroReached
    | EventKind::Underflow
    | EventKind::NoteFormUndefined
    | EventKind::Unresolved
    | EventKind::ZeroDataColumns
    | EventKind::ZeroDataRows => {}
};

/// One row per claim, with the columns [`CLAIM_COLUMNS`]: the worst row's iteration, value,
/// tolerance and usage are [`Cell::Absent`] when the claim checked no row.
pub fn claims(verdicts: &[Verdict]) -> Table {
    let rows = verdicts
        .iter()
        .map(|v| {
            let worst =
                |f: &dyn Fn(&crate::Worst) -> Cell| v.worst.as_ref().map_or(Cell::Absent, f);
            vec![
                Cell::Code(v.claim.clone()),
                Cell::Text(v.statement.clone()),
                Cell::Status(v.status),
                Cell::Count(v.checked),
                Cell::Count(v.skipped),
                Cell::Count(v.unresolved),
                Cell::Count(v.violations),
                worst(&|w| Cell::Count(w.iter)),
                worst(&|w| Cell::Sci(w.value)),
                worst(&|w| Cell::Sci(w.tol)),
                worst(&|w| Cell::Usage(w.usage)),
            ]
        })
        .collect();
    Table {
        columns: CLAIM_COLUMNS.to_vec(),
        rows,
    }
}

/// One row per event, in the order recorded, with the columns [`EVENT_COLUMNS`].
pub fn events(events: &[Event]) -> Table {
    let rows = events
        .iter()
        .map(|e| {
            let loc = e.location();
            vec![
                Cell::Count(e.iter),
                Cell::Code(format!("{:?}", e.kind)),
                Cell::Text(e.kind.describe().into()),
                Cell::Text(e.factor.to_string()),
                loc.map_or(Cell::Absent, |_| Cell::Count(e.count)),
                loc.map_or(Cell::Absent, |(r, c)| Cell::Place(Place::Entry(r, c))),
                Cell::Count(e.count),
                Cell::Count(e.row),
                Cell::Count(e.col),
            ]
        })
        .collect();
    Table {
        columns: EVENT_COLUMNS.to_vec(),
        rows,
    }
}

/// One row per event kind ([`EVENT_KINDS`]), whether it happened or not, with the columns
/// [`EVENT_KIND_COLUMNS`]: how many events of the kind, and the first one.
pub fn event_kinds(events: &[Event]) -> Table {
    let rows = EVENT_KINDS
        .iter()
        .map(|&kind| {
            let first = events.iter().find(|e| e.kind == kind);
            let place = first.and_then(|e| match kind {
                EventKind::ZeroDataColumns => Some(Place::Column(e.col)),
                EventKind::ZeroDataRows => Some(Place::Row(e.row)),
                _ => e.location().map(|(r, c)| Place::Entry(r, c)),
            });
            vec![
                Cell::Code(format!("{kind:?}")),
                Cell::Text(kind.describe().into()),
                Cell::Count(events.iter().filter(|e| e.kind == kind).count()),
                first.map_or(Cell::Absent, |e| Cell::Count(e.iter)),
                first.map_or(Cell::Absent, |e| Cell::Count(e.count)),
                place.map_or(Cell::Absent, Cell::Place),
            ]
        })
        .collect();
    Table {
        columns: EVENT_KIND_COLUMNS.to_vec(),
        rows,
    }
}

/// The columns of [`sweep_claims`], in order.
pub const SWEEP_CLAIM_COLUMNS: [Column; 13] = [
    col(
        "solver",
        "solver",
        "solver",
        Align::Left,
        "The solver with its parameters.",
    ),
    col("claim", "claim", "claim", Align::Left, "The claim's name."),
    col(
        "instances",
        "instances checked",
        "N",
        Align::Right,
        "Instances on which the claim was checked on at least one row (it held or failed).",
    ),
    col(
        "violations",
        "instances violated",
        "viol",
        Align::Right,
        "Instances on which the claim failed on some row.",
    ),
    col(
        "rate_lo",
        "rate, 95 % two-sided lower",
        "rate lo",
        Align::Right,
        "Lower end of the exact two-sided 95 % Clopper–Pearson interval of the violation rate.",
    ),
    col(
        "rate_hi",
        "rate, 95 % two-sided upper",
        "rate hi",
        Align::Right,
        "Upper end of the exact two-sided 95 % Clopper–Pearson interval of the violation rate.",
    ),
    col(
        "rate_upper",
        "rate < (95 % one-sided)",
        "rate <",
        Align::Right,
        "The one-sided 95 % Clopper–Pearson upper bound of the violation rate (1 − 0.05^(1/N) \
when none failed).",
    ),
    col(
        "usage_min",
        "usage min",
        "u min",
        Align::Right,
        "The smallest worst usage over the instances.",
    ),
    col(
        "usage_median",
        "usage median",
        "u med",
        Align::Right,
        "The median worst usage.",
    ),
    col(
        "usage_p90",
        "usage 90 %",
        "u 90%",
        Align::Right,
        "The 90 % quantile of the worst usage.",
    ),
    col(
        "usage_p99",
        "usage 99 %",
        "u 99%",
        Align::Right,
        "The 99 % quantile of the worst usage.",
    ),
    col(
        "usage_max",
        "usage max",
        "u max",
        Align::Right,
        "The largest worst usage (> 1: violated); its instance is the one to replay.",
    ),
    col(
        "worst_instance",
        "worst instance",
        "worst#",
        Align::Right,
        "The id of the instance with the largest usage (a row of results.jsonl).",
    ),
];

/// One row per (solver, claim) of a sweep's [`crate::sweep::stats::Summary`], with the
/// columns [`SWEEP_CLAIM_COLUMNS`].
pub fn sweep_claims(stats: &[crate::sweep::stats::ClaimStats]) -> Table {
    let rows = stats
        .iter()
        .map(|c| {
            let q = |f: &dyn Fn(&crate::sweep::stats::Quantiles) -> f64| {
                c.usage.as_ref().map_or(Cell::Absent, |u| Cell::Usage(f(u)))
            };
            vec![
                Cell::Text(c.solver.clone()),
                Cell::Code(c.claim.clone()),
                Cell::Count(c.instances),
                Cell::Count(c.violations),
                c.rate.map_or(Cell::Absent, |r| Cell::Sci(r.0)),
                c.rate.map_or(Cell::Absent, |r| Cell::Sci(r.1)),
                c.rate_upper.map_or(Cell::Absent, Cell::Sci),
                q(&|u| u.min),
                q(&|u| u.median),
                q(&|u| u.p90),
                q(&|u| u.p99),
                q(&|u| u.max),
                c.worst.map_or(Cell::Absent, |w| Cell::Count(w.0)),
            ]
        })
        .collect();
    Table {
        columns: SWEEP_CLAIM_COLUMNS.to_vec(),
        rows,
    }
}

/// The columns of [`sweep_solvers`], in order.
pub const SWEEP_SOLVER_COLUMNS: [Column; 9] = [
    col(
        "solver",
        "solver",
        "solver",
        Align::Left,
        "The solver with its parameters.",
    ),
    col(
        "instances",
        "instances",
        "N",
        Align::Right,
        "Instances run with this solver.",
    ),
    col(
        "failed",
        "instances with a failed claim",
        "failed",
        Align::Right,
        "Instances on which some claim of the solver failed.",
    ),
    col(
        "underflowed",
        "instances that underflowed",
        "underfl",
        Align::Right,
        "Instances in which an entry of U or V became subnormal.",
    ),
    col(
        "underflow_mean",
        "first underflow, mean iteration",
        "1st underfl",
        Align::Right,
        "The mean iteration of the first underflow, over the instances that underflowed.",
    ),
    col(
        "underflow_half",
        "± (95 % Student t)",
        "±",
        Align::Right,
        "Half-width of the two-sided 95 % Student-t interval of that mean.",
    ),
    col(
        "zeroed",
        "instances with an exact zero",
        "zeroed",
        Align::Right,
        "Instances in which an entry of U or V became exactly 0.",
    ),
    col(
        "objective_mean",
        "final objective, mean",
        "final f",
        Align::Right,
        "The mean final objective ½‖M − UV‖² over the instances that ran.",
    ),
    col(
        "objective_half",
        "± (95 % Student t) ",
        "± ",
        Align::Right,
        "Half-width of the two-sided 95 % Student-t interval of that mean.",
    ),
];

/// One row per solver of a sweep's [`crate::sweep::stats::Summary`], with the columns
/// [`SWEEP_SOLVER_COLUMNS`].
pub fn sweep_solvers(stats: &[crate::sweep::stats::SolverStats]) -> Table {
    let rows = stats
        .iter()
        .map(|s| {
            let m = |x: Option<crate::sweep::stats::MeanInterval>| {
                (
                    x.map_or(Cell::Absent, |x| Cell::Sci(x.mean)),
                    x.map_or(Cell::Absent, |x| Cell::Sci(x.half_width)),
                )
            };
            let (um, uh) = m(s.first_underflow);
            let (om, oh) = m(s.final_objective);
            vec![
                Cell::Text(s.solver.clone()),
                Cell::Count(s.instances),
                Cell::Count(s.failed),
                Cell::Count(s.underflowed),
                um,
                uh,
                Cell::Count(s.zeroed),
                om,
                oh,
            ]
        })
        .collect();
    Table {
        columns: SWEEP_SOLVER_COLUMNS.to_vec(),
        rows,
    }
}

impl Place {
    fn text(self) -> String {
        match self {
            Place::Entry(r, c) => format!("({r}, {c})"),
            Place::Column(c) => format!("column {c}"),
            Place::Row(r) => format!("row {r}"),
        }
    }
}

/// [`Cell::Usage`]'s text: fixed point below 10³ in magnitude, scientific beyond.
fn usage_text(u: f64) -> String {
    if u.abs() < 1e3 {
        format!("{u:.3}")
    } else {
        format!("{u:.2e}")
    }
}

impl Cell {
    /// The cell as plain text, with `absent` for [`Cell::Absent`] (what the text rendering
    /// prints, and what the others build on).
    pub fn text_or(&self, absent: &str) -> String {
        match self {
            Cell::Text(s) | Cell::Code(s) => s.clone(),
            Cell::Count(n) => n.to_string(),
            Cell::Sci(x) => format!("{x:.3e}"),
            Cell::Usage(u) => usage_text(*u),
            Cell::Status(s) => s.words().compact.into(),
            Cell::Place(p) => p.text(),
            Cell::Absent => absent.into(),
        }
    }

    /// The cell as plain text ([`ABSENT_TEXT`] when absent).
    pub fn text(&self) -> String {
        self.text_or(ABSENT_TEXT)
    }

    fn markdown(&self) -> String {
        match self {
            Cell::Absent => ABSENT_MARKDOWN.into(),
            Cell::Code(s) => format!("`{}`", markdown_escape(s)),
            Cell::Status(s) if s.words().alarm => format!("**{}**", s.words().compact),
            c => markdown_escape(&c.text()),
        }
    }

    fn html(&self) -> String {
        match self {
            Cell::Absent => ABSENT_HTML.into(),
            Cell::Code(s) => format!("<code>{}</code>", html_escape(s)),
            Cell::Status(s) => {
                let w = s.words();
                let text = format!("{} {}", w.mark, w.compact);
                if w.alarm {
                    format!("<strong>{}</strong>", html_escape(&text))
                } else {
                    html_escape(&text)
                }
            }
            c => html_escape(&c.text()),
        }
    }
}

/// Escape text for HTML element content and attribute values.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escape text for a cell of a (GitHub-flavoured) markdown table: `|` would end the cell
/// (also inside a code span), a line break would end the row.
fn markdown_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

impl Table {
    /// The index of the column `key`. Panics when there is none: a consumer asked for a
    /// column the model does not have (a programming error, caught by any test that renders).
    fn index(&self, key: &str) -> usize {
        self.columns
            .iter()
            .position(|c| c.key == key)
            .unwrap_or_else(|| panic!("no column {key:?} in this table"))
    }

    /// A view: the columns `keys`, in that order.
    pub fn select(&self, keys: &[&str]) -> Table {
        let idx: Vec<usize> = keys.iter().map(|k| self.index(k)).collect();
        Table {
            columns: idx.iter().map(|&i| self.columns[i].clone()).collect(),
            rows: self
                .rows
                .iter()
                .map(|r| idx.iter().map(|&i| r[i].clone()).collect())
                .collect(),
        }
    }

    /// The first `n` rows.
    pub fn head(&self, n: usize) -> Table {
        Table {
            columns: self.columns.clone(),
            rows: self.rows.iter().take(n).cloned().collect(),
        }
    }

    /// The cell of column `key` in row `row`.
    pub fn cell(&self, row: usize, key: &str) -> &Cell {
        &self.rows[row][self.index(key)]
    }

    /// The row whose column `key` holds `cell`, if any.
    pub fn find(&self, key: &str, cell: &Cell) -> Option<usize> {
        let i = self.index(key);
        self.rows.iter().position(|r| &r[i] == cell)
    }

    /// Plain text laid out by `layout`: one line per row (after a header line if asked), each
    /// ending in `layout.end` and `\n`.
    pub fn to_text(&self, layout: &TextLayout<'_>) -> String {
        let idx: Vec<usize> = layout.fields.iter().map(|f| self.index(f.key)).collect();
        let line = |cells: Vec<String>| {
            let mut s = String::new();
            for (f, text) in layout.fields.iter().zip(cells) {
                s.push_str(f.before);
                let _ = match f.align {
                    Align::Left => write!(s, "{text:<w$}", w = f.width),
                    Align::Right => write!(s, "{text:>w$}", w = f.width),
                };
            }
            s.push_str(layout.end);
            s.push('\n');
            s
        };
        let mut out = String::new();
        if layout.header {
            out.push_str(&line(
                idx.iter()
                    .map(|&i| self.columns[i].short.to_string())
                    .collect(),
            ));
        }
        for r in &self.rows {
            out.push_str(&line(idx.iter().map(|&i| r[i].text()).collect()));
        }
        out
    }

    /// A GitHub-flavoured markdown table: the prose headers, an alignment row, one line per
    /// row (each ending in `\n`).
    pub fn to_markdown(&self) -> String {
        let row = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
        let mut s = row(self
            .columns
            .iter()
            .map(|c| markdown_escape(c.header))
            .collect());
        s.push_str(&format!(
            "|{}|\n",
            self.columns
                .iter()
                .map(|c| match c.align {
                    Align::Left => "---",
                    Align::Right => "---:",
                })
                .collect::<Vec<_>>()
                .join("|")
        ));
        for r in &self.rows {
            s.push_str(&row(r.iter().map(Cell::markdown).collect()));
        }
        s
    }

    /// An HTML `table` (one line): the prose headers, each with its meaning as a tooltip.
    pub fn to_html(&self) -> String {
        let mut s = String::from("<table><thead><tr>");
        for c in &self.columns {
            let _ = write!(
                s,
                "<th title=\"{}\">{}</th>",
                html_escape(c.meaning),
                html_escape(c.header)
            );
        }
        s.push_str("</tr></thead><tbody>");
        for r in &self.rows {
            s.push_str("<tr>");
            for c in r {
                let _ = write!(s, "<td>{}</td>", c.html());
            }
            s.push_str("</tr>");
        }
        s.push_str("</tbody></table>");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Which, Worst};

    fn verdict(claim: &str, status: Status, worst: Option<Worst>) -> Verdict {
        Verdict {
            claim: claim.into(),
            statement: "‖a‖ ≤ b | c < d & e > f".into(),
            status,
            checked: if worst.is_some() { 7 } else { 0 },
            skipped: 3,
            unresolved: 1,
            violations: usize::from(status == Status::Fails),
            first_violation: (status == Status::Fails).then_some(42),
            worst,
        }
    }

    fn sample() -> Vec<Verdict> {
        let w = |usage: f64| Worst {
            iter: 42,
            value: usage * 2.0e-3,
            tol: 2.0e-3,
            usage,
        };
        vec![
            verdict("lemma1_v", Status::Holds, Some(w(0.25))),
            verdict("a|b<c>", Status::Fails, Some(w(-1.702e12))),
            verdict("theta_bounds_u", Status::NotExercised, None),
        ]
    }

    /// Every `<td>…</td>` of an HTML rendering, unescaped, without markup.
    fn html_cells(html: &str) -> Vec<String> {
        html.split("<td>")
            .skip(1)
            .map(|c| {
                let c = &c[..c.find("</td>").unwrap()];
                c.replace("<code>", "")
                    .replace("</code>", "")
                    .replace("<strong>", "")
                    .replace("</strong>", "")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&quot;", "\"")
                    .replace("&#39;", "'")
                    .replace("&amp;", "&")
            })
            .collect()
    }

    /// Every cell of the body of a markdown rendering, unescaped, without markup.
    fn markdown_cells(md: &str) -> Vec<String> {
        md.lines()
            .skip(2)
            .flat_map(|l| {
                let l = l.strip_prefix("| ").unwrap().strip_suffix(" |").unwrap();
                // Split at ` | ` that is not escaped.
                let mut cells = vec![String::new()];
                let mut rest = l;
                while !rest.is_empty() {
                    if let Some(r) = rest.strip_prefix("\\|") {
                        cells.last_mut().unwrap().push('|');
                        rest = r;
                    } else if let Some(r) = rest.strip_prefix(" | ") {
                        cells.push(String::new());
                        rest = r;
                    } else {
                        let c = rest.chars().next().unwrap();
                        cells.last_mut().unwrap().push(c);
                        rest = &rest[c.len_utf8()..];
                    }
                }
                cells
                    .into_iter()
                    .map(|c| c.trim_matches('`').trim_matches('*').to_string())
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// Every cell of a text rendering with one tab-separated field per column.
    fn text_cells(t: &Table) -> Vec<String> {
        let fields: Vec<Field> = t
            .columns
            .iter()
            .map(|c| Field::left(c.key, 0).after("\t"))
            .collect();
        let layout = TextLayout {
            fields: &fields,
            end: "",
            header: false,
        };
        t.to_text(&layout)
            .lines()
            .flat_map(|l| l.split('\t').skip(1).map(String::from).collect::<Vec<_>>())
            .collect()
    }

    /// The cells every renderer must show, with the absent marker and the status mark of
    /// the rendering.
    fn expected(t: &Table, absent: &str, mark: bool) -> Vec<String> {
        t.rows
            .iter()
            .flatten()
            .map(|c| match c {
                Cell::Absent => absent.to_string(),
                Cell::Status(s) if mark => format!("{} {}", s.words().mark, s.words().compact),
                c => c.text(),
            })
            .collect()
    }

    #[test]
    fn every_renderer_shows_the_same_cells_of_the_same_model() {
        for t in [
            claims(&sample()),
            events(&sample_events()),
            event_kinds(&sample_events()),
        ] {
            assert_eq!(text_cells(&t), expected(&t, ABSENT_TEXT, false));
            assert_eq!(
                markdown_cells(&t.to_markdown()),
                expected(&t, ABSENT_MARKDOWN, false)
            );
            assert_eq!(html_cells(&t.to_html()), expected(&t, ABSENT_HTML, true));
        }
    }

    #[test]
    fn a_claim_with_no_worst_row_renders_absent_markers_in_every_renderer() {
        let t = claims(&sample()).select(&["claim", "worst_iteration", "value", "usage"]);
        let no_worst = 2;
        assert_eq!(
            t.rows[no_worst][1..],
            [Cell::Absent, Cell::Absent, Cell::Absent]
        );
        let md = t.to_markdown();
        assert_eq!(
            md.lines().nth(2 + no_worst),
            Some("| `theta_bounds_u` | — | — | — |")
        );
        let html = t.to_html();
        assert!(html.ends_with(
            "<tr><td><code>theta_bounds_u</code></td><td>–</td><td>–</td><td>–</td></tr></tbody></table>"
        ));
        let fields = [
            Field::left("claim", 16).after(""),
            Field::right("worst_iteration", 4),
            Field::right("value", 10),
            Field::right("usage", 9),
        ];
        let text = t.to_text(&TextLayout {
            fields: &fields,
            end: "",
            header: false,
        });
        assert_eq!(
            text.lines().nth(no_worst),
            Some("theta_bounds_u      -          -         -")
        );
    }

    #[test]
    fn html_escapes_markup_in_every_cell_and_header() {
        let html = claims(&sample()).to_html();
        assert!(html.contains("<td><code>a|b&lt;c&gt;</code></td>"));
        assert!(html.contains("<td>‖a‖ ≤ b | c &lt; d &amp; e &gt; f</td>"));
        assert!(!html.contains("<c>") && !html.contains("< d"));
        assert!(html.contains("<strong>✘ FAILS</strong>"));
        // The headers' tooltips are attribute values: quotes are escaped too.
        assert!(!html.contains("title=\"\""));
        assert_eq!(html.matches("<th ").count(), CLAIM_COLUMNS.len());
    }

    #[test]
    fn markdown_escapes_pipes_so_every_row_has_one_cell_per_column() {
        let md = claims(&sample()).to_markdown();
        let n = CLAIM_COLUMNS.len();
        for line in md.lines() {
            let unescaped = line.matches('|').count() - line.matches("\\|").count();
            assert_eq!(unescaped, n + 1, "{line}");
        }
        assert!(md.contains("| `a\\|b<c>` | ‖a‖ ≤ b \\| c < d & e > f | **FAILS** |"));
    }

    #[test]
    fn usage_is_fixed_point_while_readable_and_scientific_beyond() {
        let u = |x: f64| Cell::Usage(x).text();
        assert_eq!(u(0.0025), "0.003");
        assert_eq!(u(-999.0), "-999.000");
        assert_eq!(u(-1.702e12), "-1.70e12");
        assert_eq!(u(f64::INFINITY), "inf");
        assert_eq!(Cell::Sci(1.234_56e-5).text(), "1.235e-5");
    }

    #[test]
    fn a_text_layout_pads_each_field_and_puts_its_literal_before_it() {
        let t = claims(&sample());
        let fields = [
            Field::left("claim", 10).after("claim "),
            Field::left("verdict", 5),
            Field::right("checked", 4).after(" checked "),
        ];
        let text = t.to_text(&TextLayout {
            fields: &fields,
            end: "",
            header: false,
        });
        assert_eq!(
            text,
            "claim lemma1_v   holds checked    7\n\
             claim a|b<c>     FAILS checked    7\n\
             claim theta_bounds_u not exercised checked    0\n"
        );
        let with_header = t.select(&["claim"]).to_text(&TextLayout {
            fields: &[Field::left("claim", 0).after("")],
            end: "",
            header: true,
        });
        assert_eq!(with_header, "claim\nlemma1_v\na|b<c>\ntheta_bounds_u\n");
    }

    fn sample_events() -> Vec<Event> {
        let ev = |iter, kind, factor, count, row, col| Event {
            iter,
            kind,
            factor,
            count,
            row,
            col,
        };
        vec![
            ev(0, EventKind::ZeroDataColumns, Which::M, 2, 0, 3),
            ev(12, EventKind::ZeroReached, Which::U, 2, 3, 4),
            ev(13, EventKind::NoteFormUndefined, Which::V, 1, 0, 0),
            ev(15, EventKind::ZeroReached, Which::V, 1, 1, 1),
        ]
    }

    #[test]
    fn events_show_entries_and_places_only_for_events_about_entries() {
        let t = events(&sample_events());
        assert_eq!(t.cell(1, "entries"), &Cell::Count(2));
        assert_eq!(t.cell(1, "first_entry").text(), "(3, 4)");
        for i in [0, 2] {
            assert_eq!(t.cell(i, "entries"), &Cell::Absent);
            assert_eq!(t.cell(i, "first_entry"), &Cell::Absent);
        }
        assert_eq!(t.cell(2, "kind").text(), "NoteFormUndefined");
    }

    #[test]
    fn event_kinds_count_every_kind_and_give_the_first() {
        let t = event_kinds(&sample_events());
        assert_eq!(t.rows.len(), EVENT_KINDS.len());
        let zero = t
            .find("kind", &Cell::Code("ZeroReached".into()))
            .expect("listed");
        assert_eq!(t.cell(zero, "events"), &Cell::Count(2));
        assert_eq!(t.cell(zero, "first_iteration"), &Cell::Count(12));
        let under = t.find("kind", &Cell::Code("Underflow".into())).unwrap();
        assert_eq!(t.cell(under, "first_iteration").text_or("never"), "never");
        let cols = t
            .find("kind", &Cell::Code("ZeroDataColumns".into()))
            .unwrap();
        assert_eq!(t.cell(cols, "first_place").text(), "column 3");
        assert_eq!(t.cell(cols, "first_count"), &Cell::Count(2));
    }

    #[test]
    fn every_column_key_is_unique_and_every_row_has_one_cell_per_column() {
        for t in [
            claims(&sample()),
            events(&sample_events()),
            event_kinds(&sample_events()),
        ] {
            let mut keys: Vec<_> = t.columns.iter().map(|c| c.key).collect();
            keys.sort_unstable();
            keys.dedup();
            assert_eq!(keys.len(), t.columns.len());
            assert!(t.rows.iter().all(|r| r.len() == t.columns.len()));
            assert!(t.columns.iter().all(|c| !c.meaning.is_empty()));
        }
    }
}
