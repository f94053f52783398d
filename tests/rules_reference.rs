//! Each LRP rule against a slow, loop-based reference on small random layers (in f64), including negative
//! inputs, outputs with a zero denominator, strides and zero padding.
//!
//! The reference writes every layer as an explicit matrix `M[j][i]` (output j, input i) with a connection mask
//! and evaluates the rule formulas element by element.

#![allow(clippy::needless_range_loop)] // the reference is written index by index on purpose

use lrp_explorer::lrp::{LayerRule, Rule, layer_relevance};
use lrp_explorer::model::{Conv2d, Dense, Layer, Model, OutputActivation, Pool2d};
use ndarray::{Array1, Array2, Array4, ArrayD, IxDyn};

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn uniform(&mut self, lo: f64, hi: f64) -> f32 {
        (lo + (hi - lo) * self.next()) as f32
    }
}

/// The layer as an explicit matrix: `m[j][i]`, `connected[j][i]`, `bias[j]` (0 where there is none).
struct Explicit {
    m: Vec<Vec<f64>>,
    connected: Vec<Vec<bool>>,
    bias: Vec<f64>,
}

fn explicit_dense(d: &Dense) -> Explicit {
    let (o, k) = d.weight.dim();
    Explicit {
        m: (0..o)
            .map(|j| (0..k).map(|i| d.weight[[j, i]] as f64).collect())
            .collect(),
        connected: vec![vec![true; k]; o],
        bias: (0..o).map(|j| d.bias.as_ref().map_or(0.0, |b| b[j] as f64)).collect(),
    }
}

/// Explicit matrix of a convolution on input `[c, h, w]`.
fn explicit_conv(conv: &Conv2d, c: usize, h: usize, w: usize) -> Explicit {
    let s = conv.weight.shape();
    let (o, kh, kw) = (s[0], s[2], s[3]);
    let [pt, pl, pb, pr] = conv.padding;
    let oh = (h + pt + pb - kh) / conv.stride[0] + 1;
    let ow = (w + pl + pr - kw) / conv.stride[1] + 1;
    let n_in = c * h * w;
    let n_out = o * oh * ow;
    let mut m = vec![vec![0.0; n_in]; n_out];
    let mut connected = vec![vec![false; n_in]; n_out];
    let mut bias = vec![0.0; n_out];
    for oc in 0..o {
        for oy in 0..oh {
            for ox in 0..ow {
                let j = (oc * oh + oy) * ow + ox;
                bias[j] = conv.bias.as_ref().map_or(0.0, |b| b[oc] as f64);
                for ic in 0..c {
                    for ky in 0..kh {
                        for kx in 0..kw {
                            let y = (oy * conv.stride[0] + ky) as isize - pt as isize;
                            let x = (ox * conv.stride[1] + kx) as isize - pl as isize;
                            if y < 0 || x < 0 || y >= h as isize || x >= w as isize {
                                continue;
                            }
                            let i = (ic * h + y as usize) * w + x as usize;
                            m[j][i] += conv.weight[[oc, ic, ky, kx]] as f64;
                            connected[j][i] = true;
                        }
                    }
                }
            }
        }
    }
    Explicit { m, connected, bias }
}

fn stab(d: f64, e: f64) -> f64 {
    if d >= 0.0 { d + e } else { d - e }
}

fn pos(v: f64) -> f64 {
    v.max(0.0)
}

fn neg(v: f64) -> f64 {
    v.min(0.0)
}

