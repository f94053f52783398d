//! The per-unit arithmetic view's numbers (`lrp::arithmetic`) against an independent computation: the rule's
//! terms, denominator and `R_i` recomputed from the weights in f64 loops, for a Dense layer and for positions of a
//! padded, strided convolution; and the per-unit shares summing to the engine's relevance at the layer.

#![allow(clippy::needless_range_loop, clippy::unwrap_used)]

mod common;

use lrp_explorer::lrp::arithmetic::{unit_arithmetic, weighted_layer_at};
use lrp_explorer::lrp::{Composite, InitRelevance, LayerRule, Method, Rule, Target, explain, layer_relevance};
use lrp_explorer::model::{Conv2d, Dense, Layer, Model, OutputActivation};
use ndarray::{Array1, Array2, Array4, ArrayD, Axis, IxDyn};

/// SplitMix64, for reproducible random layers.
struct Rng(u64);

impl Rng {
    fn uniform(&mut self, lo: f64, hi: f64) -> f32 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        let u = ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64;
        (lo + (hi - lo) * u) as f32
    }
}

fn pos(v: f64) -> f64 {
    v.max(0.0)
}

fn neg(v: f64) -> f64 {
    v.min(0.0)
}

fn stab(d: f64, s: f64) -> f64 {
    if d >= 0.0 { d + s } else { d - s }
}

/// The hand computation at unit j: per part (factor, terms c_i over `inputs`, denominator), from the weights `w`
/// of the receptive field (`(input index, weight)`), the input values and the unit's bias.
fn by_hand(field: &[(usize, f64)], x: &[f64], bias: f64, rule: &LayerRule) -> Vec<(f64, Vec<f64>, f64)> {
    let b = if rule.bias { bias } else { 0.0 };
    let s = rule.stabilizer as f64;
    let part = |c: &dyn Fn(f64, f64) -> f64, bias_term: f64, s: f64, factor: f64| {
        let cs: Vec<f64> = field.iter().map(|&(i, w)| c(x[i], w)).collect();
        let d = stab(cs.iter().sum::<f64>() + bias_term, s);
        (factor, cs, d)
    };
    let z: f64 = field.iter().map(|&(i, w)| x[i] * w).sum::<f64>() + b;
    match rule.rule {
        Rule::Epsilon { epsilon } => vec![part(&|a, w| a * w, b, epsilon as f64, 1.0)],
        Rule::ZPlus => vec![part(&|a, w| pos(a) * pos(w) + neg(a) * neg(w), pos(b), s, 1.0)],
        Rule::AlphaBeta { alpha, beta } => vec![
            part(&|a, w| pos(a) * pos(w) + neg(a) * neg(w), pos(b), s, alpha as f64),
            part(&|a, w| pos(a) * neg(w) + neg(a) * pos(w), neg(b), s, -(beta as f64)),
        ],
        Rule::Gamma { gamma } => {
            let g = gamma as f64;
            if z > 0.0 {
                vec![part(
                    &|a, w| pos(a) * (w + g * pos(w)) + neg(a) * (w + g * neg(w)),
                    b + g * pos(b),
                    s,
                    1.0,
                )]
            } else {
                vec![part(
                    &|a, w| pos(a) * (w + g * neg(w)) + neg(a) * (w + g * pos(w)),
                    b + g * neg(b),
                    s,
                    1.0,
                )]
            }
        }
        Rule::Flat => vec![part(&|_, _| 1.0, 0.0, s, 1.0)],
        Rule::WSquare => vec![part(&|_, w| w * w, b * b, s, 1.0)],
        Rule::ZBox { low, high } => {
            let (l, h) = (low as f64, high as f64);
            vec![part(&|a, w| a * w - l * pos(w) - h * neg(w), 0.0, s, 1.0)]
        }
        other => panic!("{other} is not a weighted-layer rule"),
    }
}

fn rules() -> Vec<LayerRule> {
    let mut v: Vec<LayerRule> = [
        Rule::Epsilon { epsilon: 1e-9 },
        Rule::Epsilon { epsilon: 0.25 },
        Rule::Gamma { gamma: 0.25 },
        Rule::AlphaBeta { alpha: 2.0, beta: 1.0 },
        Rule::ZPlus,
        Rule::Flat,
        Rule::WSquare,
        Rule::ZBox { low: -1.0, high: 1.0 },
    ]
    .into_iter()
    .map(LayerRule::new)
    .collect();
    let no_bias: Vec<LayerRule> = v.iter().map(|r| r.without_bias()).collect();
    v.extend(no_bias);
    v
}

fn close(a: f64, b: f64, what: &str) {
    let tol = 1e-4 * a.abs().max(b.abs()).max(1e-3);
    assert!((a - b).abs() <= tol, "{what}: {a} vs {b}");
}

