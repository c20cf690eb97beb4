//! `nmf-lab`: run the note's experiment, run MU on your own matrix, verify the proof's
//! identities exactly. Every formula lives in `nmf-core`; this file only parses, runs, prints
//! and writes.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use nmf_core::exact::{self, ExactParams};
use nmf_core::io::write_atomic;
use nmf_core::{
    DataKind, Experiment, Factors, InitKind, NmfError, ObjectiveMode, Outcome, Problem, RunParams,
    Status,
};

mod report;

/// The exit-code contract (README, `--help`).
const EXIT_CODES: &str = "Exit codes:\n  0   every claim was checked and holds (verify-exact: every identity holds)\n  1   bad input or I/O error (the message names the file, line and column)\n  2   a claim of the proof failed\n  3   MU became undefined (zero denominator) or overflowed during the run\n  4   an exact identity did not hold (verify-exact)\n  5   no claim failed, but some claim was not exercised (nothing could be checked)\n  64  usage error (unknown option, missing or malformed argument)";

/// Exit codes, one per outcome (see [`EXIT_CODES`]).
mod code {
    pub const BAD_INPUT: u8 = 1;
    pub const CLAIM_FAILED: u8 = 2;
    pub const RUN_UNDEFINED: u8 = 3;
    pub const EXACT_MISMATCH: u8 = 4;
    pub const NOT_EXERCISED: u8 = 5;
    /// sysexits.h's EX_USAGE.
    pub const USAGE: u8 = 64;
}

/// Verify, by numbers and by exact arithmetic, what the convergence proof of the Lee–Seung
/// multiplicative updates for NMF claims.
///
/// Exit codes: 0 every claim checked and held; 1 bad input or I/O error; 2 a claim of the proof
/// failed; 3 the run stopped because MU became undefined (zero denominator) or overflowed;
/// 4 an exact identity did not hold; 5 no claim failed but some claim was not exercised (no
/// row could be checked); 64 usage error (unknown option, missing or malformed argument).
#[derive(Parser, Debug)]
#[command(name = "nmf-lab", version, about, long_about = None, propagate_version = true,
    after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(ValueEnum, Debug, Clone, Copy)]
enum ObjectiveArg {
    /// Gram trick while the fit is far from exact, direct evaluation below 1e-6 of its scale.
    Auto,
    /// Always the Gram trick (no pass over M; cancels when the fit is nearly exact).
    Gram,
    /// Always ½‖M − UV‖² directly (one pass over M per iteration).
    Direct,
}

#[derive(ValueEnum, Debug, Clone, Copy)]
enum InitArg {
    /// The note's draws: U ~ U[0,1), V ~ U[1,2), whatever the data's magnitude.
    Note,
    /// The same draws times sqrt(mean(M)/k) (scikit-learn's random-init scale): UV is of the
    /// order of M in any units.
    Scaled,
}

impl From<InitArg> for InitKind {
    fn from(a: InitArg) -> Self {
        match a {
            InitArg::Note => InitKind::Note,
            InitArg::Scaled => InitKind::Scaled,
        }
    }
}

impl From<ObjectiveArg> for ObjectiveMode {
    fn from(a: ObjectiveArg) -> Self {
        match a {
            ObjectiveArg::Auto => ObjectiveMode::Auto,
            ObjectiveArg::Gram => ObjectiveMode::Gram,
            ObjectiveArg::Direct => ObjectiveMode::Direct,
        }
    }
}

