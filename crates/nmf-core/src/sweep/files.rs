//! A sweep's files: `results.csv`, `results.jsonl`, `grid.toml` and `sweep.json`, and the
//! merge of shards.
//!
//! # `results.csv`
//!
//! One header line, then one line per instance in id order. The columns are fixed
//! ([`csv_columns`]): the instance (`id, solver, eps, sigma, delta, alpha, m, n, k, data, density,
//! data_file, init, seed, iters, tol, objective`), the run (`stop, stop_iter, iterations,
//! final_objective, final_kkt, first_underflow, first_zero, error`), then for every claim of
//! [`super::claim_names`] the group `CLAIM.status, CLAIM.checked, CLAIM.violations,
//! CLAIM.worst_usage, CLAIM.worst_iter`. A status is `holds`, `fails` or `not_exercised`; a
//! claim the solver does not declare has `n/a` in all five columns. A value that does not
//! exist (a parameter of another solver, no underflow) is an empty field. Floats are written
//! in the shortest form that reads back to the same `f64` (ryu's, through serde_json;
//! `inf`, `-inf`, `NaN` for the non-finite).
//!
//! # `results.jsonl`
//!
//! One [`SweepRow`] per line, in id order; a line holds the instance (`experiment`,
//! `data_file`), so `nmf-lab reproduce --instance "$(sed -n 2p results.jsonl)"` replays it.
//! Non-finite floats (a usage can be ∞) are written as the strings `"inf"`, `"-inf"`, `"NaN"`.
//!
//! # Byte identity
//!
//! Every line depends on its row only, so the files of a shard are the unsharded files'
//! lines of its ids, and [`merge`] interleaves the shards' lines by id without re-rendering.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{claim_names, Grid, Shard, SweepRow};
use crate::claims::Status;
use crate::error::{NmfError, Result};
use crate::solver::SolverSpec;

/// The file names of a sweep directory.
pub const RESULTS_CSV: &str = "results.csv";
pub const RESULTS_JSONL: &str = "results.jsonl";
pub const GRID_TOML: &str = "grid.toml";
pub const SWEEP_JSON: &str = "sweep.json";

/// The format tag of `sweep.json`.
pub const FORMAT: &str = "nmf-lab sweep 1";

/// Serde of an `Option<f64>` that keeps non-finite values: finite as a number, ±∞ and NaN as
/// the strings `"inf"`, `"-inf"`, `"NaN"`, `None` as `null`.
pub mod opt_float {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        match x {
            None => s.serialize_none(),
            Some(v) if v.is_finite() => s.serialize_f64(*v),
            Some(v) => s.serialize_str(&super::float(*v)),
        }
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Num(f64),
        Text(String),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        match Option::<Repr>::deserialize(d)? {
            None => Ok(None),
            Some(Repr::Num(x)) => Ok(Some(x)),
            Some(Repr::Text(t)) => t
                .parse::<f64>()
                .map(Some)
                .map_err(|_| serde::de::Error::custom(format!("not a number: {t:?}"))),
        }
    }
}

/// An `f64` in the shortest form that reads back to the same bits (ryu), `inf`/`-inf`/`NaN`
/// for the non-finite.
pub fn float(x: f64) -> String {
    if x.is_finite() {
        serde_json::to_string(&x).expect("a finite f64 serialises")
    } else if x.is_nan() {
        "NaN".into()
    } else if x > 0.0 {
        "inf".into()
    } else {
        "-inf".into()
    }
}

/// The columns of `results.csv`, in order.
pub fn csv_columns() -> Vec<String> {
    let mut c: Vec<String> = [
        "id",
        "solver",
        "eps",
        "sigma",
        "delta",
        "alpha",
        "m",
        "n",
        "k",
        "data",
        "density",
        "data_file",
        "init",
        "seed",
        "iters",
        "tol",
        "objective",
        "stop",
        "stop_iter",
        "iterations",
        "final_objective",
        "final_kkt",
        "first_underflow",
        "first_zero",
        "error",
    ]
    .map(String::from)
    .to_vec();
    for name in claim_names() {
        for f in [
            "status",
            "checked",
            "violations",
            "worst_usage",
            "worst_iter",
        ] {
            c.push(format!("{name}.{f}"));
        }
    }
    c
}

fn opt<T: ToString>(x: Option<T>) -> String {
    x.map_or_else(String::new, |v| v.to_string())
}

/// The word a status is written as in `results.csv`.
pub fn status_csv(s: Status) -> &'static str {
    match s {
        Status::Holds => "holds",
        Status::Fails => "fails",
        Status::NotExercised => "not_exercised",
        Status::NotApplicable => "n/a",
    }
}

