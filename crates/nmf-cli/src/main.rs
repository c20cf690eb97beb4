//! `nmf-lab`: run the note's experiment, run MU on your own matrix, verify the proof's
//! identities exactly. Every formula lives in `nmf-core`; this file only parses, runs, prints
//! and writes.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use nmf_core::exact::{self, ExactParams};
use nmf_core::io::matrix_to_csv;
use nmf_core::{
    DataKind, Experiment, Factors, HalsAccel, InitKind, LinMu, MuEps, NmfError, ObjectiveMode,
    Outcome, Problem, RunParams, SolverSpec, Status,
};

mod output;
mod report;
mod signals;
mod stream;
mod sweep;

use output::OutDir;
use signals::Signals;
use stream::Streamer;

/// The exit-code contract (README, `--help`).
const EXIT_CODES: &str = "Exit codes:\n  0   every claim was checked and holds (verify-exact: every identity holds; sweep: on every instance)\n  1   bad input or I/O error (the message names the file, line and column)\n  2   a claim of the proof failed (sweep: on some instance; every file is still written)\n  3   MU became undefined (zero denominator) or overflowed during the run\n  4   an exact identity did not hold (verify-exact)\n  5   no claim failed, but some claim was not exercised (nothing could be checked)\n  64  usage error (unknown option, missing or malformed argument)\n  130 interrupted by SIGINT, 143 by SIGTERM: the output written is complete and marked interrupted";

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

