//! Reading matrices (CSV as people write it, NumPy's `.npy`, Matrix Market `.mtx`) and writing
//! output files atomically.
//!
//! [`load_matrix`] chooses the format by the file's first bytes (NumPy's magic
//! `\x93NUMPY`, `%%MatrixMarket`), then by its extension (`.npy`, `.mtx`), and reads anything
//! else as delimited text; the path `-` is standard input. Known binary formats (`.npz`,
//! `.mat`, `.h5`, spreadsheets, archives) are refused with a message saying how to convert
//! them.
//!
//! **Delimited text** ([`parse_csv`]): one row per line; the delimiter (comma, semicolon, tab,
//! or runs of blanks) is detected from the first line unless given; a UTF-8 byte-order mark is
//! dropped; fields may be quoted (`"1.5"`); lines starting with `#` are comments (NumPy's
//! `savetxt(header=…)`); a header row (a first line that is not all numbers, above lines that
//! are) is skipped, and so is an index column of a file with a header (header cell empty,
//! `index`, `id` or `Unnamed: 0`, one name fewer in the header than values in a row as R writes
//! row names, or values 0..m−1 or 1..m). What was detected comes back in [`Detected`], whose
//! [`Detected::notice`] is the line a caller prints. Blank lines at the end are ignored; a
//! blank line in the middle, ragged rows, text in a number field, a negative or non-finite
//! value are errors.
//!
//! Every error names the file (`<stdin>` for standard input), the 1-based line and column, the
//! cause and the fix; bytes of the input that a terminal would act on or not show (control
//! characters, a byte-order mark, bidirectional overrides) are escaped in messages
//! ([`escape`]).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use ndarray::Array2;

use crate::error::{NmfError, Result};

mod delimited;
mod mtx;
mod npy;

/// The path that means standard input in [`load_matrix`].
pub const STDIN: &str = "-";

/// How messages name standard input.
pub const STDIN_NAME: &str = "<stdin>";

/// The largest matrix, in entries, a sparse format may declare (Matrix Market's size line):
/// 2²⁸ entries, 2 GiB as dense `f64`. A larger declared size is refused before any allocation.
pub const MAX_DENSE_ENTRIES: usize = 1 << 28;

/// The field separator of delimited text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delimiter {
    /// `,`
    Comma,
    /// `;` (spreadsheets in locales whose decimal mark is a comma)
    Semicolon,
    /// A tab character.
    Tab,
    /// Runs of spaces and tabs (NumPy's `savetxt` default, R's `write.table`).
    Whitespace,
}

impl Delimiter {
    /// The name used in messages and accepted by `--delimiter`.
    pub fn name(self) -> &'static str {
        match self {
            Delimiter::Comma => "','",
            Delimiter::Semicolon => "';'",
            Delimiter::Tab => "tab",
            Delimiter::Whitespace => "whitespace",
        }
    }
}

impl std::fmt::Display for Delimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Delimiter {
    type Err = String;

    /// `,` or `comma`; `;` or `semicolon`; `tab` or a tab character; `space`, `whitespace`
    /// or a space.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "," | "comma" => Ok(Delimiter::Comma),
            ";" | "semicolon" => Ok(Delimiter::Semicolon),
            "tab" | "\t" | "\\t" => Ok(Delimiter::Tab),
            "space" | "whitespace" | " " => Ok(Delimiter::Whitespace),
            _ => Err(format!(
                "unknown delimiter '{}': use ',' ';' 'tab' or 'space' (runs of blanks)",
                escape(s)
            )),
        }
    }
}

/// The format a matrix was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Delimited text (CSV and its relatives).
    #[default]
    Csv,
    /// NumPy's `.npy`.
    Npy,
    /// Matrix Market exchange format (`.mtx`).
    MatrixMarket,
}

/// An index column that was dropped, and why it was taken for one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexColumn {
    /// The header cell above it is empty, `index`, `id` or `Unnamed: 0` (escaped, as written).
    Named(String),
    /// The header has one name fewer than each row has values (R's row names).
    Unnamed,
    /// Its values are the consecutive integers `first..first+m` (0- or 1-based row numbers).
    RowNumbers {
        /// 0 or 1.
        first: usize,
    },
}

