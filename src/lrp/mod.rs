//! The LRP engine: `explain(model, input, method, target, init)` → relevance at the input of every layer.
//!
//! Relevance always starts from the pre-softmax logits (a final softmax is never part of the model's layers).

pub mod arithmetic;
mod choice;
mod composite;
mod cost;
mod propagate;
mod rule;
mod spec;

pub use choice::{Baseline, ChoiceEntry, ChoiceKind, DEFAULT_IG_STEPS, REGISTRY, RuleChoice, entries_of, grid_entries};
pub use composite::{Composite, DEFAULT_BOX_BOUNDS, Preset, Selector, check_applicable};
pub use cost::{Cost, multiply_adds};
pub use propagate::{layer_gradient, layer_relevance, linear_relevance};
pub use rule::{DEFAULT_STABILIZER, LRP0_EPSILON, LayerRule, Rule};
pub use spec::parse_layer_rule;

use ndarray::{Array2, ArrayD, Axis, IxDyn};
use rayon::prelude::*;

use crate::error::LrpError;
use crate::model::Model;

/// How an explanation is computed.
///
/// The gradient baselines follow their definitions: they differentiate the target logit `f_c` (for a
/// [`Target::Contrast`], `f_c − f_b`) whatever [`InitRelevance`] is asked for, which only applies to LRP.
#[derive(Clone, Debug, PartialEq)]
pub enum Method {
    /// Layer-wise relevance propagation with a rule per layer, started from the [`InitRelevance`].
    Lrp(Composite),
    /// `∂f_c/∂x`.
    Gradient,
    /// `x ⊙ ∂f_c/∂x`.
    InputXGradient,
    /// `x ⊙ (1/n)·Σ_{k=1..n} ∂f_c/∂x (k/n · x)` (zero baseline, right Riemann sum): sums to about
    /// `f_c(x) − f_c(0)` (completeness).
    IntegratedGradients { steps: usize },
}

impl Method {
    /// The method with its per-layer rules resolved for `model` (checked: every rule fits its layer).
    pub fn resolve(&self, model: &Model) -> Result<ResolvedMethod, LrpError> {
        Ok(match self {
            Method::Lrp(composite) => ResolvedMethod::Lrp(composite.resolve(model)?),
            Method::Gradient => ResolvedMethod::Gradient,
            Method::InputXGradient => ResolvedMethod::InputXGradient,
            Method::IntegratedGradients { steps } => ResolvedMethod::IntegratedGradients { steps: *steps },
        })
    }
}

/// A [`Method`] for one model: LRP as the rule of every layer (what [`Composite::resolve`] gives). Build it with
/// [`Method::resolve`] or, for rules edited per layer, [`ResolvedMethod::lrp`].
#[derive(Clone, Debug, PartialEq)]
pub enum ResolvedMethod {
    /// `plan[k]` is the rule of layer `k`.
    Lrp(Vec<LayerRule>),
    Gradient,
    InputXGradient,
    IntegratedGradients {
        steps: usize,
    },
}

impl ResolvedMethod {
    /// LRP with `plan[k]` on layer `k`, after checking that there is one rule per layer, each valid and applicable.
    pub fn lrp(plan: Vec<LayerRule>, model: &Model) -> Result<Self, LrpError> {
        if plan.len() != model.layers().len() {
            return Err(LrpError::Rule(format!(
                "{} rules given for a model of {} layers",
                plan.len(),
                model.layers().len()
            )));
        }
        for (k, (rule, layer)) in plan.iter().zip(model.layers()).enumerate() {
            let kind = layer.kind();
            rule.validate()
                .and_then(|()| check_applicable(kind, &rule.rule))
                .map_err(|message| LrpError::LayerRule {
                    index: k,
                    kind: kind.name().to_string(),
                    message,
                })?;
        }
        Ok(ResolvedMethod::Lrp(plan))
    }

