//! `nmf-lab sweep`: run a grid, report on it, merge shards, write Slurm scripts. Every
//! computation is `nmf_core::sweep`'s; this file parses, prints and writes.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use nmf_core::io::write_atomic;
use nmf_core::sweep::files::{self, SweepFiles};
use nmf_core::sweep::{self, stats, Grid, Shard, SweepRow, Tally};
use nmf_core::tables::{self, Field, TextLayout};
use nmf_core::NmfError;

use crate::output::OutDir;
use crate::{code, say, warn, AnyError};

/// What `sweep --help` adds after the options.
pub const SWEEP_HELP: &str = "A grid (TOML) lists solvers ([[solver]] name = \"mu\" | \"mu-eps\" | \"mu-lin\" | \"hals\" | \"hals-accel\", with eps / sigma / delta / alpha), shapes [[m, n, k], ...], data (\"uniform\", \"planted\", \"halfnormal\", { kind = \"sparse\", density = p }, { kind = \"file\", path = \"m.csv\" }), init (\"note\", \"scaled\"), seeds ({ start = S, count = N } or a list), iters, tol. Instances are numbered in the order solver → data → shape → init → seed; --shard I/N runs the ids ≡ I (mod N).

Writes DIR/results.csv (one row per instance, one column group per claim), DIR/results.jsonl (the same rows; each line replays with `nmf-lab reproduce --instance LINE`), DIR/grid.toml and DIR/sweep.json. The files are byte-identical for any --threads, and `sweep merge` of the shards gives the unsharded files byte for byte.

Exit codes:
  0   every declared claim was checked and holds on every instance
  1   bad grid or input, or I/O error: nothing is written
  2   some claim failed on some instance (every file is still written)
  3   no claim failed, but a run stopped because its step became undefined
  5   no claim failed, but some declared claim was not exercised on some instance (or an instance could not run)
  64  usage error (e.g. --shard not I/N with I < N)
  130 interrupted by SIGINT, 143 by SIGTERM: nothing is written (--out is left as it was)";

/// Parse `--shard I/N`.
pub fn parse_shard(s: &str) -> Result<Shard, String> {
    s.parse()
}

/// The exit code of a sweep's rows (see [`SWEEP_HELP`]).
fn exit_of(t: &Tally) -> ExitCode {
    if t.failed > 0 {
        ExitCode::from(code::CLAIM_FAILED)
    } else if t.undefined > 0 {
        ExitCode::from(code::RUN_UNDEFINED)
    } else if t.not_exercised > 0 {
        ExitCode::from(code::NOT_EXERCISED)
    } else {
        ExitCode::SUCCESS
    }
}

/// A line about the rows, and the first failing instances with how to replay them.
fn tally_text(t: &Tally, rows: &[SweepRow]) -> String {
    let mut s = format!(
        "{} instances: {} with a failed claim, {} with a claim not exercised or not run, {} stopped with an undefined step\n",
        t.instances, t.failed, t.not_exercised, t.undefined
    );
    for r in rows
        .iter()
        .filter(|r| r.worst_status() == nmf_core::Status::Fails)
        .take(5)
    {
        let failed: Vec<&str> = r
            .claims
            .iter()
            .filter(|c| c.status == nmf_core::Status::Fails)
            .map(|c| c.claim.as_str())
            .collect();
        s.push_str(&format!(
            "  FAILS {}: {} (replay: line {} of results.jsonl)\n",
            files::describe(r),
            failed.join(", "),
            r.id + 1
        ));
    }
    s
}

fn write_files(dir: &OutDir, f: &SweepFiles) -> Result<(), NmfError> {
    for (name, bytes) in f.named() {
        dir.write(name, |w| {
            w.write_all(&bytes).map_err(|e| NmfError::Io {
                path: name.into(),
                source: e,
            })
        })?;
    }
    Ok(())
}

