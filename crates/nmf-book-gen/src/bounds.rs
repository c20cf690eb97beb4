//! The chapter "How tight are the bounds?": the pinned sweep `sweeps/book.toml` (10 000
//! instances across every solver) run through `nmf_core::sweep`, summarised by
//! `nmf_core::sweep::stats` (Clopper–Pearson intervals, usage quantiles, Student-t intervals),
//! tabulated by `nmf_core::tables` and drawn by `nmf_plot::sweep_figures`. This module only
//! runs the sweep and picks which of those numbers the prose quotes.

use std::path::Path;

use nmf_core::sweep::stats::{summarize, ClaimStats, Summary};
use nmf_core::sweep::{self, Grid, Shard, SweepRow};
use nmf_core::tables;

/// The pinned grid, relative to the workspace root (where `scripts/book.sh` runs).
pub const GRID: &str = "sweeps/book.toml";

/// What the chapter includes.
pub struct Bounds {
    pub claims_table: String,
    pub solvers_table: String,
    pub facts: Vec<(String, String)>,
    /// `(id, figure)` pairs: the usage histograms the chapter shows.
    pub figures: Vec<(String, plotly::Plot)>,
    /// Whether some claim failed or was not exercised on some instance (the build must fail).
    pub any_fails: bool,
}

/// The claims whose usage histograms the chapter shows: an identity (Lemma 1), a lower bound
/// that HALS meets almost with equality (the diagonal bound), MU's K-identity, and the
/// objective's monotonicity.
const SHOWN: [&str; 4] = [
    "lemma1_v",
    "diag_decrease_v",
    "k_identity_v",
    "objective_non_increasing",
];

/// Run the pinned sweep on every core and summarise it.
pub fn run(threads: usize) -> Result<(Grid, Vec<SweepRow>), String> {
    let grid = Grid::load(Path::new(GRID)).map_err(|e| format!("{GRID}: {e}"))?;
    let rows =
        sweep::run(&grid, Shard::ALL, threads, &|| {}).map_err(|e| format!("sweep {GRID}: {e}"))?;
    Ok((grid, rows))
}

/// The tables, facts and figures of the chapter.
pub fn report(grid: &Grid, rows: &[SweepRow]) -> Bounds {
    let s: Summary = summarize(rows);
    let mut facts: Vec<(String, String)> = Vec::new();
    let mut add = |k: &str, v: String| facts.push((format!("bounds-{k}"), v));
    add("instances", s.instances.to_string());
    add("solvers", s.solvers.len().to_string());
    add("iters", grid.params.max_iter.to_string());
    add("seeds", grid.seeds.len().to_string());
    add("shapes", grid.shapes.len().to_string());
    let checked: usize = s.claims.iter().map(|c| c.instances).sum();
    let violations: usize = s.claims.iter().map(|c| c.violations).sum();
    let not_exercised: usize = s.claims.iter().map(|c| c.not_exercised).sum();
    add("claim-instances", checked.to_string());
    add("violations", violations.to_string());
    add("not-exercised", not_exercised.to_string());
    let failed_instances = rows
        .iter()
        .filter(|r| r.worst_status() != nmf_core::Status::Holds)
        .count();
    add("failed-instances", failed_instances.to_string());
    // The per-solver count of instances, and the one-sided bound a claim checked on all of
    // them gets when it never failed (the same for every such claim of that solver).
    if let Some(c) = s
        .claims
        .iter()
        .find(|c| c.solver == s.solvers[0].solver && c.claim == "objective_non_increasing")
    {
        add("per-solver", c.instances.to_string());
        add(
            "rate-upper",
            c.rate_upper.map_or("—".into(), |r| format!("{r:.1e}")),
        );
        add(
            "rate-hi",
            c.rate.map_or("—".into(), |(_, hi)| format!("{hi:.1e}")),
        );
    }
    // The tightest claim: the largest worst usage over every solver and instance.
    let tightest = s
        .claims
        .iter()
        .filter_map(|c| c.worst.map(|w| (c, w)))
        .max_by(|a, b| a.1 .1.total_cmp(&b.1 .1));
    if let Some((c, (id, u))) = tightest {
        add("tightest-claim", c.claim.clone());
        add("tightest-solver", c.solver.clone());
        add("tightest-usage", format!("{u:.3}"));
        add("tightest-id", id.to_string());
    }
    // Per shown claim and solver: the median and largest worst usage.
    for c in s
        .claims
        .iter()
        .filter(|c| SHOWN.contains(&c.claim.as_str()))
    {
        let key = format!("{}-{}", solver_key(grid, c), c.claim.replace('_', "-"));
        if let Some(q) = &c.usage {
            add(&format!("{key}-median"), usage(q.median));
            add(&format!("{key}-max"), usage(q.max));
        }
    }
    let figures = nmf_plot::sweep_figures(&s)
        .into_iter()
        .filter_map(|(title, plot)| {
            SHOWN
                .iter()
                .find(|c| title == format!("Usage of {c}"))
                .map(|c| (format!("fig-bounds-{}", c.replace('_', "-")), plot))
        })
        .collect();
    Bounds {
        claims_table: tables::sweep_claims(&s.claims).to_markdown(),
        solvers_table: tables::sweep_solvers(&s.solvers).to_markdown(),
        facts,
        figures,
        any_fails: violations > 0 || not_exercised > 0 || failed_instances > 0,
    }
}

/// A usage as the prose quotes it: three decimals near the bound, scientific far from it.
fn usage(u: f64) -> String {
    if u.abs() >= 1e3 {
        format!("{u:.1e}")
    } else {
        format!("{u:.3}")
    }
}

/// A solver's facts key: its CLI name, found by its title among the grid's solvers (the
/// statistics are grouped by [`nmf_core::SolverSpec::title`]).
fn solver_key(grid: &Grid, c: &ClaimStats) -> &'static str {
    grid.solvers
        .iter()
        .find(|s| s.title() == c.solver)
        .map_or("other", |s| s.name())
}
