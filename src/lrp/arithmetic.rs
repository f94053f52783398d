//! The arithmetic of one rule at one unit, with the sample's own numbers, so that a learner can check a hand
//! computation line by line.
//!
//! Every rule of a Dense or Conv2d layer sends unit `j`'s relevance to its inputs as
//! `R_i←j = Σ_parts factor · c_ij / stab(Σ_i' c_i'j + bias term) · R_j`, where the contribution `c_ij` is
//! `a_i·w_ij` (ε), `a_i⁺·w_ij⁺ + a_i⁻·w_ij⁻` (z⁺, the α part of αβ), `w_ij²` (w²), `1` (flat),
//! `a_i·w_ij − l·w_ij⁺ − h·w_ij⁻` (z^B) or the γ-boosted products. [`unit_arithmetic`] writes those terms out for
//! one unit; the `R_i` it reports come from the engine's own [`layer_relevance`] run on the relevance of that unit
//! alone, and the terms are checked against them ([`UnitArithmetic::deviation`]).

use ndarray::{ArrayD, IxDyn};

use super::{LayerRule, Rule, layer_relevance};
use crate::error::LrpError;
use crate::model::{Layer, Model};

/// One input of the unit's receptive field and its contribution to a part.
#[derive(Clone, Debug, PartialEq)]
pub struct Term {
    /// Flat index into the layer's input.
    pub input: usize,
    /// `a_i`.
    pub activation: f32,
    /// `w_ij`.
    pub weight: f32,
    /// `c_ij`, the rule's numerator term.
    pub value: f32,
}

/// One fraction of the rule: αβ has two (α and β), γ the one matching the sign of `z_j`, the others one.
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    /// e.g. `"positive contributions, × α = 2"`.
    pub name: String,
    /// The factor on `c_ij / denominator · R_j` (α, −β or 1).
    pub factor: f32,
    /// The numerator term in symbols, e.g. `a_i·w_ij⁺` (for inputs ≥ 0).
    pub term: &'static str,
    /// Every input's term, largest `|c_ij|` first.
    pub terms: Vec<Term>,
    /// `Σ_i c_ij` over the receptive field.
    pub sum: f32,
    /// The bias term in the denominator, in symbols (`b_j`, `b_j⁺`, `b_j²`; empty when there is none).
    pub bias_name: &'static str,
    pub bias: f32,
    /// The stabiliser `s` of `stab(d) = d + s·sign(d)` (`sign(0) = +1`).
    pub stabiliser: f32,
    /// `stab(sum + bias)`.
    pub denominator: f32,
}

impl Part {
    /// `factor · R_j / denominator`: what each unit of contribution receives.
    pub fn share(&self, r_j: f32) -> f32 {
        self.factor * r_j / self.denominator
    }
}

/// One input and the relevance it receives from the unit.
#[derive(Clone, Debug, PartialEq)]
pub struct InputShare {
    pub input: usize,
    pub activation: f32,
    pub weight: f32,
    /// `R_i←j` as the engine computes it.
    pub relevance: f32,
    /// The same from the written-out terms (`Σ_parts c_ij · share`).
    pub from_terms: f32,
}

/// The whole computation at one unit.
#[derive(Clone, Debug, PartialEq)]
pub struct UnitArithmetic {
    pub layer: usize,
    /// Flat index into the layer's output.
    pub unit: usize,
    /// For a convolution: `(channel, row, column)` of the unit.
    pub position: Option<(usize, usize, usize)>,
    pub rule: LayerRule,
    /// The rule's formula for this unit, in symbols.
    pub formula: String,
    /// `z_j`, the unit's output in the forward pass (with the bias when the rule uses it).
    pub z: f32,
    /// `R_j`.
    pub r_j: f32,
    pub parts: Vec<Part>,
    /// Inputs of the receptive field.
    pub receptive_field: usize,
    /// Every input of the receptive field, largest `|R_i←j|` first.
    pub inputs: Vec<InputShare>,
    /// `Σ_i R_i←j` over the whole layer input, from the engine.
    pub total: f32,
}

impl UnitArithmetic {
    /// Largest `|R_i (engine) − R_i (terms)|` relative to `max |R_i|`.
    pub fn deviation(&self) -> f32 {
        let max = self.inputs.iter().fold(0.0f32, |m, s| m.max(s.relevance.abs()));
        let err = self
            .inputs
            .iter()
            .fold(0.0f32, |m, s| m.max((s.relevance - s.from_terms).abs()));
        if max > 0.0 { err / max } else { err }
    }

