//! Mean pixel-flipping curves of several methods against the random order, over many samples, with AOPC: the one
//! computation behind `lrp-explorer eval --faithfulness` and the window's Faithfulness tab, and their one CSV.

use std::fmt::Write as _;
use std::sync::Arc;

use ndarray::ArrayD;

use super::faithfulness::{FlipOrder, FlipSettings, aopc, perturbation_curves};
use super::progress::Progress;
use super::samples::batch;
use crate::error::EvalError;
use crate::heatmap::plot::LinePlot;
use crate::lrp::{InitRelevance, Method, Target, explain};
use crate::model::Model;

/// Samples per chunk; cancellation is checked between chunks.
pub const CHUNK: usize = 16;

/// The label of the random baseline's curve (always the last one).
pub const RANDOM_LABEL: &str = "random";

/// A faithfulness run: some methods and the random baseline over some samples.
#[derive(Clone, Debug)]
pub struct FaithRequest {
    pub model: Arc<Model>,
    /// Preprocessed samples, `model.input_len()` values each.
    pub inputs: Vec<Vec<f32>>,
    /// `(label, method)` of the methods to compare.
    pub methods: Vec<(String, Method)>,
    pub target: Target,
    pub init: InitRelevance,
    pub settings: FlipSettings,
    /// Seed of the random order (sample `i` uses `seed + i`).
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
    pub samples: usize,
    /// Fraction of the input removed at each point.
    pub removed: Vec<f32>,
    /// One curve per method, then [`RANDOM_LABEL`].
    pub curves: Vec<FaithCurve>,
    /// The class explained at each sample.
    pub target: Target,
}

/// A CSV field: quoted (with `"` doubled) when it holds a comma, a quote or a line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

impl FaithResult {
    /// The curves as a picture: the methods in the palette's colours, `random` dashed and grey, each with its
    /// AOPC; the title names the model, the target and the number of samples.
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
            Some((last, rest)) if last.label == RANDOM_LABEL => (Some((last.values.as_slice(), last.aopc)), rest),
            _ => (None, self.curves.as_slice()),
        };
        let rules: Vec<(String, Vec<f32>, f32)> = rules
            .iter()
            .map(|c| (c.label.clone(), c.values.clone(), c.aopc))
            .collect();
        LinePlot::faithfulness(title, &self.removed, &rules, random)
    }

    /// The curves as CSV, the same from the command line and the window: a header `removed,<label>,…`, then one
    /// row per point with the fraction removed and each curve's mean target logit (labels quoted when they hold a
    /// comma, as in `alphabeta:2,1`).
    pub fn to_csv(&self) -> String {
        let mut s = String::from("removed");
        for c in &self.curves {
            s.push(',');
            s.push_str(&csv_field(&c.label));
        }
        s.push('\n');
        for (k, r) in self.removed.iter().enumerate() {
            let _ = write!(s, "{r}");
            for c in &self.curves {
                s.push(',');
                if let Some(v) = c.values.get(k) {
                    let _ = write!(s, "{v}");
                }
            }
            s.push('\n');
        }
        s
    }

    /// A table of every curve's AOPC and its first and last mean logit, for a terminal.
    pub fn table(&self) -> String {
        let mut s = format!(
            "{:<28} {:>10} {:>12} {:>12}\n",
            "rule", "AOPC", "logit start", "logit end"
        );
        for c in &self.curves {
            let _ = writeln!(
                s,
                "{:<28} {:>10.4} {:>12.4} {:>12.4}",
                c.label,
                c.aopc,
                c.values.first().copied().unwrap_or(0.0),
                c.values.last().copied().unwrap_or(0.0)
            );
        }
        s
    }
}

/// Runs the curves chunk by chunk of [`CHUNK`] samples, reporting progress; [`EvalError::Cancelled`] once the
/// progress' cancel flag is raised.
pub fn run_faithfulness(req: &FaithRequest) -> Result<FaithResult, EvalError> {
    let model = &req.model;
    let progress = &req.progress;
    progress.start(req.inputs.len());
    let labels: Vec<String> = req
        .methods
        .iter()
        .map(|(l, _)| l.clone())
        .chain([RANDOM_LABEL.to_string()])
        .collect();
    let mut sums: Vec<Vec<f64>> = vec![Vec::new(); labels.len()];
    let mut removed = Vec::new();
    for (c, chunk) in req.inputs.chunks(CHUNK).enumerate() {
        progress.check()?;
        let x = batch(model, chunk)?;
        let mut targets = None;
        let mut curves_per_method = Vec::new();
        for (_, method) in &req.methods {
            let e = explain(model, &x, method, &req.target, req.init)?;
            let t = targets.get_or_insert_with(|| e.targets.clone()).clone();
            let curves = perturbation_curves(
                model,
                &x,
                e.input_relevance(),
                &t,
                FlipOrder::MostRelevantFirst,
                &req.settings,
            )?;
            curves_per_method.push(curves);
        }
        // With no method to take the targets from, the random curve follows the predicted class.
        let t = match targets {
            Some(t) => t,
            None => {
                let logits = model.logits(&x)?;
                logits.rows().into_iter().map(crate::lrp::argmax).collect()
            }
        };
        let zeros = ArrayD::zeros(x.raw_dim());
        let seed = req.seed.wrapping_add((c * CHUNK) as u64);
        let random = perturbation_curves(model, &x, &zeros, &t, FlipOrder::Random { seed }, &req.settings)?;
        curves_per_method.push(random);
        for (sum, curves) in sums.iter_mut().zip(&curves_per_method) {
            for curve in curves {
                if sum.is_empty() {
                    *sum = vec![0.0; curve.values.len()];
                }
                sum.iter_mut().zip(&curve.values).for_each(|(s, &v)| *s += f64::from(v));
                if removed.is_empty() {
                    removed.clone_from(&curve.removed);
                }
            }
        }
        progress.advance(chunk.len());
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
        samples: req.inputs.len(),
        removed,
        curves,
        target: req.target.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_with_commas_stay_one_csv_field() {
        let r = FaithResult {
            samples: 1,
            removed: vec![0.0, 0.5],
            curves: vec![
                FaithCurve {
                    label: "alphabeta:2,1".into(),
                    values: vec![3.0, 1.25],
                    aopc: 0.875,
                },
                FaithCurve {
                    label: RANDOM_LABEL.into(),
                    values: vec![3.0, 2.5],
                    aopc: 0.25,
                },
            ],
            target: Target::Predicted,
        };
        assert_eq!(r.to_csv(), "removed,\"alphabeta:2,1\",random\n0,3,3\n0.5,1.25,2.5\n");
        assert!(
            r.table()
                .contains("alphabeta:2,1                    0.8750       3.0000       1.2500")
        );
    }
}