/// Print to standard output. A reader that went away (`| head -1`) is not an error: the run
/// still writes its files and exits with its own code; any other failure (a full disk behind
/// `> /dev/full`) is reported.
fn say(text: &str) -> Result<(), NmfError> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(NmfError::Io {
            path: "<standard output>".into(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// Print to standard error, ignoring failures (there is nowhere left to report them).
fn warn(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{text}");
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

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum SolverArg {
    /// Lee–Seung multiplicative updates.
    Mu,
    /// ε-MU (Gillis & Glineur 2012): MU with every entry floored at --eps, so none locks at 0.
    MuEps,
    /// Lin's modified MU (Lin 2007): moves zero entries with a negative gradient, σ = δ = 1e-8.
    MuLin,
    /// HALS (Cichocki & Phan 2009): exact row-by-row minimisation, floored at --eps. Start it
    /// with --init scaled: from the note's start (ten times too large) a whole row can hit the
    /// floor at once and its component is lost.
    Hals,
    /// Accelerated HALS (Gillis & Glineur 2012): HALS's pass repeated while cheap (at most
    /// ⌊1 + α·ρ⌋ passes, --alpha), until a pass moves the factor by at most --delta times the
    /// first. Start it with --init scaled, as HALS.
    HalsAccel,
}

impl SolverArg {
    /// The name, as the trace and `summary.json` record it.
    fn name(self) -> &'static str {
        match self {
            SolverArg::Mu => "mu",
            SolverArg::MuEps => "mu-eps",
            SolverArg::Hals => "hals",
            SolverArg::MuLin => "mu-lin",
            SolverArg::HalsAccel => "hals-accel",
        }
    }
}

/// The solver and its parameters (shared by `reproduce`, `run` and `verify-exact`).
#[derive(clap::Args, Debug, Clone, Copy)]
struct SolverOpts {
    /// The solver; its claims are checked, the others reported not applicable.
    #[arg(long, value_enum, default_value_t = SolverArg::Mu)]
    solver: SolverArg,
    /// The floor ε of --solver mu-eps, hals and hals-accel (default 1e-16, Gillis and
    /// Glineur's).
    #[arg(long)]
    eps: Option<f64>,
    /// Lin's σ (--solver mu-lin): entries below it with a negative gradient are moved
    /// (default 1e-8, Lin's).
    #[arg(long)]
    sigma: Option<f64>,
    /// Lin's δ (--solver mu-lin: added to the denominator, default 1e-8), or the pass-stopping
    /// ratio δ in [0, 1) of --solver hals-accel (default 0.1).
    #[arg(long)]
    delta: Option<f64>,
    /// The pass budget α ≥ 0 of --solver hals-accel (default 0.5; 0 is plain HALS).
    #[arg(long)]
    alpha: Option<f64>,
}

impl SolverOpts {
    /// The solver and its parameters; an option of another solver is a usage error.
    fn spec(&self) -> Result<SolverSpec, clap::Error> {
        solver_spec(self)
    }
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

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum DataKindArg {
    /// M ~ U[0,1) (the note's).
    Uniform,
    /// M = U·diag(d)·V: an exact rank-k fit exists (the note's commented-out line).
    Planted,
    /// M = |Z|, Z standard normal (Lin 2007).
    Halfnormal,
    /// M ~ U[0,1) with each entry kept with probability --density, else 0.
    Sparse,
}

/// Options shared by `reproduce` and `run`.
#[derive(clap::Args, Debug)]
struct RunOpts {
    #[command(flatten)]
    solver: SolverOpts,
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
    /// Skip the note's compatibility columns (note_*: its square-root form of Lemma 2, its
    /// difference of objectives, and the spectrum of VᵀV, computed from the k×k VVᵀ).
    #[arg(long)]
    no_note_columns: bool,
    /// Never show a progress bar (it is shown only when stderr is a terminal anyway).
    #[arg(long)]
    quiet: bool,
    /// The seeded start (ignored with --init-u/--init-v).
    #[arg(long, value_enum, default_value_t = InitArg::Note)]
    init: InitArg,
    /// Which outputs to write, comma-separated: trace (trace.csv and trace.json, streamed as
    /// the run goes), summary (summary.json), figures (figures.html and plotly.min.js, drawn
    /// from a thinned sample of rows), factors (U.csv, V.csv).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "trace,summary,figures,factors"
    )]
    outputs: Vec<OutputArg>,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum OutputArg {
    Trace,
    Summary,
    Figures,
    Factors,
}

impl RunOpts {
    /// The solver and its parameters ([`SolverOpts::spec`]).
    fn solver(&self) -> Result<SolverSpec, clap::Error> {
        self.solver.spec()
    }

    fn params(&self) -> RunParams {
        RunParams {
            max_iter: self.iters,
            tol: self.tol,
            objective: self.objective.into(),
            note_columns: !self.no_note_columns,
            // The CLI streams the rows to disk and checks the claims online.
            keep_rows: false,
        }
    }

    /// The solver's name, as the trace records it.
    fn solver_name(&self) -> &'static str {
        self.solver.solver.name()
    }

    fn writes(&self, o: OutputArg) -> bool {
        self.outputs.contains(&o)
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
        /// Use the note's planted variant M = U·diag(d)·V (an exact rank-k fit exists); the
        /// same as --data-kind planted.
        #[arg(long, conflicts_with = "data_kind")]
        planted: bool,
        /// Rows of M (default 15, the note's).
        #[arg(long, default_value_t = 15)]
        m: usize,
        /// Columns of M (default 8).
        #[arg(long, default_value_t = 8)]
        n: usize,
        /// The rank k, 1 ≤ k ≤ min(m, n) (default 5).
        #[arg(long, default_value_t = 5)]
        k: usize,
        /// How M is drawn from the seed (after the initial factors).
        #[arg(long, value_enum, default_value_t = DataKindArg::Uniform)]
        data_kind: DataKindArg,
        /// The density of --data-kind sparse, in (0, 1].
        #[arg(long)]
        density: Option<f64>,
        /// Replay one instance of a sweep exactly: a line of its results.jsonl (or any JSON
        /// object with its "experiment", and "data_file" when it ran on a file). Everything the
        /// run needs comes from it; only --out, --outputs and --quiet still apply.
        #[arg(long, value_name = "JSON", conflicts_with_all = [
            "planted", "m", "n", "k", "data_kind", "density", "solver", "eps", "sigma", "delta",
            "alpha", "iters", "seed", "tol", "objective", "init", "no_note_columns"
        ])]
        instance: Option<String>,
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
    /// Run every claim over a grid of instances (solvers × data × shapes × inits × seeds),
    /// in parallel; or report on, merge, or write Slurm scripts for such a sweep.
    Sweep(SweepArgs),
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
        /// The solver whose step is checked, with the statements of its own proof, and its
        /// parameters (the default floor 1e-16 is never reached by the rational iterates; a
        /// floor like 0.25 exercises it).
        #[command(flatten)]
        solver: SolverOpts,
    },
}

