//! The grid file: what a sweep runs, parsed and validated before anything runs.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use ndarray::Array2;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::{NmfError, Result, Which};
use crate::init::{DataKind, InitKind};
use crate::run::{ObjectiveMode, RunParams};
use crate::solver::{HalsAccel, LinMu, MuEps, SolverSpec};
use crate::Experiment;

use super::Instance;

/// A solver as a grid names it: `[[solver]] name = "mu-eps"`, its parameters optional (the
/// CLI's defaults: ε = 1e-16; Lin's σ = δ = 1e-8; accelerated HALS's α = ½, δ = 0.1).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(tag = "name", rename_all = "kebab-case", deny_unknown_fields)]
enum GridSolver {
    Mu {},
    MuEps {
        #[serde(default = "default_eps")]
        eps: f64,
    },
    MuLin {
        #[serde(default = "default_sigma")]
        sigma: f64,
        #[serde(default = "default_delta")]
        delta: f64,
    },
    Hals {
        #[serde(default = "default_eps")]
        eps: f64,
    },
    HalsAccel {
        #[serde(default = "default_eps")]
        eps: f64,
        #[serde(default = "default_alpha")]
        alpha: f64,
        #[serde(default = "default_accel_delta")]
        delta: f64,
    },
}

fn default_eps() -> f64 {
    MuEps::DEFAULT_EPS
}
fn default_sigma() -> f64 {
    LinMu::default().sigma
}
fn default_delta() -> f64 {
    LinMu::default().delta
}
fn default_alpha() -> f64 {
    HalsAccel::DEFAULT_ALPHA
}
fn default_accel_delta() -> f64 {
    HalsAccel::DEFAULT_DELTA
}
fn default_init() -> Vec<InitKind> {
    vec![InitKind::Note]
}

impl From<GridSolver> for SolverSpec {
    fn from(g: GridSolver) -> Self {
        match g {
            GridSolver::Mu {} => SolverSpec::Mu,
            GridSolver::MuEps { eps } => SolverSpec::MuEps { eps },
            GridSolver::MuLin { sigma, delta } => SolverSpec::MuLin { sigma, delta },
            GridSolver::Hals { eps } => SolverSpec::Hals { eps },
            GridSolver::HalsAccel { eps, alpha, delta } => {
                SolverSpec::HalsAccel { eps, alpha, delta }
            }
        }
    }
}

/// The file as written: every key known (`deny_unknown_fields`), the values that need more
/// than a type checked by [`Grid::parse`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrid {
    solver: Vec<GridSolver>,
    shapes: Vec<[usize; 3]>,
    data: Vec<toml::Value>,
    #[serde(default = "default_init")]
    init: Vec<InitKind>,
    seeds: toml::Value,
    iters: usize,
    #[serde(default)]
    tol: f64,
    #[serde(default)]
    objective: ObjectiveMode,
}

/// Where an instance's `M` comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum DataSource {
    /// Drawn from the instance's seed ([`crate::init::note_instance`]).
    Drawn(DataKind),
    /// A matrix file, read once when the grid is loaded.
    File(DataFile),
}

/// A data file of a grid.
#[derive(Debug, Clone, PartialEq)]
pub struct DataFile {
    /// The path as the rows record it: the grid's `path`, relative to the grid file's
    /// directory when it is relative.
    pub path: PathBuf,
    pub matrix: Arc<Array2<f64>>,
    /// SHA-256 of the file's bytes (in `sweep.json`: shards must have read the same data).
    pub sha256: String,
    /// The ranks run on it (`ranks = [..]`); `None`: the ranks of the grid's shapes of the
    /// file's m×n.
    pub ranks: Option<Vec<usize>>,
}

