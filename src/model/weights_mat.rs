//! MLP weights from a MATLAB Level 5 `.mat` file (compressed or not), in the three layouts people save:
//!
//! * plain variables `W1, b1, W2, b2, …`;
//! * a struct holding a cell array (or struct array) of per-layer structs, `nn.layers{l}.W` and `.b` (field names
//!   matched case-insensitively: `W`/`weights`/`weight`, `b`/`bias`/`biases`); layers without weights, such as an
//!   input layer, are skipped;
//! * DeepLearnToolbox's `nn.W{l}` of size `[out, in+1]`, the bias in the first column, checked against `nn.size`
//!   when present (also `nn.W{l}` with a separate `nn.b{l}`).
//!
//! The usual orientation is that of a hand-written MATLAB net: rows are the neurons of the next layer, columns
//! those of the current one, i.e. `[out, in]`; the transposed layout is accepted too, decided from the shape chain.
//! Biases may be row or column vectors. The notes of the result say which layout was recognised and how each
//! matrix was read. The file is read by the project's bounded parser ([`crate::data::mat::tree`]).

use std::path::Path;

use super::weights_chain::{Activation, ImportedModel, Matrix, Orientation, RawLayer, build_mlp, vector_len};
use crate::data::mat::tree::{self, MatArray, MatKind};
use crate::error::LoadError;

/// The layers found in a layout, with notes on how they were read.
type Layout = (Vec<RawLayer>, Vec<String>);

const WEIGHT_FIELDS: [&str; 3] = ["w", "weights", "weight"];
const BIAS_FIELDS: [&str; 3] = ["b", "bias", "biases"];

/// Reads an MLP from the `.mat` at `path`, with `activation` between its layers.
pub fn load(path: &Path, activation: Activation) -> Result<ImportedModel, LoadError> {
    let arrays = tree::read(path)?;
    load_arrays(path, &arrays, activation)
}

/// [`load`] on variables already read.
pub fn load_arrays(path: &Path, arrays: &[MatArray], activation: Activation) -> Result<ImportedModel, LoadError> {
    if let Some((layers, notes)) = plain(path, arrays)? {
        return build_mlp(path, layers, Orientation::OutIn, activation, notes);
    }
    for s in arrays.iter().filter(|a| matches!(a.kind, MatKind::Struct { .. })) {
        if let Some((layers, mut notes)) = per_layer_structs(path, s)?.map_or_else(|| dlt(path, s), |f| Ok(Some(f)))? {
            if let Some(note) = activation_note(s, activation) {
                notes.push(note);
            }
            return build_mlp(path, layers, Orientation::OutIn, activation, notes);
        }
    }
    let found: Vec<String> = arrays
        .iter()
        .map(|a| format!("{} ({})", a.name, a.describe()))
        .collect();
    Err(LoadError::format(
        path,
        format!(
            "no weight matrices W1, W2, … found (variables: {}); also looked for a struct with per-layer structs \
             (nn.layers{{l}}.W, .b) and for DeepLearnToolbox's nn.W{{l}}",
            found.join(", ")
        ),
    ))
}

