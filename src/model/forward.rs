//! Forward pass: every layer's output is kept, since LRP needs each layer's input.

use std::sync::{Arc, Mutex, OnceLock};

use ndarray::{Array1, Array2, ArrayD, ArrayView2, CowArray, Ix2, IxDyn};

use super::{Layer, Model};
use crate::error::{ModelError, ShapeError};
use crate::ops::{Affine, max_pool_forward, reshaped};

/// Weight matrices derived from a layer's `W: [out, K]` that the rules need (`W⁺`, `W⁻`, `W²`, all-ones),
/// computed once per model on first use.
#[derive(Debug, Default)]
pub struct DerivedWeights {
    positive: OnceLock<Array2<f32>>,
    negative: OnceLock<Array2<f32>>,
    squared: OnceLock<Array2<f32>>,
    ones: OnceLock<Array2<f32>>,
    /// The last few `a·W⁺ + b·W⁻` combinations asked for, keyed by `(a, b)` bits, newest last.
    combined: Mutex<Vec<(CombinedKey, Arc<Array2<f32>>)>>,
}

type CombinedKey = (u32, u32);

/// Combinations of `W⁺` and `W⁻` kept per layer: enough for a comparison grid, small enough to ignore.
const COMBINED_CACHE: usize = 8;

impl Clone for DerivedWeights {
    fn clone(&self) -> Self {
        DerivedWeights {
            positive: self.positive.clone(),
            negative: self.negative.clone(),
            squared: self.squared.clone(),
            ones: self.ones.clone(),
            combined: Mutex::new(self.combined.lock().map(|c| c.clone()).unwrap_or_default()),
        }
    }
}

/// A layer seen as a linear map `z = f(x, W) + b` with `W: [out, K]` (Dense, Conv2d, average/sum pooling).
pub struct LinearView<'a> {
    pub affine: Affine,
    pub weight: CowArray<'a, f32, Ix2>,
    pub bias: Option<&'a Array1<f32>>,
    derived: Option<&'a DerivedWeights>,
}

impl LinearView<'_> {
    pub fn weight(&self) -> ArrayView2<'_, f32> {
        self.weight.view()
    }

    fn derive(&self, slot: fn(&DerivedWeights) -> &OnceLock<Array2<f32>>, f: fn(f32) -> f32) -> CowArray<'_, f32, Ix2> {
        match self.derived {
            Some(d) => CowArray::from(slot(d).get_or_init(|| self.weight.mapv(f)).view()),
            None => CowArray::from(self.weight.mapv(f)),
        }
    }

    /// `W⁺ = max(W, 0)`.
    pub fn positive(&self) -> CowArray<'_, f32, Ix2> {
        self.derive(|d| &d.positive, |v| v.max(0.0))
    }

    /// `W⁻ = min(W, 0)`.
    pub fn negative(&self) -> CowArray<'_, f32, Ix2> {
        self.derive(|d| &d.negative, |v| v.min(0.0))
    }

    /// `W²`.
    pub fn squared(&self) -> CowArray<'_, f32, Ix2> {
        self.derive(|d| &d.squared, |v| v * v)
    }

    /// `a·W⁺ + b·W⁻`, e.g. `W + γW⁺` = `(1 + γ)·W⁺ + W⁻` for LRP-γ or `l·W⁺ + h·W⁻` for z^B; the last few
    /// combinations are cached per layer, so dragging a parameter slider rebuilds one matrix per layer.
    pub fn combined(&self, a: f32, b: f32) -> Arc<Array2<f32>> {
        let build = || {
            let mut out = self.weight.to_owned();
            out.mapv_inplace(|v| if v > 0.0 { a * v } else { b * v });
            Arc::new(out)
        };
        let Some(derived) = self.derived else {
            return build();
        };
        let key = (a.to_bits(), b.to_bits());
        let Ok(mut cache) = derived.combined.lock() else {
            return build();
        };
        if let Some(found) = cache.iter().position(|(k, _)| *k == key) {
            let entry = cache.remove(found);
            let w = Arc::clone(&entry.1);
            cache.push(entry);
            return w;
        }
        let w = build();
        if cache.len() >= COMBINED_CACHE {
            cache.remove(0);
        }
        cache.push((key, Arc::clone(&w)));
        w
    }

    /// A matrix of ones shaped like `W`.
    pub fn ones(&self) -> CowArray<'_, f32, Ix2> {
        self.derive(|d| &d.ones, |_| 1.0)
    }
}