/// The rule formulas, one contribution at a time.
fn reference(layer: &Explicit, x: &[f64], r: &[f64], rule: &LayerRule) -> Vec<f64> {
    let n_out = layer.m.len();
    let n_in = x.len();
    let s = rule.stabilizer as f64;
    let b = |j: usize| if rule.bias { layer.bias[j] } else { 0.0 };
    let mut out = vec![0.0; n_in];
    // `contribution(j, i)` and `denominator(j)` for rules of the form R_i = Σ_j c_ji / stab(d_j) · R_j.
    let mut spread = |c: &dyn Fn(usize, usize) -> f64, d: &dyn Fn(usize) -> f64, e: f64, scale: f64| {
        for j in 0..n_out {
            let dj = stab(d(j), e);
            for (i, o) in out.iter_mut().enumerate() {
                *o += scale * c(j, i) / dj * r[j];
            }
        }
    };
    let m = &layer.m;
    let z = |j: usize| (0..n_in).map(|i| x[i] * m[j][i]).sum::<f64>() + b(j);
    match rule.rule {
        Rule::Epsilon { epsilon } => spread(&|j, i| x[i] * m[j][i], &z, epsilon as f64, 1.0),
        Rule::Norm => spread(&|j, i| x[i] * m[j][i], &z, s, 1.0),
        Rule::ZPlus | Rule::AlphaBeta { .. } => {
            let (alpha, beta) = match rule.rule {
                Rule::AlphaBeta { alpha, beta } => (alpha as f64, beta as f64),
                _ => (1.0, 0.0),
            };
            let p = |j: usize, i: usize| pos(x[i]) * pos(m[j][i]) + neg(x[i]) * neg(m[j][i]);
            let q = |j: usize, i: usize| pos(x[i]) * neg(m[j][i]) + neg(x[i]) * pos(m[j][i]);
            let dp = |j: usize| (0..n_in).map(|i| p(j, i)).sum::<f64>() + pos(b(j));
            let dq = |j: usize| (0..n_in).map(|i| q(j, i)).sum::<f64>() + neg(b(j));
            spread(&p, &dp, s, alpha);
            if beta != 0.0 {
                spread(&q, &dq, s, -beta);
            }
        }
        Rule::Gamma { gamma } => {
            let g = gamma as f64;
            let up = |j: usize, i: usize| {
                pos(x[i]) * (m[j][i] + g * pos(m[j][i])) + neg(x[i]) * (m[j][i] + g * neg(m[j][i]))
            };
            let down = |j: usize, i: usize| {
                pos(x[i]) * (m[j][i] + g * neg(m[j][i])) + neg(x[i]) * (m[j][i] + g * pos(m[j][i]))
            };
            for j in 0..n_out {
                let zj = z(j);
                let (c, d): (&dyn Fn(usize) -> f64, f64) = if zj > 0.0 {
                    (
                        &|i| up(j, i),
                        (0..n_in).map(|i| up(j, i)).sum::<f64>() + b(j) + g * pos(b(j)),
                    )
                } else if zj < 0.0 {
                    (
                        &|i| down(j, i),
                        (0..n_in).map(|i| down(j, i)).sum::<f64>() + b(j) + g * neg(b(j)),
                    )
                } else {
                    continue;
                };
                let d = stab(d, s);
                for (i, o) in out.iter_mut().enumerate() {
                    *o += c(i) / d * r[j];
                }
            }
        }
        Rule::Flat => {
            let c = |j: usize, i: usize| if layer.connected[j][i] { 1.0 } else { 0.0 };
            spread(&c, &|j| (0..n_in).map(|i| c(j, i)).sum(), s, 1.0);
        }
        Rule::WSquare => spread(
            &|j, i| m[j][i] * m[j][i],
            &|j| (0..n_in).map(|i| m[j][i] * m[j][i]).sum::<f64>() + b(j) * b(j),
            s,
            1.0,
        ),
        Rule::ZBox { low, high } => {
            let (l, h) = (low as f64, high as f64);
            let t = |j: usize, i: usize| x[i] * m[j][i] - l * pos(m[j][i]) - h * neg(m[j][i]);
            spread(&t, &|j| (0..n_in).map(|i| t(j, i)).sum(), s, 1.0);
        }
        _ => unreachable!("not a linear rule"),
    }
    out
}

fn rules() -> Vec<LayerRule> {
    let mut v: Vec<LayerRule> = [
        Rule::Epsilon { epsilon: 1e-9 },
        Rule::Epsilon { epsilon: 0.25 },
        Rule::Gamma { gamma: 0.25 },
        Rule::AlphaBeta { alpha: 2.0, beta: 1.0 },
        Rule::AlphaBeta { alpha: 1.0, beta: 0.0 },
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

fn max_norm_err(a: &[f32], b: &[f64]) -> f64 {
    let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-30);
    a.iter().zip(b).fold(0.0f64, |m, (&x, &y)| m.max((x as f64 - y).abs())) / scale
}

/// Random input with negative values and an all-zero stretch (outputs with a zero pre-activation).
fn random_input(rng: &mut Rng, n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| if i % 7 < 2 { 0.0 } else { rng.uniform(-1.0, 1.0) })
        .collect()
}

fn check(model: &Model, explicit: &Explicit, x: Vec<f32>, rng: &mut Rng, what: &str) {
    let n_out = explicit.m.len();
    let r: Vec<f32> = (0..n_out).map(|_| rng.uniform(-1.0, 1.0)).collect();
    let mut in_shape = vec![1];
    in_shape.extend_from_slice(model.shape_at(0));
    let mut out_shape = vec![1];
    out_shape.extend_from_slice(model.shape_at(1));
    let xa = ArrayD::from_shape_vec(IxDyn(&in_shape), x.clone()).unwrap();
    let ra = ArrayD::from_shape_vec(IxDyn(&out_shape), r.clone()).unwrap();
    let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
    let r64: Vec<f64> = r.iter().map(|&v| v as f64).collect();
    for rule in rules() {
        let z = model.layer_forward(0, &xa).unwrap();
        let got = layer_relevance(model, 0, &xa, &z, &ra, &rule).unwrap();
        let want = reference(explicit, &x64, &r64, &rule);
        let got: Vec<f32> = got.iter().copied().collect();
        let err = max_norm_err(&got, &want);
        assert!(err < 1e-4, "{what} {rule}: normalised error {err:.3e}");
    }
}