/// A serde enum's name (its `rename_all` spelling) as a plain string.
fn serde_name<T: Serialize>(x: &T) -> String {
    match serde_json::to_value(x) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// The fields of one row of `results.csv`.
pub fn csv_fields(r: &SweepRow) -> Vec<String> {
    let e = &r.experiment;
    let (eps, sigma, delta, alpha) = match e.solver {
        SolverSpec::Mu => (None, None, None, None),
        SolverSpec::MuEps { eps } | SolverSpec::Hals { eps } => (Some(eps), None, None, None),
        SolverSpec::MuLin { sigma, delta } => (None, Some(sigma), Some(delta), None),
        SolverSpec::HalsAccel { eps, alpha, delta } => (Some(eps), None, Some(delta), Some(alpha)),
    };
    let (data, density) = match (&r.data_file, e.data) {
        (Some(_), _) => ("file", None),
        (None, crate::DataKind::Sparse { density }) => ("sparse", Some(density)),
        (None, k) => (k.name(), None),
    };
    let stop = r.stop.as_ref().map(|s| match serde_json::to_value(s) {
        Ok(serde_json::Value::Object(o)) => (
            o.get("reason")
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string(),
            o.get("iter").and_then(serde_json::Value::as_u64),
        ),
        _ => (String::new(), None),
    });
    let mut f = vec![
        r.id.to_string(),
        e.solver.name().to_string(),
        opt(eps.map(float)),
        opt(sigma.map(float)),
        opt(delta.map(float)),
        opt(alpha.map(float)),
        e.m.to_string(),
        e.n.to_string(),
        e.k.to_string(),
        data.to_string(),
        opt(density.map(float)),
        opt(r.data_file.as_ref().map(|p| p.display().to_string())),
        serde_name(&e.init),
        e.seed.to_string(),
        e.params.max_iter.to_string(),
        float(e.params.tol),
        serde_name(&e.params.objective),
        opt(stop.as_ref().map(|s| s.0.clone())),
        opt(stop.and_then(|s| s.1)),
        r.iterations.to_string(),
        opt(r.final_objective.map(float)),
        opt(r.final_kkt.map(float)),
        opt(r.first_underflow),
        opt(r.first_zero),
        opt(r.error.clone()),
    ];
    for c in &r.claims {
        if c.status == Status::NotApplicable {
            f.extend(std::iter::repeat_n("n/a".to_string(), 5));
        } else {
            f.extend([
                status_csv(c.status).to_string(),
                c.checked.to_string(),
                c.violations.to_string(),
                opt(c.worst_usage.map(float)),
                opt(c.worst_iter),
            ]);
        }
    }
    f
}

fn csv_line(fields: &[String]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    w.write_record(fields).expect("writing to memory");
    w.into_inner().expect("writing to memory")
}

/// The header line of `results.csv`.
pub fn csv_header() -> Vec<u8> {
    csv_line(&csv_columns())
}

/// `results.csv` of `rows` (in the order given).
pub fn results_csv(rows: &[SweepRow]) -> Vec<u8> {
    let mut out = csv_header();
    for r in rows {
        out.extend(csv_line(&csv_fields(r)));
    }
    out
}

/// `results.jsonl` of `rows` (in the order given).
pub fn results_jsonl(rows: &[SweepRow]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in rows {
        serde_json::to_writer(&mut out, r).expect("a row serialises");
        out.push(b'\n');
    }
    out
}

/// Read `results.jsonl`.
pub fn read_jsonl(path: &Path) -> Result<Vec<SweepRow>> {
    let text = read_text(path)?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .map_err(|e| NmfError::parse(path, format!("line {}: {e}", i + 1)))
        })
        .collect()
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| NmfError::Io {
        path: path.into(),
        source: e,
    })
}

/// A data file a sweep read, with the SHA-256 of its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataFileHash {
    pub path: PathBuf,
    pub sha256: String,
}

/// `sweep.json`: which grid, which shard, how many instances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepMeta {
    pub format: String,
    pub nmf_lab_version: String,
    /// SHA-256 of the grid file's bytes (`grid.toml`).
    pub grid_sha256: String,
    pub data_files: Vec<DataFileHash>,
    pub shard: Shard,
    /// Instances of the whole grid.
    pub instances: usize,
    /// Instances in this shard (rows of the files).
    pub rows: usize,
}

