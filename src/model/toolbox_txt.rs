//! Reader for the LRP Toolbox plain-text model format (shared by its MATLAB and Python versions).
//!
//! The format lists one layer per block: `Linear m n` (then a line of `m·n` weights, inputs × outputs in row-major
//! order, and a line of `n` biases), `Convolution h w d n s0 s1` (weights in C order over `[h, w, d, n]`, then `n`
//! biases; stride `s0, s1`, no padding), `SumPool h w s0 s1`, `MaxPool h w s0 s1`, `Rect` (ReLU), `Tanh`,
//! `SoftMax` and `Flatten`. The toolbox works channel-last (NHWC); this reader converts to our channel-first
//! layers:
//! * Convolution weights `[h, w, d, n]` become `[n, d, h, w]`;
//! * the toolbox flattens in `(h, w, c)` order and we flatten in `(c, h, w)` order, so the columns of the Linear
//!   that consumes a flattened image are permuted and the model computes the same function;
//! * `SumPool` is the window sum × 1/√(h·w) in the toolbox (`normalizer = 1/sqrt(hpool·wpool)` in its
//!   `sumpool.py` forward pass), which is exactly our [`Layer::SumPool2d`];
//! * a final `SoftMax` becomes [`OutputActivation::Softmax`] (explanations start from the logits).

mod parse;
mod shape;

use std::path::Path;

use ndarray::{Array1, Array2, Array4};

use self::parse::{Block, BlockKind};
use self::shape::{TbShape, infer_input, trace};
use super::{Conv2d, Dense, Layer, Model, OutputActivation, Pool2d};
use crate::error::LoadError;

/// A model read from a toolbox text file, with human-readable notes on how it was interpreted.
#[derive(Clone, Debug)]
pub struct ToolboxModel {
    pub model: Model,
    pub notes: Vec<String>,
}

/// Reads the toolbox text model at `path`.
///
/// A model starting with `Linear m n` takes `[m]`. A convolutional model needs its input height and width: they are
/// taken from `input_shape` (`[C, H, W]` in our channel-first order, or `[H, W]` with the channels of the first
/// Convolution) or else inferred by trying square sizes (see the notes of the result).
pub fn load(path: &Path, input_shape: Option<&[usize]>) -> Result<ToolboxModel, LoadError> {
    let bytes = std::fs::read(path).map_err(|e| LoadError::io(path, e))?;
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        LoadError::format(
            path,
            format!("not a text file (invalid UTF-8 at byte {})", e.valid_up_to()),
        )
    })?;
    let blocks = parse::parse(text).map_err(|m| LoadError::format(path, m))?;
    let name = path
        .file_stem()
        .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
    let (model, notes) = convert(&name, &blocks, input_shape).map_err(|m| LoadError::format(path, m))?;
    Ok(ToolboxModel { model, notes })
}