#[test]
fn dense_rules_match_the_loop_reference() {
    let mut rng = Rng(1);
    for trial in 0..4 {
        let (k, o) = (9 + trial, 5 + trial);
        let weight = Array2::from_shape_fn(
            (o, k),
            |(j, i)| if (i + j) % 5 == 0 { 0.0 } else { rng.uniform(-1.0, 1.0) },
        );
        // Some outputs get a zero bias so that an all-zero input gives a zero denominator.
        let bias = Array1::from_shape_fn(o, |j| if j % 2 == 0 { 0.0 } else { rng.uniform(-0.5, 0.5) });
        let dense = Dense {
            weight,
            bias: Some(bias),
        };
        let explicit = explicit_dense(&dense);
        let model = Model::new("d", vec![k], vec![Layer::Dense(dense)], OutputActivation::None).unwrap();
        let x = random_input(&mut rng, k);
        check(&model, &explicit, x, &mut rng, "dense");
        // An all-zero input: every denominator is the bias or exactly 0.
        check(&model, &explicit, vec![0.0; k], &mut rng, "dense zero input");
    }
}

#[test]
fn conv_rules_match_the_loop_reference_with_stride_and_padding() {
    let mut rng = Rng(7);
    let cases = [([1, 1], [0, 0, 0, 0]), ([2, 1], [1, 0, 2, 1]), ([1, 2], [1, 1, 1, 1])];
    for (stride, padding) in cases {
        let (c, h, w, o) = (2, 6, 5, 3);
        let weight = Array4::from_shape_fn((o, c, 3, 2), |_| rng.uniform(-1.0, 1.0));
        let bias = Array1::from_shape_fn(o, |j| if j == 0 { 0.0 } else { rng.uniform(-0.5, 0.5) });
        let conv = Conv2d {
            weight,
            bias: Some(bias),
            stride,
            padding,
        };
        let explicit = explicit_conv(&conv, c, h, w);
        let model = Model::new("c", vec![c, h, w], vec![Layer::Conv2d(conv)], OutputActivation::None).unwrap();
        let x = random_input(&mut rng, c * h * w);
        check(
            &model,
            &explicit,
            x,
            &mut rng,
            &format!("conv stride {stride:?} padding {padding:?}"),
        );
    }
}

#[test]
fn average_pool_rules_match_the_loop_reference() {
    let mut rng = Rng(11);
    let (c, h, w) = (2, 5, 6);
    let pool = Pool2d {
        kernel: [2, 3],
        stride: [2, 2],
        padding: [1, 1, 0, 1],
    };
    // Average pooling is a depthwise convolution with a constant kernel 1/(kh·kw) and no bias.
    let mut weight = Array4::zeros((c, c, 2, 3));
    for ch in 0..c {
        weight.slice_mut(ndarray::s![ch, ch, .., ..]).fill(1.0 / 6.0);
    }
    let conv = Conv2d {
        weight,
        bias: None,
        stride: pool.stride,
        padding: pool.padding,
    };
    let mut explicit = explicit_conv(&conv, c, h, w);
    // Cross-channel entries are not connections of a depthwise pool.
    let (oh, ow) = (3, 3);
    for j in 0..explicit.m.len() {
        for i in 0..c * h * w {
            if j / (oh * ow) != i / (h * w) {
                explicit.connected[j][i] = false;
            }
        }
    }
    let model = Model::new("p", vec![c, h, w], vec![Layer::AvgPool2d(pool)], OutputActivation::None).unwrap();
    assert_eq!(model.shape_at(1), &[c, oh, ow]);
    let x = random_input(&mut rng, c * h * w);
    check(&model, &explicit, x, &mut rng, "avgpool");
    let norm = LayerRule::new(Rule::Norm);
    let xa = ArrayD::from_shape_vec(IxDyn(&[1, c, h, w]), (0..c * h * w).map(|i| (i % 5) as f32).collect()).unwrap();
    let ra = ArrayD::from_elem(IxDyn(&[1, c, oh, ow]), 1.0f32);
    let z = model.layer_forward(0, &xa).unwrap();
    let got = layer_relevance(&model, 0, &xa, &z, &ra, &norm).unwrap();
    let x64: Vec<f64> = xa.iter().map(|&v| v as f64).collect();
    let want = reference(&explicit, &x64, &vec![1.0; c * oh * ow], &norm);
    assert!(max_norm_err(&got.iter().copied().collect::<Vec<_>>(), &want) < 1e-4);
}