/// What [`load_matrix`] detected about the input, for the caller to report.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Detected {
    /// The format read.
    pub format: Format,
    /// The delimiter of delimited text (detected or given).
    pub delimiter: Option<Delimiter>,
    /// Whether the delimiter was detected (rather than given).
    pub delimiter_detected: bool,
    /// A UTF-8 byte-order mark was dropped.
    pub bom: bool,
    /// Some fields were quoted.
    pub quoted: bool,
    /// The skipped header row's cells (escaped for printing), if there was one.
    pub header: Option<Vec<String>>,
    /// The index column dropped, if any.
    pub index_column: Option<IndexColumn>,
    /// Comment lines (`#…`) skipped.
    pub comment_lines: usize,
    /// NumPy's dtype descriptor of a `.npy` file (e.g. `<f8`, `<i8`).
    pub npy_dtype: Option<String>,
    /// Matrix Market's header after `matrix` (e.g. `coordinate real general`).
    pub mtx_header: Option<String>,
}

impl Detected {
    /// One line saying what was skipped or dropped from the input (a header row, an index
    /// column, comment lines), or `None` when every line and column became part of the matrix.
    pub fn notice(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(h) = &self.header {
            let shown: Vec<String> = h.iter().take(3).map(|c| shorten(c, 16)).collect();
            let more = if h.len() > 3 { "…" } else { "" };
            parts.push(format!("skipped a header row ({}{more})", shown.join(",")));
        }
        match &self.index_column {
            Some(IndexColumn::Named(name)) if name.is_empty() => parts.push(
                "dropped column 1 as an index column (its header cell is empty)".to_string(),
            ),
            Some(IndexColumn::Named(name)) => parts.push(format!(
                "dropped column 1 as an index column (header '{}')",
                shorten(name, 16)
            )),
            Some(IndexColumn::Unnamed) => parts.push(
                "dropped column 1 as row names (the header has one name fewer than each row has values)"
                    .to_string(),
            ),
            Some(IndexColumn::RowNumbers { first }) => parts.push(format!(
                "dropped column 1 as an index column (row numbers from {first})"
            )),
            None => {}
        }
        if self.comment_lines > 0 {
            let s = if self.comment_lines == 1 { "" } else { "s" };
            parts.push(format!(
                "skipped {} comment line{s} (#)",
                self.comment_lines
            ));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

/// Options of [`load_matrix`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// The delimiter of delimited text; `None` detects it from the first line.
    pub delimiter: Option<Delimiter>,
}

/// A matrix and what was detected while reading it.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The matrix: finite, non-negative entries, at least 1×1.
    pub matrix: Array2<f64>,
    /// What was detected.
    pub detected: Detected,
}

/// How messages name `path`: `<stdin>` for `-`, else the path.
pub fn origin_name(path: &Path) -> PathBuf {
    if path.as_os_str() == STDIN {
        PathBuf::from(STDIN_NAME)
    } else {
        path.to_path_buf()
    }
}

/// Escape what a terminal would act on or not show: ASCII and C1 control characters
/// (`\x07`, `\x1b`; tab, CR and LF as `\t`, `\r`, `\n`), the byte-order mark, zero-width and
/// bidirectional formatting characters, non-breaking spaces (`\u{feff}`, `\u{202e}`, `\u{a0}`).
/// Backslashes are doubled so that an escape cannot be forged.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x80 && c.is_control() => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() || is_invisible(c) => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// Characters that print as nothing or reorder the text around them.
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{a0}'
            | '\u{ad}'
            | '\u{34f}'
            | '\u{61c}'
            | '\u{115f}'
            | '\u{1160}'
            | '\u{180e}'
            | '\u{2000}'..='\u{200f}'
            | '\u{2028}'..='\u{202f}'
            | '\u{205f}'..='\u{206f}'
            | '\u{3000}'
            | '\u{3164}'
            | '\u{fe00}'..='\u{fe0f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{e0000}'..='\u{e007f}'
    )
}

/// `s` escaped and cut to `max` characters (with `…`).
pub(crate) fn shorten(s: &str, max: usize) -> String {
    let e = escape(s);
    if e.chars().count() <= max {
        e
    } else {
        let cut: String = e.chars().take(max).collect();
        format!("{cut}…")
    }
}

