//! One layer's backward step: relevance (LRP rules) and gradient (baselines).
//!
//! Each rule is written in terms of the layer's linear map `f(x, W, b)` and its transpose `fᵀ(S, W)`
//! ([`crate::ops::Affine`]), so the same code serves Dense, Conv2d and average/sum pooling.

use std::borrow::Cow;

use ndarray::{Array1, ArrayD, ArrayView2, Axis, IxDyn, Zip, s};

use super::rule::{LayerRule, Rule};
use crate::model::{Layer, LinearView, Model};
use crate::ops::{Affine, PoolTies, max_pool_backward};

/// `d + s·sign(d)` with `sign(0) = +1`.
#[inline]
fn stab(d: f32, s: f32) -> f32 {
    if d >= 0.0 { d + s } else { d - s }
}

fn positive(a: &ArrayD<f32>) -> ArrayD<f32> {
    a.mapv(|v| v.max(0.0))
}

fn negative(a: &ArrayD<f32>) -> ArrayD<f32> {
    a.mapv(|v| v.min(0.0))
}

/// `r / stab(d)` elementwise; `d` may have size-1 axes that broadcast over `r` (a per-sample constant).
fn ratio(r: &ArrayD<f32>, d: &ArrayD<f32>, s: f32) -> ArrayD<f32> {
    // Contiguous `d` whose shape is `r`'s trailing axes behind leading ones: it repeats every `d.len()` values.
    let repeats = d.ndim() == r.ndim() && {
        let lead = d.shape().iter().take_while(|&&v| v == 1).count();
        d.shape()[lead..] == r.shape()[lead..]
    };
    let values = match (r.as_slice(), d.as_slice()) {
        (Some(rs), Some(ds)) if repeats && ds.len() == rs.len() => {
            Some(rs.iter().zip(ds).map(|(&r, &d)| r / stab(d, s)).collect::<Vec<f32>>())
        }
        (Some(rs), Some(ds)) if repeats && !ds.is_empty() => {
            // A per-sample constant: one division per value of `d`, then products.
            let inverse: Vec<f32> = ds.iter().map(|&d| 1.0 / stab(d, s)).collect();
            let mut out = Vec::with_capacity(rs.len());
            for chunk in rs.chunks_exact(inverse.len()) {
                out.extend(chunk.iter().zip(&inverse).map(|(&r, &i)| r * i));
            }
            Some(out)
        }
        _ => None,
    };
    if let Some(v) = values.and_then(|v| ArrayD::from_shape_vec(r.raw_dim(), v).ok()) {
        return v;
    }
    let mut out = r.as_standard_layout().into_owned();
    match d.broadcast(r.raw_dim()) {
        Some(d) => Zip::from(&mut out).and(&d).for_each(|o, &d| *o /= stab(d, s)),
        None => out.fill(0.0),
    }
    out
}

/// Whether any value is negative, without branching per value (so that it vectorises).
fn any_negative(x: &ArrayD<f32>) -> bool {
    match x.as_slice() {
        Some(xs) => xs.chunks(256).any(|c| c.iter().fold(false, |acc, &v| acc | (v < 0.0))),
        None => x.iter().any(|&v| v < 0.0),
    }
}

/// `a: [N, C, ...]` summed over its channel axis → `[N, ...]`.
fn sum_channels(a: &ArrayD<f32>) -> ArrayD<f32> {
    let shape = a.shape();
    if let (Some(values), true) = (a.as_slice(), shape.len() >= 2) {
        let (n, c) = (shape[0], shape[1]);
        let plane: usize = shape[2..].iter().product();
        let mut out = vec![0.0f32; n * plane];
        for (dst, sample) in out
            .chunks_exact_mut(plane.max(1))
            .zip(values.chunks_exact((c * plane).max(1)))
        {
            for channel in sample.chunks_exact(plane.max(1)) {
                for (d, v) in dst.iter_mut().zip(channel) {
                    *d += v;
                }
            }
        }
        let mut out_shape = vec![n];
        out_shape.extend_from_slice(&shape[2..]);
        if let Ok(summed) = ArrayD::from_shape_vec(IxDyn(&out_shape), out) {
            return summed;
        }
    }
    a.sum_axis(Axis(1))
}

/// `acc += a ⊙ b`.
fn add_product(acc: &mut ArrayD<f32>, a: &ArrayD<f32>, b: &ArrayD<f32>) {
    Zip::from(acc).and(a).and(b).for_each(|acc, &a, &b| *acc += a * b);
}

/// A batch of one sample filled with `value`, shaped like one sample of `shape` (`[1, shape[1..]...]`).
fn constant_sample(shape: &[usize], value: f32) -> ArrayD<f32> {
    let mut one = shape.to_vec();
    if let Some(first) = one.first_mut() {
        *first = 1;
    }
    ArrayD::from_elem(IxDyn(&one), value)
}