/// Layout 1: top-level numeric variables `W<k>` and `b<k>`.
fn plain(path: &Path, arrays: &[MatArray]) -> Result<Option<Layout>, LoadError> {
    let numeric = |a: &&MatArray| matches!(a.kind, MatKind::Numeric { .. } | MatKind::Complex { .. });
    let mut weights: Vec<(usize, &MatArray)> = vec![];
    let mut biases: Vec<(usize, &MatArray)> = vec![];
    let mut ignored = vec![];
    for array in arrays.iter().filter(numeric) {
        match numbered(&array.name) {
            Some(('W', k)) => weights.push((k, array)),
            Some(('b', k)) => biases.push((k, array)),
            _ => ignored.push(array.name.clone()),
        }
    }
    if weights.is_empty() {
        return Ok(None);
    }
    weights.sort_by_key(|(k, _)| *k);
    if let Some(pair) = weights.windows(2).find(|pair| pair[0].0 == pair[1].0) {
        return Err(LoadError::format(
            path,
            format!(
                "{} and {} are both weight {}",
                pair[0].1.name, pair[1].1.name, pair[0].0
            ),
        ));
    }
    if let Some((k, _)) = biases.iter().find(|(k, _)| !weights.iter().any(|(j, _)| j == k)) {
        return Err(LoadError::format(path, format!("b{k} has no matching W{k}")));
    }
    let mut notes = vec![format!(
        "weights-only .mat: variables {}",
        weights
            .iter()
            .map(|(k, _)| format!("W{k}"))
            .collect::<Vec<_>>()
            .join(", ")
    )];
    if !ignored.is_empty() {
        notes.push(format!("ignored variables: {}", ignored.join(", ")));
    }
    let mut layers = vec![];
    for (k, w) in &weights {
        let bias = match biases.iter().find(|(j, _)| j == k) {
            Some((_, b)) => Some((b.name.clone(), bias_values(path, &b.name, b)?)),
            None => None,
        };
        layers.push(RawLayer {
            weight_name: w.name.clone(),
            weight: matrix(path, &w.name, w)?,
            bias,
        });
    }
    Ok(Some((layers, notes)))
}

/// Layout 2: `s.<field>{l}.W` / `.b` (a cell of structs) or `s.<field>(l).W` (a struct array).
fn per_layer_structs(path: &Path, s: &MatArray) -> Result<Option<Layout>, LoadError> {
    let MatKind::Struct { fields, elements } = &s.kind else {
        return Ok(None);
    };
    let Some(first) = elements.first() else {
        return Ok(None);
    };
    for (field, value) in fields.iter().zip(first) {
        // The per-layer structs, with how to name element l (1-based, as in MATLAB).
        let layers: Vec<(String, &MatArray, usize)> = match &value.kind {
            MatKind::Cell(cells) => cells
                .iter()
                .enumerate()
                .filter(|(_, c)| matches!(c.kind, MatKind::Struct { .. }))
                .map(|(l, c)| (format!("{}.{field}{{{}}}", s.name, l + 1), c, 0))
                .collect(),
            MatKind::Struct { elements, .. } => (0..elements.len())
                .map(|l| (format!("{}.{field}({})", s.name, l + 1), value, l))
                .collect(),
            _ => continue,
        };
        let has_weights = |(_, a, i): &(String, &MatArray, usize)| find_field(a, *i, &WEIGHT_FIELDS).is_some();
        if !layers.iter().any(has_weights) {
            continue;
        }
        let shape = match &value.kind {
            MatKind::Cell(_) => "cell array",
            _ => "struct array",
        };
        let mut notes = vec![format!(
            "layout: struct {} with a {shape} {}.{field} of {} per-layer structs (weights and biases in fields)",
            s.name,
            s.name,
            layers.len()
        )];
        let mut raw = vec![];
        for (name, a, i) in &layers {
            let Some((wname, w)) = find_field(a, *i, &WEIGHT_FIELDS) else {
                notes.push(format!("{name}: no weights (an input layer), skipped"));
                continue;
            };
            let wname = format!("{name}.{wname}");
            let bias = match find_field(a, *i, &BIAS_FIELDS) {
                Some((bname, b)) => {
                    let bname = format!("{name}.{bname}");
                    Some((bname.clone(), bias_values(path, &bname, b)?))
                }
                None => None,
            };
            raw.push(RawLayer {
                weight: matrix(path, &wname, w)?,
                weight_name: wname,
                bias,
            });
        }
        return Ok(Some((raw, notes)));
    }
    Ok(None)
}

