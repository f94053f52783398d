//! One layer's backward step: relevance (LRP rules) and gradient (baselines).
//!
//! Each rule is written in terms of the layer's linear map `f(x, W, b)` and its transpose `fᵀ(S, W)`
//! ([`crate::ops::Affine`]), so the same code serves Dense, Conv2d and average/sum pooling.

use ndarray::{Array1, Array2, ArrayD, ArrayView2, IxDyn, Zip};

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

fn positive_w(w: ArrayView2<'_, f32>) -> Array2<f32> {
    w.mapv(|v| v.max(0.0))
}

fn negative_w(w: ArrayView2<'_, f32>) -> Array2<f32> {
    w.mapv(|v| v.min(0.0))
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
/// `x`: the layer input, `r`: the relevance at its output.
pub fn linear_relevance(view: &LinearView<'_>, x: &ArrayD<f32>, r: &ArrayD<f32>, rule: &LayerRule) -> ArrayD<f32> {
    let w = view.weight();
    let bias = if rule.bias { view.bias } else { None };
    let shape = x.shape().to_vec();
    let fwd = |x: &ArrayD<f32>, w: ArrayView2<'_, f32>, b: Option<&Array1<f32>>| view.affine.forward(x, w, b);
    let bwd = |s: &ArrayD<f32>, w: ArrayView2<'_, f32>| view.affine.transpose(s, w, &shape);
    let stab = rule.stabilizer;
    let has_negative_input = x.iter().any(|&v| v < 0.0);
    let zeros = || ArrayD::<f32>::zeros(IxDyn(&shape));

    match rule.rule {
        Rule::Epsilon { epsilon } => {
            let mut z = fwd(x, w, bias);
            stabilize(&mut z, epsilon);
            let mut g = bwd(&divide(r, &z), w);
            g *= x;
            g
        }
        Rule::Norm => {
            let mut z = fwd(x, w, bias);
            stabilize(&mut z, stab);
            let mut g = bwd(&divide(r, &z), w);
            g *= x;
            g
        }
        Rule::ZPlus => alpha_beta(view, x, r, rule, 1.0, 0.0, has_negative_input),
        Rule::AlphaBeta { alpha, beta } => alpha_beta(view, x, r, rule, alpha, beta, has_negative_input),
        Rule::Gamma { gamma } => {
            let wp = positive_w(w);
            let wn = negative_w(w);
            let w_up = &w + &(&wp * gamma);
            let w_down = &w + &(&wn * gamma);
            let b_up = bias.map(|b| b + &b.mapv(|v| v.max(0.0) * gamma));
            let b_down = bias.map(|b| b + &b.mapv(|v| v.min(0.0) * gamma));
            let z = fwd(x, w, bias);
            let xp = positive(x);
            let xn = negative(x);
            let mut d_up = fwd(&xp, w_up.view(), b_up.as_ref());
            let mut d_down = fwd(&xp, w_down.view(), b_down.as_ref());
            if has_negative_input {
                d_up += &fwd(&xn, w_down.view(), None);
                d_down += &fwd(&xn, w_up.view(), None);
            }
            stabilize(&mut d_up, stab);
            stabilize(&mut d_down, stab);
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
            let mut out = zeros();
            let mut gp = bwd(&s_up, w_up.view());
            gp += &bwd(&s_down, w_down.view());
            add_product(&mut out, &xp, &gp);
            if has_negative_input {
                let mut gn = bwd(&s_up, w_down.view());
                gn += &bwd(&s_down, w_up.view());
                add_product(&mut out, &xn, &gn);
            }
            out
        }
        Rule::Flat => {
            let ones_x = ArrayD::<f32>::ones(IxDyn(&shape));
            let ones_w = Array2::<f32>::ones(w.raw_dim());
            let mut d = fwd(&ones_x, ones_w.view(), None);
            stabilize(&mut d, stab);
            bwd(&divide(r, &d), ones_w.view())
        }
        Rule::WSquare => {
            let ones_x = ArrayD::<f32>::ones(IxDyn(&shape));
            let w2 = w.mapv(|v| v * v);
            let b2 = bias.map(|b| b.mapv(|v| v * v));
            let mut d = fwd(&ones_x, w2.view(), b2.as_ref());
            stabilize(&mut d, stab);
            bwd(&divide(r, &d), w2.view())
        }
        Rule::ZBox { low, high } => {
            let wp = positive_w(w);
            let wn = negative_w(w);
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
            .unwrap_or_else(|_| zeros()),
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
    let w = view.weight();
    let bias = if rule.bias { view.bias } else { None };
    let shape = x.shape().to_vec();
    let fwd = |x: &ArrayD<f32>, w: ArrayView2<'_, f32>, b: Option<&Array1<f32>>| view.affine.forward(x, w, b);
    let bwd = |s: &ArrayD<f32>, w: ArrayView2<'_, f32>| view.affine.transpose(s, w, &shape);
    let wp = positive_w(w);
    let wn = negative_w(w);
    let xp = positive(x);
    let xn = negative(x);
    let mut out = ArrayD::<f32>::zeros(IxDyn(&shape));

    // Positive contributions: x⁺W⁺ + b⁺ and x⁻W⁻.
    let bp = bias.map(|b| b.mapv(|v| v.max(0.0)));
    let mut d = fwd(&xp, wp.view(), bp.as_ref());
    if has_negative_input {
        d += &fwd(&xn, wn.view(), None);
    }
    stabilize(&mut d, rule.stabilizer);
    let s = divide(r, &d);
    let mut part = ArrayD::<f32>::zeros(IxDyn(&shape));
    add_product(&mut part, &xp, &bwd(&s, wp.view()));
    if has_negative_input {
        add_product(&mut part, &xn, &bwd(&s, wn.view()));
    }
    add_scaled(&mut out, alpha, &part);

    if beta != 0.0 {
        // Negative contributions: x⁺W⁻ + b⁻ and x⁻W⁺.
        let bn = bias.map(|b| b.mapv(|v| v.min(0.0)));
        let mut d = fwd(&xp, wn.view(), bn.as_ref());
        if has_negative_input {
            d += &fwd(&xn, wp.view(), None);
        }
        stabilize(&mut d, rule.stabilizer);
        let s = divide(r, &d);
        let mut part = ArrayD::<f32>::zeros(IxDyn(&shape));
        add_product(&mut part, &xp, &bwd(&s, wn.view()));
        if has_negative_input {
            add_product(&mut part, &xn, &bwd(&s, wp.view()));
        }
        add_scaled(&mut out, -beta, &part);
    }
    out
}

/// Relevance at the input of layer `index`, given its input `x` and the relevance `r` at its output.
pub fn layer_relevance(model: &Model, index: usize, x: &ArrayD<f32>, r: &ArrayD<f32>, rule: &LayerRule) -> ArrayD<f32> {
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
                Some(view) => linear_relevance(&view, x, r, rule),
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