    /// The same method as a [`Method`] (LRP: layer `k` assigned `plan[k]` by index).
    pub fn to_method(&self) -> Method {
        match self {
            ResolvedMethod::Lrp(plan) => Method::Lrp(Composite {
                assignments: plan.iter().enumerate().map(|(k, r)| (Selector::Index(k), *r)).collect(),
            }),
            ResolvedMethod::Gradient => Method::Gradient,
            ResolvedMethod::InputXGradient => Method::InputXGradient,
            ResolvedMethod::IntegratedGradients { steps } => Method::IntegratedGradients { steps: *steps },
        }
    }

    /// The output relevance this method actually starts from: `init` for LRP, the one-hot gradient of the
    /// target logit for the gradient baselines.
    pub fn effective_init(&self, init: InitRelevance) -> InitRelevance {
        match self {
            ResolvedMethod::Lrp(_) => init,
            ResolvedMethod::Gradient | ResolvedMethod::InputXGradient | ResolvedMethod::IntegratedGradients { .. } => {
                InitRelevance::OneHot
            }
        }
    }

    /// The per-layer rules (`None` for the gradient baselines).
    pub fn plan(&self) -> Option<&[LayerRule]> {
        match self {
            ResolvedMethod::Lrp(plan) => Some(plan),
            _ => None,
        }
    }
}

/// The output relevance LRP starts from (the gradient baselines always start from the one-hot gradient, see
/// [`ResolvedMethod::effective_init`]). Persisted by the window under these variant names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum InitRelevance {
    /// The chosen class's logit, all other outputs 0 (the LRP Toolbox convention).
    #[default]
    Logit,
    /// 1 for the chosen class (Zennit's convention).
    OneHot,
}

impl InitRelevance {
    /// Every choice, in the order the command line and the window list them.
    pub const ALL: [InitRelevance; 2] = [InitRelevance::Logit, InitRelevance::OneHot];

    /// The command-line name: `logit` or `onehot`.
    pub fn name(self) -> &'static str {
        match self {
            InitRelevance::Logit => "logit",
            InitRelevance::OneHot => "onehot",
        }
    }
}

/// Which class to explain.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Target {
    /// The argmax of each sample's logits.
    #[default]
    Predicted,
    /// The same class for every sample.
    Class(usize),
    /// One class per sample (e.g. the true labels).
    PerSample(Vec<usize>),
    /// "Why A rather than B": initial relevance on A minus that on B.
    Contrast { class: usize, against: usize },
}

/// The result of [`explain`] on a batch of `N` samples of a model with `L` layers.
#[derive(Clone, Debug)]
pub struct Explanation {
    /// `[N, classes]` pre-softmax outputs.
    pub logits: Array2<f32>,
    /// The explained class of each sample.
    pub targets: Vec<usize>,
    /// `relevance[k]`: relevance at the input of layer `k`, shaped `[N, model.shape_at(k)...]`;
    /// `relevance[L]` is the initial relevance at the output.
    pub relevance: Vec<ArrayD<f32>>,
    /// `activations[k]`: the input of layer `k`; `activations[L]` the logits.
    pub activations: Vec<ArrayD<f32>>,
}

impl Explanation {
    /// Relevance at the model input, `[N, input_shape...]`.
    pub fn input_relevance(&self) -> &ArrayD<f32> {
        &self.relevance[0]
    }

    /// `[N, L + 1]`: the total relevance at the input of each layer (last column: the output).
    pub fn layer_totals(&self) -> Array2<f32> {
        let n = self.logits.nrows();
        let mut out = Array2::zeros((n, self.relevance.len()));
        for (k, r) in self.relevance.iter().enumerate() {
            for (i, sample) in r.axis_iter(Axis(0)).enumerate() {
                out[[i, k]] = sample.iter().map(|&v| v as f64).sum::<f64>() as f32;
            }
        }
        out
    }
}

/// Index of the largest value (the first one on ties; 0 for an empty row; a NaN is never the largest unless it
/// comes first): of a logits row (`ArrayView1`), a slice or a `Vec`.
pub fn argmax<'a>(values: impl IntoIterator<Item = &'a f32>) -> usize {
    let mut best: Option<(usize, f32)> = None;
    for (i, &v) in values.into_iter().enumerate() {
        if best.is_none_or(|(_, b)| v > b) {
            best = Some((i, v));
        }
    }
    best.map_or(0, |(i, _)| i)
}