/// Options shared by `reproduce` and `run`.
#[derive(clap::Args, Debug)]
struct RunOpts {
    /// Number of MU iterations (each: V half-step, then U half-step with the new V).
    #[arg(long, default_value_t = 10_000)]
    iters: usize,
    /// Seed of the ChaCha8 random stream (initial factors, and M for `reproduce`).
    #[arg(long, default_value_t = nmf_core::experiment::DEFAULT_SEED)]
    seed: u64,
    /// Stop when the relative decrease (f_k − f_{k+1})/f_k falls to this value; 0 = never.
    #[arg(long, default_value_t = 0.0)]
    tol: f64,
    /// How the objective column is evaluated.
    #[arg(long, value_enum, default_value_t = ObjectiveArg::Auto)]
    objective: ObjectiveArg,
    /// Skip the note's compatibility columns (note_*; its n×n SVD costs O(n³) per iteration).
    #[arg(long)]
    no_note_columns: bool,
    /// Never show a progress bar (it is shown only when stderr is a terminal anyway).
    #[arg(long)]
    quiet: bool,
    /// The seeded start (ignored with --init-u/--init-v).
    #[arg(long, value_enum, default_value_t = InitArg::Note)]
    init: InitArg,
}

impl RunOpts {
    fn params(&self) -> RunParams {
        RunParams {
            max_iter: self.iters,
            tol: self.tol,
            objective: self.objective.into(),
            note_columns: !self.no_note_columns,
            keep_rows: true,
        }
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// The note's experiment on its embedded default: M 15×8 uniform on [0,1), rank 5,
    /// U uniform on [0,1), V uniform on [1,2), 10 000 iterations. Prints the claims table and
    /// writes DIR/trace.csv, DIR/trace.json, DIR/summary.json and DIR/figures.html (every figure
    /// of the run, interactive, self-contained: opens offline in a browser).
    Reproduce {
        /// Output directory (created if missing).
        #[arg(long, default_value = "nmf-lab-out")]
        out: PathBuf,
        /// Use the note's planted variant M = U·diag(d)·V (an exact rank-k fit exists).
        #[arg(long)]
        planted: bool,
        #[command(flatten)]
        opts: RunOpts,
    },
    /// MU on your matrix: CSV (comma, semicolon, tab or blanks; a header row and an index
    /// column are skipped and reported), NumPy .npy or Matrix Market .mtx, non-negative numbers.
    /// Prints the claims table and writes DIR/trace.csv, DIR/trace.json, DIR/summary.json and
    /// DIR/figures.html (every figure of the run, interactive, self-contained).
    Run {
        /// The data matrix M (m×n): .csv/.tsv/.txt, .npy or .mtx; `-` reads it from standard
        /// input.
        #[arg(long)]
        data: PathBuf,
        /// The field separator of CSV input (--data, --init-u, --init-v): ',' ';' 'tab' or
        /// 'space' (runs of blanks). Default: detected from the first line.
        #[arg(long, value_name = "SEP")]
        delimiter: Option<nmf_core::io::Delimiter>,
        /// The rank k, 1 ≤ k ≤ min(m, n).
        #[arg(long)]
        rank: usize,
        /// Initial U (m×k) as CSV; give it together with --init-v. Default: seeded U ~ U[0,1).
        #[arg(long, requires = "init_v")]
        init_u: Option<PathBuf>,
        /// Initial V (k×n) as CSV; give it together with --init-u. Default: seeded V ~ U[1,2).
        #[arg(long, requires = "init_u")]
        init_v: Option<PathBuf>,
        /// Output directory (created if missing).
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        opts: RunOpts,
    },
    /// Check one MU step and Lemmas 1–2 in exact rational arithmetic on small random instances.
    VerifyExact {
        /// Number of random instances.
        #[arg(long, default_value_t = ExactParams::default().trials)]
        trials: usize,
        /// Seed of the instance generator.
        #[arg(long, default_value_t = ExactParams::default().seed)]
        seed: u64,
        /// MU iterations per instance; each is checked exactly from a rational point (between
        /// iterations the iterate is rounded to the grid 2⁻⁶ to keep numbers small).
        #[arg(long, default_value_t = ExactParams::default().steps)]
        steps: usize,
        /// Largest m and n drawn (at least 2).
        #[arg(long, default_value_t = ExactParams::default().max_dim)]
        max_dim: usize,
    },
}

type AnyError = Box<dyn std::error::Error>;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print and succeed; anything else is a usage error.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(code::USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            let mut msg = e.to_string();
            let mut src = e.source();
            while let Some(s) = src {
                msg.push_str(&format!(": {s}"));
                src = s.source();
            }
            eprintln!("nmf-lab: error: {msg}");
            ExitCode::from(code::BAD_INPUT)
        }
    }
}