/// `nmf-lab sweep --grid G --out DIR [--shard I/N] [--threads T]`.
pub fn run(
    grid_path: &Path,
    out: &Path,
    shard: Shard,
    threads: usize,
    quiet: bool,
) -> Result<ExitCode, AnyError> {
    let grid = Grid::load(grid_path)?;
    let mut inputs: Vec<PathBuf> = vec![grid_path.to_path_buf()];
    inputs.extend(grid.data_files().into_iter().map(|(p, _)| p));
    let dir = OutDir::prepare(
        out,
        &inputs.iter().map(PathBuf::as_path).collect::<Vec<_>>(),
    )?;
    let total = grid.count();
    let n = shard.size(total);
    let target = if quiet {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(Some(n as u64), target);
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:40} {pos}/{len} instances  [{elapsed_precise}, ETA {eta}]",
        )
        .expect("valid template"),
    );
    let sig = crate::install_signals()?;
    let rows = sweep::run_until(&grid, shard, threads, &|| bar.inc(1), &|| {
        sig.exit_code().is_some()
    })?;
    bar.finish_and_clear();
    let Some(rows) = rows else {
        // Dropping the unit removes its temporary directory: --out is left as it was.
        drop(dir);
        let code = sig.exit_code().unwrap_or(code::BAD_INPUT);
        warn(&format!(
            "nmf-lab: interrupted: nothing written ({} left as it was)",
            out.display()
        ));
        return Ok(ExitCode::from(code));
    };
    let f = SweepFiles::new(&grid, shard, &rows);
    write_files(&dir, &f)?;
    let target = dir.target().to_path_buf();
    dir.commit()?;
    let t = Tally::of(&rows);
    say(&format!(
        "sweep {}: shard {shard} of {total} instances\n{}wrote {}/{{{}, {}, {}, {}}}\n",
        grid_path.display(),
        tally_text(&t, &rows),
        target.display(),
        files::RESULTS_CSV,
        files::RESULTS_JSONL,
        files::GRID_TOML,
        files::SWEEP_JSON
    ))?;
    if t.failed > 0 {
        warn("nmf-lab: a claim failed on some instance; see results.csv");
    }
    Ok(exit_of(&t))
}

/// `nmf-lab sweep merge --out DIR SHARD...`.
pub fn merge(out: &Path, shards: &[PathBuf]) -> Result<ExitCode, AnyError> {
    let f = files::merge(shards)?;
    let dir = OutDir::prepare(
        out,
        &shards.iter().map(PathBuf::as_path).collect::<Vec<_>>(),
    )?;
    write_files(&dir, &f)?;
    let target = dir.target().to_path_buf();
    dir.commit()?;
    let rows = files::read_jsonl(&target.join(files::RESULTS_JSONL))?;
    let t = Tally::of(&rows);
    say(&format!(
        "merged {} shards of {} instances\n{}wrote {}\n",
        shards.len(),
        f.meta.instances,
        tally_text(&t, &rows),
        target.display()
    ))?;
    Ok(exit_of(&t))
}

const CLAIM_FIELDS: [Field; 13] = [
    Field::left("solver", 46).after(""),
    Field::left("claim", 26),
    Field::right("instances", 6),
    Field::right("violations", 5),
    Field::right("rate_lo", 9),
    Field::right("rate_hi", 9),
    Field::right("rate_upper", 9),
    Field::right("usage_min", 9),
    Field::right("usage_median", 9),
    Field::right("usage_p90", 9),
    Field::right("usage_p99", 9),
    Field::right("usage_max", 9),
    Field::right("worst_instance", 7),
];

const SOLVER_FIELDS: [Field; 9] = [
    Field::left("solver", 46).after(""),
    Field::right("instances", 6),
    Field::right("failed", 6),
    Field::right("underflowed", 7),
    Field::right("underflow_mean", 11),
    Field::right("underflow_half", 9),
    Field::right("zeroed", 6),
    Field::right("objective_mean", 10),
    Field::right("objective_half", 9),
];

