//! Delimited text as people write it: CSV, `;`- and tab-separated values, NumPy's `savetxt`
//! (runs of blanks), with a header row, an index column, quoted fields, a byte-order mark and
//! `#` comments. The rules are in the [parent module's documentation](super).

use std::borrow::Cow;
use std::path::Path;

use ndarray::Array2;

use super::{escape, is_invisible, shorten, Delimiter, Detected, Format, IndexColumn, Loaded};
use crate::error::{NmfError, Result};

/// One field of a line: its text (trimmed, unquoted), whether it was quoted.
#[derive(Debug)]
struct Field<'a> {
    text: Cow<'a, str>,
    quoted: bool,
}

impl Field<'_> {
    fn number(&self) -> Option<f64> {
        parse_number(&self.text)
    }
}

/// A non-comment line of the file and its 1-based number.
#[derive(Debug)]
struct Line<'a> {
    no: usize,
    fields: Vec<Field<'a>>,
}

/// A number as Rust and NumPy write it: `3`, `-0.25`, `1e-3`, `.5`, `inf`, `nan`.
fn parse_number(s: &str) -> Option<f64> {
    s.parse::<f64>().ok()
}

/// Header cells that name an index column.
fn is_index_name(s: &str) -> bool {
    let s = s.trim().to_ascii_lowercase();
    matches!(s.as_str(), "" | "index" | "id" | "unnamed: 0")
}

fn is_sep(d: Delimiter, c: char) -> bool {
    match d {
        Delimiter::Comma => c == ',',
        Delimiter::Semicolon => c == ';',
        Delimiter::Tab => c == '\t',
        Delimiter::Whitespace => c == ' ' || c == '\t',
    }
}

/// The delimiter of `line`, counted outside quotes: a tab, else `;`, else `,`, else blanks
/// between fields; `None` when the line is one field.
fn detect(line: &str) -> Option<Delimiter> {
    let (mut tab, mut semi, mut comma, mut blank) = (false, false, false, false);
    let mut in_quotes = false;
    let trimmed = line.trim_matches(|c| c == ' ' || c == '\t');
    for c in trimmed.chars() {
        match c {
            '"' => in_quotes = !in_quotes,
            _ if in_quotes => {}
            '\t' => tab = true,
            ';' => semi = true,
            ',' => comma = true,
            ' ' => blank = true,
            _ => {}
        }
    }
    if tab {
        // Numbers aligned with tabs and spaces mixed are separated by blanks, not by tabs.
        let numbers = |d| split(trimmed, d).is_ok_and(|f| f.iter().all(|f| f.number().is_some()));
        if blank && !numbers(Delimiter::Tab) && numbers(Delimiter::Whitespace) {
            Some(Delimiter::Whitespace)
        } else {
            Some(Delimiter::Tab)
        }
    } else if semi {
        Some(Delimiter::Semicolon)
    } else if comma {
        Some(Delimiter::Comma)
    } else if blank {
        Some(Delimiter::Whitespace)
    } else {
        None
    }
}

/// Split `line` at `d` outside quotes; trim and unquote each field. `Err(column)` names a
/// field whose quote does not close.
fn split(line: &str, d: Delimiter) -> std::result::Result<Vec<Field<'_>>, usize> {
    let mut raw: Vec<&str> = Vec::new();
    let mut in_quotes = false;
    if d == Delimiter::Whitespace {
        let mut start: Option<usize> = None;
        for (i, c) in line.char_indices() {
            if c == '"' {
                in_quotes = !in_quotes;
                start.get_or_insert(i);
            } else if !in_quotes && is_sep(d, c) {
                if let Some(s) = start.take() {
                    raw.push(&line[s..i]);
                }
            } else {
                start.get_or_insert(i);
            }
        }
        if let Some(s) = start {
            raw.push(&line[s..]);
        }
    } else {
        let mut start = 0;
        for (i, c) in line.char_indices() {
            if c == '"' {
                in_quotes = !in_quotes;
            } else if !in_quotes && is_sep(d, c) {
                raw.push(&line[start..i]);
                start = i + c.len_utf8();
            }
        }
        raw.push(&line[start..]);
    }
    raw.into_iter()
        .enumerate()
        .map(|(i, r)| unquote(r.trim()).ok_or(i + 1))
        .collect()
}