    /// The computation as text, `top` terms and inputs per list, one line each.
    pub fn lines(&self, top: usize) -> Vec<String> {
        let mut out = vec![];
        let unit = match self.position {
            Some((c, y, x)) => format!("unit j = channel {c}, row {y}, column {x}"),
            None => format!("unit j = {}", self.unit),
        };
        out.push(format!("Layer {}, {unit}, rule {}", self.layer, rule_name(&self.rule)));
        out.push(format!("  {}", self.formula));
        out.push(format!("R_j = {}   (z_j = {})", num(self.r_j), num(self.z)));
        for part in &self.parts {
            out.push(String::new());
            out.push(format!("{}:", part.name));
            out.push(format!(
                "  largest terms c_ij = {} (of {} inputs):",
                part.term, self.receptive_field
            ));
            for t in part.terms.iter().take(top) {
                out.push(format!(
                    "    i = {:>4}:  a_i = {:>10}   w_ij = {:>10}   c_ij = {:>10}",
                    t.input,
                    num(t.activation),
                    num(t.weight),
                    num(t.value)
                ));
            }
            let mut d = format!("  denominator = Σ_i c_ij {}", num(part.sum));
            if !part.bias_name.is_empty() {
                d.push_str(&format!(" + {} {}", part.bias_name, num(part.bias)));
            }
            if part.stabiliser != 0.0 {
                d.push_str(&format!(" ± stabiliser {}", num(part.stabiliser)));
            }
            d.push_str(&format!(" = {}", num(part.denominator)));
            out.push(d);
            let factor = if part.factor == 1.0 {
                String::new()
            } else {
                format!("{} × ", num(part.factor))
            };
            out.push(format!(
                "  share = {factor}R_j / denominator = {factor}{} / {} = {}",
                num(self.r_j),
                num(part.denominator),
                num(part.share(self.r_j))
            ));
        }
        out.push(String::new());
        out.push("Largest R_i←j = Σ_parts c_ij × share:".into());
        for s in self.inputs.iter().take(top) {
            let terms: Vec<String> = self
                .parts
                .iter()
                .map(|p| {
                    let c = p.terms.iter().find(|t| t.input == s.input).map_or(0.0, |t| t.value);
                    format!("{} × {}", num(c), num(p.share(self.r_j)))
                })
                .collect();
            out.push(format!(
                "    i = {:>4}:  {} = {}",
                s.input,
                terms.join(" + "),
                num(s.relevance)
            ));
        }
        let kept = if self.r_j != 0.0 { self.total / self.r_j } else { 0.0 };
        out.push(format!(
            "Σ_i R_i←j = {} over all inputs = {:.2}% of R_j (the rest went to the bias and the stabiliser)",
            num(self.total),
            100.0 * kept
        ));
        out
    }
}

/// A rule's name with its options.
fn rule_name(rule: &LayerRule) -> String {
    let name = match rule.rule {
        Rule::Zero => "LRP-0".to_string(),
        Rule::Epsilon { epsilon } => format!("LRP-ε (ε = {epsilon})"),
        Rule::Gamma { gamma } => format!("LRP-γ (γ = {gamma})"),
        Rule::AlphaBeta { alpha, beta } => format!("LRP-αβ (α = {alpha}, β = {beta})"),
        Rule::ZPlus => "z⁺".into(),
        Rule::Flat => "flat".into(),
        Rule::WSquare => "w²".into(),
        Rule::ZBox { low, high } => format!("z^B (l = {low}, h = {high})"),
        other => other.to_string(),
    };
    if rule.bias { name } else { format!("{name}, no bias") }
}

/// A compact number: `1.23e-4`, `0.0123`, `12.3457`.
fn num(v: f32) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e4).contains(&a) {
        format!("{v:.3e}")
    } else {
        format!("{v:.4}")
    }
}

/// `d + s·sign(d)` with `sign(0) = +1`, as the engine stabilises.
fn stab(d: f32, s: f32) -> f32 {
    if d >= 0.0 { d + s } else { d - s }
}

/// The receptive field of one unit: `(input index, weight)` pairs, and the unit's bias.
struct Field {
    pairs: Vec<(usize, f32)>,
    bias: Option<f32>,
    position: Option<(usize, usize, usize)>,
}