/// Checks every listed unit of the one-layer `model` under every rule against [`by_hand`]; `field_of(j)` gives
/// the receptive field and bias of unit j, written independently of the engine.
fn check_units(
    model: &Model,
    x: &[f32],
    r: &[f32],
    units: &[usize],
    field_of: &dyn Fn(usize) -> (Vec<(usize, f64)>, f64),
) {
    let batch = |k: usize, v: &[f32]| {
        let mut shape = vec![1];
        shape.extend_from_slice(model.shape_at(k));
        ArrayD::from_shape_vec(IxDyn(&shape), v.to_vec()).unwrap()
    };
    let (xa, ra) = (batch(0, x), batch(1, r));
    let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
    for rule in rules() {
        for &j in units {
            let (field, bias) = field_of(j);
            let a = unit_arithmetic(model, 0, &xa, &ra, &rule, j).unwrap();
            let what = format!("{rule} unit {j}");
            assert_eq!(a.receptive_field, field.len(), "{what}");
            assert_eq!(a.r_j, r[j], "{what}");
            let hand = by_hand(&field, &x64, bias, &rule);
            assert_eq!(a.parts.len(), hand.len(), "{what}");
            let mut r_i = vec![0.0f64; x.len()];
            for (part, (factor, cs, d)) in a.parts.iter().zip(&hand) {
                assert_eq!(part.factor as f64, *factor, "{what}");
                close(part.sum as f64, cs.iter().sum(), &format!("{what} Σ c"));
                close(part.denominator as f64, *d, &format!("{what} denominator"));
                // The largest term listed first is the largest by hand.
                let k = (0..cs.len())
                    .max_by(|&p, &q| cs[p].abs().total_cmp(&cs[q].abs()))
                    .unwrap();
                close(
                    part.terms[0].value.abs() as f64,
                    cs[k].abs(),
                    &format!("{what} top term"),
                );
                for (&(i, _), c) in field.iter().zip(cs) {
                    r_i[i] += factor * c / d * r[j] as f64;
                }
            }
            let scale = r_i.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-12);
            for s in &a.inputs {
                assert!(
                    (s.relevance as f64 - r_i[s.input]).abs() <= 1e-4 * scale,
                    "{what} R_{}: engine {} vs hand {}",
                    s.input,
                    s.relevance,
                    r_i[s.input]
                );
                assert!(
                    (s.from_terms as f64 - r_i[s.input]).abs() <= 1e-4 * scale,
                    "{what} terms"
                );
            }
            let total: f64 = r_i.iter().sum();
            assert!(
                (a.total as f64 - total).abs() <= 1e-4 * scale.max(total.abs()),
                "{what} Σ R_i {} vs {total}",
                a.total
            );
            assert!(a.deviation() < 1e-4, "{what}: deviation {}", a.deviation());
            // Largest |R_i| first.
            assert!(
                a.inputs
                    .windows(2)
                    .all(|p| p[0].relevance.abs() >= p[1].relevance.abs())
            );
        }
        // The units' shares add up to the engine's relevance at the layer input from all units.
        let z = model.layer_forward(0, &xa).expect("the layer runs");
        let full: Vec<f32> = layer_relevance(model, 0, &xa, &z, &ra, &rule)
            .expect("the engine explains the layer")
            .iter()
            .copied()
            .collect();
        let mut summed = vec![0.0f32; x.len()];
        for j in 0..r.len() {
            for s in unit_arithmetic(model, 0, &xa, &ra, &rule, j).unwrap().inputs {
                summed[s.input] += s.relevance;
            }
        }
        let scale = full.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-12);
        for (a, b) in full.iter().zip(&summed) {
            assert!((a - b).abs() <= 1e-4 * scale, "{rule}: Σ_j shares {b} vs engine {a}");
        }
    }
}

#[test]
fn dense_units_match_the_hand_computation() {
    let mut rng = Rng(3);
    let (k, o) = (13, 6);
    let weight = Array2::from_shape_fn((o, k), |_| rng.uniform(-1.0, 1.0));
    let bias = Array1::from_shape_fn(o, |j| if j == 2 { 0.0 } else { rng.uniform(-0.5, 0.5) });
    let dense = Dense {
        weight: weight.clone(),
        bias: Some(bias.clone()),
    };
    let model = Model::new("d", vec![k], vec![Layer::Dense(dense)], OutputActivation::None).unwrap();
    let x: Vec<f32> = (0..k)
        .map(|i| if i % 5 == 0 { 0.0 } else { rng.uniform(-1.0, 1.0) })
        .collect();
    let r: Vec<f32> = (0..o).map(|_| rng.uniform(-1.0, 1.0)).collect();
    let field_of = |j: usize| {
        let field = (0..k).map(|i| (i, weight[[j, i]] as f64)).collect();
        (field, bias[j] as f64)
    };
    check_units(&model, &x, &r, &[0, 2, 5], &field_of);
}