/// Read a matrix file (any supported format, detected; `-` is standard input) and return the
/// matrix alone. See [`load_matrix`].
pub fn read_matrix(path: &Path) -> Result<Array2<f64>> {
    load_matrix(path, &ReadOptions::default()).map(|l| l.matrix)
}

/// Read a matrix: `.npy`, Matrix Market, or delimited text, chosen by the first bytes and the
/// extension (see the [module documentation](self)); `-` reads standard input.
///
/// The matrix returned is at least 1×1 with finite, non-negative entries; anything else is an
/// error naming the place.
pub fn load_matrix(path: &Path, opts: &ReadOptions) -> Result<Loaded> {
    let origin = origin_name(path);
    let bytes = if path.as_os_str() == STDIN {
        let mut b = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut b)
            .map_err(|e| NmfError::Io {
                path: origin.clone(),
                source: e,
            })?;
        if b.is_empty() {
            return Err(NmfError::parse(
                &origin,
                "standard input is empty: no matrix rows (pipe the matrix in, e.g. `--data - < M.csv`)",
            ));
        }
        b
    } else {
        if path.is_dir() {
            return Err(NmfError::parse(
                &origin,
                "is a directory, not a matrix file (give a .csv, .txt, .tsv, .npy or .mtx file)",
            ));
        }
        std::fs::read(path).map_err(|e| NmfError::Io {
            path: origin.clone(),
            source: e,
        })?
    };
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .unwrap_or_default();
    parse_bytes(&bytes, &ext, &origin, opts)
}

/// Parse the bytes of a matrix file whose extension (lower case, no dot) is `ext`.
fn parse_bytes(bytes: &[u8], ext: &str, origin: &Path, opts: &ReadOptions) -> Result<Loaded> {
    if bytes.starts_with(npy::MAGIC) {
        return npy::parse(bytes, origin);
    }
    let head = &bytes[..bytes.len().min(64)];
    let starts_mtx = head.len() >= 14 && head[..14].eq_ignore_ascii_case(b"%%MatrixMarket");
    if starts_mtx {
        return mtx::parse(&decode_text(bytes, origin)?, origin);
    }
    match ext {
        "npy" => {
            return Err(NmfError::parse(
                origin,
                format!(
                    "not a .npy file: it does not start with NumPy's magic \\x93NUMPY (it starts with '{}'); save it with numpy.save",
                    shorten(&String::from_utf8_lossy(&bytes[..bytes.len().min(8)]), 16)
                ),
            ))
        }
        "mtx" | "mm" => return mtx::parse(&decode_text(bytes, origin)?, origin),
        _ => {}
    }
    if let Some(what) = binary_kind(bytes, ext) {
        return Err(NmfError::parse(origin, what));
    }
    if bytes.is_empty() {
        return Err(NmfError::parse(origin, "the file is empty: no matrix rows"));
    }
    let text = decode_text(bytes, origin)?;
    delimited::parse(&text, origin, opts.delimiter)
}

/// Bytes as text: UTF-16 and binary content are refused; invalid UTF-8 becomes U+FFFD (a
/// header in Latin-1 is still skipped; a number field holding one is reported).
fn decode_text(bytes: &[u8], origin: &Path) -> Result<String> {
    if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        return Err(NmfError::parse(
            origin,
            "the file is UTF-16 text (byte-order mark \\xff\\xfe or \\xfe\\xff): save it as UTF-8 (e.g. 'CSV UTF-8' in a spreadsheet, or iconv -f UTF-16 -t UTF-8)",
        ));
    }
    if let Some(pos) = bytes.iter().take(1 << 16).position(|&b| b == 0) {
        let line = bytes[..pos].iter().filter(|&&b| b == b'\n').count() + 1;
        return Err(NmfError::parse(
            origin,
            format!(
                "line {line}: a NUL byte (\\x00): this is a binary file, not text; nmf-lab reads delimited text (.csv, .tsv, .txt), NumPy's .npy and Matrix Market .mtx"
            ),
        ));
    }
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

