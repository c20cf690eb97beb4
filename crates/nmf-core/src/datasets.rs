//! Data sets that ship with nmf-lab, so that demos and tests run on real data offline.
//!
//! * [`digits`]: scikit-learn's digits, 1797 images of 8×8 pixels (one row each, values
//!   0..16), with three all-zero pixel columns. The UCI "Optical Recognition of Handwritten
//!   Digits" test set (Alpaydin & Kaynak, 1998) as bundled with scikit-learn (BSD-3-Clause);
//!   source, generation and licence in `data/README.md`.
//! * [`swimmer`]: a Swimmer data set (Donoho & Stodden, *When does non-negative matrix
//!   factorization give a correct decomposition into parts?*, NIPS 2003): 256 images of 32×32
//!   pixels, one row each, every image a torso plus four limbs, each limb in one of four
//!   positions (4⁴ = 256 combinations). It is generated here by code with that structure (a
//!   fixed torso and 16 limb-position stroke masks that touch neither each other nor the torso),
//!   not copied pixel for pixel from the original files; what makes it the classic test holds:
//!   the 17 parts are an exact non-negative factorization of rank 17 whose parts are unique.

use ndarray::Array2;

use crate::error::{NmfError, Result};

/// The names accepted by [`by_name`].
pub const NAMES: [&str; 2] = ["digits", "swimmer"];

/// The bundled data set a command-line path names: its name is one of [`NAMES`] and no file of
/// that name exists (a file always wins).
pub fn bundled(path: &std::path::Path) -> Option<&'static str> {
    let name = path.to_str()?;
    if path.exists() {
        return None;
    }
    NAMES.into_iter().find(|n| *n == name)
}

/// A bundled data set by name (`digits`, `swimmer`).
pub fn by_name(name: &str) -> Option<Array2<f64>> {
    match name {
        "digits" => Some(digits()),
        "swimmer" => Some(swimmer()),
        _ => None,
    }
}

/// scikit-learn's digits matrix, 1797×64 (see the module doc).
pub fn digits() -> Array2<f64> {
    crate::io::parse_matrix(
        include_str!("../../../data/digits.csv"),
        std::path::Path::new("<bundled digits>"),
    )
    .expect("the bundled digits matrix parses")
}

/// Side of a Swimmer image.
pub const SWIMMER_SIDE: usize = 32;

/// The pixels (row, col) of the torso: a 2-pixel-wide vertical bar in the middle.
fn torso() -> Vec<(usize, usize)> {
    (9..=22).flat_map(|r| [(r, 15), (r, 16)]).collect()
}

/// The pixels of limb `limb` (0 left arm, 1 right arm, 2 left leg, 3 right leg) in position
/// `pos` (0..4): a stroke from 3 to 9 pixels beyond its joint, at one of four angles.
fn limb(limb: usize, pos: usize) -> Vec<(usize, usize)> {
    // Joints: shoulders beside the top of the torso, hips beside its bottom.
    let (jr, jc, side) = match limb {
        0 => (10.0, 14.0, -1.0),
        1 => (10.0, 17.0, 1.0),
        2 => (21.0, 14.0, -1.0),
        _ => (21.0, 17.0, 1.0),
    };
    // Arms swing from up to down on their side; legs from sideways to straight down.
    let angles_deg = if limb < 2 {
        [-60.0, -20.0, 20.0, 60.0]
    } else {
        [10.0, 35.0, 60.0, 85.0]
    };
    let a = f64::to_radians(angles_deg[pos]);
    let (dr, dc) = (a.sin(), side * a.cos());
    (3..10)
        .map(|t| {
            let t = t as f64;
            (
                (jr + t * dr).round().clamp(0.0, 31.0) as usize,
                (jc + t * dc).round().clamp(0.0, 31.0) as usize,
            )
        })
        .collect()
}