fn dispatch(cli: Cli) -> Result<ExitCode, AnyError> {
    match cli.command {
        Command::Reproduce { out, planted, opts } => {
            let mut e = Experiment::note(opts.seed, opts.iters);
            e.params = opts.params();
            e.init = opts.init.into();
            e.params.check()?;
            if planted {
                e.data = DataKind::Planted;
            }
            let outcome = with_progress(opts.iters, opts.quiet, |cb| e.run_with(cb))?;
            finish(&outcome, &out, "reproduce")
        }
        Command::Run {
            data,
            rank,
            init_u,
            init_v,
            delimiter,
            out,
            opts,
        } => {
            let params = opts.params();
            params.check()?;
            let m = read_input(&data, delimiter)?;
            let problem = Problem::new(m.clone(), rank)
                .map_err(|e| in_file(&nmf_core::io::origin_name(&data), e))?;
            let (rows, cols) = problem.dim();
            let mut experiment = Experiment {
                m: rows,
                n: cols,
                k: rank,
                seed: opts.seed,
                data: DataKind::Random,
                init: opts.init.into(),
                params,
            };
            let init = match (init_u, init_v) {
                (Some(pu), Some(pv)) => {
                    let f = Factors {
                        u: read_input(&pu, delimiter)?,
                        v: read_input(&pv, delimiter)?,
                    };
                    check_init(&problem, &f, &pu, &pv)?;
                    experiment.init = InitKind::Files;
                    f
                }
                _ => experiment.start_for(&m),
            };
            let outcome =
                with_progress(opts.iters, opts.quiet, |cb| experiment.run_on(m, init, cb))?;
            finish(&outcome, &out, "run")
        }
        Command::VerifyExact {
            trials,
            seed,
            steps,
            max_dim,
        } => {
            let p = ExactParams {
                trials,
                seed,
                steps,
                max_dim,
            };
            let rep = exact::verify(p)?;
            println!(
                "exact rational check: {} instances (seed {seed}, up to {max_dim}×{max_dim}), {} half-steps, {} identities checked, {} mismatches",
                rep.instances,
                rep.half_steps,
                rep.identities,
                rep.mismatches.len()
            );
            if rep.undefined_steps > 0 {
                println!(
                    "{} instances stopped early: a zero denominator made MU undefined",
                    rep.undefined_steps
                );
            }
            for mm in rep.mismatches.iter().take(10) {
                println!(
                    "MISMATCH trial {} iteration {} {}-half: {}\n  lhs = {}\n  rhs = {}",
                    mm.trial, mm.iter, mm.half, mm.identity, mm.lhs, mm.rhs
                );
            }
            Ok(if rep.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(code::EXACT_MISMATCH)
            })
        }
    }
}

/// Name the init files in a shape or entry error.
fn check_init(problem: &Problem, f: &Factors, pu: &Path, pv: &Path) -> Result<(), AnyError> {
    match problem.check_factors(f) {
        Ok(()) => Ok(()),
        Err(e) => {
            let file = match &e {
                NmfError::Shape {
                    which: nmf_core::Which::V,
                    ..
                }
                | NmfError::Negative {
                    which: nmf_core::Which::V,
                    ..
                }
                | NmfError::NonFinite {
                    which: nmf_core::Which::V,
                    ..
                }
                | NmfError::Empty {
                    which: nmf_core::Which::V,
                    ..
                } => pv,
                _ => pu,
            };
            Err(in_file(file, e).into())
        }
    }
}