impl SweepMeta {
    /// The meta data of `shard` of `grid`.
    pub fn new(grid: &Grid, shard: Shard) -> SweepMeta {
        let total = grid.count();
        SweepMeta {
            format: FORMAT.into(),
            nmf_lab_version: env!("CARGO_PKG_VERSION").into(),
            grid_sha256: grid.sha256(),
            data_files: grid
                .data_files()
                .into_iter()
                .map(|(path, sha256)| DataFileHash { path, sha256 })
                .collect(),
            shard,
            instances: total,
            rows: shard.size(total),
        }
    }

    /// The file's text (pretty, ending in a newline).
    pub fn to_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).expect("serialises");
        v.push(b'\n');
        v
    }
}

/// The four files of a sweep directory, as bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepFiles {
    pub meta: SweepMeta,
    pub csv: Vec<u8>,
    pub jsonl: Vec<u8>,
    pub grid: Vec<u8>,
}

impl SweepFiles {
    /// The files of `rows`, the rows of `shard` of `grid` in id order.
    pub fn new(grid: &Grid, shard: Shard, rows: &[SweepRow]) -> SweepFiles {
        SweepFiles {
            meta: SweepMeta::new(grid, shard),
            csv: results_csv(rows),
            jsonl: results_jsonl(rows),
            grid: grid.text.as_bytes().to_vec(),
        }
    }

    /// `(name, bytes)` of each file, in the order they are written.
    pub fn named(&self) -> [(&'static str, Vec<u8>); 4] {
        [
            (RESULTS_CSV, self.csv.clone()),
            (RESULTS_JSONL, self.jsonl.clone()),
            (GRID_TOML, self.grid.clone()),
            (SWEEP_JSON, self.meta.to_json()),
        ]
    }
}

fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| NmfError::Io {
        path: path.into(),
        source: e,
    })
}

/// One shard directory, read: its meta data, and the lines of its two result files with
/// their ids.
struct ShardDir {
    dir: PathBuf,
    meta: SweepMeta,
    grid: Vec<u8>,
    header: Vec<u8>,
    csv: Vec<(usize, Vec<u8>)>,
    jsonl: Vec<(usize, Vec<u8>)>,
}

fn read_shard(dir: &Path) -> Result<ShardDir> {
    let meta_path = dir.join(SWEEP_JSON);
    let meta: SweepMeta = serde_json::from_slice(&read_bytes(&meta_path)?)
        .map_err(|e| NmfError::parse(&meta_path, format!("not a sweep's {SWEEP_JSON}: {e}")))?;
    if meta.format != FORMAT {
        return Err(NmfError::parse(
            &meta_path,
            format!("format {:?}, expected {FORMAT:?}", meta.format),
        ));
    }
    let grid = read_bytes(&dir.join(GRID_TOML))?;
    // results.csv: the records' byte ranges, so that lines are copied, not re-rendered.
    let csv_path = dir.join(RESULTS_CSV);
    let bytes = read_bytes(&csv_path)?;
    let mut rd = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes.as_slice());
    let mut rec = csv::ByteRecord::new();
    let mut start = 0usize;
    let mut header = None;
    let mut csv_rows = Vec::new();
    loop {
        let more = rd
            .read_byte_record(&mut rec)
            .map_err(|e| NmfError::parse(&csv_path, e.to_string()))?;
        if !more {
            break;
        }
        let end = rd.position().byte() as usize;
        let line = bytes[start..end].to_vec();
        start = end;
        if header.is_none() {
            header = Some(line);
            continue;
        }
        let id = std::str::from_utf8(rec.get(0).unwrap_or_default())
            .ok()
            .and_then(|s| s.parse::<usize>().ok())
            .ok_or_else(|| {
                NmfError::parse(
                    &csv_path,
                    format!("line {}: no instance id", csv_rows.len() + 2),
                )
            })?;
        csv_rows.push((id, line));
    }
    let jsonl_path = dir.join(RESULTS_JSONL);
    let text = read_bytes(&jsonl_path)?;
    #[derive(Deserialize)]
    struct Id {
        id: usize,
    }
    let mut jsonl = Vec::new();
    for (i, line) in text.split_inclusive(|&b| b == b'\n').enumerate() {
        let id: Id = serde_json::from_slice(line)
            .map_err(|e| NmfError::parse(&jsonl_path, format!("line {}: {e}", i + 1)))?;
        jsonl.push((id.id, line.to_vec()));
    }
    Ok(ShardDir {
        dir: dir.to_path_buf(),
        meta,
        grid,
        header: header.unwrap_or_default(),
        csv: csv_rows,
        jsonl,
    })
}

