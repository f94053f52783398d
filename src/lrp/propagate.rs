//! One layer's backward step: relevance (LRP rules) and gradient (baselines).
//!
//! Each rule is written in terms of the layer's linear map `f(x, W, b)` and its transpose `fᵀ(S, W)`
//! ([`crate::ops::Affine`]), so the same code serves Dense, Conv2d and average/sum pooling.

use ndarray::{Array1, ArrayD, ArrayView2, IxDyn, Zip};

use super::rule::{LayerRule, Rule};
use crate::model::{Layer, LinearView, Model};
use crate::ops::{PoolTies, max_pool_backward};

/// `d + s·sign(d)` with `sign(0) = +1`.
fn stabilize(d: &mut ArrayD<f32>, s: f32) {
    d.mapv_inplace(|v| if v >= 0.0 { v + s } else { v - s });
}

fn positive(a: &ArrayD<f32>) -> ArrayD<f32> {
    a.mapv(|v| v.max(0.0))
}

fn negative(a: &ArrayD<f32>) -> ArrayD<f32> {
    a.mapv(|v| v.min(0.0))
}

/// `r / d` elementwise, `d` already stabilised.
fn divide(r: &ArrayD<f32>, d: &ArrayD<f32>) -> ArrayD<f32> {
    let mut s = r.clone();
    Zip::from(&mut s).and(d).for_each(|s, &d| *s /= d);
    s
}

/// `acc += a ⊙ b`.
fn add_product(acc: &mut ArrayD<f32>, a: &ArrayD<f32>, b: &ArrayD<f32>) {
    Zip::from(acc).and(a).and(b).for_each(|acc, &a, &b| *acc += a * b);
}

/// `acc += c · b` for a constant `c`.
fn add_scaled(acc: &mut ArrayD<f32>, c: f32, b: &ArrayD<f32>) {
    Zip::from(acc).and(b).for_each(|acc, &b| *acc += c * b);
}

