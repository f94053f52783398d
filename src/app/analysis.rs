//! Background analyses of the current explanation: pixel-flipping faithfulness curves (cancellable, with
//! progress), conditional heatmaps of one unit, and the samples where a unit receives the most relevance.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use ndarray::{ArrayD, Axis, IxDyn};

pub use super::gallery::{GALLERY_CHUNK, GalleryRequest, GalleryResult, run_gallery};

use crate::eval::{FlipOrder, FlipSettings, aopc, perturbation_curves};
use crate::heatmap::plot::LinePlot;
use crate::lrp::{InitRelevance, LayerRule, Method, Target, explain, layer_relevance};
use crate::model::Model;

/// Samples per chunk of the faithfulness job; cancellation is checked between chunks.
pub const CHUNK: usize = 16;

/// Progress shared with the window: samples done, samples in all, and the cancel flag.
#[derive(Debug, Default)]
pub struct Progress {
    pub done: AtomicUsize,
    pub total: AtomicUsize,
    pub cancel: AtomicBool,
}

impl Progress {
    /// `(done, total)` as last reported.
    pub fn counts(&self) -> (usize, usize) {
        (self.done.load(Ordering::Relaxed), self.total.load(Ordering::Relaxed))
    }

    /// Asks the job to stop after its current chunk.
    pub fn request_cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    pub(super) fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// A faithfulness run: the current rule, a second rule and the random baseline over some samples.
#[derive(Clone, Debug)]
pub struct FaithRequest {
    pub generation: u64,
    pub model: Arc<Model>,
    /// Preprocessed samples, `model.input_len()` values each.
    pub inputs: Vec<Vec<f32>>,
    /// `(label, method)` of the rules to compare (the current one first).
    pub methods: Vec<(String, Method)>,
    pub target: Target,
    pub init: InitRelevance,
    pub settings: FlipSettings,
    /// Seed of the random order.
    pub seed: u64,
    pub progress: Arc<Progress>,
}

/// One averaged curve with its AOPC.
#[derive(Clone, Debug, PartialEq)]
pub struct FaithCurve {
    pub label: String,
    /// Mean target logit at each point.
    pub values: Vec<f32>,
    /// AOPC of the mean curve (equal to the mean of the per-sample AOPCs).
    pub aopc: f32,
}

/// The curves of a run, over `samples` samples.
#[derive(Clone, Debug, PartialEq)]
pub struct FaithResult {
    pub generation: u64,
    pub samples: usize,
    /// Fraction of the input removed at each point.
    pub removed: Vec<f32>,
    /// One curve per method, then `random`.
    pub curves: Vec<FaithCurve>,
    /// The class explained at each sample.
    pub target: Target,
}

impl FaithResult {
    /// The curves as a picture to export: the methods in the palette's colours, `random` dashed and grey, each
    /// with its AOPC; the title names the model, the target and the number of samples.
    pub fn line_plot(&self, model: &str) -> LinePlot {
        let target = match &self.target {
            Target::Predicted | Target::PerSample(_) => "predicted class".to_string(),
            Target::Class(c) => format!("class {c}"),
            Target::Contrast { class, against } => format!("class {class} rather than {against}"),
        };
        let title = format!(
            "Pixel flipping · {model} · {target} · {} sample{}",
            self.samples,
            if self.samples == 1 { "" } else { "s" }
        );
        let (random, rules) = match self.curves.split_last() {
            Some((last, rest)) if last.label == "random" => (Some((last.values.as_slice(), last.aopc)), rest),
            _ => (None, self.curves.as_slice()),
        };
        let rules: Vec<(String, Vec<f32>, f32)> = rules
            .iter()
            .map(|c| (c.label.clone(), c.values.clone(), c.aopc))
            .collect();
        LinePlot::faithfulness(title, &self.removed, &rules, random)
    }