/// Read a matrix named on the command line (`-`: standard input) and say on standard error
/// what was skipped to get it (a header row, an index column, comment lines).
fn read_input(
    path: &Path,
    delimiter: Option<nmf_core::io::Delimiter>,
) -> Result<nmf_core::ndarray::Array2<f64>, NmfError> {
    use std::io::Write;
    let loaded = nmf_core::io::load_matrix(path, &nmf_core::io::ReadOptions { delimiter })?;
    if let Some(note) = loaded.detected.notice() {
        let name = nmf_core::io::origin_name(path);
        let name = nmf_core::io::escape(&name.display().to_string());
        let _ = writeln!(std::io::stderr().lock(), "nmf-lab: {name}: {note}");
    }
    Ok(loaded.matrix)
}

fn in_file(path: &Path, e: NmfError) -> NmfError {
    match e {
        e @ (NmfError::Parse { .. } | NmfError::Io { .. }) => e,
        other => NmfError::parse(path, other.to_string()),
    }
}

/// Run `f` with a progress bar on stderr when it is a terminal, plain otherwise.
fn with_progress<T>(
    iters: usize,
    quiet: bool,
    f: impl FnOnce(&mut dyn FnMut(&nmf_core::Record) -> ControlFlow<()>) -> Result<T, NmfError>,
) -> Result<T, NmfError> {
    let target = if quiet {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(Some(iters as u64), target);
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:40} {pos}/{len} iterations  f = {msg}  [{elapsed_precise}]",
        )
        .expect("valid template"),
    );
    let mut cb = |r: &nmf_core::Record| {
        if r.iter % 64 == 0 {
            bar.set_position(r.iter as u64);
            bar.set_message(format!("{:.6e}", r.objective));
        }
        ControlFlow::Continue(())
    };
    let out = f(&mut cb);
    bar.finish_and_clear();
    out
}

/// Print the report, write the files, choose the exit code.
fn finish(o: &Outcome, out: &Path, command: &str) -> Result<ExitCode, AnyError> {
    let summary = report::summary(o, command);
    print!("{}", report::claims_table(o));
    std::fs::create_dir_all(out).map_err(|e| NmfError::Io {
        path: out.into(),
        source: e,
    })?;
    // Everything is computed before the first write; each file is written atomically.
    let trace = &o.fit.trace;
    let dims = o.experiment.dims();
    let figures = nmf_plot::figures_html(
        &format!(
            "nmf-lab {command}: {}×{} rank {}, seed {}, {} iterations ({})",
            dims.m,
            dims.n,
            dims.k,
            o.experiment.seed,
            trace.rows.len(),
            o.fit.stop
        ),
        &nmf_plot::all_figures(trace, dims),
    );
    write_atomic(&out.join("trace.csv"), |w| trace.write_csv(w))?;
    write_atomic(&out.join("trace.json"), |w| {
        serde_json::to_writer(&mut *w, trace)
            .map_err(|e| NmfError::parse("trace.json", e.to_string()))
    })?;
    write_atomic(&out.join("summary.json"), |w| {
        serde_json::to_writer_pretty(&mut *w, &summary)
            .map_err(|e| NmfError::parse("summary.json", e.to_string()))
    })?;
    write_atomic(&out.join("figures.html"), |w| {
        w.write_all(figures.as_bytes()).map_err(|e| NmfError::Io {
            path: out.join("figures.html"),
            source: e,
        })
    })?;
    println!(
        "wrote {}/{{trace.csv, trace.json, summary.json, figures.html}}",
        out.display()
    );
    if o.fit.stop.is_failure() {
        eprintln!("nmf-lab: error: {}", o.fit.stop);
        return Ok(ExitCode::from(code::RUN_UNDEFINED));
    }
    if o.claims.iter().any(|v| v.status == Status::Fails) {
        eprintln!("nmf-lab: a claim of the proof failed; see the table above");
        return Ok(ExitCode::from(code::CLAIM_FAILED));
    }
    if o.claims.iter().any(|v| v.status == Status::NotExercised) {
        eprintln!(
            "nmf-lab: a claim was not exercised (no row could be checked); see the table above"
        );
        return Ok(ExitCode::from(code::NOT_EXERCISED));
    }
    Ok(ExitCode::SUCCESS)
}