impl Model {
    /// The linear form of layer `index`, or `None` for layers that are not linear maps.
    pub fn linear_view(&self, index: usize) -> Option<LinearView<'_>> {
        match self.layers().get(index)? {
            Layer::Dense(d) => Some(LinearView {
                affine: Affine::Dense,
                weight: CowArray::from(d.weight.view()),
                bias: d.bias.as_ref(),
                derived: self.derived(index),
            }),
            Layer::Conv2d(c) => {
                let s = c.weight.shape();
                let w = c.weight.view().into_shape_with_order((s[0], s[1] * s[2] * s[3])).ok()?;
                Some(LinearView {
                    affine: Affine::Conv(self.geometry(index)?),
                    weight: CowArray::from(w),
                    bias: c.bias.as_ref(),
                    derived: self.derived(index),
                })
            }
            Layer::AvgPool2d(p) | Layer::SumPool2d(p) => {
                let k = p.kernel[0] * p.kernel[1];
                let value = if matches!(self.layers()[index], Layer::AvgPool2d(_)) {
                    1.0 / k as f32
                } else {
                    1.0 / (k as f32).sqrt()
                };
                Some(LinearView {
                    affine: Affine::Depthwise(self.geometry(index)?),
                    weight: CowArray::from(Array2::from_elem((1, k), value)),
                    bias: None,
                    derived: None,
                })
            }
            _ => None,
        }
    }

    /// Reshapes a batch `[N, ...]` (any per-sample shape of the right size) to `[N, input_shape...]`.
    pub fn shape_batch(&self, x: ArrayD<f32>) -> Result<ArrayD<f32>, ModelError> {
        let n = x.shape().first().copied().unwrap_or(0);
        let per: usize = x.shape().iter().skip(1).product();
        if x.ndim() < 1 || per != self.input_len() {
            return Err(ModelError::InputShape {
                expected: self.input_shape().to_vec(),
                got: x.shape().iter().skip(1).copied().collect(),
            });
        }
        let mut shape = vec![n];
        shape.extend_from_slice(self.input_shape());
        let x = x.as_standard_layout().into_owned();
        x.into_shape_with_order(IxDyn(&shape))
            .map_err(|_| ModelError::InputShape {
                expected: self.input_shape().to_vec(),
                got: vec![per],
            })
    }

    /// The error of layer `index` whose linear form or window geometry cannot be built (a model that
    /// [`Model::new`] would have refused; reported rather than computed as zeros).
    pub(crate) fn layer_error(&self, index: usize, message: &str) -> ModelError {
        ModelError::Layer {
            index,
            kind: self
                .layers()
                .get(index)
                .map_or_else(|| "missing".to_string(), |l| l.kind().name().to_string()),
            message: message.to_string(),
        }
    }

    /// The linear form of layer `index`, or an error naming the layer.
    pub fn linear_view_of(&self, index: usize) -> Result<LinearView<'_>, ModelError> {
        self.linear_view(index)
            .ok_or_else(|| self.layer_error(index, "its weights do not form a linear map of its input"))
    }

    /// The window geometry of a convolution or pooling layer `index`, or an error naming the layer.
    pub fn geometry_of(&self, index: usize) -> Result<crate::ops::ConvGeometry, ModelError> {
        self.geometry(index)
            .ok_or_else(|| self.layer_error(index, "its window does not fit its input"))
    }

    /// Output of layer `index` for its input batch `x`.
    ///
    /// # Errors
    /// [`ModelError::Shape`] when `x` is not shaped like the layer's input, [`ModelError::Layer`] for a layer
    /// whose geometry cannot be built.
    pub fn layer_forward(&self, index: usize, x: &ArrayD<f32>) -> Result<ArrayD<f32>, ModelError> {
        let shape_error = |source| ModelError::Shape { index, source };
        let layer = self
            .layers()
            .get(index)
            .ok_or_else(|| self.layer_error(index, "no such layer"))?;
        match layer {
            Layer::Dense(_) | Layer::Conv2d(_) | Layer::AvgPool2d(_) | Layer::SumPool2d(_) => {
                let view = self.linear_view_of(index)?;
                view.affine.forward(x, view.weight(), view.bias).map_err(shape_error)
            }
            Layer::MaxPool2d(_) => max_pool_forward(x, &self.geometry_of(index)?).map_err(shape_error),
            Layer::Relu => Ok(x.mapv(|v| v.max(0.0))),
            Layer::Tanh => Ok(x.mapv(f32::tanh)),
            Layer::Flatten | Layer::Reshape(_) => {
                let n = x.shape().first().copied().unwrap_or(0);
                let mut out_shape = vec![n];
                out_shape.extend_from_slice(self.shape_at(index + 1));
                reshaped("reshape", x, &out_shape).map_err(shape_error)
            }
            Layer::Permute(perm) => permute_sample_axes(x, perm).map_err(shape_error),
        }
    }

    /// Forward pass on `x: [N, input_shape...]` (see [`Model::shape_batch`]); returns every activation:
    /// `[0]` is the input, `[k + 1]` the output of layer `k`, the last entry the logits.
    pub fn forward(&self, x: &ArrayD<f32>) -> Result<Vec<ArrayD<f32>>, ModelError> {
        let x = self.shape_batch(x.clone())?;
        let mut acts = Vec::with_capacity(self.layers().len() + 1);
        acts.push(x);
        for index in 0..self.layers().len() {
            let next = self.layer_forward(index, &acts[index])?;
            acts.push(next);
        }
        Ok(acts)
    }

    /// The last activation of a forward pass as logits `[N, classes]`.
    pub fn logits_of(&self, output: ArrayD<f32>) -> Result<Array2<f32>, ModelError> {
        let n = output.shape().first().copied().unwrap_or(0);
        let index = self.layers().len().saturating_sub(1);
        let flat = reshaped("logits", &output, &[n, self.num_outputs()])
            .map_err(|source| ModelError::Shape { index, source })?;
        flat.into_dimensionality::<Ix2>().map_err(|_| ModelError::Shape {
            index,
            source: ShapeError {
                op: "logits",
                expected: format!("[N, {}]", self.num_outputs()),
                got: output.shape().to_vec(),
            },
        })
    }

    /// Logits `[N, classes]` for a batch.
    pub fn logits(&self, x: &ArrayD<f32>) -> Result<Array2<f32>, ModelError> {
        let mut acts = self.forward(x)?;
        match acts.pop() {
            Some(last) => self.logits_of(last),
            None => Err(ModelError::Empty),
        }
    }
}

