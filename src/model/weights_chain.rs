//! Builds an MLP from bare weight matrices and biases (files with no graph), deciding each matrix's orientation
//! from the shape chain. Shared by the `.npz` and `.mat` weight readers.

use std::cmp::Ordering;
use std::path::Path;
use std::str::FromStr;

use ndarray::{Array1, Array2};

use super::{Dense, Layer, Model, OutputActivation};
use crate::error::LoadError;

/// The activation put between the layers of an imported MLP (never after the last one).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Activation {
    #[default]
    Relu,
    Tanh,
    /// No activation: the layers compose linearly.
    None,
}

impl FromStr for Activation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "relu" => Ok(Activation::Relu),
            "tanh" => Ok(Activation::Tanh),
            "none" | "linear" => Ok(Activation::None),
            other => Err(format!("unknown activation {other:?}; expected relu, tanh or none")),
        }
    }
}

/// A model imported from a weight-only file, with notes saying exactly how the file was interpreted.
#[derive(Clone, Debug)]
pub struct ImportedModel {
    pub model: Model,
    pub notes: Vec<String>,
}

/// A 2-D matrix in row-major order, as laid out in the file (rows × cols).
#[derive(Clone, Debug)]
pub(crate) struct Matrix {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<f32>,
}

/// One layer's tensors, by their names in the file.
#[derive(Clone, Debug)]
pub(crate) struct RawLayer {
    pub weight_name: String,
    pub weight: Matrix,
    pub bias: Option<(String, Vec<f32>)>,
}

/// How a stored matrix maps to a layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Orientation {
    /// Rows are the neurons of the next layer (PyTorch, a hand-written MATLAB net).
    OutIn,
    /// Rows are the neurons of the current layer (Keras kernels, `x·W` conventions).
    InOut,
}

impl Orientation {
    fn in_out(self, m: &Matrix) -> (usize, usize) {
        match self {
            Orientation::OutIn => (m.cols, m.rows),
            Orientation::InOut => (m.rows, m.cols),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Orientation::OutIn => "[out, in] (rows = next layer)",
            Orientation::InOut => "[in, out] (columns = next layer), transposed",
        }
    }
}

/// The usual flattened image size; when both orientations chain, the one that starts at 784 wins.
const IMAGE_INPUT: usize = 784;

/// Builds `Dense, act, Dense, act, …, Dense` from `layers` (already in order). `convention` breaks ties when both
/// orientations chain (e.g. all matrices square).
pub(crate) fn build_mlp(
    path: &Path,
    layers: Vec<RawLayer>,
    convention: Orientation,
    activation: Activation,
    mut notes: Vec<String>,
) -> Result<ImportedModel, LoadError> {
    if layers.is_empty() {
        return Err(LoadError::format(path, "no weight matrices found"));
    }
    let fits = |o: Orientation| chain_error(&layers, o).is_none();
    let orientation = match (fits(Orientation::OutIn), fits(Orientation::InOut)) {
        (true, false) => {
            notes.push("orientation decided from the shape chain (only one reading chains)".into());
            Orientation::OutIn
        }
        (false, true) => {
            notes.push("orientation decided from the shape chain (only one reading chains)".into());
            Orientation::InOut
        }
        (true, true) => {
            let starts_at_image = |o: Orientation| o.in_out(&layers[0].weight).0 == IMAGE_INPUT;
            let chosen = match (starts_at_image(Orientation::OutIn), starts_at_image(Orientation::InOut)) {
                (true, false) => Orientation::OutIn,
                (false, true) => Orientation::InOut,
                _ => convention,
            };
            notes.push(format!(
                "both orientations chain; chose {} (input {})",
                chosen.describe(),
                chosen.in_out(&layers[0].weight).0
            ));
            chosen
        }
        (false, false) => {
            let shapes: Vec<String> = layers.iter().map(describe_shapes).collect();
            let reason = chain_error(&layers, convention).unwrap_or_default();
            return Err(LoadError::format(
                path,
                format!(
                    "the weight shapes do not chain as [out, in] nor as [in, out]: {}; e.g. {reason}",
                    shapes.join(", ")
                ),
            ));
        }
    };
    let mut model_layers = vec![];
    let count = layers.len();
    for (index, raw) in layers.into_iter().enumerate() {
        let (inputs, outputs) = orientation.in_out(&raw.weight);
        let Matrix { rows, cols, data } = raw.weight;
        let weight = Array2::from_shape_vec((rows, cols), data)
            .map_err(|e| LoadError::format(path, format!("{}: {e}", raw.weight_name)))?;
        let weight = match orientation {
            Orientation::OutIn => weight,
            Orientation::InOut => weight.reversed_axes().as_standard_layout().into_owned(),
        };
        let bias_note = match &raw.bias {
            Some((name, _)) => format!(", bias {name}"),
            None => ", no bias".into(),
        };
        notes.push(format!(
            "{}: {rows}×{cols} read as {} → Dense {inputs}→{outputs}{bias_note}",
            raw.weight_name,
            orientation.describe()
        ));
        model_layers.push(Layer::Dense(Dense {
            weight,
            bias: raw.bias.map(|(_, b)| Array1::from(b)),
        }));
        if index + 1 < count {
            match activation {
                Activation::Relu => model_layers.push(Layer::Relu),
                Activation::Tanh => model_layers.push(Layer::Tanh),
                Activation::None => {}
            }
        }
    }
    notes.push(match activation {
        Activation::Relu => "ReLU between layers, none after the last".into(),
        Activation::Tanh => "Tanh between layers, none after the last".into(),
        Activation::None => "no activation between layers (as requested)".into(),
    });
    let first_input = match &model_layers[0] {
        Layer::Dense(d) => d.weight.ncols(),
        _ => 0,
    };
    let name = path
        .file_stem()
        .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
    let model = Model::new(name, vec![first_input], model_layers, OutputActivation::None).map_err(|source| {
        LoadError::Model {
            path: path.to_path_buf(),
            source,
        }
    })?;
    Ok(ImportedModel { model, notes })
}