/// The 17 parts as 0/1 images (rows of 1024 pixels): the torso, then limb 0's four
/// positions, limb 1's, …
pub fn swimmer_parts() -> Array2<f64> {
    let n = SWIMMER_SIDE * SWIMMER_SIDE;
    let mut parts = Array2::zeros((17, n));
    let mut set = |row: usize, pixels: Vec<(usize, usize)>| {
        for (r, c) in pixels {
            parts[[row, r * SWIMMER_SIDE + c]] = 1.0;
        }
    };
    set(0, torso());
    for l in 0..4 {
        for p in 0..4 {
            set(1 + 4 * l + p, limb(l, p));
        }
    }
    parts
}

/// The Swimmer matrix, 256×1024: image `i` (positions `(i / 64, i / 16 % 4, i / 4 % 4, i % 4)`
/// of the four limbs) is the torso plus one position of each limb, pixels 0 or 1.
pub fn swimmer() -> Array2<f64> {
    let parts = swimmer_parts();
    let mut m = Array2::zeros((256, parts.ncols()));
    for i in 0..256 {
        let pos = [i / 64, i / 16 % 4, i / 4 % 4, i % 4];
        let mut row = parts.row(0).to_owned();
        for (l, p) in pos.into_iter().enumerate() {
            row += &parts.row(1 + 4 * l + p);
        }
        m.row_mut(i).assign(&row);
    }
    m
}

/// The error for an unknown name.
pub fn unknown(name: &str) -> NmfError {
    NmfError::Param {
        name: "data",
        message: format!(
            "{name}: no such file, and not a bundled data set ({})",
            NAMES.join(", ")
        ),
    }
}

/// A bundled data set, or the error naming the choices.
pub fn load(name: &str) -> Result<Array2<f64>> {
    by_name(name).ok_or_else(|| unknown(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_is_the_committed_matrix() {
        let d = digits();
        assert_eq!(d.dim(), (1797, 64));
        assert!(d
            .iter()
            .all(|&x| (0.0..=16.0).contains(&x) && x.fract() == 0.0));
        let zero_cols: Vec<usize> = (0..64)
            .filter(|&j| d.column(j).iter().all(|&x| x == 0.0))
            .collect();
        assert_eq!(zero_cols, [0, 32, 39]);
    }

    #[test]
    fn swimmer_parts_are_disjoint_and_every_image_is_their_sum() {
        let parts = swimmer_parts();
        // Disjoint: no pixel belongs to two parts (so the 0/1 images have 0/1 entries).
        for c in 0..parts.ncols() {
            assert!(parts.column(c).sum() <= 1.0, "pixel {c} in two parts");
        }
        for p in parts.rows() {
            assert!(p.sum() >= 6.0, "every part has its pixels");
        }
        let m = swimmer();
        assert_eq!(m.dim(), (256, 1024));
        assert!(m.iter().all(|&x| x == 0.0 || x == 1.0));
        // All 256 images differ, and each has the torso and exactly four limb strokes.
        let mut rows: Vec<Vec<u8>> = m
            .rows()
            .into_iter()
            .map(|r| r.iter().map(|&x| x as u8).collect())
            .collect();
        rows.sort();
        rows.dedup();
        assert_eq!(rows.len(), 256);
        // M = W · parts with W the 0/1 part-membership matrix: an exact rank-17 factorization.
        let mut w = Array2::zeros((256, 17));
        for i in 0..256 {
            w[[i, 0]] = 1.0;
            for (l, p) in [i / 64, i / 16 % 4, i / 4 % 4, i % 4]
                .into_iter()
                .enumerate()
            {
                w[[i, 1 + 4 * l + p]] = 1.0;
            }
        }
        assert_eq!(w.dot(&parts), m);
    }

    #[test]
    fn names_resolve() {
        assert_eq!(by_name("swimmer").unwrap().dim(), (256, 1024));
        assert!(by_name("mnist").is_none());
        assert!(load("mnist")
            .unwrap_err()
            .to_string()
            .contains("digits, swimmer"));
    }
}