/// A validated grid: solvers × data × shapes × inits × seeds, with the run parameters.
///
/// # The file
///
/// ```toml
/// iters = 200                  # iterations per instance (required)
/// tol = 0.0                    # stop at this relative decrease; 0 = never (default 0)
/// objective = "auto"           # auto | gram | direct (default auto)
/// shapes = [[15, 8, 5], [30, 20, 4]]   # [m, n, k], 1 ≤ k ≤ min(m, n)
/// data = ["uniform", "planted", "halfnormal", { kind = "sparse", density = 0.3 },
///         { kind = "file", path = "../data/digits.csv", ranks = [10] }]
/// init = ["note", "scaled"]    # default ["note"]
/// seeds = { start = 0, count = 8 }     # or a list: seeds = [0, 3, 7]
///
/// [[solver]]
/// name = "mu"
/// [[solver]]
/// name = "mu-eps"
/// eps = 1e-16                  # optional (mu-eps, hals: ε = 1e-16; mu-lin: sigma, delta = 1e-8;
///                              # hals-accel: eps, alpha = 0.5, delta = 0.1)
/// ```
///
/// A file's `m×n` is its own; it runs with its `ranks`, or without them with the ranks of
/// the shapes of its size (an error when there is none).
///
/// # Expansion order
///
/// Instance ids count the nested loops **solver → data → shape → init → seed** (the seed
/// varies fastest), each list in the file's order, from 0.
#[derive(Debug, Clone)]
pub struct Grid {
    pub solvers: Vec<SolverSpec>,
    pub shapes: Vec<(usize, usize, usize)>,
    pub data: Vec<DataSource>,
    pub inits: Vec<InitKind>,
    pub seeds: Vec<u64>,
    /// Every instance's run parameters (rows not kept; the note's columns off).
    pub params: RunParams,
    /// The grid file's bytes, as read (copied to `DIR/grid.toml`).
    pub text: String,
}

/// Largest number of instances a grid may expand to.
pub const MAX_INSTANCES: usize = 100_000_000;

fn bad(path: &Path, message: impl Into<String>) -> NmfError {
    NmfError::parse(path, message)
}

/// `line L, column C` of byte offset `at` in `text`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

impl Grid {
    /// Read and validate a grid file.
    pub fn load(path: &Path) -> Result<Grid> {
        let text = std::fs::read_to_string(path).map_err(|e| NmfError::Io {
            path: path.into(),
            source: e,
        })?;
        let base = path.parent().unwrap_or(Path::new(""));
        Self::parse(&text, path, base)
    }