fn field(model: &Model, layer: usize, unit: usize) -> Result<Field, LrpError> {
    let bad = |m: String| LrpError::Rule(m);
    match model.layers().get(layer) {
        Some(Layer::Dense(d)) => {
            let row = d.weight.outer_iter().nth(unit).ok_or_else(|| {
                bad(format!(
                    "layer {layer} has {} units, not {}",
                    d.weight.nrows(),
                    unit + 1
                ))
            })?;
            Ok(Field {
                pairs: row.iter().copied().enumerate().collect(),
                bias: d.bias.as_ref().and_then(|b| b.get(unit).copied()),
                position: None,
            })
        }
        Some(Layer::Conv2d(c)) => {
            let g = model
                .geometry(layer)
                .ok_or_else(|| bad(format!("layer {layer}: no convolution geometry")))?;
            let per = g.out_height * g.out_width;
            let (o, p) = (unit / per.max(1), unit % per.max(1));
            if o >= c.weight.shape()[0] {
                return Err(bad(format!(
                    "layer {layer} has {} output units, not {}",
                    c.weight.shape()[0] * per,
                    unit + 1
                )));
            }
            let (oy, ox) = (p / g.out_width, p % g.out_width);
            let mut pairs = vec![];
            for ch in 0..g.channels {
                for ky in 0..g.kernel[0] {
                    for kx in 0..g.kernel[1] {
                        let y = (oy * g.stride[0] + ky) as isize - g.padding[0] as isize;
                        let x = (ox * g.stride[1] + kx) as isize - g.padding[1] as isize;
                        if y < 0 || x < 0 || y >= g.height as isize || x >= g.width as isize {
                            continue;
                        }
                        let i = (ch * g.height + y as usize) * g.width + x as usize;
                        pairs.push((i, c.weight[[o, ch, ky, kx]]));
                    }
                }
            }
            Ok(Field {
                pairs,
                bias: c.bias.as_ref().and_then(|b| b.get(o).copied()),
                position: Some((o, oy, ox)),
            })
        }
        _ => Err(bad(format!("layer {layer} is not a Dense or Conv2d layer"))),
    }
}

/// How one part forms its terms: `c_ij` from `(a_i, w_ij)` and the bias term from `b_j`.
struct PartSpec {
    name: String,
    factor: f32,
    term: &'static str,
    c: Box<dyn Fn(f32, f32) -> f32>,
    bias_name: &'static str,
    bias: Box<dyn Fn(f32) -> f32>,
    stabiliser: f32,
}