/// A message for a known binary format (by magic bytes or extension), or `None`.
fn binary_kind(bytes: &[u8], ext: &str) -> Option<String> {
    let to_npy = "save the matrix with numpy.save('M.npy', a) or as CSV";
    let by_magic = if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        Some(match ext {
            "npz" => {
                format!("a NumPy .npz archive (several arrays): nmf-lab reads one matrix; {to_npy}")
            }
            "xlsx" | "xlsm" | "ods" => {
                "a spreadsheet workbook: export the sheet as CSV (UTF-8)".to_string()
            }
            _ => {
                "a zip archive: unpack it and give the matrix file (.csv, .npy or .mtx)".to_string()
            }
        })
    } else if bytes.starts_with(b"\x89HDF\r\n\x1a\n") {
        Some(format!("an HDF5 file (.h5, MATLAB v7.3 .mat): {to_npy}"))
    } else if bytes.starts_with(b"MATLAB 5.0 MAT-file") {
        Some(
            "a MATLAB .mat file: save the matrix with writematrix(M, 'M.csv') in MATLAB, or scipy.io.loadmat then numpy.save"
                .to_string(),
        )
    } else if bytes.starts_with(&[0x1f, 0x8b]) {
        Some("gzip-compressed: decompress it first (gunzip -k FILE, or gunzip -c FILE | nmf-lab run --data - …)".to_string())
    } else if (bytes.starts_with(b"BZh") && ext == "bz2")
        || bytes.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0])
    {
        Some("compressed (bzip2/xz): decompress it first".to_string())
    } else if bytes.starts_with(&[0xd0, 0xcf, 0x11, 0xe0]) {
        Some("an old Excel workbook (.xls): export the sheet as CSV (UTF-8)".to_string())
    } else if bytes.starts_with(b"PAR1") {
        Some("a Parquet file: write the matrix with DataFrame.to_csv or numpy.save".to_string())
    } else if bytes.starts_with(&[0x80]) && matches!(ext, "pkl" | "pickle" | "joblib") {
        Some(format!("a Python pickle: {to_npy}"))
    } else {
        None
    };
    by_magic.or_else(|| match ext {
        "npz" => Some(format!("a NumPy .npz archive: nmf-lab reads one matrix; {to_npy}")),
        "mat" => Some("a MATLAB .mat file: save the matrix with writematrix(M, 'M.csv') in MATLAB, or scipy.io.loadmat then numpy.save".to_string()),
        "h5" | "hdf5" | "hdf" => Some(format!("an HDF5 file: {to_npy}")),
        "xlsx" | "xls" | "xlsm" | "ods" => Some("a spreadsheet workbook: export the sheet as CSV (UTF-8)".to_string()),
        "parquet" | "feather" | "arrow" => Some("a columnar data file: write the matrix with DataFrame.to_csv or numpy.save".to_string()),
        "pkl" | "pickle" | "joblib" => Some(format!("a Python pickle: {to_npy}")),
        "rds" | "rdata" | "rda" => Some("an R data file: write the matrix with write.csv(M, 'M.csv')".to_string()),
        "gz" | "bz2" | "xz" | "zst" | "zip" | "7z" => Some("a compressed file: decompress it first".to_string()),
        _ => None,
    })
    .map(|what| format!("{what} (nmf-lab reads delimited text such as .csv/.tsv/.txt, NumPy's .npy and Matrix Market .mtx)"))
}

/// Parse a matrix from delimited text (the delimiter detected); `origin` names the source in
/// errors. See [`parse_csv`] for what was detected.
pub fn parse_matrix(text: &str, origin: &Path) -> Result<Array2<f64>> {
    parse_csv(text, origin, &ReadOptions::default()).map(|l| l.matrix)
}

/// Parse a matrix from delimited text; `origin` names the source in errors.
pub fn parse_csv(text: &str, origin: &Path, opts: &ReadOptions) -> Result<Loaded> {
    delimited::parse(text, origin, opts.delimiter)
}

/// The first entry of `a` that is not finite or is negative, as an error naming its 1-based
/// row and column and, through `place`, where it is in the file.
pub(crate) fn check_values(
    a: &Array2<f64>,
    origin: &Path,
    place: impl Fn(usize, usize) -> String,
) -> Result<()> {
    for ((i, j), &x) in a.indexed_iter() {
        if let Some(msg) = bad_value(x, i + 1, j + 1) {
            return Err(NmfError::parse(origin, format!("{}{msg}", place(i, j))));
        }
    }
    Ok(())
}

