//! Applying the commands and results of the comparison grid, faithfulness curves, conditional heatmaps, contrast
//! and drawing; queuing their background jobs.

use std::sync::Arc;

use super::compare::{self, CompareMode, CompareRequest};
use super::file_kind::PendingExport;
use super::jobs::{ExportData, Job, JobResult};
use super::state::CANVAS_SIDE;
use super::{Command, LrpApp};
use crate::data::image::mnist_style;
use crate::eval::{ConditionalRequest, FaithRequest, FlipSettings, GalleryRequest, Progress};
use crate::heatmap::fmt_num;
use crate::heatmap::grid::{GridCell, GridText};
use crate::lrp::{ResolvedMethod, Target};

/// Samples shown in a unit's gallery.
pub const GALLERY_SIZE: usize = 8;

/// Seed of the random baseline order.
const RANDOM_SEED: u64 = 7;

impl LrpApp {
    /// Applies the commands of the analysis panels.
    pub(super) fn run_analysis_command(&mut self, command: Command) {
        match command {
            Command::SetContrast(against) => {
                self.session.contrast = against;
                self.request_explain();
            }
            Command::RunCompare => self.request_compare(),
            Command::ExportCompare => self.export_compare(),
            Command::RunFaithfulness => self.request_faithfulness(),
            Command::ExportFaithfulness => match &self.session.faith.result {
                Some(f) => {
                    let data = ExportData::Text(f.to_csv());
                    let name = format!("{}.csv", self.faith_stem(f));
                    if let Some(path) = self.export_path(PendingExport::FaithfulnessCsv, &name) {
                        self.submit(Job::Export { path, data });
                    }
                }
                None => self.session.error("no faithfulness curves to export yet"),
            },
            Command::ExportFaithfulnessPlot => match &self.session.faith.result {
                Some(f) => {
                    let model = self.session.model.as_ref().map_or("model", |m| m.name());
                    let data = ExportData::Plot(f.line_plot(model));
                    let name = format!("{}.png", self.faith_stem(f));
                    if let Some(path) = self.export_path(PendingExport::FaithfulnessPng, &name) {
                        self.submit(Job::Export { path, data });
                    }
                }
                None => self.session.error("no faithfulness curves to export yet"),
            },
            Command::CancelAnalysis => {
                for p in [&self.session.faith.progress, &self.session.unit.gallery_progress]
                    .into_iter()
                    .flatten()
                {
                    p.request_cancel();
                }
            }
            Command::SelectUnit { position, unit } => {
                self.session.unit.chosen = Some((position, unit));
                self.session.unit.conditional = None;
                self.session.unit.gallery = None;
                self.request_conditional(true);
            }
            Command::ClearUnit => {
                self.session.unit.chosen = None;
                self.session.unit.conditional = None;
                self.session.unit.gallery = None;
            }
            Command::Draw(canvas) => {
                if canvas.len() == CANVAS_SIDE * CANVAS_SIDE {
                    self.session.canvas = Some(canvas);
                    self.request_explain();
                } else {
                    self.session.error("the canvas must be 28×28");
                }
            }
            Command::StopDrawing => {
                self.session.canvas = None;
                self.session.result = None;
                self.request_explain();
            }
            Command::Check(c) => self.run_check_command(c),
            _ => {}
        }
    }

    /// Applies the results of the analysis jobs (stale ones are dropped).
    pub(super) fn handle_analysis_result(&mut self, result: JobResult) {
        match result {
            JobResult::Check(outcome) => self.handle_check_outcome(outcome),
            JobResult::Compared(r) if r.generation == self.session.compare.generation => {
                self.session.compare.result = Some(Arc::new(r));
            }
            JobResult::Faithfulness { generation, result } => {
                if generation != self.session.faith.generation {
                    return;
                }
                self.session.faith.progress = None;
                match result {
                    Ok(f) => self.session.faith.result = Some(Arc::new(f)),
                    Err(e) if e.is_cancelled() => self.session.info("faithfulness run cancelled"),
                    Err(e) => self.session.error(format!("faithfulness: {e}")),
                }
            }
            JobResult::Conditional { generation, result } => {
                if generation != self.session.unit.generation {
                    return;
                }
                match result {
                    Ok(c) => self.session.unit.conditional = Some(Arc::new(c)),
                    Err(e) => self.session.error(format!("conditional heatmap: {e}")),
                }
            }
            JobResult::Gallery { generation, result } => {
                if generation != self.session.unit.generation {
                    return;
                }
                self.session.unit.gallery_progress = None;
                match result {
                    Ok(g) => self.session.unit.gallery = Some(g),
                    Err(e) if e.is_cancelled() => self.session.info("gallery cancelled"),
                    Err(e) => self.session.error(format!("gallery: {e}")),
                }
            }
            _ => {}
        }
    }