/// Join the shard directories of one grid into the files the unsharded sweep writes, byte
/// for byte. Errors: a directory that is not a sweep, shards of different grids (or data
/// files, or versions), a shard missing or given twice, a shard whose rows are not the ids it
/// owns.
pub fn merge(dirs: &[PathBuf]) -> Result<SweepFiles> {
    let bad = |msg: String| NmfError::Param {
        name: "shards",
        message: msg,
    };
    if dirs.is_empty() {
        return Err(bad("no shard directory given".into()));
    }
    let shards = dirs
        .iter()
        .map(|d| read_shard(d))
        .collect::<Result<Vec<_>>>()?;
    let first = &shards[0];
    let count = first.meta.shard.count;
    for s in &shards[1..] {
        let same = SweepMeta {
            shard: first.meta.shard,
            rows: first.meta.rows,
            ..s.meta.clone()
        } == first.meta
            && s.meta.shard.count == count;
        if !same || s.grid != first.grid || s.header != first.header {
            let what = if s.meta.grid_sha256 != first.meta.grid_sha256 || s.grid != first.grid {
                format!(
                    "grid {} against {}",
                    &s.meta.grid_sha256[..12.min(s.meta.grid_sha256.len())],
                    &first.meta.grid_sha256[..12.min(first.meta.grid_sha256.len())]
                )
            } else if s.meta.shard.count != count {
                format!("{} shards against {count}", s.meta.shard.count)
            } else {
                "data files, version or columns differ".into()
            };
            return Err(bad(format!(
                "{} and {} are shards of different sweeps ({what})",
                s.dir.display(),
                first.dir.display()
            )));
        }
    }
    let mut by_index: Vec<Option<&ShardDir>> = vec![None; count];
    for s in &shards {
        let i = s.meta.shard.index;
        if let Some(other) = by_index[i] {
            return Err(bad(format!(
                "shard {i}/{count} given twice: {} and {}",
                other.dir.display(),
                s.dir.display()
            )));
        }
        by_index[i] = Some(s);
    }
    let missing: Vec<String> = by_index
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_none())
        .map(|(i, _)| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(bad(format!(
            "shard{} {} missing (the sweep has {count} shards)",
            if missing.len() > 1 { "s" } else { "" },
            missing.join(", ")
        )));
    }
    let total = first.meta.instances;
    let mut csv = first.header.clone();
    let mut jsonl = Vec::new();
    let mut next = vec![0usize; count];
    for id in 0..total {
        let i = id % count;
        let s = by_index[i].expect("every shard present");
        let j = next[i];
        let (Some((cid, cline)), Some((jid, jline))) = (s.csv.get(j), s.jsonl.get(j)) else {
            return Err(bad(format!(
                "{} lacks instance {id} (its files are incomplete)",
                s.dir.display()
            )));
        };
        if *cid != id || *jid != id {
            return Err(bad(format!(
                "{}: expected instance {id} in line {} of its results, found {}",
                s.dir.display(),
                j + 2,
                if *cid != id { cid } else { jid }
            )));
        }
        csv.extend_from_slice(cline);
        jsonl.extend_from_slice(jline);
        next[i] += 1;
    }
    for (i, s) in by_index.iter().enumerate() {
        let s = s.expect("present");
        if s.csv.len() != next[i] || s.jsonl.len() != next[i] {
            return Err(bad(format!(
                "{} has more rows than its shard's {} instances",
                s.dir.display(),
                next[i]
            )));
        }
    }
    Ok(SweepFiles {
        meta: SweepMeta {
            shard: Shard::ALL,
            rows: total,
            ..first.meta.clone()
        },
        csv,
        jsonl,
        grid: first.grid.clone(),
    })
}

/// The rows of a sweep directory (`results.jsonl`), with its meta data.
pub fn read_dir(dir: &Path) -> Result<(SweepMeta, Vec<SweepRow>)> {
    let meta_path = dir.join(SWEEP_JSON);
    let meta: SweepMeta = serde_json::from_slice(&read_bytes(&meta_path)?)
        .map_err(|e| NmfError::parse(&meta_path, format!("not a sweep's {SWEEP_JSON}: {e}")))?;
    let rows = read_jsonl(&dir.join(RESULTS_JSONL))?;
    Ok((meta, rows))
}

/// A one-line description of the row for messages: `#12 mu 15×8 k=5 uniform seed 3`.
pub fn describe(r: &SweepRow) -> String {
    let e = &r.experiment;
    let mut s = format!("#{} {} {}×{} k={} ", r.id, e.solver.name(), e.m, e.n, e.k);
    match &r.data_file {
        Some(p) => {
            let _ = write!(s, "{}", p.display());
        }
        None => s.push_str(e.data.name()),
    }
    let _ = write!(s, " seed {}", e.seed);
    s
}