/// Relevance at the input of a linear layer (Dense, Conv2d, average/sum pooling).
///
/// `x`: the layer input, `z`: its output `f(x, W, b)` from the forward pass, `r`: the relevance at its output.
pub fn linear_relevance(
    view: &LinearView<'_>,
    x: &ArrayD<f32>,
    z: &ArrayD<f32>,
    r: &ArrayD<f32>,
    rule: &LayerRule,
) -> ArrayD<f32> {
    let w = view.weight();
    let bias = if rule.bias { view.bias } else { None };
    let shape = x.shape().to_vec();
    let fwd = |x: &ArrayD<f32>, w: ArrayView2<'_, f32>, b: Option<&Array1<f32>>| view.affine.forward(x, w, b);
    let bwd = |s: &ArrayD<f32>, w: ArrayView2<'_, f32>| view.affine.transpose(s, w, &shape);
    // The forward output, with or without the bias as the rule asks.
    let z_rule = || {
        if bias.is_some() || view.bias.is_none() {
            z.clone()
        } else {
            fwd(x, w, None)
        }
    };
    let stab = rule.stabilizer;
    let has_negative_input = x.iter().any(|&v| v < 0.0);

    match rule.rule {
        Rule::Epsilon { .. } | Rule::Norm => {
            let e = match rule.rule {
                Rule::Epsilon { epsilon } => epsilon,
                _ => stab,
            };
            let mut d = z_rule();
            stabilize(&mut d, e);
            let mut g = bwd(&divide(r, &d), w);
            g *= x;
            g
        }
        Rule::ZPlus => alpha_beta(view, x, r, rule, 1.0, 0.0, has_negative_input),
        Rule::AlphaBeta { alpha, beta } => alpha_beta(view, x, r, rule, alpha, beta, has_negative_input),
        Rule::Gamma { gamma } => {
            // W↑ = W + γW⁺ and W↓ = W + γW⁻; f and fᵀ are linear in W, so the modified weights are never built.
            let (wp, wn) = (view.positive(), view.negative());
            let (wp, wn) = (wp.view(), wn.view());
            let b_up = bias.map(|b| b + &b.mapv(|v| v.max(0.0) * gamma));
            let b_down = bias.map(|b| b + &b.mapv(|v| v.min(0.0) * gamma));
            let xp = positive(x);
            let base = fwd(&xp, w, None);
            let mut d_up = base.clone() + &(fwd(&xp, wp, None) * gamma);
            let mut d_down = base + &(fwd(&xp, wn, None) * gamma);
            if let (Some(bu), Some(bd)) = (&b_up, &b_down) {
                add_bias(&mut d_up, bu, 1.0);
                add_bias(&mut d_down, bd, 1.0);
            }
            let xn = has_negative_input.then(|| negative(x));
            if let Some(xn) = &xn {
                let base = fwd(xn, w, None);
                d_up += &base;
                d_up += &(fwd(xn, wn, None) * gamma);
                d_down += &base;
                d_down += &(fwd(xn, wp, None) * gamma);
            }
            stabilize(&mut d_up, stab);
            stabilize(&mut d_down, stab);
            let z = z_rule();
            let mut s_up = r.clone();
            Zip::from(&mut s_up)
                .and(&z)
                .and(&d_up)
                .for_each(|s, &z, &d| *s = if z > 0.0 { *s / d } else { 0.0 });
            let mut s_down = r.clone();
            Zip::from(&mut s_down)
                .and(&z)
                .and(&d_down)
                .for_each(|s, &z, &d| *s = if z < 0.0 { *s / d } else { 0.0 });
            let s_sum = &s_up + &s_down;
            let common = bwd(&s_sum, w);
            // x⁺ ⊙ [fᵀ(S↑, W↑) + fᵀ(S↓, W↓)] + x⁻ ⊙ [fᵀ(S↑, W↓) + fᵀ(S↓, W↑)]
            let up_p = bwd(&s_up, wp);
            let down_n = bwd(&s_down, wn);
            let mut out = ArrayD::<f32>::zeros(IxDyn(&shape));
            let mut gp = common.clone();
            add_scaled(&mut gp, gamma, &up_p);
            add_scaled(&mut gp, gamma, &down_n);
            add_product(&mut out, &xp, &gp);
            if let Some(xn) = &xn {
                let mut gn = common;
                add_scaled(&mut gn, gamma, &bwd(&s_up, wn));
                add_scaled(&mut gn, gamma, &bwd(&s_down, wp));
                add_product(&mut out, xn, &gn);
            }
            out
        }
        Rule::Flat => {
            let ones_x = ArrayD::<f32>::ones(IxDyn(&shape));
            let ones_w = view.ones();
            let mut d = fwd(&ones_x, ones_w.view(), None);
            stabilize(&mut d, stab);
            bwd(&divide(r, &d), ones_w.view())
        }
        Rule::WSquare => {
            let ones_x = ArrayD::<f32>::ones(IxDyn(&shape));
            let w2 = view.squared();
            let b2 = bias.map(|b| b.mapv(|v| v * v));
            let mut d = fwd(&ones_x, w2.view(), b2.as_ref());
            stabilize(&mut d, stab);
            bwd(&divide(r, &d), w2.view())
        }
        Rule::ZBox { low, high } => {
            let (wp, wn) = (view.positive(), view.negative());
            let lows = ArrayD::<f32>::from_elem(IxDyn(&shape), low);
            let highs = ArrayD::<f32>::from_elem(IxDyn(&shape), high);
            // The biases cancel: f(x,W,b) − f(l,W⁺,b⁺) − f(h,W⁻,b⁻) = Wx − W⁺l − W⁻h.
            let mut d = fwd(x, w, None);
            d -= &fwd(&lows, wp.view(), None);
            d -= &fwd(&highs, wn.view(), None);
            stabilize(&mut d, stab);
            let s = divide(r, &d);
            let mut out = bwd(&s, w);
            out *= x;
            add_scaled(&mut out, -low, &bwd(&s, wp.view()));
            add_scaled(&mut out, -high, &bwd(&s, wn.view()));
            out
        }
        Rule::Pass | Rule::WinnerTakeAll | Rule::WinnerSplit => r
            .clone()
            .into_shape_with_order(IxDyn(&shape))
            .unwrap_or_else(|_| ArrayD::zeros(IxDyn(&shape))),
    }
}

/// `z += c·b` broadcast over the channel / feature axis (axis 1) of `z: [N, C, ...]`.
fn add_bias(z: &mut ArrayD<f32>, b: &Array1<f32>, c: f32) {
    for mut sample in z.outer_iter_mut() {
        for (mut channel, &bias) in sample.outer_iter_mut().zip(b.iter()) {
            channel.mapv_inplace(|v| v + c * bias);
        }
    }
}