/// `nmf-lab sweep --grid G --out DIR`, or one of its subcommands.
#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true,
    after_help = sweep::SWEEP_HELP)]
struct SweepArgs {
    #[command(subcommand)]
    action: Option<SweepAction>,
    /// The grid file (TOML): see sweeps/smoke.toml and the notes below.
    #[arg(long, required = true)]
    grid: Option<PathBuf>,
    /// Output directory: written whole when every instance has run (nothing on bad input).
    #[arg(long, required = true)]
    out: Option<PathBuf>,
    /// Run only shard I of N: the instances whose id ≡ I (mod N), 0 ≤ I < N.
    #[arg(long, value_name = "I/N", default_value = "0/1", value_parser = sweep::parse_shard)]
    shard: nmf_core::sweep::Shard,
    /// Threads running instances (0: one per core). The files do not depend on it.
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Never show a progress bar (it is shown only when stderr is a terminal anyway).
    #[arg(long)]
    quiet: bool,
}

#[derive(Subcommand, Debug)]
enum SweepAction {
    /// Print the statistics of a sweep directory (violation rates with exact Clopper–Pearson
    /// intervals, usage quantiles, Student-t intervals) and write DIR/report.html (offline,
    /// plotly.min.js beside it).
    Report {
        /// A sweep's (or a merge's) output directory.
        dir: PathBuf,
    },
    /// Join the shard directories of one grid into exactly the files an unsharded sweep writes.
    /// Fails on a missing or duplicated shard, or shards of different grids.
    Merge {
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// The shards' output directories (any order).
        #[arg(required = true)]
        shards: Vec<PathBuf>,
    },
    /// Write DIR/sweep.sbatch (a Slurm job array, one task per shard), DIR/merge.sbatch and
    /// DIR/submit.sh (submits the array, then the merge with --dependency=afterok). Shards go
    /// to DIR/shards/I, the merged sweep to DIR/merged.
    Slurm {
        /// The grid file.
        #[arg(long)]
        grid: PathBuf,
        /// Number of shards (array tasks), at least 1.
        #[arg(long, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
        shards: usize,
        /// Output directory for the scripts (and, once run, the shards and the merge).
        #[arg(long)]
        out: PathBuf,
        /// Slurm partition (#SBATCH --partition).
        #[arg(long)]
        partition: Option<String>,
        /// Time limit per task (#SBATCH --time), e.g. 01:00:00.
        #[arg(long)]
        time: Option<String>,
        /// CPUs per task (#SBATCH --cpus-per-task; each task runs that many threads).
        #[arg(long, default_value_t = 1)]
        cpus_per_task: usize,
    },
}

type AnyError = Box<dyn std::error::Error>;