fn describe_shapes(l: &RawLayer) -> String {
    let bias = l
        .bias
        .as_ref()
        .map_or(String::new(), |(n, b)| format!(" + {n} [{}]", b.len()));
    format!("{} {}×{}{bias}", l.weight_name, l.weight.rows, l.weight.cols)
}

/// Why `layers` do not chain under `orientation`, or `None` if they do.
fn chain_error(layers: &[RawLayer], orientation: Orientation) -> Option<String> {
    let mut previous: Option<(usize, &str)> = None;
    for l in layers {
        let (inputs, outputs) = orientation.in_out(&l.weight);
        if let Some((n, name)) = previous
            && n != inputs
        {
            return Some(format!(
                "{name} gives {n} outputs but {} takes {inputs} inputs",
                l.weight_name
            ));
        }
        if let Some((name, b)) = &l.bias
            && b.len() != outputs
        {
            return Some(format!("{name} has {} entries for {outputs} outputs", b.len()));
        }
        previous = Some((outputs, &l.weight_name));
    }
    None
}

/// Length of a vector stored as `[n]`, `[1, n]` or `[n, 1]` (any shape with at most one dimension above 1).
pub(crate) fn vector_len(shape: &[usize]) -> Option<usize> {
    let big: Vec<usize> = shape.iter().copied().filter(|&d| d != 1).collect();
    match big.as_slice() {
        [] => Some(1),
        [n] => Some(*n),
        _ => None,
    }
}

/// Natural order of names: digit runs compare as numbers (`fc2 < fc10`, `dense < dense_1 < dense_2`).
pub(crate) fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (chunks(a), chunks(b));
    loop {
        match (a.next(), b.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let order = match (x.parse::<u128>(), y.parse::<u128>()) {
                    (Ok(p), Ok(q)) => p.cmp(&q).then(x.len().cmp(&y.len())),
                    _ => x.cmp(y),
                };
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

/// Splits a name into alternating runs of digits and non-digits.
fn chunks(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = s;
    std::iter::from_fn(move || {
        let first = rest.chars().next()?;
        let digit = first.is_ascii_digit();
        let end = rest
            .char_indices()
            .find(|(_, c)| c.is_ascii_digit() != digit)
            .map_or(rest.len(), |(i, _)| i);
        let (head, tail) = rest.split_at(end);
        rest = tail;
        Some(head)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order_compares_numbers() {
        let mut names = vec![
            "layers.10",
            "layers.2",
            "layers.0",
            "fc10",
            "fc2",
            "dense_1",
            "dense",
            "dense_10",
        ];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            names,
            [
                "dense",
                "dense_1",
                "dense_10",
                "fc2",
                "fc10",
                "layers.0",
                "layers.2",
                "layers.10"
            ]
        );
    }

    #[test]
    fn vectors_may_be_rows_or_columns() {
        assert_eq!(vector_len(&[5]), Some(5));
        assert_eq!(vector_len(&[1, 5]), Some(5));
        assert_eq!(vector_len(&[5, 1]), Some(5));
        assert_eq!(vector_len(&[2, 5]), None);
    }
}