/// The initial relevance `[N, classes]` and the explained class per sample.
pub fn initial_relevance(
    logits: &Array2<f32>,
    target: &Target,
    init: InitRelevance,
) -> Result<(Array2<f32>, Vec<usize>), LrpError> {
    let (n, classes) = logits.dim();
    let check = |c: usize| {
        if c < classes {
            Ok(c)
        } else {
            Err(LrpError::Target { target: c, classes })
        }
    };
    let mut r = Array2::zeros((n, classes));
    let mut targets = Vec::with_capacity(n);
    let value = |i: usize, c: usize| match init {
        InitRelevance::Logit => logits[[i, c]],
        InitRelevance::OneHot => 1.0,
    };
    for i in 0..n {
        let c = match target {
            Target::Predicted => argmax(logits.row(i)),
            Target::Class(c) => check(*c)?,
            Target::PerSample(cs) => check(
                *cs.get(i)
                    .ok_or_else(|| LrpError::Rule(format!("{} targets given for {n} samples", cs.len())))?,
            )?,
            Target::Contrast { class, against } => {
                let (a, b) = (check(*class)?, check(*against)?);
                r[[i, b]] -= value(i, b);
                a
            }
        };
        r[[i, c]] += value(i, c);
        targets.push(c);
    }
    Ok((r, targets))
}

fn as_output_shape(model: &Model, r: Array2<f32>) -> Result<ArrayD<f32>, LrpError> {
    let mut shape = vec![r.nrows()];
    shape.extend_from_slice(model.shape_at(model.layers().len()));
    let index = model.layers().len().saturating_sub(1);
    crate::ops::reshaped("initial relevance", &r.into_dyn(), &shape)
        .map_err(|source| LrpError::Model(crate::error::ModelError::Shape { index, source }))
}

/// Samples per task when a batch of a convolutional model is split across threads: a task's activations and
/// relevances stay in the core's cache, and each convolution multiplies one sample at a time anyway
/// (measured best among 8–512 on the fixture CNN, see BENCHMARKS.md).
pub const CHUNK: usize = 32;

/// Samples per task for models of Dense layers only: their matrix products pack the weights once per call, so
/// larger chunks amortise that (measured best among 16–1000 on the fixture MLP).
pub const DENSE_CHUNK: usize = 256;

/// The chunk size [`explain`] uses for `model`.
pub fn chunk_size(model: &Model) -> usize {
    use crate::model::Layer;
    let convolutional = model.layers().iter().any(|l| {
        matches!(
            l,
            Layer::Conv2d(_) | Layer::MaxPool2d(_) | Layer::AvgPool2d(_) | Layer::SumPool2d(_)
        )
    });
    if convolutional { CHUNK } else { DENSE_CHUNK }
}

/// Explains a batch `x: [N, ...]` (any per-sample shape with the model's input size).
///
/// Batches larger than [`chunk_size`] are split into chunks explained in parallel (rayon), each on one thread;
/// the result is the same as for one chunk.
pub fn explain(
    model: &Model,
    x: &ArrayD<f32>,
    method: &Method,
    target: &Target,
    init: InitRelevance,
) -> Result<Explanation, LrpError> {
    explain_resolved(model, x, &method.resolve(model)?, target, init)
}

/// [`explain`] with the rules already resolved for `model` (e.g. edited per layer in the window).
pub fn explain_resolved(
    model: &Model,
    x: &ArrayD<f32>,
    method: &ResolvedMethod,
    target: &Target,
    init: InitRelevance,
) -> Result<Explanation, LrpError> {
    let mut parts = explain_map_resolved(model, x, method, target, init, |_, e| e)?;
    if parts.len() == 1 {
        return Ok(parts.swap_remove(0));
    }
    Explanation::concatenate(&parts)
}