/// Layout 3: DeepLearnToolbox, `s.W{l}` = `[out, in+1]` with the bias in column 1 (or a separate `s.b{l}`).
fn dlt(path: &Path, s: &MatArray) -> Result<Option<Layout>, LoadError> {
    let Some((wfield, w)) = find_field(s, 0, &WEIGHT_FIELDS) else {
        return Ok(None);
    };
    let MatKind::Cell(ws) = &w.kind else {
        return Ok(None);
    };
    let mats: Vec<(String, Matrix)> = ws
        .iter()
        .enumerate()
        .map(|(l, a)| {
            let name = format!("{}.{wfield}{{{}}}", s.name, l + 1);
            matrix(path, &name, a).map(|m| (name, m))
        })
        .collect::<Result<_, _>>()?;
    if mats.is_empty() {
        return Ok(None);
    }
    let sizes: Option<Vec<usize>> = s
        .field(0, "size")
        .and_then(MatArray::values)
        .map(|v| v.iter().map(|&x| x.max(0.0) as usize).collect());
    // Separate biases: s.b{l}.
    if let Some((bfield, b)) = find_field(s, 0, &BIAS_FIELDS)
        && let MatKind::Cell(bs) = &b.kind
    {
        let mut raw = vec![];
        for (l, (name, m)) in mats.into_iter().enumerate() {
            let bias = match bs.get(l) {
                Some(b) => {
                    let bname = format!("{}.{bfield}{{{}}}", s.name, l + 1);
                    Some((bname.clone(), bias_values(path, &bname, b)?))
                }
                None => None,
            };
            raw.push(RawLayer {
                weight_name: name,
                weight: m,
                bias,
            });
        }
        let notes = vec![format!(
            "layout: struct {} with cell arrays {}.{wfield}{{l}} (weights) and {}.{bfield}{{l}} (biases)",
            s.name, s.name, s.name
        )];
        return Ok(Some((raw, notes)));
    }
    let augmented = match &sizes {
        Some(sz) => {
            sz.len() == mats.len() + 1
                && mats
                    .iter()
                    .enumerate()
                    .all(|(l, (_, m))| m.rows == sz[l + 1] && m.cols == sz[l] + 1)
        }
        None => mats.windows(2).all(|p| p[1].1.cols == p[0].1.rows + 1) && mats.iter().all(|(_, m)| m.cols >= 2),
    };
    let mut notes = vec![];
    if !augmented {
        if let Some(sz) = &sizes {
            let shapes: Vec<String> = mats.iter().map(|(_, m)| format!("{}×{}", m.rows, m.cols)).collect();
            return Err(LoadError::format(
                path,
                format!(
                    "{}.{wfield}{{l}} are {} but {}.size = {sz:?} expects [size(l+1), size(l)+1] (bias in column 1)",
                    s.name,
                    shapes.join(", "),
                    s.name
                ),
            ));
        }
        notes.push(format!(
            "layout: struct {} with a cell array {}.{wfield}{{l}} of weight matrices, no biases",
            s.name, s.name
        ));
        let raw = mats
            .into_iter()
            .map(|(name, m)| RawLayer {
                weight_name: name,
                weight: m,
                bias: None,
            })
            .collect();
        return Ok(Some((raw, notes)));
    }
    notes.push(format!(
        "layout: DeepLearnToolbox-style {}.{wfield}{{l}} = [out, in+1], bias in the first column{}",
        s.name,
        match &sizes {
            Some(sz) => format!("; {}.size = {sz:?} agrees", s.name),
            None => format!("; no {}.size, decided from the shape chain", s.name),
        }
    ));
    let raw = mats
        .into_iter()
        .map(|(name, m)| {
            let (bias, weight) = split_first_column(&m);
            RawLayer {
                weight_name: format!("{name}(:,2:end)"),
                weight,
                bias: Some((format!("{name}(:,1)"), bias)),
            }
        })
        .collect();
    Ok(Some((raw, notes)))
}

fn split_first_column(m: &Matrix) -> (Vec<f32>, Matrix) {
    let cols = m.cols - 1;
    let mut bias = Vec::with_capacity(m.rows);
    let mut data = Vec::with_capacity(m.rows * cols);
    for row in m.data.chunks_exact(m.cols) {
        bias.push(row[0]);
        data.extend_from_slice(&row[1..]);
    }
    (
        bias,
        Matrix {
            rows: m.rows,
            cols,
            data,
        },
    )
}

