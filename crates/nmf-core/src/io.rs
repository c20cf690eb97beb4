//! Reading matrices from CSV and writing output files atomically.
//!
//! Matrix files: comma-separated numbers, no header, one row per line; blank lines at the end
//! are ignored. Every error names the file, the 1-based line and column.

use std::io::Write;
use std::path::Path;

use ndarray::Array2;

use crate::error::{NmfError, Result};

/// Parse a matrix from CSV text; `origin` names the source in errors.
pub fn parse_matrix(text: &str, origin: &Path) -> Result<Array2<f64>> {
    let mut rows: Vec<Vec<f64>> = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let last = lines
        .iter()
        .rposition(|l| !l.trim().is_empty())
        .map_or(0, |i| i + 1);
    for (li, line) in lines[..last].iter().enumerate() {
        let line_no = li + 1;
        if line.trim().is_empty() {
            return Err(NmfError::parse(
                origin,
                format!("line {line_no} is empty (each row of the matrix is one line)"),
            ));
        }
        let mut row = Vec::new();
        for (ci, field) in line.split(',').enumerate() {
            let f = field.trim();
            let x: f64 = f.parse().map_err(|_| {
                NmfError::parse(
                    origin,
                    format!("line {line_no}, column {}: '{f}' is not a number", ci + 1),
                )
            })?;
            row.push(x);
        }
        if let Some(first) = rows.first() {
            if row.len() != first.len() {
                return Err(NmfError::parse(
                    origin,
                    format!(
                        "line {line_no} has {} values but line 1 has {} (ragged rows)",
                        row.len(),
                        first.len()
                    ),
                ));
            }
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(NmfError::parse(origin, "the file is empty: no matrix rows"));
    }
    let (r, c) = (rows.len(), rows[0].len());
    Array2::from_shape_vec((r, c), rows.into_iter().flatten().collect())
        .map_err(|e| NmfError::parse(origin, e.to_string()))
}

/// Read a matrix file.
pub fn read_matrix(path: &Path) -> Result<Array2<f64>> {
    let text = std::fs::read_to_string(path).map_err(|e| NmfError::Io {
        path: path.into(),
        source: e,
    })?;
    parse_matrix(&text, path)
}

/// Format a matrix as CSV with shortest round-trip numbers.
pub fn matrix_to_csv(a: &Array2<f64>) -> String {
    let mut s = String::new();
    for row in a.rows() {
        let line: Vec<String> = row.iter().map(|x| format!("{x:?}")).collect();
        s.push_str(&line.join(","));
        s.push('\n');
    }
    s
}

/// Write `path` atomically: write a temporary file in the same directory, flush, then rename,
/// so a reader never sees a half-written file and a failure leaves no partial output.
pub fn write_atomic(path: &Path, write: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let io = |e: std::io::Error| NmfError::Io {
        path: path.into(),
        source: e,
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    {
        let mut buf = std::io::BufWriter::new(tmp.as_file_mut());
        write(&mut buf)?;
        buf.flush().map_err(io)?;
    }
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}