#[test]
fn convolution_positions_match_the_hand_computation() {
    let mut rng = Rng(9);
    let (c, h, w, o) = (2, 6, 5, 3);
    let (stride, padding) = ([2, 1], [1, 0, 2, 1]);
    let weight = Array4::from_shape_fn((o, c, 3, 2), |_| rng.uniform(-1.0, 1.0));
    let bias = Array1::from_shape_fn(o, |_| rng.uniform(-0.5, 0.5));
    let conv = Conv2d {
        weight: weight.clone(),
        bias: Some(bias.clone()),
        stride,
        padding,
    };
    let model = Model::new("c", vec![c, h, w], vec![Layer::Conv2d(conv)], OutputActivation::None).unwrap();
    let (oh, ow) = (model.shape_at(1)[1], model.shape_at(1)[2]);
    assert_eq!((oh, ow), ((6 + 1 + 2 - 3) / 2 + 1, 5 + 1 - 2 + 1));
    let x: Vec<f32> = (0..c * h * w).map(|_| rng.uniform(-1.0, 1.0)).collect();
    let r: Vec<f32> = (0..o * oh * ow).map(|_| rng.uniform(-1.0, 1.0)).collect();
    // The receptive field of output (oc, oy, ox), by the definition of a padded, strided cross-correlation.
    let field_of = |j: usize| {
        let (oc, oy, ox) = (j / (oh * ow), j / ow % oh, j % ow);
        let mut field = vec![];
        for ic in 0..c {
            for ky in 0..3 {
                for kx in 0..2 {
                    let y = (oy * stride[0] + ky) as isize - padding[0] as isize;
                    let xx = (ox * stride[1] + kx) as isize - padding[1] as isize;
                    if (0..h as isize).contains(&y) && (0..w as isize).contains(&xx) {
                        field.push(((ic * h + y as usize) * w + xx as usize, weight[[oc, ic, ky, kx]] as f64));
                    }
                }
            }
        }
        (field, bias[oc] as f64)
    };
    // A corner (padding cuts the field), an inner position, the last unit.
    let units = [0, oh * ow + ow + 1, o * oh * ow - 1];
    check_units(&model, &x, &r, &units, &field_of);
    let a = unit_arithmetic(
        &model,
        0,
        &ArrayD::from_shape_vec(IxDyn(&[1, c, h, w]), x.clone()).unwrap(),
        &ArrayD::from_shape_vec(IxDyn(&[1, o, oh, ow]), r.clone()).unwrap(),
        &LayerRule::new(Rule::ZPlus),
        units[1],
    )
    .unwrap();
    assert_eq!(a.position, Some((1, 1, 1)));
    assert_eq!(a.receptive_field, c * 3 * 2);
}

#[test]
fn the_bundled_mlp_units_add_up_to_the_engines_relevance() {
    let model = common::npz_model("mlp");
    let x = common::inputs("mlp")
        .index_axis(Axis(0), 0)
        .insert_axis(Axis(0))
        .to_owned();
    let method = Method::Lrp(Composite::preset("seed", None).unwrap());
    let e = explain(&model, &x, &method, &Target::Predicted, InitRelevance::Logit).unwrap();
    let plan = Composite::preset("seed", None).unwrap().resolve(&model).unwrap();
    let last = model.layers().len();
    for layer in (0..last).filter(|&k| matches!(model.layers()[k], Layer::Dense(_))) {
        let xa = &e.activations[layer];
        let r = &e.relevance[layer + 1];
        let units = model.shape_at(layer + 1).iter().product::<usize>();
        let mut summed = vec![0.0f64; model.shape_at(layer).iter().product()];
        for j in 0..units {
            let a = unit_arithmetic(&model, layer, xa, r, &plan[layer], j).unwrap();
            let from_j: f64 = a.inputs.iter().map(|s| s.relevance as f64).sum();
            assert!((from_j - a.total as f64).abs() <= 1e-5 * (1.0 + from_j.abs()));
            for s in &a.inputs {
                summed[s.input] += s.relevance as f64;
            }
        }
        let engine: Vec<f32> = e.relevance[layer].iter().copied().collect();
        let scale = engine.iter().fold(0.0f32, |m, v| m.max(v.abs())) as f64;
        for (a, b) in engine.iter().zip(&summed) {
            assert!((*a as f64 - b).abs() <= 1e-4 * scale, "layer {layer}: {a} vs {b}");
        }
    }
    // The stepper position after the hidden ReLU belongs to the first Dense layer; the output to the last.
    assert_eq!(weighted_layer_at(&model, last), Some(last - 1));
    let lines = unit_arithmetic(
        &model,
        last - 1,
        &e.activations[last - 1],
        &e.relevance[last],
        &plan[last - 1],
        e.targets[0],
    )
    .unwrap()
    .lines(5);
    assert!(lines.iter().any(|l| l.starts_with("R_j = ")), "{lines:?}");
    assert!(lines.iter().any(|l| l.contains("denominator = Σ_i c_ij")), "{lines:?}");
}
