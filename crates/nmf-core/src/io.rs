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
    // tempfile creates 0600 files; results are meant to be read by others, so 0644.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(io)?;
    }
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Array2<f64>> {
        parse_matrix(s, Path::new("m.csv"))
    }

    #[test]
    fn parses_rows_with_spaces_and_trailing_newlines() {
        let a = parse("1, 2,3\n4,5e-1,6\n\n").unwrap();
        assert_eq!(a, ndarray::array![[1.0, 2.0, 3.0], [4.0, 0.5, 6.0]]);
    }

    #[test]
    fn ragged_row_names_line_and_counts() {
        let e = parse("1,2,3\n4,5\n").unwrap_err().to_string();
        assert!(
            e.contains("m.csv") && e.contains("line 2 has 2 values but line 1 has 3"),
            "{e}"
        );
    }

    #[test]
    fn text_in_number_field_names_line_and_column() {
        let e = parse("1,2\n3,abc\n").unwrap_err().to_string();
        assert!(e.contains("line 2, column 2: 'abc' is not a number"), "{e}");
    }

    #[test]
    fn empty_file_and_blank_inner_line_are_errors() {
        assert!(parse("").unwrap_err().to_string().contains("empty"));
        assert!(parse("\n \n").unwrap_err().to_string().contains("empty"));
        let e = parse("1,2\n\n3,4\n").unwrap_err().to_string();
        assert!(e.contains("line 2 is empty"), "{e}");
    }

    #[test]
    fn missing_file_names_the_path() {
        let e = read_matrix(Path::new("/nonexistent/dir/m.csv"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("/nonexistent/dir/m.csv"), "{e}");
    }

    #[test]
    fn matrix_csv_round_trips_bit_for_bit() {
        let a = ndarray::array![[0.1, 1e-300, 5e-324], [1.0 / 3.0, 2.0, 123456.789]];
        let b = parse(&matrix_to_csv(&a)).unwrap();
        assert_eq!(a.map(|x| x.to_bits()), b.map(|x| x.to_bits()));
    }

    #[test]
    fn write_atomic_leaves_nothing_when_the_writer_fails() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        let r = write_atomic(&path, |w| {
            w.write_all(b"partial").unwrap();
            Err(NmfError::Param {
                name: "x",
                message: "boom".into(),
            })
        });
        assert!(r.is_err());
        assert!(!path.exists());
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "temporary file left behind"
        );
        write_atomic(&path, |w| {
            w.write_all(b"ok").map_err(|e| NmfError::Io {
                path: "x".into(),
                source: e,
            })
        })
        .unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "ok");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o644
            );
        }
    }
}
