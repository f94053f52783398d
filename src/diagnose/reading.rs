//! Reading a user's relevance maps in the shapes people save them: `[N, 784]`, `[784, N]` (MATLAB columns),
//! `[N, 28, 28]`, `[28, 28, N]`, a single 784-vector, from `.npy`, `.mat` (column-major) or `.csv`, with a sentence
//! saying which reading was chosen.

use std::path::Path;

use ndarray::{ArrayD, Axis, IxDyn, ShapeBuilder};

use crate::data::mat::tree::{self, MatKind};
use crate::error::LoadError;

/// The maps of a relevance file, each `input_len` values in the model's input order.
#[derive(Clone, Debug, PartialEq)]
pub struct UserMaps {
    pub maps: Vec<Vec<f32>>,
    /// How the file was read, e.g. "`R` double 784×3 (column-major .mat): one map per column".
    pub reading: String,
}

/// Most values a relevance file may hold.
const MAX_VALUES: usize = 1 << 26;

/// Reads `path` for a model whose input has `input_len` values forming an `h × w` image (`None`: not an image).
pub fn read(path: &Path, input_len: usize, image: Option<(usize, usize)>) -> Result<UserMaps, LoadError> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let (array, what) = match ext.as_str() {
        "npy" => (crate::data::npy::read_f32_array(path)?, "npy".to_string()),
        "mat" => {
            let arrays = tree::read(path)?;
            let best = arrays
                .iter()
                .filter(|a| matches!(a.kind, MatKind::Numeric { .. }))
                .max_by_key(|a| a.len())
                .ok_or_else(|| LoadError::format(path, "no numeric variable holds a relevance map"))?;
            let values = best.values().unwrap_or(&[]).to_vec();
            // MATLAB's column-major order, turned into a logical (row-major) array of the same dimensions.
            let a = ArrayD::from_shape_vec(IxDyn(&best.dims).f(), values)
                .map_err(|e| LoadError::format(path, format!("{}: {e}", best.name)))?;
            (
                a.as_standard_layout().into_owned(),
                format!("{} {} (column-major .mat)", best.name, best.describe()),
            )
        }
        "csv" | "txt" => (read_csv(path)?, "csv".to_string()),
        other => {
            return Err(LoadError::format(
                path,
                format!("relevance files are .npy, .mat or .csv, not {other:?}"),
            ));
        }
    };
    interpret(path, &array, input_len, image, &what)
}

/// Splits a logical array into maps of `input_len` values.
pub fn interpret(
    path: &Path,
    a: &ArrayD<f32>,
    input_len: usize,
    image: Option<(usize, usize)>,
    what: &str,
) -> Result<UserMaps, LoadError> {
    let shape: Vec<usize> = a.shape().to_vec();
    // Size-1 axes carry nothing: [1, 784], [784, 1], [N, 1, 28, 28] are read without them.
    let squeezed: Vec<usize> = shape.iter().copied().filter(|&d| d != 1).collect();
    let a = a
        .to_shape(IxDyn(&squeezed))
        .map(|v| v.to_owned())
        .map_err(|e| LoadError::format(path, e.to_string()))?;
    let values: Vec<f32> = a.iter().copied().collect();
    let by_rows = |n: usize| values.chunks_exact(input_len).take(n).map(<[f32]>::to_vec).collect();
    let (maps, how): (Vec<Vec<f32>>, String) = match (squeezed.as_slice(), image) {
        _ if values.len() == input_len && (squeezed.len() <= 1 || Some((squeezed[0], squeezed[1])) == image) => {
            (vec![values.clone()], "one map".into())
        }
        ([n, p], _) if *p == input_len => (by_rows(*n), format!("{n} maps, one per row")),
        ([p, n], _) if *p == input_len => {
            let maps = a.axis_iter(Axis(1)).map(|c| c.iter().copied().collect()).collect();
            (maps, format!("{n} maps, one per column"))
        }
        ([n, h, w], Some(img)) if (*h, *w) == img => (by_rows(*n), format!("{n} maps of {h}×{w}")),
        ([h, w, n], Some(img)) if (*h, *w) == img => {
            let maps = a.axis_iter(Axis(2)).map(|m| m.iter().copied().collect()).collect();
            (maps, format!("{n} maps of {h}×{w}, stacked on the last axis"))
        }
        _ => {
            return Err(LoadError::format(
                path,
                format!(
                    "a relevance array of shape {shape:?} does not hold maps of {input_len} values (expected \
                     [N, {input_len}], [{input_len}, N], [N, H, W], [H, W, N] or one map)"
                ),
            ));
        }
    };
    Ok(UserMaps {
        maps,
        reading: format!("{what} {shape:?}: {how}"),
    })
}

/// Numbers separated by commas, semicolons or white space; one row per line (blank lines skipped).
fn read_csv(path: &Path) -> Result<ArrayD<f32>, LoadError> {
    let bytes = crate::data::bytes::read_all(path)?;
    let text = String::from_utf8_lossy(&bytes);
    let mut rows: Vec<Vec<f32>> = vec![];
    let mut total = 0usize;
    for (line_no, line) in text.lines().enumerate() {
        let cells: Vec<&str> = line
            .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
            .filter(|c| !c.is_empty())
            .collect();
        if cells.is_empty() {
            continue;
        }
        let row: Vec<f32> = cells
            .iter()
            .enumerate()
            .map(|(col, c)| {
                c.parse::<f32>().map_err(|_| {
                    LoadError::format(
                        path,
                        format!("line {}, column {}: {c:?} is not a number", line_no + 1, col + 1),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        total += row.len();
        if total > MAX_VALUES {
            return Err(LoadError::format(path, format!("more than {MAX_VALUES} values")));
        }
        if let Some(first) = rows.first()
            && first.len() != row.len()
        {
            return Err(LoadError::format(
                path,
                format!(
                    "line {} has {} values, the first row {}",
                    line_no + 1,
                    row.len(),
                    first.len()
                ),
            ));
        }
        rows.push(row);
    }
    let cols = rows.first().map_or(0, Vec::len);
    if cols == 0 {
        return Err(LoadError::format(path, "no numbers"));
    }
    let n = rows.len();
    ArrayD::from_shape_vec(IxDyn(&[n, cols]), rows.concat()).map_err(|e| LoadError::format(path, e.to_string()))
}