/// Explains `x` chunk by chunk ([`chunk_size`] samples, in parallel) and maps each chunk's explanation with
/// `f(first sample index, explanation)`, in order. Keeps only what `f` returns, so that a large batch can be
/// explained without holding the relevance of every layer for every sample.
pub fn explain_map<R: Send>(
    model: &Model,
    x: &ArrayD<f32>,
    method: &Method,
    target: &Target,
    init: InitRelevance,
    f: impl Fn(usize, Explanation) -> R + Sync,
) -> Result<Vec<R>, LrpError> {
    explain_map_resolved(model, x, &method.resolve(model)?, target, init, f)
}

/// [`explain_map`] with the rules already resolved for `model`.
pub fn explain_map_resolved<R: Send>(
    model: &Model,
    x: &ArrayD<f32>,
    method: &ResolvedMethod,
    target: &Target,
    init: InitRelevance,
    f: impl Fn(usize, Explanation) -> R + Sync,
) -> Result<Vec<R>, LrpError> {
    model.check_finite()?;
    let n = x.shape().first().copied().unwrap_or(0);
    let chunk = chunk_size(model);
    if n <= chunk {
        return Ok(vec![f(0, explain_serial(model, x, method, target, init)?)]);
    }
    if let Target::PerSample(cs) = target
        && cs.len() != n
    {
        return Err(LrpError::Rule(format!("{} targets given for {n} samples", cs.len())));
    }
    let starts: Vec<usize> = (0..n).step_by(chunk).collect();
    starts
        .par_iter()
        .map(|&start| {
            let end = (start + chunk).min(n);
            let xs = x.slice_axis(Axis(0), (start..end).into()).to_owned();
            let t = match target {
                Target::PerSample(cs) => Target::PerSample(cs[start..end].to_vec()),
                other => other.clone(),
            };
            explain_serial(model, &xs, method, &t, init).map(|e| f(start, e))
        })
        .collect()
}

impl Explanation {
    /// The explanations of consecutive chunks of a batch as one.
    fn concatenate(parts: &[Explanation]) -> Result<Explanation, LrpError> {
        // The chunks of one batch through one model always stack; a failure is an engine bug, named here.
        let stack_error = |what: &'static str, e: ndarray::ShapeError| {
            LrpError::Model(crate::error::ModelError::Shape {
                index: 0,
                source: crate::error::ShapeError {
                    op: what,
                    expected: format!("chunks of the same per-sample shape ({e})"),
                    got: vec![parts.len()],
                },
            })
        };
        let layers = parts.first().map_or(0, |p| p.relevance.len());
        let stacked = |pick: fn(&Explanation) -> &Vec<ArrayD<f32>>| -> Result<Vec<ArrayD<f32>>, LrpError> {
            (0..layers)
                .into_par_iter()
                .map(|k| {
                    let views: Vec<_> = parts.iter().map(|p| pick(p)[k].view()).collect();
                    ndarray::concatenate(Axis(0), &views).map_err(|e| stack_error("joining chunks", e))
                })
                .collect()
        };
        let logits = ndarray::concatenate(Axis(0), &parts.iter().map(|p| p.logits.view()).collect::<Vec<_>>())
            .map_err(|e| stack_error("joining the logits of chunks", e))?;
        Ok(Explanation {
            logits,
            targets: parts.iter().flat_map(|p| p.targets.iter().copied()).collect(),
            relevance: stacked(|p| &p.relevance)?,
            activations: stacked(|p| &p.activations)?,
        })
    }
}

/// The common start of every explanation.
struct Start {
    /// Every layer's input, then the logits.
    activations: Vec<ArrayD<f32>>,
    /// `[N, classes]`.
    logits: Array2<f32>,
    /// The initial relevance, shaped like the output.
    r0: ArrayD<f32>,
    /// The explained class of each sample.
    targets: Vec<usize>,
}

/// The forward pass and the initial relevance.
fn forward_and_init(model: &Model, x: &ArrayD<f32>, target: &Target, init: InitRelevance) -> Result<Start, LrpError> {
    let activations = model.forward(x)?;
    let out = activations.last().cloned().ok_or(crate::error::ModelError::Empty)?;
    let logits = model.logits_of(out)?;
    let (r0, targets) = initial_relevance(&logits, target, init)?;
    let r0 = as_output_shape(model, r0)?;
    Ok(Start {
        activations,
        logits,
        r0,
        targets,
    })
}