/// The solver and its parameters from `--solver`, `--eps`, `--sigma`, `--delta`, `--alpha`
/// (usage errors: an option of another solver, or a parameter out of its range).
fn solver_spec(o: &SolverOpts) -> Result<SolverSpec, clap::Error> {
    let usage = |kind, msg: String| <Cli as clap::CommandFactory>::command().error(kind, msg);
    // Which options each solver takes.
    let takes: &[&str] = match o.solver {
        SolverArg::Mu => &[],
        SolverArg::MuEps | SolverArg::Hals => &["eps"],
        SolverArg::MuLin => &["sigma", "delta"],
        SolverArg::HalsAccel => &["eps", "alpha", "delta"],
    };
    for (name, given) in [
        ("eps", o.eps.is_some()),
        ("sigma", o.sigma.is_some()),
        ("delta", o.delta.is_some()),
        ("alpha", o.alpha.is_some()),
    ] {
        if given && !takes.contains(&name) {
            return Err(usage(
                clap::error::ErrorKind::ArgumentConflict,
                format!(
                    "--{name} does not apply to --solver {}{}",
                    o.solver.name(),
                    if takes.is_empty() {
                        " (it takes no parameter)".to_string()
                    } else {
                        format!(" (it takes --{})", takes.join(", --"))
                    }
                ),
            ));
        }
    }
    let eps = o.eps.unwrap_or(MuEps::DEFAULT_EPS);
    let spec = match o.solver {
        SolverArg::Mu => SolverSpec::Mu,
        SolverArg::MuLin => {
            let d = LinMu::default();
            SolverSpec::MuLin {
                sigma: o.sigma.unwrap_or(d.sigma),
                delta: o.delta.unwrap_or(d.delta),
            }
        }
        SolverArg::MuEps => SolverSpec::MuEps { eps },
        SolverArg::Hals => SolverSpec::Hals { eps },
        SolverArg::HalsAccel => SolverSpec::HalsAccel {
            eps,
            alpha: o.alpha.unwrap_or(HalsAccel::DEFAULT_ALPHA),
            delta: o.delta.unwrap_or(HalsAccel::DEFAULT_DELTA),
        },
    };
    spec.check()
        .map_err(|e| usage(clap::error::ErrorKind::ValueValidation, e.to_string()))?;
    Ok(spec)
}

