//! The window's single-result exports: their file names (what they show, safe for every file system) and the job
//! that writes them.

use super::LrpApp;
use super::jobs::{ExportData, ExportKind, Job};
use super::render::InputMaps;
use crate::heatmap::{side_by_side, upscale_nearest};
use std::path::PathBuf;

impl LrpApp {
    /// A file name describing the current result, e.g. `cnn_s12_c7_epsilon_plus_flat_heatmap.png`.
    pub(super) fn export_name(&self, kind: ExportKind) -> String {
        let what = match kind {
            ExportKind::HeatmapPng => "heatmap",
            ExportKind::SideBySidePng => "digit_heatmap",
            ExportKind::RelevanceNpy | ExportKind::RelevanceCsv => "relevance",
        };
        format!("{}_{what}.{}", self.export_stem(), kind.extension())
    }

    /// The start of export names: model, sample, class (and contrast) and rule, file-name safe.
    pub(super) fn export_stem(&self) -> String {
        let model = self.session.model.as_ref().map_or("model", |m| m.name());
        let class = self.session.result.as_ref().map_or(0, |r| r.target);
        let contrast = self.session.contrast.map_or(String::new(), |b| format!("_vs{b}"));
        let sample = if self.session.canvas.is_some() {
            "drawn".to_string()
        } else {
            format!("s{}", self.settings.sample)
        };
        file_safe(&format!(
            "{model}_{sample}_c{class}{contrast}_{}",
            self.settings.rule_choice
        ))
    }

    pub(super) fn export_to(&mut self, kind: ExportKind, path: PathBuf) {
        let maps = self
            .session
            .result
            .as_ref()
            .and_then(|r| InputMaps::of(&self.settings, &self.session, r));
        let Some(maps) = maps else {
            self.session.error("nothing to export yet: no explanation is shown");
            return;
        };
        let scale = self.settings.export_scale.clamp(1, 64);
        let data = match kind {
            ExportKind::HeatmapPng => ExportData::Image(upscale_nearest(&maps.heat(&self.settings), scale)),
            ExportKind::SideBySidePng => {
                let digit = upscale_nearest(&maps.digit(), scale);
                let heat = upscale_nearest(&maps.heat(&self.settings), scale);
                ExportData::Image(side_by_side(&[&digit, &heat], scale * 2))
            }
            ExportKind::RelevanceNpy => ExportData::Array {
                values: maps.relevance.clone(),
                shape: vec![maps.height, maps.width],
            },
            ExportKind::RelevanceCsv => ExportData::Csv {
                values: maps.relevance.clone(),
                width: maps.width,
            },
        };
        self.submit(Job::Export { path, data });
    }
}

/// `raw` with every character other than ASCII letters, digits, `.`, `_` and `-` replaced by `_`.
pub(super) fn file_safe(raw: &str) -> String {
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}