/// `nmf-lab sweep report DIR`: the statistics as tables, and `DIR/report.html`.
pub fn report(dir: &Path) -> Result<ExitCode, AnyError> {
    let (meta, rows) = files::read_dir(dir)?;
    let s = stats::summarize(&rows);
    let mut text = format!(
        "sweep {}: {} rows (shard {} of {} instances, grid sha256 {})\n\n\
Per solver and claim: instances checked (N), instances violated, the violation rate's exact \
Clopper–Pearson 95 % interval (two-sided: rate lo, rate hi) and its one-sided 95 % upper bound \
(rate <), quantiles of the worst usage per instance (≤ 1 holds), and the instance with the \
largest usage.\n",
        dir.display(),
        rows.len(),
        meta.shard,
        meta.instances,
        &meta.grid_sha256[..12.min(meta.grid_sha256.len())]
    );
    text.push_str(&tables::sweep_claims(&s.claims).to_text(&TextLayout {
        fields: &CLAIM_FIELDS,
        end: "",
        header: true,
    }));
    text.push_str(
        "\nPer solver: the mean iteration of the first underflow (over the instances that underflowed) and the mean final objective, each ± the half-width of its two-sided 95 % Student-t interval.\n",
    );
    text.push_str(&tables::sweep_solvers(&s.solvers).to_text(&TextLayout {
        fields: &SOLVER_FIELDS,
        end: "",
        header: true,
    }));
    let figures = nmf_plot::sweep_figures(&s);
    let html = nmf_plot::figures_html_linked(
        &format!(
            "nmf-lab sweep report: {} ({} instances)",
            dir.display(),
            rows.len()
        ),
        &figures,
        "plotly.min.js",
    );
    for (name, body) in [
        ("report.html", html.as_str()),
        ("plotly.min.js", nmf_plot::plotly_js()),
    ] {
        let p = dir.join(name);
        write_atomic(&p, |w| {
            w.write_all(body.as_bytes()).map_err(|e| NmfError::Io {
                path: p.clone(),
                source: e,
            })
        })?;
    }
    text.push_str(&format!(
        "\nwrote {}/report.html (plotly.min.js beside it: opens offline)\n",
        dir.display()
    ));
    say(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// A word for a POSIX shell: single-quoted.
fn sh(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

fn absolute(p: &Path) -> Result<PathBuf, NmfError> {
    let cwd = std::env::current_dir().map_err(|e| NmfError::Io {
        path: ".".into(),
        source: e,
    })?;
    Ok(if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    })
}

/// The Slurm job options shared by both scripts.
pub struct SlurmOpts<'a> {
    pub partition: Option<&'a str>,
    pub time: Option<&'a str>,
    pub threads: usize,
}

/// `nmf-lab sweep slurm --grid G --shards N --out DIR`: `DIR/sweep.sbatch` (a job array, one
/// task per shard), `DIR/merge.sbatch` and `DIR/submit.sh` (submits the array, then the merge
/// with `--dependency=afterok`).
pub fn slurm(
    grid_path: &Path,
    shards: usize,
    out: &Path,
    o: &SlurmOpts<'_>,
) -> Result<ExitCode, AnyError> {
    let grid = Grid::load(grid_path)?;
    if shards == 0 {
        return Err(NmfError::Param {
            name: "shards",
            message: "must be at least 1".into(),
        }
        .into());
    }
    let total = grid.count();
    let exe = std::env::current_exe().map_err(|e| NmfError::Io {
        path: "<the nmf-lab binary>".into(),
        source: e,
    })?;
    let grid_abs = grid_path.canonicalize().map_err(|e| NmfError::Io {
        path: grid_path.into(),
        source: e,
    })?;
    let out_abs = absolute(out)?;
    let dir = OutDir::prepare(out, &[grid_path])?;
    let mut head = String::new();
    if let Some(p) = o.partition {
        head.push_str(&format!("#SBATCH --partition={p}\n"));
    }
    if let Some(t) = o.time {
        head.push_str(&format!("#SBATCH --time={t}\n"));
    }
    let shard_dir = out_abs.join("shards");
    let sweep_sbatch = format!(
        "#!/bin/bash\n\
# nmf-lab sweep of {grid} ({total} instances) as a Slurm job array: one task per shard.\n\
# Written by `nmf-lab sweep slurm`; submit with submit.sh (it also queues the merge).\n\
#SBATCH --job-name=nmf-sweep\n\
#SBATCH --array=0-{last}\n\
#SBATCH --cpus-per-task={cpus}\n\
#SBATCH --output={out}/sweep-%A_%a.log\n\
{head}set -euo pipefail\n\
code=0\n\
{exe} sweep --grid {grid} --shard \"$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT\" \\\n  \
--out {shards}/\"$SLURM_ARRAY_TASK_ID\" --threads \"${{SLURM_CPUS_PER_TASK:-{cpus}}}\" --quiet || code=$?\n\
# 2 (a claim failed), 3 (a step undefined), 5 (a claim not exercised): the shard's files are\n\
# complete; the merge reports them. Anything else is an error of the task.\n\
case $code in 0|2|3|5) exit 0 ;; *) exit \"$code\" ;; esac\n",
        grid = sh(&grid_abs),
        last = shards - 1,
        cpus = o.threads.max(1),
        out = out_abs.display(),
        exe = sh(&exe),
        shards = sh(&shard_dir),
    );
    let list: Vec<String> = (0..shards)
        .map(|i| sh(&shard_dir.join(i.to_string())))
        .collect();
    let merged = out_abs.join("merged");
    let merge_sbatch = format!(
        "#!/bin/bash\n\
# Merge the shards of the job array into {merged} (exactly the files of an unsharded sweep),\n\
# then write its report. Queued by submit.sh after the array (afterok).\n\
#SBATCH --job-name=nmf-sweep-merge\n\
#SBATCH --output={out}/merge-%j.log\n\
{head}set -uo pipefail\n\
{exe} sweep merge --out {m} \\\n  {list}\n\
code=$?\n\
if [ -f {m}/sweep.json ]; then {exe} sweep report {m} || exit $?; fi\n\
exit $code\n",
        merged = merged.display(),
        out = out_abs.display(),
        exe = sh(&exe),
        m = sh(&merged),
        list = list.join(" \\\n  "),
    );
    let submit = format!(
        "#!/bin/sh\n\
# Submit the sweep's job array, then its merge as a job that runs after every task succeeded.\n\
# Prints `array ID` and `merge ID` (one per line), then a comment.\n\
set -eu\n\
array=$(sbatch --parsable {s})\n\
array=${{array%%;*}}\n\
merge=$(sbatch --parsable --dependency=afterok:\"$array\" {mg})\n\
merge=${{merge%%;*}}\n\
echo \"array $array\"\n\
echo \"merge $merge\"\n\
echo \"# job array $array: {shards} shards of {total} instances; merge job $merge after it: results in {merged}\"\n",
        s = sh(&out_abs.join("sweep.sbatch")),
        mg = sh(&out_abs.join("merge.sbatch")),
        merged = merged.display(),
    );
    for (name, text) in [
        ("sweep.sbatch", &sweep_sbatch),
        ("merge.sbatch", &merge_sbatch),
        ("submit.sh", &submit),
    ] {
        dir.write(name, |w| {
            w.write_all(text.as_bytes()).map_err(|e| NmfError::Io {
                path: name.into(),
                source: e,
            })
        })?;
    }
    let target = dir.target().to_path_buf();
    dir.commit()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let p = target.join("submit.sh");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).map_err(|e| {
            NmfError::Io {
                path: p.clone(),
                source: e,
            }
        })?;
    }
    say(&format!(
        "wrote {t}/{{sweep.sbatch, merge.sbatch, submit.sh}}: {shards} array tasks over {total} instances; run {t}/submit.sh\n",
        t = target.display()
    ))?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exit_code_puts_a_failed_claim_first() {
        let t = |failed, undefined, not_exercised| Tally {
            instances: 10,
            failed,
            undefined,
            not_exercised,
        };
        let code = |t: Tally| exit_of(&t);
        assert_eq!(code(t(0, 0, 0)), ExitCode::SUCCESS);
        assert_eq!(code(t(1, 1, 1)), ExitCode::from(code::CLAIM_FAILED));
        assert_eq!(code(t(0, 1, 1)), ExitCode::from(code::RUN_UNDEFINED));
        assert_eq!(code(t(0, 0, 1)), ExitCode::from(code::NOT_EXERCISED));
    }

    #[test]
    fn shell_words_survive_quotes_and_spaces() {
        assert_eq!(sh(Path::new("/a b/it's")), "'/a b/it'\\''s'");
    }
}
