//! NumPy's `.npy`: float64, float32, (unsigned) integers and booleans, either byte order, C or
//! Fortran order, read with `ndarray-npy` after the header has been checked here (so that a
//! 3-D, object or truncated array gets a message saying what it is and what to do).

use std::path::Path;

use ndarray::Array2;
use ndarray_npy::npy::header::{Header, ReadHeaderError};
use ndarray_npy::{ReadNpyExt, ReadableElement};

use super::{check_values, escape, Detected, Format, Loaded};
use crate::error::{NmfError, Result};

/// The first bytes of every `.npy` file.
pub(super) const MAGIC: &[u8] = b"\x93NUMPY";

/// The dtype string of a header (`<f8`), or the descriptor as Python writes it when it is not
/// a plain string (a structured dtype: `[('a', '<f8'), …]`).
fn descr_of(h: &Header) -> std::result::Result<String, String> {
    let s = h.type_descriptor.to_string();
    match s.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
        Some(inner) if !inner.contains('\'') => Ok(inner.to_string()),
        _ => Err(s),
    }
}

fn shape_str(shape: &[usize]) -> String {
    match shape {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

pub(super) fn parse(bytes: &[u8], origin: &Path) -> Result<Loaded> {
    let err = |msg: String| NmfError::parse(origin, msg);
    let mut rest = bytes;
    let header = Header::from_reader(&mut rest).map_err(|e| {
        err(match e {
            ReadHeaderError::Io(_) => format!(
                "truncated .npy file: it ends inside the header ({} bytes in all); save the array again with numpy.save",
                bytes.len()
            ),
            ReadHeaderError::Parse(p) => format!(
                "the .npy header is malformed ({}): save the array again with numpy.save",
                escape(&p.to_string())
            ),
        })
    })?;
    let data = rest;
    let descr = descr_of(&header).map_err(|d| {
        err(format!(
            "a structured dtype ({}): nmf-lab reads a plain numeric array; save a plain one, e.g. numpy.save('M.npy', numpy.asarray(a, dtype=float))",
            escape(&d)
        ))
    })?;
    let convert = "; save it as numbers with numpy.save('M.npy', a.astype(numpy.float64))";
    let kind = descr.trim_start_matches(['<', '>', '|', '=']);
    let itemsize = match kind {
        "f8" | "i8" | "u8" => 8,
        "f4" | "i4" | "u4" => 4,
        "i2" | "u2" => 2,
        "i1" | "u1" | "b1" => 1,
        "O" => {
            return Err(err(format!(
                "an object array (dtype=object: Python objects, not numbers; often a ragged list or mixed types){convert}"
            )))
        }
        "f2" | "e" => {
            return Err(err(format!(
                "float16 (dtype '{}') is not read{convert}",
                escape(&descr)
            )))
        }
        k if k.starts_with('c') => {
            return Err(err(format!(
                "complex numbers (dtype '{}'): NMF needs real, non-negative data{convert} of the part you mean (a.real or abs(a))",
                escape(&descr)
            )))
        }
        k if k.starts_with('U') || k.starts_with('S') => {
            return Err(err(format!(
                "an array of strings (dtype '{}'){convert}",
                escape(&descr)
            )))
        }
        _ => {
            return Err(err(format!(
                "dtype '{}' is not read (float64, float32, integers and booleans are){convert}",
                escape(&descr)
            )))
        }
    };
    let shape = &header.shape;
    if shape.len() != 2 {
        let fix = match shape.len() {
            0 => "a single number is not a matrix".to_string(),
            1 => "save a.reshape(1, -1) for one row or a.reshape(-1, 1) for one column".to_string(),
            _ => "save one 2-D slice, or a.reshape(a.shape[0], -1)".to_string(),
        };
        return Err(err(format!(
            "a {}-D array (shape {}): nmf-lab needs a 2-D matrix (m×n); {fix}",
            shape.len(),
            shape_str(shape)
        )));
    }
    let (m, n) = (shape[0], shape[1]);
    if m == 0 || n == 0 {
        return Err(err(format!(
            "the array is empty (shape {})",
            shape_str(shape)
        )));
    }
    let want = m
        .checked_mul(n)
        .and_then(|e| e.checked_mul(itemsize))
        .ok_or_else(|| err(format!("shape {} is too large", shape_str(shape))))?;
    if data.len() < want {
        return Err(err(format!(
            "truncated .npy file: the header says {m}×{n} '{descr}' ({want} bytes of data) but {} bytes follow it (an interrupted save or copy?)",
            data.len()
        )));
    }
    if data.len() > want {
        return Err(err(format!(
            "{} bytes after the {m}×{n} '{descr}' data: not a single array saved by numpy.save (save it again)",
            data.len() - want
        )));
    }
    let matrix = match kind {
        "f8" => read::<f64>(bytes, |x| x),
        "f4" => read::<f32>(bytes, f64::from),
        "i8" => read::<i64>(bytes, |x| x as f64),
        "i4" => read::<i32>(bytes, f64::from),
        "i2" => read::<i16>(bytes, f64::from),
        "i1" => read::<i8>(bytes, f64::from),
        "u8" => read::<u64>(bytes, |x| x as f64),
        "u4" => read::<u32>(bytes, f64::from),
        "u2" => read::<u16>(bytes, f64::from),
        "u1" => read::<u8>(bytes, f64::from),
        _ => read::<bool>(bytes, |x| f64::from(u8::from(x))),
    }
    .map_err(|e| err(format!("reading the .npy data: {}", escape(&e.to_string()))))?;
    check_values(&matrix, origin, |_, _| String::new())?;
    Ok(Loaded {
        matrix,
        detected: Detected {
            format: Format::Npy,
            npy_dtype: Some(descr),
            ..Detected::default()
        },
    })
}

/// Read the whole file as a 2-D array of `T` (either memory order) and convert it to a
/// standard-layout `f64` matrix.
fn read<T: ReadableElement + Copy>(
    bytes: &[u8],
    to_f64: impl Fn(T) -> f64,
) -> std::result::Result<Array2<f64>, ndarray_npy::ReadNpyError> {
    let a = Array2::<T>::read_npy(bytes)?;
    let mut out = Array2::<f64>::zeros(a.dim());
    out.zip_mut_with(&a, |o, &x| *o = to_f64(x));
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use ndarray::array;

    /// A version-1.0 `.npy` file: header dict padded to a multiple of 64 bytes, then `data`.
    pub(crate) fn npy_bytes(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
        npy_raw(&format!("'{descr}'"), fortran, shape, data)
    }

    /// As [`npy_bytes`] with the descriptor as a Python literal.
    fn npy_raw(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
        let dict = format!(
            "{{'descr': {descr}, 'fortran_order': {}, 'shape': {shape}, }}",
            if fortran { "True" } else { "False" }
        );
        let mut header = dict.into_bytes();
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(b' ');
        }
        header.push(b'\n');
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(data);
        out
    }

    fn read_bytes(b: &[u8]) -> Result<Loaded> {
        parse(b, Path::new("m.npy"))
    }

    fn err(b: &[u8]) -> String {
        read_bytes(b).unwrap_err().to_string()
    }

    fn le<T: Copy, const N: usize>(xs: &[T], f: impl Fn(T) -> [u8; N]) -> Vec<u8> {
        xs.iter().flat_map(|&x| f(x)).collect()
    }

    #[test]
    fn dtypes_and_orders_are_read() {
        let want = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
        let c = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let f = [1.0, 4.0, 2.0, 5.0, 3.0, 6.0];
        let cases: Vec<(&str, bool, Vec<u8>)> = vec![
            ("<f8", false, le(&c, f64::to_le_bytes)),
            ("<f8", true, le(&f, f64::to_le_bytes)),
            (">f8", false, le(&c, f64::to_be_bytes)),
            ("<f4", false, le(&c.map(|x| x as f32), f32::to_le_bytes)),
            ("<i8", true, le(&f.map(|x| x as i64), i64::to_le_bytes)),
            ("<i4", false, le(&c.map(|x| x as i32), i32::to_le_bytes)),
            ("<i2", false, le(&c.map(|x| x as i16), i16::to_le_bytes)),
            ("|u1", false, c.map(|x| x as u8).to_vec()),
            ("|i1", false, c.map(|x| x as u8).to_vec()),
            ("<u8", false, le(&c.map(|x| x as u64), u64::to_le_bytes)),
        ];
        for (descr, fortran, data) in cases {
            let l = read_bytes(&npy_bytes(descr, fortran, "(2, 3)", &data)).unwrap();
            assert_eq!(l.matrix, want, "{descr} fortran={fortran}");
            assert!(l.matrix.is_standard_layout());
            assert_eq!(l.detected.npy_dtype.as_deref(), Some(descr));
        }
        let l = read_bytes(&npy_bytes("|b1", false, "(1, 2)", &[1, 0])).unwrap();
        assert_eq!(l.matrix, array![[1.0, 0.0]]);
    }

    #[test]
    fn wrong_arrays_say_what_they_are() {
        let e = err(&npy_bytes("<f8", false, "(2, 2, 2)", &[0; 64]));
        assert!(
            e.contains("a 3-D array (shape (2, 2, 2)): nmf-lab needs a 2-D matrix"),
            "{e}"
        );
        let e = err(&npy_bytes("<f8", false, "(3,)", &[0; 24]));
        assert!(
            e.contains("a 1-D array (shape (3,))") && e.contains("reshape(1, -1)"),
            "{e}"
        );
        let e = err(&npy_bytes("|O", false, "(1, 1)", &[0; 8]));
        assert!(e.contains("an object array"), "{e}");
        let e = err(&npy_bytes("<c16", false, "(1, 1)", &[0; 16]));
        assert!(e.contains("complex numbers"), "{e}");
        let e = err(&npy_bytes("<f2", false, "(1, 1)", &[0; 2]));
        assert!(e.contains("float16"), "{e}");
        let e = err(&npy_bytes("<U3", false, "(1, 1)", &[0; 12]));
        assert!(e.contains("strings"), "{e}");
        let e = err(&npy_bytes("<f8", false, "(2, 2)", &[0; 20]));
        assert!(
            e.contains("truncated .npy file: the header says 2×2 '<f8' (32 bytes of data) but 20 bytes follow"),
            "{e}"
        );
        let e = err(&npy_bytes("<f8", false, "(1, 1)", &[0; 9]));
        assert!(e.contains("1 bytes after"), "{e}");
        let full = npy_bytes("<f8", false, "(1, 1)", &[0; 8]);
        let e = err(&full[..20]);
        assert!(e.contains("ends inside the header"), "{e}");
        let e = err(&npy_bytes("<f8", false, "(0, 3)", &[]));
        assert!(e.contains("empty"), "{e}");
        let e = err(&npy_bytes(
            "<f8",
            false,
            "(1, 2)",
            &le(&[1.0, f64::NAN], f64::to_le_bytes),
        ));
        assert!(
            e.contains("non-finite entry (NaN) at row 1, column 2"),
            "{e}"
        );
        let e = err(&npy_bytes(
            "<i4",
            false,
            "(1, 2)",
            &le(&[1, -3], i32::to_le_bytes),
        ));
        assert!(e.contains("negative entry -3e0 at row 1, column 2"), "{e}");
        let mut bad = full.clone();
        bad[6] = 9;
        let e = err(&bad);
        assert!(e.contains("malformed"), "{e}");
    }

    #[test]
    fn structured_dtype_is_refused() {
        let e = err(&npy_raw("[('a', '<f8')]", false, "(1, 1)", &[0; 8]));
        assert!(e.contains("a structured dtype ([('a', '<f8')])"), "{e}");
    }
}