    /// Validate the text of a grid file; `path` names it in messages, `base` is the directory
    /// relative data paths start from. Every error names the field.
    pub fn parse(text: &str, path: &Path, base: &Path) -> Result<Grid> {
        let raw: RawGrid = toml::from_str(text).map_err(|e| {
            let msg = e.message().trim().replace('\n', " ");
            match e.span() {
                Some(s) => {
                    let (l, c) = line_col(text, s.start);
                    bad(path, format!("line {l}, column {c}: {msg}"))
                }
                None => bad(path, msg),
            }
        })?;
        let empty = |field: &str| {
            bad(
                path,
                format!("{field} is empty: the grid has zero instances"),
            )
        };
        if raw.solver.is_empty() {
            return Err(empty("solver"));
        }
        let solvers: Vec<SolverSpec> = raw.solver.into_iter().map(SolverSpec::from).collect();
        for (i, s) in solvers.iter().enumerate() {
            s.check()
                .map_err(|e| bad(path, format!("solver[{i}] ({}): {e}", s.title())))?;
        }
        if raw.shapes.is_empty() {
            return Err(empty("shapes"));
        }
        let mut shapes = Vec::new();
        for (i, &[m, n, k]) in raw.shapes.iter().enumerate() {
            if m == 0 || n == 0 || k == 0 || k > m.min(n) {
                return Err(bad(
                    path,
                    format!(
                        "shapes[{i}] = [{m}, {n}, {k}]: need m, n ≥ 1 and 1 ≤ k ≤ min(m, n) = {}",
                        m.min(n)
                    ),
                ));
            }
            shapes.push((m, n, k));
        }
        if raw.data.is_empty() {
            return Err(empty("data"));
        }
        let data = raw
            .data
            .iter()
            .enumerate()
            .map(|(i, v)| data_source(v, i, path, base))
            .collect::<Result<Vec<_>>>()?;
        if raw.init.is_empty() {
            return Err(empty("init"));
        }
        if let Some(i) = raw.init.iter().position(|&k| k == InitKind::Files) {
            return Err(bad(
                path,
                format!(
                    "init[{i}] = \"files\": a sweep draws its starts; use \"note\" or \"scaled\""
                ),
            ));
        }
        let seeds = seeds(&raw.seeds, path)?;
        if seeds.is_empty() {
            return Err(empty("seeds"));
        }
        let params = RunParams {
            max_iter: raw.iters,
            tol: raw.tol,
            objective: raw.objective,
            note_columns: false,
            keep_rows: false,
        };
        params.check().map_err(|e| match e {
            NmfError::Param { name, message } => {
                let field = if name == "max_iter" { "iters" } else { name };
                bad(path, format!("{field}: {message}"))
            }
            other => other,
        })?;
        let g = Grid {
            solvers,
            shapes,
            data,
            inits: raw.init,
            seeds,
            params,
            text: text.to_string(),
        };
        for (i, d) in g.data.iter().enumerate() {
            if g.shapes_of(d).is_empty() {
                let DataSource::File(f) = d else {
                    unreachable!("drawn data runs on every shape")
                };
                let (m, n) = f.matrix.dim();
                return Err(bad(
                    path,
                    format!(
                        "data[{i}] ({}) is {m}×{n}, but no shape is {m}×{n}: give it ranks = [..]",
                        f.path.display()
                    ),
                ));
            }
        }
        let count = g.count();
        if count > MAX_INSTANCES {
            return Err(bad(
                path,
                format!("{count} instances: at most {MAX_INSTANCES} (split the grid)"),
            ));
        }
        Ok(g)
    }

    /// The `(m, n, k)` that data source `d` runs with.
    pub fn shapes_of(&self, d: &DataSource) -> Vec<(usize, usize, usize)> {
        match d {
            DataSource::Drawn(_) => self.shapes.clone(),
            DataSource::File(f) => {
                let (m, n) = f.matrix.dim();
                match &f.ranks {
                    Some(ks) => ks.iter().map(|&k| (m, n, k)).collect(),
                    None => self
                        .shapes
                        .iter()
                        .copied()
                        .filter(|&(a, b, _)| (a, b) == (m, n))
                        .collect(),
                }
            }
        }
    }

    /// The number of instances.
    pub fn count(&self) -> usize {
        let per_solver: usize = self.data.iter().map(|d| self.shapes_of(d).len()).sum();
        self.solvers.len() * per_solver * self.inits.len() * self.seeds.len()
    }

    /// Every instance in the expansion order (solver → data → shape → init → seed), with its
    /// id, that `shard` owns.
    pub fn instances(&self, shard: Shard) -> Vec<Instance> {
        let mut out = Vec::new();
        let mut id = 0;
        for &solver in &self.solvers {
            for d in &self.data {
                for (m, n, k) in self.shapes_of(d) {
                    for &init in &self.inits {
                        for &seed in &self.seeds {
                            if shard.owns(id) {
                                let (kind, file) = match d {
                                    DataSource::Drawn(kind) => (*kind, None),
                                    // As `nmf-lab run` records a user's file.
                                    DataSource::File(f) => (DataKind::Random, Some(f.path.clone())),
                                };
                                out.push(Instance {
                                    id,
                                    experiment: Experiment {
                                        m,
                                        n,
                                        k,
                                        seed,
                                        data: kind,
                                        init,
                                        solver,
                                        params: self.params.clone(),
                                    },
                                    data_file: file,
                                });
                            }
                            id += 1;
                        }
                    }
                }
            }
        }
        out
    }