/// Why `x` cannot be an entry of an NMF matrix (at 1-based `row`, `col`), or `None`.
pub(crate) fn bad_value(x: f64, row: usize, col: usize) -> Option<String> {
    if !x.is_finite() {
        Some(format!(
            "non-finite entry ({x}) at row {row}, column {col}: NMF needs finite numbers (replace missing values, e.g. by 0 or an imputed value)"
        ))
    } else if x < 0.0 {
        Some(format!(
            "negative entry {x:e} at row {row}, column {col}: NMF needs non-negative data (shift or clip it first, if that is meaningful for the data)"
        ))
    } else {
        None
    }
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

/// Write `a` as NumPy's `.npy` (`<f8`, C order) to `path`, atomically ([`write_atomic`]);
/// `numpy.load` reads it back bit for bit.
pub fn write_matrix_npy(path: &Path, a: &Array2<f64>) -> Result<()> {
    use ndarray_npy::WriteNpyExt;
    let a = a.as_standard_layout();
    write_atomic(path, |w| {
        a.write_npy(w).map_err(|e| match e {
            ndarray_npy::WriteNpyError::Io(source) => NmfError::Io {
                path: path.into(),
                source,
            },
            other => NmfError::parse(path, format!("writing .npy: {other}")),
        })
    })
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
    fn escape_shows_what_a_terminal_would_hide_or_act_on() {
        assert_eq!(escape("a\x07b"), "a\\x07b");
        assert_eq!(escape("\u{feff}1"), "\\u{feff}1");
        assert_eq!(escape("\x1b[31m"), "\\x1b[31m");
        assert_eq!(escape("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(escape("\u{85}"), "\\u{85}");
        assert_eq!(escape("tab\there"), "tab\\there");
        assert_eq!(
            escape("a\\x07"),
            "a\\\\x07",
            "a literal backslash cannot forge an escape"
        );
        assert_eq!(escape("1.5 é ∞"), "1.5 é ∞");
    }

    #[test]
    fn delimiter_names_parse() {
        for (s, d) in [
            (",", Delimiter::Comma),
            ("comma", Delimiter::Comma),
            (";", Delimiter::Semicolon),
            ("tab", Delimiter::Tab),
            ("\t", Delimiter::Tab),
            ("space", Delimiter::Whitespace),
            ("whitespace", Delimiter::Whitespace),
            ("TAB", Delimiter::Tab),
        ] {
            assert_eq!(s.parse::<Delimiter>(), Ok(d), "{s:?}");
        }
        let e = "|".parse::<Delimiter>().unwrap_err();
        assert!(e.contains("unknown delimiter '|'"), "{e}");
    }

    #[test]
    fn binary_formats_are_refused_with_a_conversion_hint() {
        let o = Path::new("m.npz");
        let e = parse_bytes(b"PK\x03\x04rest", "npz", o, &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("m.npz: a NumPy .npz archive") && e.contains("numpy.save"),
            "{e}"
        );
        let e = parse_bytes(b"\x89HDF\r\n\x1a\nxx", "h5", o, &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("HDF5"), "{e}");
        let e = parse_bytes(
            b"MATLAB 5.0 MAT-file, ...",
            "mat",
            o,
            &ReadOptions::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("MATLAB"), "{e}");
        let e = parse_bytes(b"1,2\n\x003,4\n", "csv", o, &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2: a NUL byte (\\x00)"), "{e}");
        let e = parse_bytes(b"\xff\xfe1\x00", "csv", o, &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("UTF-16"), "{e}");
    }

    #[test]
    fn npy_round_trips_bit_for_bit_through_write_matrix_npy() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.npy");
        let a = ndarray::array![[0.1, 1e-300, 5e-324], [1.0 / 3.0, 2.0, 123456.789]];
        write_matrix_npy(&path, &a).unwrap();
        let b = read_matrix(&path).unwrap();
        assert_eq!(a.map(|x| x.to_bits()), b.map(|x| x.to_bits()));
        // A transposed (Fortran-order) view is written in C order and reads back the same.
        let t = a.t().to_owned();
        write_matrix_npy(&path, &a.t().to_owned()).unwrap();
        assert_eq!(read_matrix(&path).unwrap(), t);
        let bytes = std::fs::read(&path).unwrap();
        let head = String::from_utf8_lossy(&bytes[10..80]).into_owned();
        assert!(
            head.contains("'descr': '<f8'") && head.contains("'fortran_order': False"),
            "{head}"
        );
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
