//! The "Compare" tab: the current sample under every rule (or one rule across samples) side by side, shared or
//! per-image colour scale, and the difference of two selected cells.

use std::sync::Arc;

use egui::{Color32, Sense, Stroke, TextureHandle, TextureOptions, Vec2};

use super::panel::PanelCx;
use super::textures::color_image;
use super::{ViewCache, fmt_num};
use crate::app::Command;
use crate::app::compare::{self, CompareResult};
use crate::app::state::Settings;
use crate::heatmap::{self, Colormap};

/// What the cell textures were built from.
#[derive(Clone, Debug, PartialEq)]
struct GridKey {
    generation: u64,
    shared: bool,
    colormap: Colormap,
}

/// Cell textures, the selected cells and the difference texture.
#[derive(Default)]
pub struct CompareCache {
    grid: Option<(GridKey, Vec<Option<TextureHandle>>)>,
    /// Up to two selected cells, in click order.
    pub selected: Vec<usize>,
    diff: Option<((u64, usize, usize, Colormap), TextureHandle)>,
}

/// The comparison tab.
pub fn compare_panel_ui(ui: &mut egui::Ui, cx: &mut PanelCx<'_>) -> Vec<Command> {
    let (settings, session, view) = (&mut *cx.settings, cx.session, &mut *cx.view);
    let mut commands = Vec::new();
    ui.horizontal_wrapped(|ui| {
        ui.label("Compare:");
        let before = settings.compare_across_samples;
        ui.radio_value(&mut settings.compare_across_samples, false, "every rule on this sample");
        ui.radio_value(
            &mut settings.compare_across_samples,
            true,
            format!("{} across samples", settings.rule_choice),
        );
        let count_before = settings.compare_count;
        if settings.compare_across_samples {
            ui.add(
                egui::DragValue::new(&mut settings.compare_count)
                    .range(1..=64)
                    .prefix("samples: "),
            )
            .on_hover_text("how many samples from the current one");
        }
        if before != settings.compare_across_samples || count_before != settings.compare_count {
            commands.push(Command::RunCompare);
        }
        ui.separator();
        ui.checkbox(&mut settings.compare_shared, "shared colour scale")
            .on_hover_text("one scale for every cell (else each cell is scaled to its own maximum)");
        if ui.button("Recompute grid").clicked() {
            commands.push(Command::RunCompare);
        }
        if ui.button("Export grid PNG").clicked() {
            commands.push(Command::ExportCompare);
        }
    });
    if session.compare.stale && session.model.is_some() {
        commands.push(Command::RunCompare);
    }
    let (Some(grid), Some((h, w))) = (session.compare.result.clone(), session.input_size()) else {
        ui.weak("computing the grid…");
        return commands;
    };
    let cache = &mut view.compare;
    let key = GridKey {
        generation: grid.generation,
        shared: settings.compare_shared,
        colormap: settings.colormap,
    };
    if cache.grid.as_ref().is_none_or(|(k, _)| *k != key) {
        let images = compare::cell_images(&grid, w, h, key.shared, key.colormap);
        let textures = images
            .iter()
            .enumerate()
            .map(|(i, img)| {
                img.as_ref().map(|img| {
                    ui.ctx()
                        .load_texture(format!("compare{i}"), color_image(img), TextureOptions::NEAREST)
                })
            })
            .collect();
        cache.selected.retain(|&i| i < grid.cells.len());
        cache.grid = Some((key, textures));
        view.texture_builds += 1;
    }
    let cache = &mut view.compare;
    let Some((_, textures)) = &cache.grid else {
        return commands;
    };
    let what = if settings.compare_across_samples && session.canvas.is_none() {
        format!(
            "{} on {} samples from #{}",
            settings.rule_choice, settings.compare_count, settings.sample
        )
    } else {
        format!("every rule on {}", super::subject_text(settings, session))
    };
    ui.label(egui::RichText::new(what).strong());
    ui.label(
        egui::RichText::new("click two cells to see their difference (first − second)")
            .small()
            .weak(),
    );
    let mut clicked = None;
    settings.compare_columns = cells_ui(ui, &grid, textures, &cache.selected, &mut clicked);
    if let Some(i) = clicked {
        select_cell(&mut cache.selected, i);
    }
    difference_ui(ui, &grid, view, settings, (h, w));
    commands
}