    /// The plot data as CSV: `removed,<label>,…` then one row per point.
    pub fn to_csv(&self) -> String {
        let mut s = String::from("removed");
        for c in &self.curves {
            s.push(',');
            s.push_str(&c.label.replace(',', ";"));
        }
        s.push('\n');
        for (k, r) in self.removed.iter().enumerate() {
            s.push_str(&r.to_string());
            for c in &self.curves {
                s.push(',');
                s.push_str(&c.values.get(k).map_or(String::new(), f32::to_string));
            }
            s.push('\n');
        }
        s
    }
}

pub(super) fn batch(model: &Model, inputs: &[Vec<f32>]) -> Result<ArrayD<f32>, String> {
    let mut shape = vec![inputs.len()];
    shape.extend_from_slice(model.input_shape());
    ArrayD::from_shape_vec(IxDyn(&shape), inputs.concat())
        .map_err(|_| format!("the samples do not fit the model input {:?}", model.input_shape()))
}

/// Runs the curves chunk by chunk; `Err("cancelled")` when the progress' cancel flag is raised.
pub fn run_faithfulness(req: &FaithRequest) -> Result<FaithResult, String> {
    let model = &req.model;
    let progress = &req.progress;
    progress.total.store(req.inputs.len(), Ordering::Relaxed);
    progress.done.store(0, Ordering::Relaxed);
    let labels: Vec<String> = req
        .methods
        .iter()
        .map(|(l, _)| l.clone())
        .chain(["random".to_string()])
        .collect();
    let mut sums: Vec<Vec<f64>> = vec![Vec::new(); labels.len()];
    let mut removed = Vec::new();
    for (c, chunk) in req.inputs.chunks(CHUNK).enumerate() {
        if progress.cancelled() {
            return Err("cancelled".into());
        }
        let x = batch(model, chunk)?;
        let mut targets = None;
        let mut curves_per_method = Vec::new();
        for (_, method) in &req.methods {
            let e = explain(model, &x, method, &req.target, req.init).map_err(|e| e.to_string())?;
            let t = targets.get_or_insert_with(|| e.targets.clone()).clone();
            let curves = perturbation_curves(
                model,
                &x,
                e.input_relevance(),
                &t,
                FlipOrder::MostRelevantFirst,
                &req.settings,
            )
            .map_err(|e| e.to_string())?;
            curves_per_method.push(curves);
        }
        let t = targets.unwrap_or_default();
        let zeros = ArrayD::zeros(x.raw_dim());
        let seed = req.seed.wrapping_add((c * CHUNK) as u64);
        let random = perturbation_curves(model, &x, &zeros, &t, FlipOrder::Random { seed }, &req.settings)
            .map_err(|e| e.to_string())?;
        curves_per_method.push(random);
        for (sum, curves) in sums.iter_mut().zip(&curves_per_method) {
            for curve in curves {
                if sum.is_empty() {
                    *sum = vec![0.0; curve.values.len()];
                }
                sum.iter_mut().zip(&curve.values).for_each(|(s, &v)| *s += f64::from(v));
                if removed.is_empty() {
                    removed = curve.removed.clone();
                }
            }
        }
        progress.done.fetch_add(chunk.len(), Ordering::Relaxed);
    }
    let n = req.inputs.len().max(1) as f64;
    let curves = labels
        .into_iter()
        .zip(sums)
        .map(|(label, sum)| {
            let values: Vec<f32> = sum.iter().map(|s| (s / n) as f32).collect();
            FaithCurve {
                aopc: aopc(&values),
                label,
                values,
            }
        })
        .collect();
    Ok(FaithResult {
        generation: req.generation,
        samples: req.inputs.len(),
        removed,
        curves,
        target: req.target.clone(),
    })
}

/// The relevance of unit `unit` at stepper position `position` propagated alone to the input.
#[derive(Clone, Debug)]
pub struct ConditionalRequest {
    pub generation: u64,
    pub model: Arc<Model>,
    pub input: Vec<f32>,
    /// The current LRP method and its per-layer rules (from `Composite::resolve`).
    pub method: Method,
    pub plan: Vec<LayerRule>,
    /// Stepper position: the relevance at the input of layer `position`.
    pub position: usize,
    /// A channel of a `[C, H, W]` position or a neuron of a flat one.
    pub unit: usize,
    pub target: Target,
    pub init: InitRelevance,
}

/// The conditional heatmap of a unit.
#[derive(Clone, Debug, PartialEq)]
pub struct ConditionalResult {
    pub generation: u64,
    pub position: usize,
    pub unit: usize,
    /// Relevance at the model input flowing through the unit (flattened).
    pub relevance: Vec<f32>,
    /// Relevance the unit receives.
    pub unit_total: f32,
}

/// The number of units at `position`: channels of a `[C, H, W]` shape, else every element.
pub fn unit_count(model: &Model, position: usize) -> usize {
    let shape = model.shape_at(position.min(model.layers().len()));
    match shape {
        [c, _, _] => *c,
        s => s.iter().product(),
    }
}

/// Zeroes every unit of `r` (`[N, shape…]`) but `unit` (a channel for `[N, C, H, W]`, else an element).
fn keep_unit(r: &mut ArrayD<f32>, unit: usize) {
    let n = r.shape()[0];
    let per = r.len() / n.max(1);
    let block = if r.ndim() == 4 { r.shape()[2] * r.shape()[3] } else { 1 };
    let mut flat = r.as_standard_layout().into_owned();
    if let Some(s) = flat.as_slice_mut() {
        for i in 0..n {
            for (j, v) in s[i * per..(i + 1) * per].iter_mut().enumerate() {
                if j / block != unit {
                    *v = 0.0;
                }
            }
        }
    }
    *r = flat;
}

/// Total relevance of `unit` per sample in `r` (`[N, shape…]`): a channel's sum for `[N, C, H, W]`, else one element.
pub(super) fn unit_totals(r: &ArrayD<f32>, unit: usize) -> Vec<f32> {
    if r.ndim() == 4 {
        if unit >= r.shape()[1] {
            return vec![0.0; r.shape()[0]];
        }
        return r
            .index_axis(Axis(1), unit)
            .axis_iter(Axis(0))
            .map(|channel| channel.sum())
            .collect();
    }
    r.axis_iter(Axis(0))
        .map(|s| s.iter().nth(unit).copied().unwrap_or(0.0))
        .collect()
}

/// Explains, keeps only `unit` at `position` and propagates it down with the same rules.
pub fn run_conditional(req: &ConditionalRequest) -> Result<ConditionalResult, String> {
    let model = &req.model;
    let layers = model.layers().len();
    if req.plan.len() != layers {
        return Err("conditional heatmaps need LRP rules on every layer (not a gradient baseline)".into());
    }
    if req.position > layers || req.unit >= unit_count(model, req.position) {
        return Err(format!("no unit {} at position {}", req.unit, req.position));
    }
    let x = batch(model, std::slice::from_ref(&req.input))?;
    let e = explain(model, &x, &req.method, &req.target, req.init).map_err(|e| e.to_string())?;
    let mut r = e.relevance[req.position].clone();
    let unit_total = unit_totals(&r, req.unit).first().copied().unwrap_or(0.0);
    keep_unit(&mut r, req.unit);
    for k in (0..req.position).rev() {
        r = layer_relevance(model, k, &e.activations[k], &e.activations[k + 1], &r, &req.plan[k]);
    }
    Ok(ConditionalResult {
        generation: req.generation,
        position: req.position,
        unit: req.unit,
        relevance: r.iter().copied().collect(),
        unit_total,
    })
}