/// [`explain`] on one thread.
fn explain_serial(
    model: &Model,
    x: &ArrayD<f32>,
    method: &ResolvedMethod,
    target: &Target,
    init: InitRelevance,
) -> Result<Explanation, LrpError> {
    let layers = model.layers().len();
    let Start {
        activations,
        logits,
        r0,
        targets,
    } = forward_and_init(model, x, target, method.effective_init(init))?;
    let relevance = match method {
        ResolvedMethod::Lrp(plan) => {
            if plan.len() != layers {
                return Err(LrpError::Rule(format!(
                    "{} rules given for a model of {layers} layers",
                    plan.len()
                )));
            }
            let mut rel = vec![ArrayD::zeros(IxDyn(&[0])); layers + 1];
            rel[layers] = r0;
            for k in (0..layers).rev() {
                rel[k] = layer_relevance(model, k, &activations[k], &activations[k + 1], &rel[k + 1], &plan[k])?;
            }
            rel
        }
        ResolvedMethod::Gradient => gradients(model, &activations, r0)?,
        ResolvedMethod::InputXGradient => {
            let mut g = gradients(model, &activations, r0)?;
            for (gk, ak) in g.iter_mut().zip(&activations) {
                *gk *= ak;
            }
            g
        }
        ResolvedMethod::IntegratedGradients { steps } => {
            let steps = (*steps).max(1);
            let mut sum: Option<Vec<ArrayD<f32>>> = None;
            for step in 1..=steps {
                let alpha = step as f32 / steps as f32;
                let scaled = activations[0].mapv(|v| v * alpha);
                let acts = model.forward(&scaled)?;
                let g = gradients(model, &acts, r0.clone())?;
                match &mut sum {
                    None => sum = Some(g),
                    Some(s) => s.iter_mut().zip(&g).for_each(|(s, g)| *s += g),
                }
            }
            // `steps ≥ 1`, so the loop ran at least once.
            let mut sum = sum.ok_or_else(|| LrpError::Rule("integrated gradients needs at least one step".into()))?;
            for (s, a) in sum.iter_mut().zip(&activations) {
                *s *= a;
                s.mapv_inplace(|v| v / steps as f32);
            }
            sum
        }
    };
    Ok(Explanation {
        logits,
        targets,
        relevance,
        activations,
    })
}

/// The LRP relevance at the input of layer `stop` only, `[N, model.shape_at(stop)...]`, with the explained class of
/// each sample: the output-to-`stop` part of [`explain`] under the per-layer rules `plan` (from
/// [`Composite::resolve`]), skipping the layers below `stop` and keeping no other layer's relevance. For questions
/// about one position over many samples, such as which samples give a unit the most relevance.
pub fn relevance_at(
    model: &Model,
    x: &ArrayD<f32>,
    plan: &[LayerRule],
    target: &Target,
    init: InitRelevance,
    stop: usize,
) -> Result<(ArrayD<f32>, Vec<usize>), LrpError> {
    let layers = model.layers().len();
    if plan.len() != layers || stop > layers {
        return Err(LrpError::Rule(format!(
            "relevance at layer {stop} needs one rule per layer ({} given for {layers} layers)",
            plan.len()
        )));
    }
    model.check_finite()?;
    let Start {
        activations,
        r0: mut r,
        targets,
        ..
    } = forward_and_init(model, x, target, init)?;
    for k in (stop..layers).rev() {
        r = layer_relevance(model, k, &activations[k], &activations[k + 1], &r, &plan[k])?;
    }
    Ok((r, targets))
}

/// Gradient of `⟨r0, f(x)⟩` at the input of every layer.
fn gradients(model: &Model, activations: &[ArrayD<f32>], r0: ArrayD<f32>) -> Result<Vec<ArrayD<f32>>, LrpError> {
    let layers = model.layers().len();
    let mut g = vec![ArrayD::zeros(IxDyn(&[0])); layers + 1];
    g[layers] = r0;
    for k in (0..layers).rev() {
        g[k] = layer_gradient(model, k, &activations[k], &g[k + 1])?;
    }
    Ok(g)
}
