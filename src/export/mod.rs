//! Batch export: explain a range of samples chunk by chunk on all cores and write one PNG per sample, optional raw
//! relevance files and an index, each file atomically. A cancel flag stops the export between chunks.
//!
//! Memory stays bounded by the chunk size: a chunk is preprocessed, explained, rendered and written, then dropped.

pub mod index;
pub mod picture;

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use ndarray::{Array2, Axis};
use rayon::prelude::*;

pub use index::{IndexRow, index_csv, index_name};
pub use picture::{Layout, Picture, RawFormat};

use crate::data::{Dataset, Preprocess};
use crate::error::ExportError;
use crate::heatmap::export::{png_bytes, replace_atomic, write_new_atomic};
use crate::lrp::{InitRelevance, Method, Target, argmax, explain};
use crate::model::Model;

/// Samples explained together (the batch handed to the engine, split across the cores).
pub const DEFAULT_CHUNK_SIZE: usize = 256;

/// Which class each sample's explanation is for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ExportTarget {
    /// The model's prediction.
    #[default]
    Predicted,
    /// The sample's label (the dataset must have labels).
    True,
    /// The same class for every sample.
    Class(usize),
}

/// Every `count`-th selected sample starting at the `index`-th: shard `index` of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Default for Shard {
    fn default() -> Self {
        Shard { index: 0, count: 1 }
    }
}

/// Everything an export needs: the loaded model and data, how to explain, what to draw and where.
#[derive(Clone, Debug)]
pub struct ExportJob {
    pub model: Model,
    pub dataset: Dataset,
    /// Raw pixels → model input.
    pub preprocess: Preprocess,
    pub method: Method,
    pub target: ExportTarget,
    pub init: InitRelevance,
    /// Dataset indices to export (half-open); must lie within the dataset.
    pub samples: Range<usize>,
    pub shard: Shard,
    /// Created if missing; must be empty unless `overwrite`.
    pub out_dir: PathBuf,
    pub picture: Picture,
    /// Also write each sample's input relevance in this format.
    pub raw: Option<RawFormat>,
    /// Write into a non-empty folder, replacing files of the same name.
    pub overwrite: bool,
    pub chunk_size: usize,
}

impl ExportJob {
    /// A job exporting every sample as a heatmap, explaining the predicted class from its logit.
    pub fn new(model: Model, dataset: Dataset, preprocess: Preprocess, method: Method, out_dir: PathBuf) -> Self {
        let samples = 0..dataset.len();
        ExportJob {
            model,
            dataset,
            preprocess,
            method,
            target: ExportTarget::Predicted,
            init: InitRelevance::Logit,
            samples,
            shard: Shard::default(),
            out_dir,
            picture: Picture::default(),
            raw: None,
            overwrite: false,
            chunk_size: DEFAULT_CHUNK_SIZE,
        }
    }

    /// The dataset indices this job exports, in order: the range, then the shard's share of it.
    pub fn selected(&self) -> Result<Vec<usize>, ExportError> {
        let Range { start, end } = self.samples.clone();
        let len = self.dataset.len();
        if start > end || end > len {
            return Err(ExportError::Samples { start, end, len });
        }
        let Shard { index, count } = self.shard;
        if count == 0 || index >= count {
            return Err(ExportError::Shard { index, count });
        }
        Ok((start..end).skip(index).step_by(count).collect())
    }

    /// The file name of the index this job writes.
    pub fn index_path(&self) -> PathBuf {
        self.out_dir.join(index_name(self.shard.index, self.shard.count))
    }

    /// `(height, width)` of one preprocessed channel, checked against the model input.
    fn picture_size(&self) -> Result<(usize, usize), ExportError> {
        let (h, w) = self.preprocess.output_size(self.dataset.height, self.dataset.width);
        let input_len = self.model.input_len();
        if h * w == 0 || !input_len.is_multiple_of(h * w) {
            return Err(ExportError::InputSize {
                height: h,
                width: w,
                input_shape: self.model.input_shape().to_vec(),
                input_len,
            });
        }
        Ok((h, w))
    }

    fn check_target(&self) -> Result<(), ExportError> {
        match self.target {
            ExportTarget::True if self.dataset.labels.is_none() => Err(ExportError::NoLabels {
                data: self.dataset.source.clone(),
            }),
            ExportTarget::Class(class) if class >= self.model.num_outputs() => Err(ExportError::TargetClass {
                class,
                classes: self.model.num_outputs(),
            }),
            _ => Ok(()),
        }
    }

    /// Writes a file atomically: never over an existing one unless `overwrite`.
    fn write(&self, path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
        if self.overwrite {
            replace_atomic(path, bytes)
        } else {
            write_new_atomic(path, bytes)
        }
    }
}

/// What an export did.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportSummary {
    /// Samples the job selected.
    pub selected: usize,
    /// Samples written (all of them unless cancelled).
    pub written: usize,
    /// True if the cancel flag stopped the export early.
    pub cancelled: bool,
    /// The index file listing the written samples.
    pub index_path: PathBuf,
}