    /// The current sample's index and preprocessed input (the drawn digit while drawing).
    pub(super) fn current_input(&self) -> Option<(usize, Vec<f32>)> {
        let pre = self.session.preprocess;
        if let Some(canvas) = &self.session.canvas {
            let digit = mnist_style(canvas, CANVAS_SIDE, CANVAS_SIDE);
            return Some((self.settings.sample, pre.apply_one(&digit, CANVAS_SIDE, CANVAS_SIDE)));
        }
        let data = self.session.dataset.as_ref()?;
        let i = self.settings.sample;
        (i < data.len()).then(|| (i, pre.apply_one(data.image(i), data.height, data.width)))
    }

    /// The preprocessed samples `range` of the loaded set.
    fn inputs_of(&self, range: std::ops::Range<usize>) -> Vec<Vec<f32>> {
        let Some(data) = &self.session.dataset else {
            return Vec::new();
        };
        let pre = self.session.preprocess;
        range
            .filter(|&i| i < data.len())
            .map(|i| pre.apply_one(data.image(i), data.height, data.width))
            .collect()
    }

    /// The class target of the current settings (a contrast when one is chosen and the class is known).
    fn analysis_target(&self) -> Target {
        let class = self
            .session
            .target
            .or_else(|| self.session.result.as_ref().map(|r| r.target));
        match (self.session.contrast, self.session.target, class) {
            (Some(against), _, Some(class)) => Target::Contrast { class, against },
            (_, Some(c), _) => Target::Class(c),
            _ => Target::Predicted,
        }
    }

    fn request_compare(&mut self) {
        let Some(model) = self.session.model.clone() else {
            return;
        };
        let Some((sample, input)) = self.current_input() else {
            return;
        };
        self.session.compare.stale = false;
        self.session.compare.generation += 1;
        let mode = if self.settings.compare_across_samples && self.session.canvas.is_none() {
            CompareMode::Samples {
                choice: self.settings.rule_choice.clone(),
                count: self.settings.compare_count.clamp(1, 64),
            }
        } else {
            CompareMode::Rules
        };
        let count = self.session.sample_count();
        let cells = compare::cells_for(&mode, sample, count.max(sample + 1), |i| {
            if i == sample {
                input.clone()
            } else {
                self.inputs_of(i..i + 1).pop().unwrap_or_default()
            }
        });
        self.submit(Job::Compare(CompareRequest {
            generation: self.session.compare.generation,
            model,
            cells,
            input_range: self.session.preprocess.box_bounds(),
            target: self.analysis_target(),
            init: self.settings.init,
        }));
    }

    fn export_compare(&mut self) {
        let (Some(grid), Some((h, w))) = (self.session.compare.result.clone(), self.session.input_size()) else {
            self.session
                .error("nothing to export yet: compute the comparison grid first");
            return;
        };
        let scale = self.settings.export_scale.clamp(1, 64);
        let shared = self.settings.compare_shared;
        let (tiles, scales) = compare::cell_tiles(&grid, w, h, shared, self.settings.colormap);
        let cells = tiles
            .into_iter()
            .zip(&grid.cells)
            .zip(&scales)
            .map(|((tile, cell), &s)| GridCell {
                image: tile,
                caption: cell.label.clone(),
                note: match &cell.relevance {
                    Ok(_) if shared => String::new(),
                    Ok(_) => format!("±{}", fmt_num(s)),
                    Err(e) => format!("not computed: {e}"),
                },
            })
            .collect();
        let model = self.session.model.as_ref().map_or("model", |m| m.name());
        // Across samples, the cells hold different samples; across rules, one.
        let across = grid.cells.windows(2).any(|p| p[0].sample != p[1].sample);
        let class = match self.analysis_target() {
            Target::Class(c) => format!("class {c}"),
            Target::Contrast { class, against } => format!("class {class} rather than {against}"),
            _ => match self.session.result.as_ref() {
                Some(r) if !across => format!("class {} (the prediction)", r.target),
                _ => "each sample's predicted class".to_string(),
            },
        };
        let subject = if across {
            format!("{} samples from #{}", grid.cells.len(), self.settings.sample)
        } else {
            super::state::subject_text(&self.settings, &self.session)
        };
        let what = if across {
            format!("{} on each sample", self.settings.rule_choice)
        } else {
            "every rule of the grid".to_string()
        };
        let scaling = if shared {
            "one colour scale for every cell"
        } else {
            "each cell scaled to its own max |R| (under it)"
        };
        let top = scales.iter().copied().fold(0.0f32, f32::max);
        let text = GridText {
            title: format!("{model} · {subject} · relevance for {class}"),
            subtitle: format!("{what} · {scaling}"),
            bar_ends: if shared {
                (format!("−{}", fmt_num(top)), format!("+{}", fmt_num(top)))
            } else {
                ("−max |R|".into(), "+max |R|".into())
            },
        };
        let name = format!("{}_compare.png", self.export_stem());
        let Some(path) = self.export_path(PendingExport::Compare, &name) else {
            return;
        };
        self.submit(Job::Export {
            path,
            data: ExportData::Grid {
                text,
                cells,
                columns: self.settings.compare_columns.max(1),
                colormap: self.settings.colormap,
                scale,
            },
        });
    }