/// Builds the model from parsed blocks; errors are `line N: problem` messages.
fn convert(name: &str, blocks: &[Block], input_shape: Option<&[usize]>) -> Result<(Model, Vec<String>), String> {
    let (input, input_note) = infer_input(blocks, input_shape)?;
    let shapes = trace(blocks, input)?.shapes;
    let mut notes = vec![format!("LRP Toolbox text model, {} blocks; {input_note}", blocks.len())];
    let mut layers = vec![];
    let mut output = OutputActivation::None;
    // Set by a Flatten of a multi-pixel, multi-channel image: the `[C, H, W]` whose NHWC order the next Linear reads.
    let mut pending_order: Option<[usize; 3]> = None;
    let last = blocks.len() - 1;
    for (index, (block, &shape)) in blocks.iter().zip(&shapes).enumerate() {
        let line = block.line;
        match &block.kind {
            BlockKind::Linear {
                m,
                n,
                weight,
                bias,
                legacy_rows,
            } => {
                if *legacy_rows {
                    notes.push(format!(
                        "line {line}: Linear weights read one row per line (legacy format)"
                    ));
                }
                match shape {
                    TbShape::Flat(_) => {
                        let order = pending_order.take();
                        if let Some(order) = order {
                            notes.push(format!(
                                "line {line}: Linear {m} {n} reads a flattened {order:?} (C, H, W) image: its columns \
                                 are permuted from the toolbox's (H, W, C) order to our (C, H, W) order"
                            ));
                        }
                        layers.push(dense(*m, *n, weight, bias, order));
                    }
                    TbShape::Image { h, w, c } if c == *m && h * w > 1 => {
                        notes.push(format!(
                            "line {line}: Linear {m} {n} on a {h}x{w}x{c} image acts on each pixel's channels \
                             (numpy dot), read as a 1x1 Conv2d"
                        ));
                        layers.push(conv1x1(*m, *n, weight, bias));
                    }
                    TbShape::Image { h, w, c } => {
                        let order = (h * w > 1 && c > 1).then_some([c, h, w]);
                        notes.push(format!(
                            "line {line}: Linear {m} {n} directly on a {h}x{w}x{c} image: a Flatten is inserted{}",
                            if order.is_some() {
                                " and the columns permuted from (H, W, C) to (C, H, W) order"
                            } else {
                                ""
                            }
                        ));
                        layers.push(Layer::Flatten);
                        layers.push(dense(*m, *n, weight, bias, order));
                    }
                }
            }
            BlockKind::Convolution {
                h,
                w,
                d,
                n,
                stride,
                weight,
                bias,
            } => {
                layers.push(conv(*h, *w, *d, *n, *stride, weight, bias));
            }
            BlockKind::SumPool { pool, stride } => layers.push(Layer::SumPool2d(pool2d(*pool, *stride))),
            BlockKind::MaxPool { pool, stride } => layers.push(Layer::MaxPool2d(pool2d(*pool, *stride))),
            BlockKind::Rect => layers.push(Layer::Relu),
            BlockKind::Tanh => layers.push(Layer::Tanh),
            BlockKind::Flatten => {
                if let TbShape::Image { h, w, c } = shape {
                    layers.push(Layer::Flatten);
                    pending_order = (h * w > 1 && c > 1).then_some([c, h, w]);
                }
            }
            BlockKind::SoftMax => {
                if index != last {
                    return Err(format!("line {line}: SoftMax is only supported as the last layer"));
                }
                output = OutputActivation::Softmax;
                notes.push(format!(
                    "line {line}: the final SoftMax is kept as the output activation; explanations start from the \
                     logits"
                ));
            }
        }
    }
    let out = shapes.last().copied().unwrap_or(input);
    let reordered = match out {
        TbShape::Image { h, w, c } => h * w > 1 && c > 1,
        TbShape::Flat(_) => pending_order.is_some(),
    };
    if reordered {
        return Err(format!(
            "the network ends in a multi-channel {:?} (C, H, W) map without a Linear layer after it; its outputs \
             would be in a different order than in the toolbox",
            match out {
                TbShape::Image { .. } => out.ours(),
                TbShape::Flat(_) => pending_order.map(Vec::from).unwrap_or_default(),
            }
        ));
    }
    if blocks.iter().any(|b| matches!(b.kind, BlockKind::Convolution { .. })) {
        notes.push("Convolution weights [h, w, d, n] (NHWC toolbox layout) converted to [n, d, h, w]".into());
    }
    if blocks.iter().any(|b| matches!(b.kind, BlockKind::SumPool { .. })) {
        notes.push("SumPool: window sum × 1/√(h·w), as the toolbox computes it".into());
    }
    let model = Model::new(name, input.ours(), layers, output).map_err(|e| format!("invalid model: {e}"))?;
    Ok((model, notes))
}

/// Dense `[n, m]` from toolbox weights `m × n`. With `order = Some([C, H, W])`, input `(h, w, c)` of the toolbox
/// (index `(h·W + w)·C + c`) becomes our input `c·H·W + h·W + w`.
fn dense(m: usize, n: usize, weight: &[f32], bias: &[f32], order: Option<[usize; 3]>) -> Layer {
    let toolbox_row = |ours: usize| match order {
        Some([c_len, h_len, w_len]) => {
            let (c, rest) = (ours / (h_len * w_len), ours % (h_len * w_len));
            let (h, w) = (rest / w_len, rest % w_len);
            (h * w_len + w) * c_len + c
        }
        None => ours,
    };
    let w = Array2::from_shape_fn((n, m), |(o, i)| weight[toolbox_row(i) * n + o]);
    Layer::Dense(Dense {
        weight: w,
        bias: Some(Array1::from(bias.to_vec())),
    })
}

/// Conv2d `[n, d, h, w]` from toolbox weights in C order over `[h, w, d, n]`.
fn conv(h: usize, w: usize, d: usize, n: usize, stride: [usize; 2], weight: &[f32], bias: &[f32]) -> Layer {
    let wt = Array4::from_shape_fn((n, d, h, w), |(o, k, i, j)| weight[((i * w + j) * d + k) * n + o]);
    Layer::Conv2d(Conv2d {
        weight: wt,
        bias: Some(Array1::from(bias.to_vec())),
        stride,
        padding: [0; 4],
    })
}

/// A `Linear m n` applied per pixel: Conv2d `[n, m, 1, 1]`.
fn conv1x1(m: usize, n: usize, weight: &[f32], bias: &[f32]) -> Layer {
    conv(1, 1, m, n, [1, 1], weight, bias)
}

fn pool2d(pool: [usize; 2], stride: [usize; 2]) -> Pool2d {
    Pool2d {
        kernel: pool,
        stride,
        padding: [0; 4],
    }
}
