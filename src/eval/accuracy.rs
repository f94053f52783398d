//! Classification accuracy and the confusion matrix of a model on labelled samples, computed in parallel chunks.

use ndarray::{ArrayD, ArrayView2, Axis, IxDyn};
use rayon::prelude::*;

use crate::data::Dataset;
use crate::data::preprocess::Preprocess;
use crate::error::{EvalError, ModelError};
use crate::lrp::argmax;
use crate::model::Model;

/// Counts of (true label, prediction) pairs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Confusion {
    /// `counts[label][prediction]`.
    pub counts: Vec<Vec<usize>>,
}

impl Confusion {
    pub fn total(&self) -> usize {
        self.counts.iter().flatten().sum()
    }

    pub fn correct(&self) -> usize {
        (0..self.counts.len()).map(|c| self.counts[c][c]).sum()
    }

    pub fn accuracy(&self) -> f64 {
        self.correct() as f64 / self.total().max(1) as f64
    }

    /// `accuracy: 0.9803 (9803/10000)` followed by one line per class: its count, recall and most common confusion.
    pub fn report(&self, class_names: Option<&[String]>) -> String {
        let mut s = format!(
            "accuracy: {:.4} ({}/{})\n",
            self.accuracy(),
            self.correct(),
            self.total()
        );
        let name = |c: usize| {
            class_names
                .and_then(|n| n.get(c))
                .map_or_else(|| c.to_string(), |n| format!("{c} ({n})"))
        };
        for (c, row) in self.counts.iter().enumerate() {
            let total: usize = row.iter().sum();
            if total == 0 {
                continue;
            }
            let worst = row
                .iter()
                .enumerate()
                .filter(|&(p, &n)| p != c && n > 0)
                .max_by_key(|&(p, &n)| (n, std::cmp::Reverse(p)));
            let confused = worst.map_or_else(String::new, |(p, n)| {
                format!(", most often taken for {} ({n})", name(p))
            });
            s.push_str(&format!(
                "class {}: {}/{} correct ({:.2} %){}\n",
                name(c),
                row[c],
                total,
                100.0 * row[c] as f64 / total as f64,
                confused
            ));
        }
        s
    }
}

/// Predicted class of every row of `x: [N, input_len]`, in chunks of 1,000 samples on all cores.
pub fn predict(model: &Model, x: ArrayView2<'_, f32>) -> Result<Vec<usize>, ModelError> {
    let chunks: Vec<_> = x.axis_chunks_iter(Axis(0), 1000).collect();
    let parts: Vec<Vec<usize>> = chunks
        .into_par_iter()
        .map(|chunk| {
            let batch =
                ArrayD::from_shape_vec(IxDyn(chunk.shape()), chunk.iter().copied().collect()).map_err(|_| {
                    ModelError::InputShape {
                        expected: model.input_shape().to_vec(),
                        got: chunk.shape().to_vec(),
                    }
                })?;
            let logits = model.logits(&batch)?;
            Ok(logits.rows().into_iter().map(argmax).collect())
        })
        .collect::<Result<_, ModelError>>()?;
    Ok(parts.concat())
}

/// The predicted class of every sample of a dataset (the window's browser marks) and the accuracy when the
/// dataset has labels.
#[derive(Clone, Debug, PartialEq)]
pub struct Predictions {
    /// One class per sample (classes above 255 are shown as 255).
    pub classes: Vec<u8>,
    /// Fraction correct, when labels are known.
    pub accuracy: Option<f64>,
}

/// Samples preprocessed and predicted per task of [`predict_dataset`].
const DATASET_CHUNK: usize = 1000;

/// Predicts every sample of `dataset` under `preprocess`, in parallel chunks.
pub fn predict_dataset(model: &Model, dataset: &Dataset, preprocess: &Preprocess) -> Result<Predictions, EvalError> {
    let (h, w) = preprocess.output_size(dataset.height, dataset.width);
    if h * w != model.input_len() {
        return Err(EvalError::InputSize {
            values: h * w,
            input_shape: model.input_shape().to_vec(),
            input_len: model.input_len(),
        });
    }
    let n = dataset.len();
    let starts: Vec<usize> = (0..n).step_by(DATASET_CHUNK).collect();
    let parts = starts
        .into_par_iter()
        .map(|start| {
            let x = preprocess.apply(dataset, start..(start + DATASET_CHUNK).min(n));
            predict(model, x.view())
        })
        .collect::<Result<Vec<_>, ModelError>>()?;
    let classes: Vec<u8> = parts.concat().into_iter().map(|c| c.min(255) as u8).collect();
    let accuracy = dataset.labels.as_ref().filter(|l| !l.is_empty()).map(|labels| {
        let right = labels.iter().zip(&classes).filter(|(a, b)| a == b).count();
        right as f64 / labels.len() as f64
    });
    Ok(Predictions { classes, accuracy })
}

/// The confusion matrix of `model` on `x: [N, input_len]` with `labels` (one per row).
pub fn confusion(model: &Model, x: ArrayView2<'_, f32>, labels: &[u8]) -> Result<Confusion, ModelError> {
    let predictions = predict(model, x)?;
    let classes = model
        .num_outputs()
        .max(labels.iter().map(|&l| l as usize + 1).max().unwrap_or(0));
    let mut counts = vec![vec![0; classes]; classes];
    for (&label, &p) in labels.iter().zip(&predictions) {
        counts[label as usize][p] += 1;
    }
    Ok(Confusion { counts })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_reads_like_the_cli_contract() {
        let c = Confusion {
            counts: vec![vec![8, 2], vec![1, 9]],
        };
        assert_eq!(c.accuracy(), 0.85);
        let r = c.report(None);
        assert!(r.starts_with("accuracy: 0.8500 (17/20)\n"), "{r}");
        assert!(
            r.contains("class 0: 8/10 correct (80.00 %), most often taken for 1 (2)"),
            "{r}"
        );
    }
}