/// The cells in rows as long as the width allows (returned: the window's row length, which the exported picture
/// copies), each under its name, selected ones framed; a click on one is written to `clicked`.
fn cells_ui(
    ui: &mut egui::Ui,
    grid: &CompareResult,
    textures: &[Option<egui::TextureHandle>],
    selected: &[usize],
    clicked: &mut Option<usize>,
) -> usize {
    let side = 96.0;
    let per_row = ((ui.available_width() / (side + 12.0)).floor() as usize).max(1);
    egui::Grid::new("compare_grid").spacing([8.0, 6.0]).show(ui, |ui| {
        for (i, (cell, texture)) in grid.cells.iter().zip(textures).enumerate() {
            ui.vertical(|ui| {
                // One line per name, cut to the cell (the whole name on hover), so that every row stays even.
                ui.set_width(side);
                ui.add(egui::Label::new(egui::RichText::new(&cell.label).small().strong()).truncate());
                match (texture, &cell.relevance) {
                    (Some(t), Ok(r)) => {
                        let image = egui::Image::new(t)
                            .fit_to_exact_size(Vec2::splat(side))
                            .sense(Sense::click());
                        let response = super::framed_image(ui, image).on_hover_text(format!(
                            "{}: Σ relevance {}",
                            cell.label,
                            fmt_num(r.iter().sum())
                        ));
                        let response = response.accessible_name(format!("compare cell {}", cell.label));
                        if selected.contains(&i) {
                            ui.painter().rect_stroke(
                                response.rect,
                                0.0,
                                Stroke::new(2.5, Color32::YELLOW),
                                egui::StrokeKind::Outside,
                            );
                        }
                        if response.clicked() {
                            *clicked = Some(i);
                        }
                    }
                    (_, Err(e)) => {
                        ui.allocate_ui(Vec2::splat(side), |ui| {
                            ui.colored_label(ui.visuals().error_fg_color, e.to_string());
                        });
                    }
                    _ => {}
                }
            });
            if (i + 1) % per_row == 0 {
                ui.end_row();
            }
        }
    });
    per_row
}

/// Toggles cell `i`; a third selection replaces the oldest.
pub fn select_cell(selected: &mut Vec<usize>, i: usize) {
    if let Some(p) = selected.iter().position(|&s| s == i) {
        selected.remove(p);
    } else {
        selected.push(i);
        if selected.len() > 2 {
            selected.remove(0);
        }
    }
}

fn difference_ui(
    ui: &mut egui::Ui,
    grid: &Arc<CompareResult>,
    view: &mut ViewCache,
    settings: &Settings,
    (h, w): (usize, usize),
) {
    let cache = &mut view.compare;
    let [a, b] = cache.selected[..] else {
        return;
    };
    let Some(diff) = compare::difference(grid, a, b, h * w) else {
        return;
    };
    let key = (grid.generation, a, b, settings.colormap);
    if cache.diff.as_ref().is_none_or(|(k, _)| *k != key) {
        let scale = heatmap::max_abs(&diff).max(f32::MIN_POSITIVE);
        let img = heatmap::relevance_image(&diff, w, h, scale, settings.colormap);
        let t = ui
            .ctx()
            .load_texture("compare_diff", color_image(&img), TextureOptions::NEAREST);
        cache.diff = Some((key, t));
    }
    if let Some((_, t)) = cache.diff.clone() {
        ui.separator();
        let title = format!("Difference: {} − {}", grid.cells[a].label, grid.cells[b].label);
        ui.label(egui::RichText::new(&title).strong());
        let side = 200.0;
        let max = heatmap::max_abs(&diff);
        super::framed_image(ui, egui::Image::new(&t).fit_to_exact_size(Vec2::splat(side)))
            .on_hover_text(format!("max |difference| {}", fmt_num(max)));
        super::heatmap_view::colorbar_ui(ui, view, settings.colormap, max, side);
    }
}