/// α·(positive part) − β·(negative part); `ZPlus` is α = 1, β = 0.
fn alpha_beta(
    view: &LinearView<'_>,
    x: &ArrayD<f32>,
    r: &ArrayD<f32>,
    rule: &LayerRule,
    alpha: f32,
    beta: f32,
    has_negative_input: bool,
) -> ArrayD<f32> {
    let bias = if rule.bias { view.bias } else { None };
    let shape = x.shape().to_vec();
    let fwd = |x: &ArrayD<f32>, w: ArrayView2<'_, f32>, b: Option<&Array1<f32>>| view.affine.forward(x, w, b);
    let bwd = |s: &ArrayD<f32>, w: ArrayView2<'_, f32>| view.affine.transpose(s, w, &shape);
    let (wp, wn) = (view.positive(), view.negative());
    let (wp, wn) = (wp.view(), wn.view());
    let xp = positive(x);
    let xn = has_negative_input.then(|| negative(x));
    let mut out = ArrayD::<f32>::zeros(IxDyn(&shape));

    // Positive contributions x⁺W⁺ + x⁻W⁻ (+ b⁺) when `sign` is +1, negative ones x⁺W⁻ + x⁻W⁺ (+ b⁻) when −1.
    let mut part =
        |weight: f32, w_for_pos: ArrayView2<'_, f32>, w_for_neg: ArrayView2<'_, f32>, b: Option<Array1<f32>>| {
            let mut d = fwd(&xp, w_for_pos, b.as_ref());
            if let Some(xn) = &xn {
                d += &fwd(xn, w_for_neg, None);
            }
            stabilize(&mut d, rule.stabilizer);
            let s = divide(r, &d);
            let mut g = bwd(&s, w_for_pos);
            g *= &xp;
            if let Some(xn) = &xn {
                add_product(&mut g, xn, &bwd(&s, w_for_neg));
            }
            add_scaled(&mut out, weight, &g);
        };
    part(alpha, wp, wn, bias.map(|b| b.mapv(|v| v.max(0.0))));
    if beta != 0.0 {
        part(-beta, wn, wp, bias.map(|b| b.mapv(|v| v.min(0.0))));
    }
    out
}

/// Relevance at the input of layer `index`, given its input `x` and the relevance `r` at its output.
///
/// `z` is the layer's output from the forward pass.
pub fn layer_relevance(
    model: &Model,
    index: usize,
    x: &ArrayD<f32>,
    z: &ArrayD<f32>,
    r: &ArrayD<f32>,
    rule: &LayerRule,
) -> ArrayD<f32> {
    let shape = x.shape().to_vec();
    let reshape = |a: &ArrayD<f32>| {
        a.as_standard_layout()
            .into_owned()
            .into_shape_with_order(IxDyn(&shape))
            .unwrap_or_else(|_| ArrayD::zeros(IxDyn(&shape)))
    };
    match &model.layers()[index] {
        Layer::MaxPool2d(_) => {
            let ties = if rule.rule == Rule::WinnerSplit {
                PoolTies::Split
            } else {
                PoolTies::First
            };
            match model.geometry(index) {
                Some(g) => max_pool_backward(x, r, &g, ties),
                None => ArrayD::zeros(IxDyn(&shape)),
            }
        }
        Layer::Relu | Layer::Tanh | Layer::Flatten | Layer::Reshape(_) => reshape(r),
        Layer::Dense(_) | Layer::Conv2d(_) | Layer::AvgPool2d(_) | Layer::SumPool2d(_) => {
            match model.linear_view(index) {
                Some(view) => linear_relevance(&view, x, z, r, rule),
                None => ArrayD::zeros(IxDyn(&shape)),
            }
        }
    }
}

/// Gradient at the input of layer `index`, given its input `x` and the gradient `g` at its output.
pub fn layer_gradient(model: &Model, index: usize, x: &ArrayD<f32>, g: &ArrayD<f32>) -> ArrayD<f32> {
    let shape = x.shape().to_vec();
    match &model.layers()[index] {
        Layer::MaxPool2d(_) => match model.geometry(index) {
            Some(geom) => max_pool_backward(x, g, &geom, PoolTies::First),
            None => ArrayD::zeros(IxDyn(&shape)),
        },
        Layer::Relu => {
            let mut out = g.clone();
            Zip::from(&mut out).and(x).for_each(|o, &x| {
                if x <= 0.0 {
                    *o = 0.0;
                }
            });
            out
        }
        Layer::Tanh => {
            let mut out = g.clone();
            Zip::from(&mut out).and(x).for_each(|o, &x| {
                let t = x.tanh();
                *o *= 1.0 - t * t;
            });
            out
        }
        Layer::Flatten | Layer::Reshape(_) => g
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order(IxDyn(&shape))
            .unwrap_or_else(|_| ArrayD::zeros(IxDyn(&shape))),
        Layer::Dense(_) | Layer::Conv2d(_) | Layer::AvgPool2d(_) | Layer::SumPool2d(_) => {
            match model.linear_view(index) {
                Some(view) => view.affine.transpose(g, view.weight(), &shape),
                None => ArrayD::zeros(IxDyn(&shape)),
            }
        }
    }
}