    /// The file stem of the faithfulness exports, naming what they cover:
    /// `cnn_100samples_epsilon_plus_vs_gradient_faithfulness` (the first sample too when there is one).
    fn faith_stem(&self, f: &crate::eval::FaithResult) -> String {
        let model = self.session.model.as_ref().map_or("model", |m| m.name());
        let covered = if f.samples == 1 {
            format!("s{}", self.settings.sample)
        } else {
            format!("{}samples", f.samples)
        };
        let rules: Vec<&str> = f
            .curves
            .iter()
            .map(|c| c.label.as_str())
            .filter(|l| *l != crate::eval::RANDOM_LABEL)
            .collect();
        super::export_logic::file_safe(&format!("{model}_{covered}_{}_faithfulness", rules.join("_vs_")))
    }

    fn request_faithfulness(&mut self) {
        let Some(model) = self.session.model.clone() else {
            return;
        };
        let current = match self.current_method(&model) {
            Ok(m) => m.to_method(),
            Err(e) => {
                self.session.error(format!("faithfulness: {e}"));
                return;
            }
        };
        let second = match self
            .settings
            .faith_rule
            .method(Some(self.session.preprocess.box_bounds()))
        {
            Ok(m) => m,
            Err(e) => {
                self.session
                    .error(format!("faithfulness: second rule {}: {e}", self.settings.faith_rule));
                return;
            }
        };
        let n = self.settings.faith_samples.max(1);
        let inputs = if n == 1 || self.session.canvas.is_some() {
            self.current_input().map(|(_, x)| vec![x]).unwrap_or_default()
        } else {
            self.inputs_of(0..n)
        };
        if inputs.is_empty() {
            return;
        }
        if let Some(p) = &self.session.faith.progress {
            p.request_cancel();
        }
        let progress = Arc::new(Progress::default());
        self.session.faith.generation += 1;
        self.session.faith.progress = Some(progress.clone());
        let methods = vec![
            (self.settings.rule_choice.to_string(), current),
            (self.settings.faith_rule.to_string(), second),
        ];
        self.submit(Job::Faithfulness {
            generation: self.session.faith.generation,
            request: FaithRequest {
                model,
                inputs,
                methods,
                target: self.analysis_target(),
                init: self.settings.init,
                settings: FlipSettings {
                    steps: self.settings.faith_steps.clamp(1, 200),
                    fraction: self.settings.faith_fraction.clamp(0.01, 1.0),
                    fill: self.session.preprocess.map(0.0),
                },
                seed: RANDOM_SEED,
                progress,
            },
        });
    }

    /// Queues the conditional heatmap of the selected unit (and, with `gallery`, its gallery over the set).
    pub(super) fn request_conditional(&mut self, gallery: bool) {
        let (Some((position, unit)), Some(model)) = (self.session.unit.chosen, self.session.model.clone()) else {
            return;
        };
        let Some((_, input)) = self.current_input() else {
            return;
        };
        let method = match self.current_method(&model) {
            Ok(m @ ResolvedMethod::Lrp(_)) => m.to_method(),
            // A recompute under a baseline just leaves the conditional heatmap out.
            Ok(_) | Err(_) if !gallery => {
                self.session.unit.conditional = None;
                return;
            }
            Ok(_) => {
                self.session
                    .error("conditional heatmaps need LRP rules, not a gradient baseline");
                return;
            }
            Err(e) => {
                self.session.error(e);
                return;
            }
        };
        let plan = self.session.plan.clone();
        let target = self.analysis_target();
        let init = self.settings.init;
        if gallery {
            self.session.unit.generation += 1;
        }
        let generation = self.session.unit.generation;
        self.submit(Job::Conditional {
            generation,
            request: ConditionalRequest {
                model: model.clone(),
                input,
                method: method.clone(),
                plan: plan.clone(),
                position,
                unit,
                target: target.clone(),
                init,
            },
        });
        if gallery {
            if let Some(p) = &self.session.unit.gallery_progress {
                p.request_cancel();
            }
            let progress = Arc::new(Progress::default());
            self.session.unit.gallery_progress = Some(progress.clone());
            let inputs = self.inputs_of(0..self.session.sample_count());
            // The gallery ranks each sample's own explanation of its class: a fixed class or the prediction.
            let target = match target {
                Target::Class(c) | Target::Contrast { class: c, .. } if self.session.target.is_some() => {
                    Target::Class(c)
                }
                _ => Target::Predicted,
            };
            self.submit(Job::Gallery {
                generation,
                request: GalleryRequest {
                    model,
                    inputs,
                    method,
                    plan,
                    position,
                    unit,
                    target,
                    init,
                    top: GALLERY_SIZE,
                    progress,
                },
            });
        }
    }
}