/// Runs `job`: checks it, prepares the folder, then explains, renders and writes chunk by chunk.
/// `progress(done, total)` is called after each chunk. When `cancel` becomes true, the current chunk is finished
/// and the index is written for the samples done so far (`cancelled` in the summary). On an error the index is
/// still written for the chunks completed before it.
pub fn export_batch(
    job: &ExportJob,
    progress: &(dyn Fn(usize, usize) + Sync),
    cancel: &AtomicBool,
) -> Result<ExportSummary, ExportError> {
    let indices = job.selected()?;
    job.check_target()?;
    let size = job.picture_size()?;
    prepare_dir(&job.out_dir, job.overwrite)?;
    let mut rows = Vec::with_capacity(indices.len());
    let mut cancelled = false;
    let mut failure = None;
    progress(0, indices.len());
    for chunk in indices.chunks(job.chunk_size.max(1)) {
        if cancel.load(Ordering::SeqCst) {
            cancelled = true;
            break;
        }
        match export_chunk(job, chunk, size) {
            Ok(mut done) => rows.append(&mut done),
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
        progress(rows.len(), indices.len());
    }
    let index_path = job.index_path();
    job.write(&index_path, index_csv(&rows).as_bytes())?;
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(ExportSummary {
        selected: indices.len(),
        written: rows.len(),
        cancelled,
        index_path,
    })
}

/// Creates `dir` if missing; refuses a non-empty one unless `overwrite`.
fn prepare_dir(dir: &Path, overwrite: bool) -> Result<(), ExportError> {
    let io = |source| ExportError::Io {
        path: dir.to_path_buf(),
        source,
    };
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).map_err(io)?;
        if entries.next().is_some() && !overwrite {
            return Err(ExportError::NotEmpty { path: dir.into() });
        }
        Ok(())
    } else {
        std::fs::create_dir_all(dir).map_err(io)
    }
}

/// Explains and writes the samples `chunk`, split into one batch per core.
fn export_chunk(job: &ExportJob, chunk: &[usize], size: (usize, usize)) -> Result<Vec<IndexRow>, ExportError> {
    let per_core = chunk.len().div_ceil(rayon::current_num_threads().max(1)).max(1);
    let parts: Vec<Vec<IndexRow>> = chunk
        .par_chunks(per_core)
        .map(|batch| export_batch_part(job, batch, size))
        .collect::<Result<_, _>>()?;
    Ok(parts.concat())
}

/// One engine call on `batch`, then its pictures and files, written in parallel.
fn export_batch_part(job: &ExportJob, batch: &[usize], size: (usize, usize)) -> Result<Vec<IndexRow>, ExportError> {
    let (first, last) = (batch[0], batch[batch.len() - 1]);
    let ds = &job.dataset;
    let input_len = job.model.input_len();
    let mut x = Array2::<f32>::zeros((batch.len(), input_len));
    for (mut row, &i) in x.rows_mut().into_iter().zip(batch) {
        let values = job.preprocess.apply_one(ds.image(i), ds.height, ds.width);
        // A multi-channel input gets the same picture in every channel.
        for (o, v) in row.iter_mut().zip(values.iter().cycle()) {
            *o = *v;
        }
    }
    let target = match job.target {
        ExportTarget::Predicted => Target::Predicted,
        ExportTarget::Class(c) => Target::Class(c),
        ExportTarget::True => Target::PerSample(
            batch
                .iter()
                .map(|&i| ds.label(i).map(usize::from))
                .collect::<Option<_>>()
                .ok_or_else(|| ExportError::NoLabels {
                    data: ds.source.clone(),
                })?,
        ),
    };
    let x = x.into_dyn();
    let e = explain(&job.model, &x, &job.method, &target, job.init).map_err(|source| ExportError::Explain {
        first,
        last,
        source,
    })?;
    let relevance = e.input_relevance().as_standard_layout().into_owned();
    let digits = picture::index_digits(ds.len());
    let range = job.preprocess.box_bounds();
    batch
        .par_iter()
        .enumerate()
        .map(|(k, &index)| {
            let rel: Vec<f32> = relevance.index_axis(Axis(0), k).iter().copied().collect();
            let input: Vec<f32> = x.index_axis(Axis(0), k).iter().copied().collect();
            let prediction = argmax(e.logits.row(k));
            let label = ds.label(index);
            let stem = picture::file_stem(index, digits, label, prediction);
            let png = job.out_dir.join(format!("{stem}.png"));
            let img = picture::render(&job.picture, &rel, &input, size.0, size.1, range).ok_or_else(|| {
                ExportError::InputSize {
                    height: size.0,
                    width: size.1,
                    input_shape: job.model.input_shape().to_vec(),
                    input_len,
                }
            })?;
            job.write(&png, &png_bytes(&png, &img)?)?;
            if let Some(format) = job.raw {
                let path = job.out_dir.join(format!("{stem}.{}", format.extension()));
                job.write(
                    &path,
                    &picture::raw_bytes(format, &path, &rel, job.model.input_shape())?,
                )?;
            }
            let target = e.targets[k];
            Ok(IndexRow {
                index,
                label,
                prediction,
                target,
                target_logit: e.logits[[k, target]],
                relevance_sum: rel.iter().map(|&v| f64::from(v)).sum::<f64>() as f32,
                file: format!("{stem}.png"),
            })
        })
        .collect()
}