impl Cli {
    /// Checks across options that clap cannot express (usage errors, exit code 64).
    fn validate(&self) -> Result<(), clap::Error> {
        match &self.command {
            Command::Reproduce {
                opts,
                data_kind,
                density,
                ..
            } => {
                data_kind_of(*data_kind, *density)?;
                opts.solver().map(|_| ())
            }
            Command::Run { opts, .. } => opts.solver().map(|_| ()),
            Command::VerifyExact { solver, .. } => solver.spec().map(|_| ()),
            Command::Sweep(_) => Ok(()),
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse().and_then(|cli| cli.validate().map(|()| cli)) {
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
            // The chain of causes, each once (an I/O error's message already holds its cause).
            let mut msg = e.to_string();
            let mut src = e.source();
            while let Some(s) = src {
                let s_text = s.to_string();
                if !msg.contains(&s_text) {
                    msg.push_str(&format!(": {s_text}"));
                }
                src = s.source();
            }
            warn(&format!("nmf-lab: error: {msg}"));
            ExitCode::from(code::BAD_INPUT)
        }
    }
}

fn dispatch(cli: Cli) -> Result<ExitCode, AnyError> {
    match cli.command {
        Command::Reproduce {
            out,
            planted,
            m,
            n,
            k,
            data_kind,
            density,
            instance,
            opts,
        } => {
            let inst = match &instance {
                Some(json) => instance_of(json)?,
                None => {
                    let mut e = Experiment::note(opts.seed, opts.iters);
                    e.params = opts.params();
                    e.init = opts.init.into();
                    e.solver = opts.solver()?;
                    (e.m, e.n, e.k) = (m, n, k);
                    e.data = data_kind_of(data_kind, density)?;
                    if planted {
                        e.data = DataKind::Planted;
                    }
                    nmf_core::sweep::Instance {
                        id: 0,
                        experiment: e,
                        data_file: None,
                    }
                }
            };
            let e = &inst.experiment;
            e.params.check()?;
            e.data.check()?;
            e.solver.check()?;
            let inputs: Vec<(&str, &Path)> = inst
                .data_file
                .as_deref()
                .map(|p| ("data", p))
                .into_iter()
                .collect();
            let dir = OutDir::prepare(&out, &inputs.iter().map(|(_, p)| *p).collect::<Vec<_>>())?;
            let sig = install_signals()?;
            let mut stream = Streamer::new(&dir, e.solver.name(), opts.writes(OutputArg::Trace))?;
            let outcome = with_progress(e.params.max_iter, opts.quiet, &sig, |cb| {
                inst.run(|r| {
                    stream.push(r);
                    cb(r)
                })
            })?;
            finish(&outcome, dir, stream, &opts, "reproduce", &inputs, &sig)
        }
        Command::Sweep(args) => match args.action {
            Some(SweepAction::Report { dir }) => sweep::report(&dir),
            Some(SweepAction::Merge { out, shards }) => sweep::merge(&out, &shards),
            Some(SweepAction::Slurm {
                grid,
                shards,
                out,
                partition,
                time,
                cpus_per_task,
            }) => sweep::slurm(
                &grid,
                shards,
                &out,
                &sweep::SlurmOpts {
                    partition: partition.as_deref(),
                    time: time.as_deref(),
                    threads: cpus_per_task,
                },
            ),
            None => sweep::run(
                args.grid.as_deref().expect("clap requires --grid"),
                args.out.as_deref().expect("clap requires --out"),
                args.shard,
                args.threads,
                args.quiet,
            ),
        },
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
            let inputs: Vec<(&str, &Path)> = [
                ("data", Some(&data)),
                ("init_u", init_u.as_ref()),
                ("init_v", init_v.as_ref()),
            ]
            .into_iter()
            .filter_map(|(role, p)| p.map(|p| (role, p.as_path())))
            .collect();
            let dir = OutDir::prepare(&out, &inputs.iter().map(|(_, p)| *p).collect::<Vec<_>>())?;
            // A bundled data set by name (`--data swimmer`) unless a file of that name exists.
            let bundled = nmf_core::datasets::bundled(&data);
            let looks_like_a_name = data
                .to_str()
                .is_some_and(|n| n != "-" && !n.contains(['/', '.']) && !data.exists());
            let m = match bundled {
                Some(name) => nmf_core::datasets::load(name)?,
                // `--data mnist`: say which names there are, not only "no such file".
                None if looks_like_a_name => {
                    return Err(nmf_core::datasets::unknown(&data.to_string_lossy()).into())
                }
                None => read_input(&data, delimiter)?,
            };
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
                solver: opts.solver()?,
                params,
            };
            let init = match (init_u.clone(), init_v.clone()) {
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
            let sig = install_signals()?;
            let mut stream =
                Streamer::new(&dir, opts.solver_name(), opts.writes(OutputArg::Trace))?;
            let outcome = with_progress(opts.iters, opts.quiet, &sig, |cb| {
                experiment.run_on(m, init, |r| {
                    stream.push(r);
                    cb(r)
                })
            })?;
            finish(&outcome, dir, stream, &opts, "run", &inputs, &sig)
        }
        Command::VerifyExact {
            trials,
            seed,
            steps,
            max_dim,
            solver,
        } => {
            let spec = solver.spec()?;
            let p = ExactParams {
                trials,
                seed,
                steps,
                max_dim,
                solver: spec,
            };
            let rep = exact::verify(p)?;
            say(&format!(
                "exact rational check: {} instances (seed {seed}, up to {max_dim}×{max_dim}), {} half-steps, {} identities checked, {} mismatches\n",
                rep.instances,
                rep.half_steps,
                rep.identities,
                rep.mismatches.len()
            ))?;
            if rep.undefined_steps > 0 {
                say(&format!(
                    "{} instances stopped early: a zero denominator made MU undefined\n",
                    rep.undefined_steps
                ))?;
            }
            if spec != SolverSpec::Mu {
                say(&format!(
                    "{}: the floor lifted {} entries\n",
                    spec.title(),
                    rep.floored
                ))?;
            }
            if rep.multi_pass > 0 {
                say(&format!(
                    "{} half-steps made more than one pass (the pass rule and the bound divided by the passes were checked on them)\n",
                    rep.multi_pass
                ))?;
            }
            // The stall certificate: an exact fixed point of plain MU that is not a KKT point.
            let cert = exact::stall_certificate();
            say(&format!(
                "stall certificate: MU's step fixes (U, V) exactly: {}; the gradient at the zero entry V{:?} is {} (negative: not a KKT point): {}\n",
                if cert.fixed_point { "yes" } else { "NO" },
                cert.zero_at,
                cert.gradient_at_zero,
                if cert.not_kkt { "yes" } else { "NO" },
            ))?;
            for mm in rep.mismatches.iter().take(10) {
                say(&format!(
                    "MISMATCH trial {} iteration {} {}-half: {}\n  lhs = {}\n  rhs = {}\n",
                    mm.trial, mm.iter, mm.half, mm.identity, mm.lhs, mm.rhs
                ))?;
            }
            Ok(if rep.ok() && cert.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(code::EXACT_MISMATCH)
            })
        }
    }
}