/// The parts of `rule` and its formula, for a unit whose output (with the rule's bias) is `z`.
fn parts_of(rule: &LayerRule, z: f32) -> Result<(String, Vec<PartSpec>), LrpError> {
    let s = rule.stabilizer;
    let pos = |v: f32| v.max(0.0);
    let neg = |v: f32| v.min(0.0);
    let one = |name: String, term, c: Box<dyn Fn(f32, f32) -> f32>, bias_name, bias: Box<dyn Fn(f32) -> f32>, st| {
        vec![PartSpec {
            name,
            factor: 1.0,
            term,
            c,
            bias_name,
            bias,
            stabiliser: st,
        }]
    };
    let b = if rule.bias { "b_j" } else { "" };
    Ok(match rule.rule {
        Rule::Zero => (
            "R_i←j = a_i·w_ij / (Σ_i' a_i'·w_i'j + b_j) · R_j  (ε = 1e-9 only against 0/0)".into(),
            one(
                "contributions".into(),
                "a_i·w_ij",
                Box::new(|a, w| a * w),
                b,
                Box::new(|b| b),
                super::LRP0_EPSILON,
            ),
        ),
        Rule::Epsilon { epsilon } => (
            "R_i←j = a_i·w_ij / (Σ_i' a_i'·w_i'j + b_j ± ε) · R_j".into(),
            one(
                "contributions".into(),
                "a_i·w_ij",
                Box::new(|a, w| a * w),
                b,
                Box::new(|b| b),
                epsilon,
            ),
        ),
        Rule::ZPlus | Rule::AlphaBeta { .. } => {
            let (alpha, beta) = match rule.rule {
                Rule::AlphaBeta { alpha, beta } => (alpha, beta),
                _ => (1.0, 0.0),
            };
            let mut parts = vec![PartSpec {
                name: if beta == 0.0 {
                    "positive contributions".into()
                } else {
                    format!("positive contributions, × α = {alpha}")
                },
                factor: alpha,
                term: "a_i⁺·w_ij⁺ + a_i⁻·w_ij⁻",
                c: Box::new(move |a, w| pos(a) * pos(w) + neg(a) * neg(w)),
                bias_name: if rule.bias { "b_j⁺" } else { "" },
                bias: Box::new(pos),
                stabiliser: s,
            }];
            if beta != 0.0 {
                parts.push(PartSpec {
                    name: format!("negative contributions, × −β = −{beta}"),
                    factor: -beta,
                    term: "a_i⁺·w_ij⁻ + a_i⁻·w_ij⁺",
                    c: Box::new(move |a, w| pos(a) * neg(w) + neg(a) * pos(w)),
                    bias_name: if rule.bias { "b_j⁻" } else { "" },
                    bias: Box::new(neg),
                    stabiliser: s,
                });
            }
            let formula = if beta == 0.0 {
                "R_i←j = (a_i·w_ij)⁺ / (Σ_i' (a_i'·w_i'j)⁺ + b_j⁺ + s) · R_j".into()
            } else {
                "R_i←j = (α·(a_i·w_ij)⁺ / (Σ (a·w)⁺ + b_j⁺ + s) − β·(a_i·w_ij)⁻ / (Σ (a·w)⁻ + b_j⁻ − s)) · R_j".into()
            };
            (formula, parts)
        }
        Rule::Gamma { gamma } => {
            let formula = format!(
                "R_i←j = c_ij / (Σ_i' c_i'j + b_j ± s) · R_j with the weights of z_j's sign boosted by γ = {gamma}"
            );
            let parts = if z > 0.0 {
                one(
                    "z_j > 0: positive weights boosted".into(),
                    "a_i⁺·(w_ij + γw_ij⁺) + a_i⁻·(w_ij + γw_ij⁻)",
                    Box::new(move |a, w| pos(a) * (w + gamma * pos(w)) + neg(a) * (w + gamma * neg(w))),
                    if rule.bias { "b_j + γb_j⁺" } else { "" },
                    Box::new(move |b| b + gamma * pos(b)),
                    s,
                )
            } else if z < 0.0 {
                one(
                    "z_j < 0: negative weights boosted".into(),
                    "a_i⁺·(w_ij + γw_ij⁻) + a_i⁻·(w_ij + γw_ij⁺)",
                    Box::new(move |a, w| pos(a) * (w + gamma * neg(w)) + neg(a) * (w + gamma * pos(w))),
                    if rule.bias { "b_j + γb_j⁻" } else { "" },
                    Box::new(move |b| b + gamma * neg(b)),
                    s,
                )
            } else {
                vec![]
            };
            (formula, parts)
        }
        Rule::Flat => (
            "R_i←j = 1 / (number of inputs in the receptive field ± s) · R_j".into(),
            one("uniform".into(), "1", Box::new(|_, _| 1.0), "", Box::new(|_| 0.0), s),
        ),
        Rule::WSquare => (
            "R_i←j = w_ij² / (Σ_i' w_i'j² + b_j² + s) · R_j".into(),
            one(
                "squared weights".into(),
                "w_ij²",
                Box::new(|_, w| w * w),
                if rule.bias { "b_j²" } else { "" },
                Box::new(|b| b * b),
                s,
            ),
        ),
        Rule::ZBox { low, high } => (
            format!(
                "R_i←j = (a_i·w_ij − l·w_ij⁺ − h·w_ij⁻) / (Σ_i' (a_i'·w_i'j − l·w_i'j⁺ − h·w_i'j⁻) ± s) · R_j, \
                 l = {low}, h = {high} (the biases cancel)"
            ),
            one(
                "bounded contributions".into(),
                "a_i·w_ij − l·w_ij⁺ − h·w_ij⁻",
                Box::new(move |a, w| a * w - low * pos(w) - high * neg(w)),
                "",
                Box::new(|_| 0.0),
                s,
            ),
        ),
        other => {
            return Err(LrpError::Rule(format!(
                "{other} is not a rule of a Dense or Conv2d layer"
            )));
        }
    })
}