    /// The matrix of a data file of this grid, by the path an instance records.
    pub fn file_matrix(&self, path: &Path) -> Option<&Arc<Array2<f64>>> {
        self.data.iter().find_map(|d| match d {
            DataSource::File(f) if f.path == path => Some(&f.matrix),
            _ => None,
        })
    }

    /// SHA-256 of the grid file's bytes, in hex.
    pub fn sha256(&self) -> String {
        sha256_hex(self.text.as_bytes())
    }

    /// The data files with their SHA-256, in the grid's order.
    pub fn data_files(&self) -> Vec<(PathBuf, String)> {
        self.data
            .iter()
            .filter_map(|d| match d {
                DataSource::File(f) => Some((f.path.clone(), f.sha256.clone())),
                DataSource::Drawn(_) => None,
            })
            .collect()
    }
}

/// SHA-256 of `bytes` in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn seeds(v: &toml::Value, path: &Path) -> Result<Vec<u64>> {
    let int = |x: &toml::Value, what: &str| -> Result<u64> {
        x.as_integer()
            .and_then(|i| u64::try_from(i).ok())
            .ok_or_else(|| bad(path, format!("{what} must be an integer ≥ 0, got {x}")))
    };
    match v {
        toml::Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, x)| int(x, &format!("seeds[{i}]")))
            .collect(),
        toml::Value::Table(t) => {
            if let Some(k) = t.keys().find(|k| *k != "start" && *k != "count") {
                return Err(bad(
                    path,
                    format!("seeds: unknown key `{k}`, expected `start` and `count`"),
                ));
            }
            let get = |k: &str| {
                t.get(k)
                    .ok_or_else(|| bad(path, format!("seeds: missing `{k}`")))
                    .and_then(|x| int(x, &format!("seeds.{k}")))
            };
            let (start, count) = (get("start")?, get("count")?);
            if count as usize > MAX_INSTANCES {
                return Err(bad(path, format!("seeds.count = {count} is too large")));
            }
            start
                .checked_add(count)
                .map(|end| (start..end).collect())
                .ok_or_else(|| bad(path, "seeds: start + count overflows"))
        }
        other => Err(bad(
            path,
            format!("seeds must be a list of seeds or {{ start = S, count = N }}, got {other}"),
        )),
    }
}

