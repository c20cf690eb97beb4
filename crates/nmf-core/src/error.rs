//! One error type for the whole core: every variant says *what* is wrong and *where*.

use std::path::PathBuf;

/// Which matrix a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Which {
    /// The data matrix `M` (m×n).
    M,
    /// The left factor `U` (m×k).
    U,
    /// The right factor `V` (k×n).
    V,
}

impl std::fmt::Display for Which {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Which::M => "M",
            Which::U => "U",
            Which::V => "V",
        })
    }
}

/// Errors of the core. Rows and columns in messages are **1-based** (as a person counts lines
/// of a CSV file); the fields hold the same 1-based numbers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NmfError {
    #[error("matrix {which} is empty ({rows}×{cols})")]
    Empty {
        which: Which,
        rows: usize,
        cols: usize,
    },
    #[error("matrix {which} has a negative entry {value:e} at row {row}, column {col}")]
    Negative {
        which: Which,
        row: usize,
        col: usize,
        value: f64,
    },
    #[error("matrix {which} has a non-finite entry ({value}) at row {row}, column {col}")]
    NonFinite {
        which: Which,
        row: usize,
        col: usize,
        value: f64,
    },
    #[error("matrix {which} is all zeros: nothing to factorize")]
    AllZero { which: Which },
    #[error("rank {rank} is impossible for a {m}×{n} matrix: need 1 ≤ rank ≤ min(m, n) = {}", .m.min(.n))]
    Rank { rank: usize, m: usize, n: usize },
    #[error("matrix {which} has shape {got_rows}×{got_cols}, expected {want_rows}×{want_cols}")]
    Shape {
        which: Which,
        got_rows: usize,
        got_cols: usize,
        want_rows: usize,
        want_cols: usize,
    },
    /// A file (or `<stdin>`) that cannot be read as a matrix; `message` names the place, the
    /// cause and the fix. The path is shown with control characters escaped.
    #[error("{}: {message}", shown(path))]
    Parse { path: PathBuf, message: String },
    #[error("{}: {source}", shown(path))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid parameter {name}: {message}")]
    Param { name: &'static str, message: String },
}

impl NmfError {
    /// Attach a file name to a parse problem.
    pub fn parse(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        NmfError::Parse {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// A path as messages show it: control and invisible characters escaped (a file name is
/// printed to a terminal).
fn shown(path: &std::path::Path) -> String {
    crate::io::escape(&path.display().to_string())
}

pub type Result<T, E = NmfError> = std::result::Result<T, E>;