/// The arithmetic of `rule` at output `unit` (flat index) of layer `layer`, for one sample.
///
/// # Shapes
/// `x`: the layer's input `[1, input...]`; `r`: the relevance at its output `[1, output...]` (any shape of that
/// size).
pub fn unit_arithmetic(
    model: &Model,
    layer: usize,
    x: &ArrayD<f32>,
    r: &ArrayD<f32>,
    rule: &LayerRule,
    unit: usize,
) -> Result<UnitArithmetic, LrpError> {
    rule.validate().map_err(LrpError::Rule)?;
    let in_shape = model.shape_at(layer.min(model.layers().len())).to_vec();
    let out_shape = model.shape_at((layer + 1).min(model.layers().len())).to_vec();
    let (in_len, out_len): (usize, usize) = (in_shape.iter().product(), out_shape.iter().product());
    if x.len() != in_len || r.len() != out_len {
        return Err(LrpError::Rule(format!(
            "layer {layer} takes {in_len} inputs and has {out_len} outputs; got {} and {}",
            x.len(),
            r.len()
        )));
    }
    let f = field(model, layer, unit)?;
    let x = x
        .as_standard_layout()
        .into_owned()
        .into_shape_with_order(IxDyn(&[&[1][..], &in_shape[..]].concat()))
        .map_err(|e| LrpError::Rule(e.to_string()))?;
    let xs: Vec<f32> = x.iter().copied().collect();
    let r_j = r.iter().nth(unit).copied().unwrap_or(0.0);
    // The unit's output as the rule sees it (with its bias only when the rule uses it).
    let bias = if rule.bias { f.bias } else { None };
    let z = f.pairs.iter().map(|&(i, w)| xs[i] * w).sum::<f32>() + bias.unwrap_or(0.0);
    let (formula, specs) = parts_of(rule, z)?;
    // Per part: every input's c_ij in receptive-field order, then the part with its terms sorted.
    let mut values: Vec<Vec<f32>> = vec![];
    let mut parts: Vec<Part> = vec![];
    for p in specs {
        let cs: Vec<f32> = f.pairs.iter().map(|&(i, w)| (p.c)(xs[i], w)).collect();
        let mut terms: Vec<Term> = f
            .pairs
            .iter()
            .zip(&cs)
            .map(|(&(i, w), &c)| Term {
                input: i,
                activation: xs[i],
                weight: w,
                value: c,
            })
            .collect();
        let sum: f32 = cs.iter().sum();
        let b = bias.map_or(0.0, |b| (p.bias)(b));
        terms.sort_by(|a, b| b.value.abs().total_cmp(&a.value.abs()));
        parts.push(Part {
            name: p.name,
            factor: p.factor,
            term: p.term,
            terms,
            sum,
            bias_name: if bias.is_some() { p.bias_name } else { "" },
            bias: b,
            stabiliser: p.stabiliser,
            denominator: stab(sum + b, p.stabiliser),
        });
        values.push(cs);
    }
    // The engine's own relevance from this unit alone: R at the output masked to unit j.
    let mut masked = ArrayD::<f32>::zeros(IxDyn(&[&[1][..], &out_shape[..]].concat()));
    if let Some(v) = masked.iter_mut().nth(unit) {
        *v = r_j;
    }
    let z_full = model.layer_forward(layer, &x)?;
    let engine = layer_relevance(model, layer, &x, &z_full, &masked, rule)?;
    let engine: Vec<f32> = engine.iter().copied().collect();
    let mut inputs: Vec<InputShare> = f
        .pairs
        .iter()
        .enumerate()
        .map(|(k, &(i, w))| InputShare {
            input: i,
            activation: xs[i],
            weight: w,
            relevance: engine.get(i).copied().unwrap_or(0.0),
            from_terms: parts.iter().zip(&values).map(|(p, cs)| cs[k] * p.share(r_j)).sum(),
        })
        .collect();
    inputs.sort_by(|a, b| b.relevance.abs().total_cmp(&a.relevance.abs()));
    Ok(UnitArithmetic {
        layer,
        unit,
        position: f.position,
        rule: *rule,
        formula,
        z,
        r_j,
        parts,
        receptive_field: f.pairs.len(),
        inputs,
        total: engine.iter().sum(),
    })
}

/// The weighted layer whose output is shown at stepper position `position` (the relevance at the input of layer
/// `position`), looking through activations and reshapes: `Dense → ReLU → [position]` gives the Dense layer.
pub fn weighted_layer_at(model: &Model, position: usize) -> Option<usize> {
    let mut k = position.checked_sub(1)?;
    loop {
        match model.layers().get(k)? {
            Layer::Dense(_) | Layer::Conv2d(_) => return Some(k),
            Layer::Relu | Layer::Tanh | Layer::Flatten | Layer::Reshape(_) => k = k.checked_sub(1)?,
            _ => return None,
        }
    }
}
