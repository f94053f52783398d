//! The arithmetic an explanation costs: multiply-adds per sample, layer by layer, as this engine computes
//! them. The floor against which measured speed is judged (see BENCHMARKS.md).

use super::rule::{LayerRule, Rule};
use crate::model::{Layer, Model};

/// Multiply-adds per sample of one explanation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cost {
    /// The forward pass (every Dense, Conv2d and average/sum pooling layer once).
    pub forward: u64,
    /// The relevance pass down to the input.
    pub relevance: u64,
}

impl Cost {
    /// Floating-point operations (two per multiply-add).
    pub fn flops(&self) -> u64 {
        2 * (self.forward + self.relevance)
    }
}

/// Multiply-adds per sample for `model` under the per-layer rules `plan` (from `Composite::resolve`), for
/// inputs with no negative values at the rule's layer (after a ReLU, or pixels in `[0, 1]`): rules that treat
/// negative inputs apart (z⁺, αβ, γ) then need no products for them. Terms that do not depend on the input
/// (the denominators of flat and w², the bounds of z^B) are computed once per batch and not counted.
pub fn multiply_adds(model: &Model, plan: &[LayerRule]) -> Cost {
    let mut cost = Cost::default();
    for (k, layer) in model.layers().iter().enumerate() {
        let shape_out: usize = model.shape_at(k + 1).iter().product();
        let shape_in: usize = model.shape_at(k).iter().product();
        let geometry = model.geometry(k);
        let products = match (layer, &geometry) {
            (Layer::Dense(d), _) => d.weight.len() as u64,
            (Layer::Conv2d(_), Some(g)) => (shape_out * g.patch_len()) as u64,
            (Layer::AvgPool2d(p) | Layer::SumPool2d(p), _) => (shape_out * p.kernel[0] * p.kernel[1]) as u64,
            _ => continue,
        };
        // Flat: the sum of S over the output channels, then each input gathers the windows covering it — a box
        // filter on one plane (two running sums) for plain convolutions, a scatter of every window otherwise.
        let flat = shape_out as u64
            + match (layer, &geometry) {
                (Layer::Dense(_), _) => shape_in as u64,
                (Layer::Conv2d(_), Some(g)) if g.stride == [1, 1] && g.padding == [0; 4] => {
                    (g.out_height * g.width * g.kernel[1] + g.height * g.width * g.kernel[0]) as u64
                }
                (Layer::Conv2d(_), Some(g)) => (g.patch_len() * g.positions()) as u64,
                _ => products,
            };
        cost.forward += products;
        let Some(rule) = plan.get(k) else { continue };
        cost.relevance += match rule.rule {
            Rule::Zero | Rule::Epsilon { .. } | Rule::Norm | Rule::WSquare => products,
            Rule::ZPlus => 2 * products,
            Rule::AlphaBeta { beta, .. } => (if beta == 0.0 { 2 } else { 4 }) * products,
            Rule::Gamma { .. } => 4 * products,
            Rule::ZBox { .. } => 3 * products,
            Rule::Flat => flat,
            Rule::Pass | Rule::WinnerTakeAll | Rule::WinnerSplit => 0,
        };
    }
    cost
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lrp::{Composite, Method};
    use crate::model::{Dense, OutputActivation};
    use ndarray::{Array1, Array2};

    #[test]
    fn an_mlp_with_epsilon_costs_its_weights_twice() {
        let dense = |o: usize, i: usize| {
            Layer::Dense(Dense {
                weight: Array2::zeros((o, i)),
                bias: Some(Array1::zeros(o)),
            })
        };
        let model = Model::new(
            "mlp",
            vec![784],
            vec![
                dense(300, 784),
                Layer::Relu,
                dense(100, 300),
                Layer::Relu,
                dense(10, 100),
            ],
            OutputActivation::None,
        )
        .unwrap();
        let plan = |spec: &str| -> Vec<LayerRule> {
            let Ok(Method::Lrp(c)) = spec.parse::<Method>() else {
                panic!("{spec}")
            };
            Composite::resolve(&c, &model).unwrap()
        };
        let weights = 784 * 300 + 300 * 100 + 100 * 10;
        let eps = multiply_adds(&model, &plan("epsilon:0.25"));
        assert_eq!(
            eps,
            Cost {
                forward: weights,
                relevance: weights
            }
        );
        assert_eq!(eps.flops(), 4 * weights);
        let zplus = multiply_adds(&model, &plan("zplus"));
        assert_eq!(zplus.relevance, 2 * weights);
        let gamma = multiply_adds(&model, &plan("gamma:0.25"));
        assert_eq!(gamma.relevance, 4 * weights);
        // Flat on the first layer: one sum over its 300 outputs, one value to each of its 784 inputs.
        let flat = multiply_adds(&model, &plan("epsilon_plus_flat"));
        assert_eq!(flat.relevance, 300 + 784 + 300 * 100 + 100 * 10);
    }
}
