//! One explanation as the window shows it: the request and the computation (on the explain worker).

use super::job_error::JobError;
use super::state::{ExplainResult, SampleArray};
use crate::eval::conservation_ledger;
use crate::lrp::{InitRelevance, ResolvedMethod, Target, argmax, explain_resolved};
use crate::model::{Model, softmax_rows};
use ndarray::{ArrayD, IxDyn};
use std::sync::Arc;
use std::time::Instant;

/// An explanation to compute.
#[derive(Clone, Debug)]
pub struct ExplainRequest {
    pub generation: u64,
    pub sample: usize,
    pub model: Arc<Model>,
    /// The preprocessed sample, `model.input_len()` values.
    pub input: Vec<f32>,
    /// `(height, width)` of the input picture (kept in the result).
    pub image: (usize, usize),
    pub method: ResolvedMethod,
    pub target: Target,
    /// Explain "the target rather than this class" (`Target::Contrast`).
    pub contrast: Option<usize>,
    pub init: InitRelevance,
}

/// Explains one sample and keeps everything the window shows, each array with its shape.
pub fn run_explain(req: &ExplainRequest) -> Result<ExplainResult, JobError> {
    let model = &req.model;
    let mut shape = vec![1];
    shape.extend_from_slice(model.input_shape());
    let x = ArrayD::from_shape_vec(IxDyn(&shape), req.input.clone()).map_err(|_| JobError::InputSize {
        got: req.input.len(),
        input_shape: model.input_shape().to_vec(),
        input_len: model.input_len(),
    })?;
    let start = Instant::now();
    let target = match (req.contrast, &req.target) {
        (None, t) => t.clone(),
        (Some(against), Target::Class(class)) => Target::Contrast { class: *class, against },
        (Some(against), _) => {
            let logits = model.logits(&x)?;
            let class = argmax(logits.row(0));
            Target::Contrast { class, against }
        }
    };
    let e = explain_resolved(model, &x, &req.method, &target, req.init)?;
    let duration_ms = start.elapsed().as_secs_f64() * 1e3;
    let ledger = req
        .method
        .plan()
        .map(|plan| conservation_ledger(model, &e, plan, 0))
        .unwrap_or_default();
    let probabilities = softmax_rows(&e.logits).iter().copied().collect();
    let totals = e.layer_totals().row(0).to_vec();
    let of_sample = |arrays: &[ArrayD<f32>]| arrays.iter().filter_map(|a| SampleArray::of_sample(a, 0)).collect();
    Ok(ExplainResult {
        generation: req.generation,
        sample: req.sample,
        target: e.targets.first().copied().unwrap_or(0),
        logits: e.logits.row(0).to_vec(),
        probabilities,
        image: req.image,
        relevance: of_sample(&e.relevance),
        activations: of_sample(&e.activations),
        totals,
        duration_ms,
        ledger,
        contrast: req.contrast,
    })
}