/// `"…"` without its quotes (`""` inside is one quote); `None` if the quote does not close.
fn unquote(s: &str) -> Option<Field<'_>> {
    if !s.starts_with('"') {
        return Some(Field {
            text: Cow::Borrowed(s),
            quoted: false,
        });
    }
    if s.len() < 2 || !s.ends_with('"') {
        return None;
    }
    let inner = &s[1..s.len() - 1];
    let text = if inner.contains("\"\"") {
        Cow::Owned(inner.replace("\"\"", "\""))
    } else {
        Cow::Borrowed(inner)
    };
    // Inner spaces (`" 1.5 "`) are not part of a number either.
    let text = match text {
        Cow::Borrowed(t) => Cow::Borrowed(t.trim()),
        Cow::Owned(t) => Cow::Owned(t.trim().to_string()),
    };
    Some(Field { text, quoted: true })
}

/// Parse delimited text; see the parent module.
pub(super) fn parse<'a>(text: &'a str, origin: &Path, given: Option<Delimiter>) -> Result<Loaded> {
    let err = |msg: String| NmfError::parse(origin, msg);
    let (text, bom) = match text.strip_prefix('\u{feff}') {
        Some(t) => (t, true),
        None => (text, false),
    };
    let raw: Vec<&str> = text.lines().collect();
    let last = raw
        .iter()
        .rposition(|l| !l.trim().is_empty())
        .map_or(0, |i| i + 1);
    let mut content: Vec<(usize, &str)> = Vec::new();
    let mut comment_lines = 0;
    for (i, l) in raw[..last].iter().enumerate() {
        let no = i + 1;
        let t = l.trim();
        if t.starts_with('#') {
            comment_lines += 1;
        } else if t.is_empty() {
            return Err(err(format!(
                "line {no} is empty (each row of the matrix is one line): remove the blank line"
            )));
        } else {
            content.push((no, l));
        }
    }
    if content.is_empty() {
        return Err(err(if comment_lines > 0 {
            "no matrix rows: the file holds only comment lines (#)".to_string()
        } else {
            "the file is empty: no matrix rows".to_string()
        }));
    }

    let (delim, delimiter_detected) = match given {
        Some(d) => (d, false),
        None => (
            detect(content[0].1)
                .or_else(|| content.get(1).and_then(|l| detect(l.1)))
                .unwrap_or(Delimiter::Comma),
            true,
        ),
    };
    let how = if delimiter_detected {
        format!(
            "the delimiter detected from line {} is {delim}",
            content[0].0
        )
    } else {
        format!("the delimiter given is {delim}")
    };
    let split_line = |&(no, l): &(usize, &'a str)| -> Result<Line<'a>> {
        let fields = split(l, delim).map_err(|col| {
            err(format!(
                "line {no}, column {col}: a quote (\") opens but does not close on this line: close it (a field cannot span lines)"
            ))
        })?;
        Ok(Line { no, fields })
    };

    // A header row: a first line that is not all numbers (and not all empty) above lines that
    // are; all text, or a first cell naming an index column (pandas writes `,0,1,2`).
    let first = split_line(&content[0])?;
    let numeric = first.fields.iter().filter(|f| f.number().is_some()).count();
    let text_cells = first
        .fields
        .iter()
        .filter(|f| !f.text.is_empty() && f.number().is_none())
        .count();
    let more = content.len() > 1;
    let has_header = if numeric == first.fields.len() {
        false
    } else if text_cells == 0 {
        // Numbers and empty fields: pandas' header when only the corner cell is empty, else a
        // data row with an empty field (reported below).
        more && first.fields[0].text.is_empty() && numeric + 1 == first.fields.len()
    } else if numeric == 0 || is_index_name(&first.fields[0].text) {
        true
    } else if more {
        let (col, f) = first
            .fields
            .iter()
            .enumerate()
            .find(|(_, f)| !f.text.is_empty() && f.number().is_none())
            .expect("a field that is text");
        return Err(err(format!(
            "line {}, column {}: '{}' is not a number, but other fields of line {} are: if the line is a header, name every column (or remove the line); if it is data, fix the field",
            first.no,
            col + 1,
            shorten(&f.text, 40),
            first.no
        )));
    } else {
        false
    };
    let header: Option<Vec<String>> =
        has_header.then(|| first.fields.iter().map(|f| escape(&f.text)).collect());
    if let (Some(cells), false) = (&header, more) {
        return Err(err(format!(
            "only a header row (line {}: {}), no data rows: add the matrix below it",
            first.no,
            shorten(&cells.join(","), 40)
        )));
    }
    let data = if has_header {
        &content[1..]
    } else {
        &content[..]
    };
    let first_data = if has_header {
        split_line(&data[0])?
    } else {
        first
    };
    let width = first_data.fields.len();
    let first_data_no = first_data.no;

    // Column 1 of a file with a header: dropped as an index (by its name, or because the
    // header is one name short), a candidate index (row numbers, decided once every row is
    // read), or data.
    let header_len = header.as_ref().map_or(0, Vec::len);
    let mut index_column = match &header {
        Some(h) if h.len() == width && width >= 2 && is_index_name(&h[0]) => {
            Some(IndexColumn::Named(h[0].trim().to_string()))
        }
        Some(h) if h.len() + 1 == width => Some(IndexColumn::Unnamed),
        _ => None,
    };
    if has_header {
        let want = if index_column == Some(IndexColumn::Unnamed) {
            width - 1
        } else {
            width
        };
        if header_len != want {
            return Err(err(format!(
                "line {} (the header) has {header_len} names but line {first_data_no} has {width} values ({how}): give every column one name",
                content[0].0
            )));
        }
    }
    let drop_first = index_column.is_some();
    if drop_first && width == 1 {
        return Err(err(format!(
            "line {first_data_no}: no values after the index column"
        )));
    }
    let candidate = has_header && !drop_first && width >= 2 && data.len() >= 2;

    let mut quoted = first_data.fields.iter().any(|f| f.quoted);
    let mut values = Vec::with_capacity(data.len() * (width - 1));
    let mut column1: Vec<Option<f64>> = Vec::new();
    let mut column1_bad: Option<(usize, String)> = None;
    let mut line_nos = Vec::with_capacity(data.len());
    let mut first_data = Some(first_data);
    for raw in data {
        let line = match first_data.take() {
            Some(l) => l,
            None => split_line(raw)?,
        };
        quoted |= line.fields.iter().any(|f| f.quoted);
        if line.fields.len() != width {
            return Err(err(format!(
                "line {} has {} values but line {first_data_no} has {width} (ragged rows; {how})",
                line.no,
                line.fields.len(),
            )));
        }
        for (c, f) in line.fields.iter().enumerate() {
            if c == 0 && drop_first {
                continue;
            }
            let x = number_at(f, line.no, c, width, delim, &how, has_header);
            if c == 0 && candidate {
                if let (Err(e), None) = (&x, &column1_bad) {
                    column1_bad = Some((line.no, e.clone()));
                }
                column1.push(x.ok());
                continue;
            }
            values.push(x.map_err(err)?);
        }
        line_nos.push(line.no);
    }
    let rows = line_nos.len();
    if candidate {
        if let Some(first) = row_numbers(&column1) {
            index_column = Some(IndexColumn::RowNumbers { first });
        } else if let Some((_, e)) = column1_bad {
            return Err(err(e));
        }
    }
    let skip = usize::from(index_column.is_some());
    let cols = width - skip;
    let matrix = if candidate && index_column.is_none() {
        // Column 1 is data after all: put it back in front of the others.
        let rest = width - 1;
        Array2::from_shape_fn((rows, width), |(i, j)| match j {
            0 => column1[i].expect("checked above"),
            _ => values[i * rest + j - 1],
        })
    } else {
        Array2::from_shape_vec((rows, cols), values).map_err(|e| err(e.to_string()))?
    };
    super::check_values(&matrix, origin, |i, j| {
        format!("line {}, column {}: ", line_nos[i], j + 1 + skip)
    })?;
    Ok(Loaded {
        matrix,
        detected: Detected {
            format: Format::Csv,
            delimiter: Some(delim),
            delimiter_detected,
            bom,
            quoted,
            header,
            index_column,
            comment_lines,
            npy_dtype: None,
            mtx_header: None,
        },
    })
}

/// The number in field `f` (0-based column `c` of `width`, on line `no`), or the message
/// saying why it is not one.
fn number_at(
    f: &Field<'_>,
    no: usize,
    c: usize,
    width: usize,
    delim: Delimiter,
    how: &str,
    has_header: bool,
) -> std::result::Result<f64, String> {
    let place = format!("line {no}, column {}", c + 1);
    if f.text.is_empty() {
        let end = if c + 1 == width && !f.quoted {
            format!(" (or remove the separator at the end of the line; {how})")
        } else {
            String::new()
        };
        return Err(format!("{place} is empty: write 0 for a zero entry{end}"));
    }
    f.number().ok_or_else(|| {
        format!(
            "{place}: '{}' is not a number {}",
            shorten(&f.text, 40),
            hint(&f.text, delim, how, c == 0 && has_header)
        )
    })
}

/// `Some(0)` or `Some(1)` when `column` counts 0..m−1 or 1..m.
fn row_numbers(column: &[Option<f64>]) -> Option<usize> {
    let x = column.first().copied().flatten()?;
    let first = if x == 0.0 {
        0
    } else if x == 1.0 {
        1
    } else {
        return None;
    };
    column
        .iter()
        .enumerate()
        .all(|(i, &x)| x == Some((first + i) as f64))
        .then_some(first)
}

/// Why a field is not a number, and the fix, in parentheses.
fn hint(text: &str, delim: Delimiter, how: &str, labels: bool) -> String {
    if text.contains('\u{fffd}') {
        return "(the file is not valid UTF-8 here: save it as UTF-8)".to_string();
    }
    if text.chars().any(|c| c.is_control() || is_invisible(c)) {
        return "(it holds a control or invisible character, shown escaped: remove it)".to_string();
    }
    if delim != Delimiter::Comma
        && text.contains(',')
        && parse_number(&text.replace(',', ".")).is_some()
    {
        return "(a decimal comma? nmf-lab reads '.' as the decimal mark: write 1.5, not 1,5)"
            .to_string();
    }
    for (c, d) in [
        (',', Delimiter::Comma),
        (';', Delimiter::Semicolon),
        ('\t', Delimiter::Tab),
        (' ', Delimiter::Whitespace),
    ] {
        if d != delim && text.contains(c) {
            return format!(
                "(it contains {}, but {how}: use --delimiter {})",
                d.name(),
                match d {
                    Delimiter::Comma => ",",
                    Delimiter::Semicolon => "';'",
                    Delimiter::Tab => "tab",
                    Delimiter::Whitespace => "space",
                }
            );
        }
    }
    if labels {
        return "(column 1 looks like row labels: remove it, or name it 'id' in the header so that it is dropped)".to_string();
    }
    "(every entry must be a number such as 3, 0.25 or 1e-3)".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn read(s: &str) -> Result<Loaded> {
        parse(s, Path::new("m.csv"), None)
    }

    fn err(s: &str) -> String {
        read(s).unwrap_err().to_string()
    }

    #[test]
    fn delimiters_are_detected() {
        let want = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
        for (text, d) in [
            ("1,2,3\n4,5,6\n", Delimiter::Comma),
            ("1;2;3\n4;5;6\n", Delimiter::Semicolon),
            ("1\t2\t3\n4\t5\t6\n", Delimiter::Tab),
            ("1 2 3\n4 5 6\n", Delimiter::Whitespace),
            ("  1   2\t3\n4 5    6  \n", Delimiter::Whitespace),
            ("1, 2, 3\r\n4, 5, 6\r\n", Delimiter::Comma),
        ] {
            let l = read(text).unwrap();
            assert_eq!(l.matrix, want, "{text:?}");
            assert_eq!(l.detected.delimiter, Some(d), "{text:?}");
            assert!(l.detected.notice().is_none(), "{text:?}");
        }
        // NumPy's savetxt default: '%.18e' separated by one space.
        let l = read("1.000000000000000000e+00 2.500000000000000000e-01\n").unwrap();
        assert_eq!(l.matrix, array![[1.0, 0.25]]);
        // One column.
        assert_eq!(read("1\n2\n").unwrap().matrix, array![[1.0], [2.0]]);
    }

    #[test]
    fn bom_quotes_and_comments_are_accepted() {
        let l = read("\u{feff}\"1.5\",\"2\"\n\"3\",4\n").unwrap();
        assert_eq!(l.matrix, array![[1.5, 2.0], [3.0, 4.0]]);
        assert!(l.detected.bom && l.detected.quoted);
        let l = read("# made by numpy\n1 2\n# between\n3 4\n").unwrap();
        assert_eq!(l.matrix, array![[1.0, 2.0], [3.0, 4.0]]);
        assert_eq!(l.detected.comment_lines, 2);
        assert_eq!(l.detected.notice().unwrap(), "skipped 2 comment lines (#)");
    }

    #[test]
    fn header_rows_are_skipped_and_reported() {
        let l = read("a,b,c,d\n1,2,3,4\n5,6,7,8\n").unwrap();
        assert_eq!(l.matrix, array![[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]);
        assert_eq!(
            l.detected.notice().unwrap(),
            "skipped a header row (a,b,c…)"
        );
        // Quoted names with the delimiter inside.
        let l = read("\"x,1\";\"y;2\"\n1;2\n").unwrap();
        assert_eq!(l.detected.delimiter, Some(Delimiter::Semicolon));
        assert_eq!(l.detected.header.unwrap(), ["x,1", "y;2"]);
    }

    #[test]
    fn index_columns_are_dropped_and_reported() {
        let want = array![[1.5, 2.0], [3.0, 4.0], [5.0, 0.0]];
        // pandas' DataFrame.to_csv(): empty corner cell, 0-based index, numeric column names.
        let l = read(",0,1\n0,1.5,2\n1,3,4\n2,5,0\n").unwrap();
        assert_eq!(l.matrix, want);
        assert_eq!(
            l.detected.index_column,
            Some(IndexColumn::Named(String::new()))
        );
        // A named index with labels that are not numbers.
        let l = read("id,a,b\nr1,1.5,2\nr2,3,4\nr3,5,0\n").unwrap();
        assert_eq!(l.matrix, want);
        assert_eq!(
            l.detected.notice().unwrap(),
            "skipped a header row (id,a,b); dropped column 1 as an index column (header 'id')"
        );
        // R's write.table: one name fewer in the header, quoted row names.
        let l = read("\"a\" \"b\"\n\"1\" 1.5 2\n\"2\" 3 4\n\"3\" 5 0\n").unwrap();
        assert_eq!(l.matrix, want);
        assert_eq!(l.detected.index_column, Some(IndexColumn::Unnamed));
        // Row numbers 1..m under a header.
        let l = read("n,a,b\n1,1.5,2\n2,3,4\n3,5,0\n").unwrap();
        assert_eq!(l.matrix, want);
        assert_eq!(
            l.detected.index_column,
            Some(IndexColumn::RowNumbers { first: 1 })
        );
        // Without a header a first column 0..m−1 is data.
        let l = read("0,1\n1,1\n2,1\n").unwrap();
        assert_eq!(l.matrix.dim(), (3, 2));
        assert_eq!(l.detected.index_column, None);
    }

    #[test]
    fn ambiguous_first_line_names_the_fix() {
        let e = err("1,x,3\n4,5,6\n");
        assert!(
            e.contains("line 1, column 2: 'x' is not a number, but other fields of line 1 are")
                && e.contains("name every column"),
            "{e}"
        );
    }

    #[test]
    fn only_a_header_is_an_error() {
        let e = err("a,b,c\n");
        assert!(
            e.contains("only a header row (line 1: a,b,c), no data rows"),
            "{e}"
        );
    }

    #[test]
    fn bad_fields_name_place_cause_and_fix() {
        let e = err("1;2\n3;4,5\n");
        assert!(
            e.contains("line 2, column 2: '4,5' is not a number (a decimal comma?"),
            "{e}"
        );
        let e = err("1,2\n3,4\x07\n");
        assert!(
            e.contains("'4\\x07' is not a number (it holds a control"),
            "{e}"
        );
        assert!(!e.contains('\x07'));
        let e = err("1,2\n3,\n");
        assert!(
            e.contains("line 2, column 2 is empty: write 0") && e.contains("remove the separator"),
            "{e}"
        );
        let e = err("1,2\n\"3,4\n");
        assert!(
            e.contains("line 2, column 1: a quote (\") opens but does not close"),
            "{e}"
        );
        let e = err("a,b\nx,1\ny,2\n");
        assert!(
            e.contains("line 2, column 1: 'x' is not a number (column 1 looks like row labels"),
            "{e}"
        );
        let e = parse(
            "1,2,3\n4,5,6\n",
            Path::new("m.csv"),
            Some(Delimiter::Semicolon),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("(it contains ',', but the delimiter given is ';': use --delimiter ,)"),
            "{e}"
        );
        let e = err("1,2\n3,-4\n");
        assert!(
            e.contains("line 2, column 2: negative entry -4e0 at row 2, column 2"),
            "{e}"
        );
        let e = err("h1,h2\n1,2\n3,inf\n");
        assert!(
            e.contains("line 3, column 2: non-finite entry (inf) at row 2, column 2"),
            "{e}"
        );
        let e = err("a,b,c\n1,2\n");
        assert!(
            e.contains("line 1 (the header) has 3 names but line 2 has 2 values"),
            "{e}"
        );
        let e = err("# only\n# comments\n");
        assert!(e.contains("only comment lines"), "{e}");
    }
}