/// The data kind of `--data-kind` and `--density` (usage errors: a density without sparse,
/// sparse without a density, a density outside (0, 1]).
fn data_kind_of(kind: DataKindArg, density: Option<f64>) -> Result<DataKind, clap::Error> {
    let usage = |kind, msg: String| <Cli as clap::CommandFactory>::command().error(kind, msg);
    let d = match (kind, density) {
        (DataKindArg::Sparse, Some(density)) => DataKind::Sparse { density },
        (DataKindArg::Sparse, None) => {
            return Err(usage(
                clap::error::ErrorKind::MissingRequiredArgument,
                "--data-kind sparse needs --density".into(),
            ))
        }
        (_, Some(_)) => {
            return Err(usage(
                clap::error::ErrorKind::ArgumentConflict,
                "--density applies to --data-kind sparse only".into(),
            ))
        }
        (DataKindArg::Uniform, None) => DataKind::Random,
        (DataKindArg::Planted, None) => DataKind::Planted,
        (DataKindArg::Halfnormal, None) => DataKind::Halfnormal,
    };
    d.check()
        .map_err(|e| usage(clap::error::ErrorKind::ValueValidation, e.to_string()))?;
    Ok(d)
}

/// The instance of `--instance`: a line of a sweep's results.jsonl, or any JSON object with
/// an `experiment` (and a `data_file`), or an experiment itself. The run keeps no rows in
/// memory (the CLI streams them), whatever the JSON says.
fn instance_of(json: &str) -> Result<nmf_core::sweep::Instance, NmfError> {
    let bad = |e: serde_json::Error| NmfError::parse("--instance", e.to_string());
    let v: serde_json::Value = serde_json::from_str(json).map_err(bad)?;
    let (experiment, file) = match v.get("experiment") {
        Some(e) => (e.clone(), v.get("data_file").cloned()),
        None => (v, None),
    };
    let mut experiment: Experiment = serde_json::from_value(experiment).map_err(bad)?;
    experiment.params.keep_rows = false;
    let data_file = match file {
        None | Some(serde_json::Value::Null) => None,
        Some(f) => Some(serde_json::from_value(f).map_err(bad)?),
    };
    Ok(nmf_core::sweep::Instance {
        id: v_id(json),
        experiment,
        data_file,
    })
}