/// Relevance at the input of a linear layer (Dense, Conv2d, average/sum pooling).
///
/// `x`: the layer input, `z`: its output `f(x, W, b)` from the forward pass, `r`: the relevance at its output.
/// Terms that do not depend on the input (the denominators of flat, w² and the bounds of z^B) are computed
/// once for a single sample and broadcast over the batch; where a rule is linear in the weights, the weights
/// are combined first (`W + γW⁺`, `l·W⁺ + h·W⁻`) so that each term costs one product instead of several.
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
    let z_rule = || -> Cow<'_, ArrayD<f32>> {
        if bias.is_some() || view.bias.is_none() {
            Cow::Borrowed(z)
        } else {
            Cow::Owned(fwd(x, w, None))
        }
    };
    let st = rule.stabilizer;
    let has_negative_input = any_negative(x);

    match rule.rule {
        Rule::Zero | Rule::Epsilon { .. } | Rule::Norm => {
            let e = rule.rule.epsilon().unwrap_or(st);
            let mut g = bwd(&ratio(r, &z_rule(), e), w);
            g *= x;
            g
        }
        Rule::ZPlus => alpha_beta(view, x, r, rule, 1.0, 0.0, has_negative_input),
        Rule::AlphaBeta { alpha, beta } => alpha_beta(view, x, r, rule, alpha, beta, has_negative_input),
        Rule::Gamma { gamma } => {
            // W↑ = W + γW⁺, W↓ = W + γW⁻ (and the biases alike):
            // R = x⁺ ⊙ [fᵀ(S↑, W↑) + fᵀ(S↓, W↓)] + x⁻ ⊙ [fᵀ(S↑, W↓) + fᵀ(S↓, W↑)].
            let w_up = view.combined(1.0 + gamma, 1.0);
            let w_down = view.combined(1.0, 1.0 + gamma);
            let b_up = bias.map(|b| b + &b.mapv(|v| v.max(0.0) * gamma));
            let b_down = bias.map(|b| b + &b.mapv(|v| v.min(0.0) * gamma));
            let xp = if has_negative_input {
                Cow::Owned(positive(x))
            } else {
                Cow::Borrowed(x)
            };
            let xn = has_negative_input.then(|| negative(x));
            let mut d_up = fwd(&xp, w_up.view(), b_up.as_ref());
            let mut d_down = fwd(&xp, w_down.view(), b_down.as_ref());
            if let Some(xn) = &xn {
                d_up += &fwd(xn, w_down.view(), None);
                d_down += &fwd(xn, w_up.view(), None);
            }
            let z = z_rule();
            Zip::from(&mut d_up).and(&**z).and(r).for_each(|d, &z, &r| {
                *d = if z > 0.0 { r / stab(*d, st) } else { 0.0 };
            });
            Zip::from(&mut d_down).and(&**z).and(r).for_each(|d, &z, &r| {
                *d = if z < 0.0 { r / stab(*d, st) } else { 0.0 };
            });
            let (s_up, s_down) = (d_up, d_down);
            let mut gp = bwd(&s_up, w_up.view());
            gp += &bwd(&s_down, w_down.view());
            gp *= &*xp;
            if let Some(xn) = &xn {
                let mut gn = bwd(&s_up, w_down.view());
                gn += &bwd(&s_down, w_up.view());
                add_product(&mut gp, xn, &gn);
            }
            gp
        }
        Rule::Flat => {
            // All-ones weights: every output channel has the same row, so fᵀ(S, 1) = fᵀ(Σ_o S_o, 1-row).
            let ones_w = view.ones();
            let ones_row = ones_w.slice(s![0..1, ..]);
            let d = fwd(&constant_sample(&shape, 1.0), ones_row, None);
            let s = ratio(r, &d, st);
            match view.affine {
                Affine::Depthwise(_) => bwd(&s, ones_w.view()),
                _ => view.affine.transpose_ones(&sum_channels(&s), &shape),
            }
        }
        Rule::WSquare => {
            let w2 = view.squared();
            let b2 = bias.map(|b| b.mapv(|v| v * v));
            let d = fwd(&constant_sample(&shape, 1.0), w2.view(), b2.as_ref());
            bwd(&ratio(r, &d, st), w2.view())
        }
        Rule::ZBox { low, high } => {
            // The biases cancel: f(x,W,b) − f(l,W⁺,b⁺) − f(h,W⁻,b⁻) = Wx − (l·W⁺ + h·W⁻)·1.
            let w_bounds = view.combined(low, high);
            let mut d = fwd(x, w, None);
            d -= &fwd(&constant_sample(&shape, 1.0), w_bounds.view(), None);
            let s = ratio(r, &d, st);
            let mut out = bwd(&s, w);
            out *= x;
            out -= &bwd(&s, w_bounds.view());
            out
        }
        Rule::Pass | Rule::WinnerTakeAll | Rule::WinnerSplit => r
            .clone()
            .into_shape_with_order(IxDyn(&shape))
            .unwrap_or_else(|_| ArrayD::zeros(IxDyn(&shape))),
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
    let xp = if has_negative_input {
        Cow::Owned(positive(x))
    } else {
        Cow::Borrowed(x)
    };
    let xn = has_negative_input.then(|| negative(x));

    // Positive contributions x⁺W⁺ + x⁻W⁻ (+ b⁺), or negative ones x⁺W⁻ + x⁻W⁺ (+ b⁻), each scaled by `weight`.
    let part = |weight: f32, w_for_pos: ArrayView2<'_, f32>, w_for_neg: ArrayView2<'_, f32>, b: Option<Array1<f32>>| {
        let mut d = fwd(&xp, w_for_pos, b.as_ref());
        if let Some(xn) = &xn {
            d += &fwd(xn, w_for_neg, None);
        }
        let mut s = ratio(r, &d, rule.stabilizer);
        if weight != 1.0 {
            s *= weight;
        }
        let mut g = bwd(&s, w_for_pos);
        g *= &*xp;
        if let Some(xn) = &xn {
            add_product(&mut g, xn, &bwd(&s, w_for_neg));
        }
        g
    };
    let mut out = part(alpha, wp, wn, bias.map(|b| b.mapv(|v| v.max(0.0))));
    if beta != 0.0 {
        out += &part(-beta, wn, wp, bias.map(|b| b.mapv(|v| v.min(0.0))));
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
