//! Pixel flipping / region perturbation (Samek et al. 2017): remove the most relevant input elements first, in
//! steps, and follow the target's logit. A faithful explanation makes it drop fast; the area over the perturbation
//! curve (AOPC) summarises the drop. A random order is the baseline every rule must beat.

use ndarray::{Array2, ArrayD, Axis, IxDyn};
use rayon::prelude::*;

use crate::error::LrpError;
use crate::model::Model;

/// In which order input elements are removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlipOrder {
    /// Most relevant first (descending relevance).
    MostRelevantFirst,
    /// A random order drawn from the seed (the baseline).
    Random { seed: u64 },
}

/// How a curve is sampled.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FlipSettings {
    /// Number of perturbation steps after the unperturbed point.
    pub steps: usize,
    /// Fraction of the input removed at the last step (0 < fraction ≤ 1).
    pub fraction: f32,
    /// The value a removed element takes (model input units, e.g. the image of a background pixel).
    pub fill: f32,
}

impl Default for FlipSettings {
    fn default() -> Self {
        FlipSettings {
            steps: 20,
            fraction: 0.2,
            fill: 0.0,
        }
    }
}

/// The target logit after each step (`values[0]`: unperturbed) for one sample.
#[derive(Clone, Debug, PartialEq)]
pub struct PerturbationCurve {
    /// Fraction of input elements removed at each point.
    pub removed: Vec<f32>,
    pub values: Vec<f32>,
}

/// AOPC = mean over the points of `values[0] − values[k]`.
pub fn aopc(values: &[f32]) -> f32 {
    match values.first() {
        None => 0.0,
        Some(&first) => values.iter().map(|v| first - v).sum::<f32>() / values.len() as f32,
    }
}

fn shuffled(len: usize, seed: u64) -> Vec<usize> {
    let mut state = seed ^ 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut order: Vec<usize> = (0..len).collect();
    for i in (1..len).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

/// One curve per sample. `x: [N, ...]` inputs, `relevance`: the same shape, `targets`: class per sample.
/// Every step of a sample is evaluated in one batched forward pass; samples run in parallel.
pub fn perturbation_curves(
    model: &Model,
    x: &ArrayD<f32>,
    relevance: &ArrayD<f32>,
    targets: &[usize],
    order: FlipOrder,
    settings: &FlipSettings,
) -> Result<Vec<PerturbationCurve>, LrpError> {
    let x = model.shape_batch(x.clone())?;
    let n = x.shape()[0];
    let len = model.input_len();
    if relevance.len() != x.len() || targets.len() != n {
        return Err(LrpError::Rule(format!(
            "perturbation needs relevance and one target per sample for {n} samples"
        )));
    }
    let classes = model.num_outputs();
    if let Some(&bad) = targets.iter().find(|&&t| t >= classes) {
        return Err(LrpError::Target { target: bad, classes });
    }
    let steps = settings.steps.max(1);
    let total = ((len as f32 * settings.fraction.clamp(0.0, 1.0)).round() as usize).min(len);
    let counts: Vec<usize> = (0..=steps).map(|s| s * total / steps).collect();
    let xs = x.as_standard_layout().into_owned();
    let rs = relevance.as_standard_layout().into_owned();
    let rows: Vec<_> = xs.axis_iter(Axis(0)).zip(rs.axis_iter(Axis(0))).collect();
    rows.into_par_iter()
        .enumerate()
        .map(|(i, (xi, ri))| {
            let xi: Vec<f32> = xi.iter().copied().collect();
            let ri: Vec<f32> = ri.iter().copied().collect();
            let order = match order {
                FlipOrder::MostRelevantFirst => {
                    let mut idx: Vec<usize> = (0..len).collect();
                    // Stable sort: ties keep their position order, so results are reproducible.
                    idx.sort_by(|&a, &b| ri[b].total_cmp(&ri[a]));
                    idx
                }
                FlipOrder::Random { seed } => shuffled(len, seed.wrapping_add(i as u64)),
            };
            let mut batch = Array2::<f32>::zeros((counts.len(), len));
            let mut current = xi.clone();
            let mut done = 0;
            for (row, &count) in batch.axis_iter_mut(Axis(0)).zip(&counts) {
                for &p in &order[done..count] {
                    current[p] = settings.fill;
                }
                done = count;
                row.into_iter().zip(&current).for_each(|(dst, &v)| *dst = v);
            }
            let batch = batch
                .into_dyn()
                .into_shape_with_order(IxDyn(&[counts.len(), len]))
                .map_err(|e| LrpError::Rule(format!("internal shape error: {e}")))?;
            let logits = model.logits(&batch)?;
            Ok(PerturbationCurve {
                removed: counts.iter().map(|&c| c as f32 / len as f32).collect(),
                values: logits.column(targets[i]).to_vec(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Dense, Layer, OutputActivation};
    use ndarray::{Array1, Array2};

    /// A linear model `y = Σ w_i x_i` with weights 1..=8: removing the largest contributions first must drop the
    /// logit fastest.
    #[test]
    fn most_relevant_first_beats_random_on_a_linear_model() {
        let w = Array2::from_shape_fn((1, 8), |(_, i)| (i + 1) as f32);
        let model = Model::new(
            "lin",
            vec![8],
            vec![Layer::Dense(Dense {
                weight: w,
                bias: Some(Array1::zeros(1)),
            })],
            OutputActivation::None,
        )
        .unwrap();
        let x = ArrayD::from_elem(IxDyn(&[1, 8]), 1.0f32);
        let r = ArrayD::from_shape_vec(IxDyn(&[1, 8]), (1..=8).map(|v| v as f32).collect()).unwrap();
        let settings = FlipSettings {
            steps: 4,
            fraction: 1.0,
            fill: 0.0,
        };
        let best = perturbation_curves(&model, &x, &r, &[0], FlipOrder::MostRelevantFirst, &settings).unwrap();
        // Removing 2, 4, 6, 8 elements: 36 → 36−15 → 36−26 → 36−33 → 0.
        assert_eq!(best[0].values, vec![36.0, 21.0, 10.0, 3.0, 0.0]);
        assert_eq!(best[0].removed, vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        assert!((aopc(&best[0].values) - (0.0 + 15.0 + 26.0 + 33.0 + 36.0) / 5.0).abs() < 1e-5);
        let random = perturbation_curves(&model, &x, &r, &[0], FlipOrder::Random { seed: 3 }, &settings).unwrap();
        assert!(aopc(&best[0].values) > aopc(&random[0].values));
        assert_eq!(random[0].values.last(), Some(&0.0));
    }

    #[test]
    fn random_order_is_a_permutation_and_reproducible() {
        let a = shuffled(100, 7);
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        assert_eq!(a, shuffled(100, 7));
        assert_ne!(a, shuffled(100, 8));
    }
}