/// Softmax of each row.
pub fn softmax_rows(logits: &Array2<f32>) -> Array2<f32> {
    let mut out = logits.clone();
    for mut row in out.rows_mut() {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        row.mapv_inplace(|v| (v - max).exp());
        let sum = row.sum();
        row.mapv_inplace(|v| v / sum);
    }
    out
}

/// `x: [N, ...]` with its per-sample axes permuted (output axis `k + 1` is input axis `perm[k] + 1`), row-major.
/// A batch whose rank does not match the permutation is a [`ShapeError`].
pub(crate) fn permute_sample_axes(x: &ArrayD<f32>, perm: &[usize]) -> Result<ArrayD<f32>, crate::error::ShapeError> {
    let axes: Vec<usize> = std::iter::once(0).chain(perm.iter().map(|&p| p + 1)).collect();
    let mut seen = vec![false; axes.len()];
    let valid = axes.len() == x.ndim()
        && axes
            .iter()
            .all(|&a| a < seen.len() && !std::mem::replace(&mut seen[a], true));
    if !valid {
        return Err(crate::error::ShapeError {
            op: "permute",
            expected: format!("a batch of rank {} for the permutation {perm:?}", axes.len()),
            got: x.shape().to_vec(),
        });
    }
    Ok(x.view().permuted_axes(IxDyn(&axes)).as_standard_layout().into_owned())
}

/// The inverse of a permutation: `inverse[perm[k]] = k`.
pub(crate) fn inverse_permutation(perm: &[usize]) -> Vec<usize> {
    let mut inverse = vec![0; perm.len()];
    for (k, &p) in perm.iter().enumerate() {
        if let Some(slot) = inverse.get_mut(p) {
            *slot = k;
        }
    }
    inverse
}