fn v_id(json: &str) -> usize {
    serde_json::from_str::<serde_json::Value>(json)
        .ok()
        .and_then(|v| v.get("id").and_then(serde_json::Value::as_u64))
        .unwrap_or(0) as usize
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

/// Catch SIGINT and SIGTERM for the run ([`Signals`]).
fn install_signals() -> Result<Signals, NmfError> {
    Signals::install().map_err(|e| NmfError::Io {
        path: "<signal handlers>".into(),
        source: e,
    })
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
    sig: &Signals,
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
        if r.iter.is_multiple_of(64) {
            bar.set_position(r.iter as u64);
            bar.set_message(format!("{:.6e}", r.objective));
        }
        // A stop signal ends the run after this iteration; its record is kept.
        if sig.exit_code().is_some() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let out = f(&mut cb);
    bar.finish_and_clear();
    out
}

/// Print the report, write the files, choose the exit code.
#[allow(clippy::too_many_arguments)]
fn finish(
    o: &Outcome,
    dir: OutDir,
    stream: Streamer,
    opts: &RunOpts,
    command: &str,
    inputs: &[(&str, &Path)],
    sig: &Signals,
) -> Result<ExitCode, AnyError> {
    let streamed = stream.finish(&o.fit.trace.events)?;
    let data = match inputs.iter().find(|(role, _)| *role == "data") {
        Some((_, p)) => match nmf_core::datasets::bundled(p) {
            Some(name) => format!("bundled data set {name}"),
            None => format!(
                "from {}",
                nmf_core::io::escape(&nmf_core::io::origin_name(p).display().to_string())
            ),
        },
        None => format!("{:?} data drawn from the seed", o.experiment.data).to_lowercase(),
    };
    let stats = report::RunStats {
        rows: streamed.rows,
        last: streamed.last.as_ref(),
        data,
    };
    say(&report::claims_table(o, &stats))?;
    if opts.writes(OutputArg::Summary) {
        let provenance = report::provenance(o, inputs)?;
        let summary = report::summary(o, &stats, command, provenance);
        dir.write("summary.json", |w| {
            serde_json::to_writer_pretty(&mut *w, &summary)
                .map_err(|e| NmfError::parse("summary.json", e.to_string()))
        })?;
    }
    if opts.writes(OutputArg::Figures) {
        let dims = o.experiment.dims();
        let figures = nmf_plot::figures_html_linked(
            &format!(
                "nmf-lab {command}: {}×{} rank {}, seed {}, {} iterations ({}; {} rows drawn)",
                dims.m,
                dims.n,
                dims.k,
                o.experiment.seed,
                streamed.rows,
                o.fit.stop,
                streamed.thinned.rows.len()
            ),
            &nmf_plot::all_figures(&streamed.thinned, dims),
            "plotly.min.js",
        );
        for (name, text) in [
            ("figures.html", figures.as_str()),
            ("plotly.min.js", nmf_plot::plotly_js()),
        ] {
            dir.write(name, |w| {
                w.write_all(text.as_bytes()).map_err(|e| NmfError::Io {
                    path: name.into(),
                    source: e,
                })
            })?;
        }
    }
    if opts.writes(OutputArg::Factors) {
        // The factors also as .npy when the data came as .npy (a NumPy user's round trip).
        let npy = inputs.iter().any(|(role, p)| {
            *role == "data" && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("npy"))
        });
        if npy {
            for (name, a) in [("U.npy", &o.fit.factors.u), ("V.npy", &o.fit.factors.v)] {
                dir.write_with(name, |path| nmf_core::io::write_matrix_npy(path, a))?;
            }
        }
        for (name, a) in [("U.csv", &o.fit.factors.u), ("V.csv", &o.fit.factors.v)] {
            dir.write(name, |w| {
                w.write_all(matrix_to_csv(a).as_bytes())
                    .map_err(|e| NmfError::Io {
                        path: name.into(),
                        source: e,
                    })
            })?;
        }
    }
    let target = dir.target().to_path_buf();
    dir.commit()?;
    let written: Vec<&str> = [
        (OutputArg::Trace, "trace.csv, trace.json"),
        (OutputArg::Summary, "summary.json"),
        (OutputArg::Figures, "figures.html, plotly.min.js"),
        (OutputArg::Factors, "U.csv, V.csv"),
    ]
    .into_iter()
    .filter(|(o, _)| opts.writes(*o))
    .map(|(_, f)| f)
    .collect();
    say(&format!(
        "wrote {}/{{{}}}\n",
        target.display(),
        written.join(", ")
    ))?;
    if let Some(code) = sig.exit_code() {
        warn(&format!(
            "nmf-lab: interrupted: {}; the output is complete up to there (resume with --init-u {p}/U.csv --init-v {p}/V.csv)",
            o.fit.stop,
            p = target.display()
        ));
        return Ok(ExitCode::from(code));
    }
    if o.fit.stop.is_failure() {
        warn(&format!("nmf-lab: error: {}", o.fit.stop));
        return Ok(ExitCode::from(code::RUN_UNDEFINED));
    }
    if o.claims.iter().any(|v| v.status == Status::Fails) {
        warn("nmf-lab: a claim of the proof failed; see the table above");
        return Ok(ExitCode::from(code::CLAIM_FAILED));
    }
    if o.claims.iter().any(|v| v.status == Status::NotExercised) {
        warn("nmf-lab: a claim was not exercised (no row could be checked); see the table above");
        return Ok(ExitCode::from(code::NOT_EXERCISED));
    }
    Ok(ExitCode::SUCCESS)
}