/// What the file says about its activation, next to what the model uses.
fn activation_note(s: &MatArray, activation: Activation) -> Option<String> {
    let MatKind::Struct { fields, elements } = &s.kind else {
        return None;
    };
    let said: Vec<String> = fields
        .iter()
        .zip(elements.first()?)
        .filter(|(f, _)| f.to_ascii_lowercase().contains("activation") || f.eq_ignore_ascii_case("output"))
        .filter_map(|(f, v)| match &v.kind {
            MatKind::Char(t) => Some(format!("{}.{f} = '{t}'", s.name)),
            _ => None,
        })
        .collect();
    if said.is_empty() {
        return None;
    }
    let used = match activation {
        Activation::Relu => "ReLU",
        Activation::Tanh => "Tanh",
        Activation::None => "no activation",
    };
    Some(format!(
        "the file says {}; the model uses {used} between layers and no output activation",
        said.join(", ")
    ))
}

/// A non-empty numeric field of element `index` whose name is one of `names` (case-insensitive).
fn find_field<'a>(s: &'a MatArray, index: usize, names: &[&str]) -> Option<(String, &'a MatArray)> {
    let MatKind::Struct { fields, elements } = &s.kind else {
        return None;
    };
    let element = elements.get(index)?;
    fields.iter().zip(element).find_map(|(f, v)| {
        let wanted = names.iter().any(|n| f.eq_ignore_ascii_case(n));
        let usable = !v.is_empty() && !matches!(v.kind, MatKind::Char(_) | MatKind::Other(_));
        (wanted && usable).then(|| (f.clone(), v))
    })
}

/// `W12` → `('W', 12)`, `b3` → `('b', 3)` (also lower-case `w` and upper-case `B`).
fn numbered(name: &str) -> Option<(char, usize)> {
    let mut chars = name.chars();
    let kind = match chars.next()? {
        'W' | 'w' => 'W',
        'b' | 'B' => 'b',
        _ => return None,
    };
    let k: usize = chars.as_str().parse().ok()?;
    Some((kind, k))
}

fn bias_values(path: &Path, name: &str, b: &MatArray) -> Result<Vec<f32>, LoadError> {
    let len =
        vector_len(&b.dims).ok_or_else(|| LoadError::format(path, format!("{name} is {:?}, not a vector", b.dims)))?;
    let values = values(path, name, b)?;
    if values.len() != len {
        return Err(LoadError::format(
            path,
            format!("{name} holds the wrong number of values"),
        ));
    }
    Ok(values.to_vec())
}

/// A 2-D MATLAB array converted from column-major to a row-major [`Matrix`].
fn matrix(path: &Path, name: &str, array: &MatArray) -> Result<Matrix, LoadError> {
    let size = &array.dims;
    let (rows, cols) = match size.as_slice() {
        [r, c] => (*r, *c),
        [r, c, rest @ ..] if rest.iter().all(|&d| d == 1) => (*r, *c),
        _ => {
            return Err(LoadError::format(
                path,
                format!("{name} is {size:?}, not a matrix (convolutional weights are not supported)"),
            ));
        }
    };
    let column_major = values(path, name, array)?;
    if rows.checked_mul(cols) != Some(column_major.len()) {
        return Err(LoadError::format(
            path,
            format!("{name} claims {rows}×{cols} but holds {} values", column_major.len()),
        ));
    }
    let mut data = Vec::with_capacity(column_major.len());
    for i in 0..rows {
        data.extend((0..cols).map(|j| column_major[i + j * rows]));
    }
    Ok(Matrix { rows, cols, data })
}

/// The real values of a numeric array, in storage (column-major) order; refuses other kinds or non-finite data.
fn values<'a>(path: &Path, name: &str, array: &'a MatArray) -> Result<&'a [f32], LoadError> {
    let out = match &array.kind {
        MatKind::Numeric { values, .. } => values.as_slice(),
        MatKind::Complex { .. } => return Err(LoadError::format(path, format!("{name} is complex"))),
        _ => {
            return Err(LoadError::format(
                path,
                format!("{name} is a {}, not numbers", array.describe()),
            ));
        }
    };
    if let Some(bad) = out.iter().position(|v| !v.is_finite()) {
        return Err(LoadError::format(
            path,
            format!("{name}: value {bad} is NaN or infinite"),
        ));
    }
    Ok(out)
}
