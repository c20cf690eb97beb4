//! Matrix Market exchange format, read into a dense matrix: the header
//! `%%MatrixMarket matrix coordinate|array real|double|integer|pattern general|symmetric`,
//! `%` comment lines, the size line, then the entries. Coordinate indices are 1-based;
//! a symmetric file stores the lower triangle and the upper one is its mirror; entries given
//! twice are added (as SciPy's `mmread(…).toarray()` does); `pattern` entries are 1.
//! A declared size above [`MAX_DENSE_ENTRIES`] is refused before anything is allocated.

use std::path::Path;

use ndarray::Array2;

use super::{bad_value, shorten, Detected, Format, Loaded, MAX_DENSE_ENTRIES};
use crate::error::{NmfError, Result};

const HEADER_FORM: &str =
    "'%%MatrixMarket matrix coordinate|array real|integer|pattern general|symmetric'";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Real,
    Integer,
    Pattern,
}

pub(super) fn parse(text: &str, origin: &Path) -> Result<Loaded> {
    let err = |msg: String| NmfError::parse(origin, msg);
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    let first = lines.next().map_or("", |(_, l)| l);
    let words: Vec<String> = first
        .split_whitespace()
        .map(|w| w.to_ascii_lowercase())
        .collect();
    let bad_header = |why: &str| {
        err(format!(
            "line 1: {why} in the Matrix Market header '{}': it must read {HEADER_FORM}",
            shorten(first, 80)
        ))
    };
    if words.first().map(String::as_str) != Some("%%matrixmarket") {
        return Err(bad_header("no %%MatrixMarket banner"));
    }
    if words.len() != 5 {
        return Err(bad_header(&format!("{} words instead of 5", words.len())));
    }
    if words[1] != "matrix" {
        return Err(bad_header(&format!(
            "object '{}' (only 'matrix' is read)",
            shorten(&words[1], 20)
        )));
    }
    let coordinate = match words[2].as_str() {
        "coordinate" => true,
        "array" => false,
        w => {
            return Err(bad_header(&format!(
                "format '{}' (coordinate or array)",
                shorten(w, 20)
            )))
        }
    };
    let field = match words[3].as_str() {
        "real" | "double" => Field::Real,
        "integer" => Field::Integer,
        "pattern" if coordinate => Field::Pattern,
        "pattern" => return Err(bad_header("'pattern' with 'array'")),
        "complex" => {
            return Err(err(
                "line 1: complex values: NMF needs real, non-negative data".to_string(),
            ))
        }
        w => {
            return Err(bad_header(&format!(
                "field '{}' (real, integer or pattern)",
                shorten(w, 20)
            )))
        }
    };
    let symmetric = match words[4].as_str() {
        "general" => false,
        "symmetric" => true,
        "skew-symmetric" => {
            return Err(err(
                "line 1: a skew-symmetric matrix: its mirrored entries are the negatives of the stored ones, and NMF needs non-negative data".to_string(),
            ))
        }
        w => {
            return Err(bad_header(&format!(
                "symmetry '{}' (general or symmetric)",
                shorten(w, 20)
            )))
        }
    };

    // Entries: (line, token) in order, past comments and blank lines.
    let mut tokens = lines
        .filter(|(_, l)| !l.trim_start().starts_with('%') && !l.trim().is_empty())
        .map(|(no, l)| (no, l.split_whitespace().collect::<Vec<_>>()));
    let (size_no, size) = tokens
        .next()
        .ok_or_else(|| err("no size line after the header: the file ends early".to_string()))?;
    let want_words = if coordinate { 3 } else { 2 };
    let size_form = if coordinate {
        "'rows columns entries'"
    } else {
        "'rows columns'"
    };
    let dims: Vec<usize> = size.iter().filter_map(|w| w.parse().ok()).collect();
    if size.len() != want_words || dims.len() != want_words {
        return Err(err(format!(
            "line {size_no}: the size line must be {size_form} (whole numbers), got '{}'",
            shorten(&size.join(" "), 60)
        )));
    }
    let (m, n) = (dims[0], dims[1]);
    if m == 0 || n == 0 {
        return Err(err(format!(
            "line {size_no}: the matrix is empty ({m}×{n})"
        )));
    }
    if symmetric && m != n {
        return Err(err(format!(
            "line {size_no}: a symmetric matrix must be square, the size line says {m}×{n}"
        )));
    }
    match m.checked_mul(n) {
        Some(e) if e <= MAX_DENSE_ENTRIES => {}
        _ => {
            return Err(err(format!(
                "line {size_no}: {m}×{n} is too large to hold as a dense matrix (at most {MAX_DENSE_ENTRIES} entries)"
            )))
        }
    }
    let mut a = Array2::<f64>::zeros((m, n));
    let value = |no: usize, w: &str, i: usize, j: usize| -> Result<f64> {
        let x = match field {
            Field::Pattern => 1.0,
            Field::Integer => w.parse::<i64>().map(|v| v as f64).map_err(|_| {
                err(format!(
                    "line {no}: '{}' is not an integer (the header says integer)",
                    shorten(w, 40)
                ))
            })?,
            Field::Real => w
                .parse::<f64>()
                .map_err(|_| err(format!("line {no}: '{}' is not a number", shorten(w, 40))))?,
        };
        match bad_value(x, i + 1, j + 1) {
            Some(msg) => Err(err(format!("line {no}: {msg}"))),
            None => Ok(x),
        }
    };
    if coordinate {
        let nnz = dims[2];
        let per_line = if field == Field::Pattern { 2 } else { 3 };
        let mut count = 0;
        for (no, words) in tokens {
            if words.len() != per_line {
                return Err(err(format!(
                    "line {no}: {} fields, expected {per_line} ({})",
                    words.len(),
                    if field == Field::Pattern {
                        "row column"
                    } else {
                        "row column value"
                    }
                )));
            }
            count += 1;
            if count > nnz {
                return Err(err(format!(
                    "line {no}: more entries than the {nnz} the size line (line {size_no}) declares"
                )));
            }
            let index = |w: &str, len: usize, what: &str| -> Result<usize> {
                match w.parse::<usize>() {
                    Ok(i) if (1..=len).contains(&i) => Ok(i - 1),
                    Ok(i) => Err(err(format!(
                        "line {no}: {what} index {i} is outside 1..{len} (the size line says {m}×{n}; Matrix Market indices start at 1)"
                    ))),
                    Err(_) => Err(err(format!(
                        "line {no}: {what} index '{}' is not a whole number ≥ 1",
                        shorten(w, 40)
                    ))),
                }
            };
            let i = index(words[0], m, "row")?;
            let j = index(words[1], n, "column")?;
            let x = value(no, words.get(2).copied().unwrap_or("1"), i, j)?;
            a[[i, j]] += x;
            if symmetric && i != j {
                a[[j, i]] += x;
            }
        }
        if count < nnz {
            return Err(err(format!(
                "the size line (line {size_no}) declares {nnz} entries but the file has {count}: is it truncated?"
            )));
        }
    } else {
        // Column by column; a symmetric array stores the lower triangle with the diagonal.
        let places: Box<dyn Iterator<Item = (usize, usize)>> = if symmetric {
            Box::new((0..n).flat_map(move |j| (j..m).map(move |i| (i, j))))
        } else {
            Box::new((0..n).flat_map(move |j| (0..m).map(move |i| (i, j))))
        };
        let want = if symmetric { n * (n + 1) / 2 } else { m * n };
        let mut values = tokens.flat_map(|(no, words)| words.into_iter().map(move |w| (no, w)));
        for (count, (i, j)) in places.enumerate() {
            let Some((no, w)) = values.next() else {
                return Err(err(format!(
                    "the size line (line {size_no}) declares {m}×{n} ({want} values) but the file has {count}: is it truncated?"
                )));
            };
            let x = value(no, w, i, j)?;
            a[[i, j]] = x;
            if symmetric {
                a[[j, i]] = x;
            }
        }
        if let Some((no, _)) = values.next() {
            return Err(err(format!(
                "line {no}: more values than the {want} of a {m}×{n} array (line {size_no})"
            )));
        }
    }
    Ok(Loaded {
        matrix: a,
        detected: Detected {
            format: Format::MatrixMarket,
            mtx_header: Some(words[2..].join(" ")),
            ..Detected::default()
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn read(s: &str) -> Result<Loaded> {
        parse(s, Path::new("m.mtx"))
    }

    fn err(s: &str) -> String {
        read(s).unwrap_err().to_string()
    }

    #[test]
    fn coordinate_array_symmetric_and_pattern_are_read() {
        let l = read("%%MatrixMarket matrix coordinate real general\n% a comment\n\n2 3 3\n1 1 1.5\n2 3 2\n1 1 0.5\n")
            .unwrap();
        assert_eq!(l.matrix, array![[2.0, 0.0, 0.0], [0.0, 0.0, 2.0]]);
        assert_eq!(
            l.detected.mtx_header.as_deref(),
            Some("coordinate real general")
        );
        let l = read(
            "%%MatrixMarket matrix coordinate integer symmetric\n3 3 3\n1 1 1\n3 1 4\n2 2 5\n",
        )
        .unwrap();
        assert_eq!(
            l.matrix,
            array![[1.0, 0.0, 4.0], [0.0, 5.0, 0.0], [4.0, 0.0, 0.0]]
        );
        let l =
            read("%%MatrixMarket matrix coordinate pattern general\n2 2 2\n1 2\n2 1\n").unwrap();
        assert_eq!(l.matrix, array![[0.0, 1.0], [1.0, 0.0]]);
        let l = read("%%MatrixMarket matrix array real general\n2 3\n1\n4\n2\n5\n3\n6\n").unwrap();
        assert_eq!(l.matrix, array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        let l = read("%%MatrixMarket matrix array real symmetric\n2 2\n1\n2\n3\n").unwrap();
        assert_eq!(l.matrix, array![[1.0, 2.0], [2.0, 3.0]]);
        // Case-insensitive banner, CRLF line ends.
        let l =
            read("%%matrixmarket MATRIX Coordinate Real General\r\n1 1 1\r\n1 1 7\r\n").unwrap();
        assert_eq!(l.matrix, array![[7.0]]);
    }

    #[test]
    fn bad_files_name_line_cause_and_fix() {
        let e = err("%%MatrixMarket matrix coordinate real\n1 1 1\n1 1 1\n");
        assert!(
            e.contains("line 1: 4 words instead of 5") && e.contains(HEADER_FORM),
            "{e}"
        );
        let e = err("%%MatrixMarket matrix sparse real general\n");
        assert!(e.contains("format 'sparse'"), "{e}");
        let e = err("%%MatrixMarket matrix coordinate complex general\n");
        assert!(e.contains("complex values"), "{e}");
        let e = err("%%MatrixMarket matrix coordinate real skew-symmetric\n");
        assert!(e.contains("skew-symmetric"), "{e}");
        let e = err("%%MatrixMarket matrix coordinate real general\n2 2 1\n3 1 1\n");
        assert!(e.contains("line 3: row index 3 is outside 1..2"), "{e}");
        let e = err("%%MatrixMarket matrix coordinate real general\n2 2 1\n1 0 1\n");
        assert!(
            e.contains("line 3: column index 0 is outside 1..2") && e.contains("start at 1"),
            "{e}"
        );
        let e = err("%%MatrixMarket matrix coordinate real general\n2 2 1\n1 2 -1\n");
        assert!(
            e.contains("line 3: negative entry -1e0 at row 1, column 2"),
            "{e}"
        );
        let e = err("%%MatrixMarket matrix coordinate real general\n2 2 2\n1 2 1\n");
        assert!(e.contains("declares 2 entries but the file has 1"), "{e}");
        let e = err("%%MatrixMarket matrix coordinate real general\n2 2 1\n1 2 1\n2 2 1\n");
        assert!(e.contains("line 4: more entries than the 1"), "{e}");
        let e = err("%%MatrixMarket matrix coordinate integer general\n2 2 1\n1 2 1.5\n");
        assert!(e.contains("'1.5' is not an integer"), "{e}");
        let e = err("%%MatrixMarket matrix coordinate real general\n2 x 1\n");
        assert!(
            e.contains("line 2: the size line must be 'rows columns entries'"),
            "{e}"
        );
        let e = err("%%MatrixMarket matrix coordinate real general\n100000 100000 0\n");
        assert!(e.contains("too large"), "{e}");
        let e = err("%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n");
        assert!(
            e.contains("declares 2×2 (4 values) but the file has 3"),
            "{e}"
        );
        let e = err("%%MatrixMarket matrix array real general\n1 1\n1\nnan\n");
        assert!(e.contains("line 4: more values"), "{e}");
        let e = err("%%MatrixMarket matrix array real general\n1 2\n1\nnan\n");
        assert!(
            e.contains("line 4: non-finite entry (NaN) at row 1, column 2"),
            "{e}"
        );
        let e = err("%%MatrixMarket matrix coordinate real symmetric\n2 3 0\n");
        assert!(e.contains("must be square"), "{e}");
    }
}
