//! The gallery of a unit: the samples of the loaded set where one neuron or channel receives the most relevance,
//! found in parallel chunks with a running top list, progress and cancellation.

use std::sync::Arc;

use rayon::prelude::*;

use super::progress::Progress;
use super::samples::batch;
use super::units::{check_unit, unit_totals};
use crate::error::EvalError;
use crate::lrp::{InitRelevance, LayerRule, Method, Target, relevance_at};
use crate::model::Model;

/// Finds the samples where a unit receives the most relevance.
#[derive(Clone, Debug)]
pub struct GalleryRequest {
    pub model: Arc<Model>,
    pub inputs: Vec<Vec<f32>>,
    pub method: Method,
    pub plan: Vec<LayerRule>,
    pub position: usize,
    pub unit: usize,
    pub target: Target,
    pub init: InitRelevance,
    /// How many to keep.
    pub top: usize,
    pub progress: Arc<Progress>,
}

/// The top samples: `(sample index, relevance of the unit)`, largest first.
#[derive(Clone, Debug, PartialEq)]
pub struct GalleryResult {
    pub position: usize,
    pub unit: usize,
    pub top: Vec<(usize, f32)>,
}

/// Samples per engine call of the gallery; chunks run in parallel, cancellation is checked before each. Small enough
/// that the per-layer arrays are reused by the allocator: 256 spent a quarter of the time in page faults.
pub const GALLERY_CHUNK: usize = 32;

/// Merges two lists of `(sample, total)` into the `top` largest, largest first (ties: lower sample first).
fn merge_top(mut a: Vec<(usize, f32)>, b: Vec<(usize, f32)>, top: usize) -> Vec<(usize, f32)> {
    a.extend(b);
    a.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
    a.truncate(top);
    a
}

/// Explains the samples in parallel chunks of [`GALLERY_CHUNK`], only down to the unit's position, keeping a running
/// list of the `top` largest unit totals; progress after each chunk, [`EvalError::Cancelled`] once the flag is raised.
pub fn run_gallery(req: &GalleryRequest) -> Result<GalleryResult, EvalError> {
    let model = &req.model;
    check_unit(model, &req.plan, req.position, req.unit, "galleries")?;
    let progress = &req.progress;
    progress.start(req.inputs.len());
    let top = req
        .inputs
        .par_chunks(GALLERY_CHUNK)
        .enumerate()
        .try_fold(Vec::new, |best, (c, chunk)| {
            progress.check()?;
            let x = batch(model, chunk)?;
            let (r, _) = relevance_at(model, &x, &req.plan, &req.target, req.init, req.position)?;
            let totals = unit_totals(&r, req.unit)
                .ok_or(EvalError::NoUnit {
                    position: req.position,
                    unit: req.unit,
                    units: super::units::unit_count(model, req.position),
                })?
                .into_iter()
                .enumerate()
                .map(|(i, t)| (c * GALLERY_CHUNK + i, t))
                .collect();
            progress.advance(chunk.len());
            Ok::<_, EvalError>(merge_top(best, totals, req.top))
        })
        .try_reduce(Vec::new, |a, b| Ok(merge_top(a, b, req.top)))?;
    Ok(GalleryResult {
        position: req.position,
        unit: req.unit,
        top,
    })
}