fn data_source(v: &toml::Value, i: usize, path: &Path, base: &Path) -> Result<DataSource> {
    let field = format!("data[{i}]");
    let known = "uniform, planted, halfnormal, { kind = \"sparse\", density = p } or { kind = \"file\", path = \"…\" }";
    let drawn = |name: &str| -> Result<DataSource> {
        match name {
            "uniform" | "random" => Ok(DataSource::Drawn(DataKind::Random)),
            "planted" => Ok(DataSource::Drawn(DataKind::Planted)),
            "halfnormal" => Ok(DataSource::Drawn(DataKind::Halfnormal)),
            "sparse" => Err(bad(
                path,
                format!("{field}: sparse needs a density: {{ kind = \"sparse\", density = 0.3 }}"),
            )),
            "file" => Err(bad(
                path,
                format!("{field}: file needs a path: {{ kind = \"file\", path = \"m.csv\" }}"),
            )),
            other => Err(bad(
                path,
                format!("{field}: unknown data kind \"{other}\"; expected {known}"),
            )),
        }
    };
    match v {
        toml::Value::String(s) => drawn(s),
        toml::Value::Table(t) => {
            let kind = t
                .get("kind")
                .and_then(toml::Value::as_str)
                .ok_or_else(|| bad(path, format!("{field}: a table needs kind = \"…\"")))?;
            let allowed: &[&str] = match kind {
                "sparse" => &["kind", "density"],
                "file" => &["kind", "path", "ranks"],
                _ => &["kind"],
            };
            if let Some(k) = t.keys().find(|k| !allowed.contains(&k.as_str())) {
                return Err(bad(
                    path,
                    format!("{field}: unknown key `{k}` for kind \"{kind}\""),
                ));
            }
            match kind {
                "sparse" => {
                    let density = t
                        .get("density")
                        .and_then(|x| x.as_float().or_else(|| x.as_integer().map(|i| i as f64)))
                        .ok_or_else(|| {
                            bad(path, format!("{field}: sparse needs a numeric density"))
                        })?;
                    let d = DataKind::Sparse { density };
                    d.check().map_err(|e| bad(path, format!("{field}: {e}")))?;
                    Ok(DataSource::Drawn(d))
                }
                "file" => {
                    let p = t
                        .get("path")
                        .and_then(toml::Value::as_str)
                        .ok_or_else(|| bad(path, format!("{field}: file needs path = \"…\"")))?;
                    let p = base.join(p);
                    let bytes = std::fs::read(&p)
                        .map_err(|e| bad(path, format!("{field}: {}: {e}", p.display())))?;
                    let matrix = crate::io::load_matrix(&p, &crate::io::ReadOptions::default())
                        .map_err(|e| bad(path, format!("{field}: {e}")))?
                        .matrix;
                    if matrix.iter().all(|&x| x == 0.0) {
                        return Err(bad(
                            path,
                            format!("{field}: {}", NmfError::AllZero { which: Which::M }),
                        ));
                    }
                    let ranks = match t.get("ranks") {
                        None => None,
                        Some(r) => {
                            let (m, n) = matrix.dim();
                            let ks = r
                                .as_array()
                                .map(|a| {
                                    a.iter()
                                        .map(|x| {
                                            x.as_integer().and_then(|i| usize::try_from(i).ok())
                                        })
                                        .collect::<Option<Vec<usize>>>()
                                })
                                .and_then(|x| x)
                                .ok_or_else(|| {
                                    bad(path, format!("{field}: ranks must be a list of integers"))
                                })?;
                            if let Some(&k) = ks.iter().find(|&&k| k == 0 || k > m.min(n)) {
                                return Err(bad(
                                    path,
                                    format!(
                                        "{field}: rank {k} is impossible for the {m}×{n} matrix in {}: need 1 ≤ k ≤ {}",
                                        p.display(),
                                        m.min(n)
                                    ),
                                ));
                            }
                            if ks.is_empty() {
                                return Err(bad(
                                    path,
                                    format!("{field}: ranks is empty: the grid has zero instances"),
                                ));
                            }
                            Some(ks)
                        }
                    };
                    Ok(DataSource::File(DataFile {
                        path: p,
                        matrix: Arc::new(matrix),
                        sha256: sha256_hex(&bytes),
                        ranks,
                    }))
                }
                other => drawn(other),
            }
        }
        other => Err(bad(path, format!("{field}: expected {known}, got {other}"))),
    }
}

/// A slice of a grid: instance `id` belongs to shard `id mod count` (round robin, so that
/// every shard gets every part of the grid and shards take about equally long).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// The whole grid.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Whether instance `id` is in this shard.
    pub fn owns(&self, id: usize) -> bool {
        id % self.count == self.index
    }

    /// How many of `total` instances this shard owns.
    pub fn size(&self, total: usize) -> usize {
        total / self.count + usize::from(self.index < total % self.count)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    /// `I/N` with `0 ≤ I < N`.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("expected I/N (e.g. 0/4), got {s:?}"))?;
        let parse = |x: &str, what: &str| {
            x.trim()
                .parse::<usize>()
                .map_err(|_| format!("{what} in {s:?} is not a non-negative integer"))
        };
        let (index, count) = (parse(i, "the index")?, parse(n, "the count")?);
        if count == 0 {
            return Err(format!("the shard count in {s:?} must be at least 1"));
        }
        if index >= count {
            return Err(format!(
                "the shard index {index} must be below the count {count} (shards are 0..{})",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }
}
