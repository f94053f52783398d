//! Conditional heatmaps: pick a neuron or channel at the selected layer position, see the input heatmap of only the
//! relevance flowing through it next to the full heatmap, and the samples where it receives the most relevance.

use egui::{TextureHandle, TextureOptions, Vec2};

use super::panel::PanelCx;
use super::textures::color_image;
use super::{ViewCache, fmt_num, position_label};
use crate::app::Command;
use crate::app::compare::channel_sum;
use crate::app::state::{Session, Settings};
use crate::eval::unit_count;
use crate::heatmap::{self, Colormap};

/// Texture of the conditional heatmap, keyed by what it was built from.
#[derive(Default)]
pub struct UnitCache {
    conditional: Option<((u64, usize, usize, Colormap), TextureHandle)>,
}

/// The unit picker below the stepper: choose a neuron or channel of position `layer`.
pub fn unit_picker_ui(ui: &mut egui::Ui, session: &Session, layer: usize) -> Vec<Command> {
    let mut commands = Vec::new();
    let Some(model) = &session.model else {
        return commands;
    };
    let units = unit_count(model, layer);
    if units == 0 || layer == 0 {
        return commands;
    }
    let noun = if model.shape_at(layer).len() == 3 {
        "channel"
    } else {
        "neuron"
    };
    let mut unit = match session.unit.chosen {
        Some((p, u)) if p == layer => u,
        _ => 0,
    };
    ui.horizontal(|ui| {
        ui.label(format!("Condition on {noun}:"));
        let r = ui.add(egui::DragValue::new(&mut unit).range(0..=units - 1));
        let r = r.accessible_name(format!("conditional {noun}"));
        if r.changed() {
            commands.push(Command::SelectUnit { position: layer, unit });
        }
        if ui
            .button("Show")
            .on_hover_text("input heatmap of this unit's relevance only")
            .clicked()
        {
            commands.push(Command::SelectUnit { position: layer, unit });
        }
        if session.unit.chosen.is_some() && ui.button("Clear").clicked() {
            commands.push(Command::ClearUnit);
        }
    });
    commands
}

/// The conditional heatmap beside the full one, and the gallery of the unit's top samples.
pub fn unit_view_ui(ui: &mut egui::Ui, cx: &mut PanelCx<'_>) -> Vec<Command> {
    let (settings, session, view) = (&*cx.settings, cx.session, &mut *cx.view);
    let mut commands = Vec::new();
    if session.unit.chosen != view.seen_unit {
        view.seen_unit = session.unit.chosen;
        view.scroll_to_unit = session.unit.chosen;
    }
    let (Some((position, unit)), Some(model)) = (session.unit.chosen, &session.model) else {
        return commands;
    };
    // The conditional view of a unit just chosen (a bar or a channel clicked above) is scrolled into view until
    // its gallery is there.
    let shown = ui.scope(|ui| unit_contents_ui(ui, settings, session, view, (position, unit), model));
    commands.extend(shown.inner);
    if view.scroll_to_unit == session.unit.chosen {
        ui.scroll_to_rect_animation(shown.response.rect, None, egui::style::ScrollAnimation::none());
        if session.unit.gallery_progress.is_none() {
            view.scroll_to_unit = None;
        }
    }
    commands
}

fn unit_contents_ui(
    ui: &mut egui::Ui,
    settings: &Settings,
    session: &Session,
    view: &mut ViewCache,
    (position, unit): (usize, usize),
    model: &crate::model::Model,
) -> Vec<Command> {
    let mut commands = Vec::new();
    ui.separator();
    ui.heading(format!(
        "Conditional heatmap · unit {unit} at {}",
        position_label(model, position)
    ));
    ui.label(egui::RichText::new(format!("of {}", super::subject_text(settings, session))).weak());
    let Some((h, w)) = session.input_size() else {
        return commands;
    };
    let side = 180.0;
    ui.horizontal(|ui| {
        if let Some(tex) = view.input(ui.ctx(), settings, session) {
            ui.vertical(|ui| {
                ui.label(egui::RichText::new("Full heatmap").strong());
                super::framed_image(ui, egui::Image::new(&tex.heat).fit_to_exact_size(Vec2::splat(side)));
            });
        }
        match &session.unit.conditional {
            Some(c) if c.position == position && c.unit == unit => {
                let key = (session.unit.generation, position, unit, settings.colormap);
                let cache = &mut view.unit;
                if cache.conditional.as_ref().is_none_or(|(k, _)| *k != key) {
                    let map = channel_sum(&c.relevance, h * w);
                    let scale = heatmap::scale_for(&map, settings.normalization, settings.shared_scale);
                    let img = heatmap::relevance_image(&map, w, h, scale, settings.colormap);
                    let t = ui
                        .ctx()
                        .load_texture("conditional", color_image(&img), TextureOptions::NEAREST);
                    cache.conditional = Some((key, t));
                }
                if let Some((_, t)) = &cache.conditional {
                    ui.vertical(|ui| {
                        ui.label(egui::RichText::new(format!("Through unit {unit}")).strong());
                        super::framed_image(ui, egui::Image::new(t).fit_to_exact_size(Vec2::splat(side)));
                        ui.label(format!(
                            "unit receives {} · Σ at input {}",
                            fmt_num(c.unit_total),
                            fmt_num(c.relevance.iter().sum())
                        ));
                    });
                }
            }
            _ => {
                ui.spinner();
            }
        }
    });
    ui.label(egui::RichText::new("Samples where this unit receives the most relevance").strong());
    if let Some(p) = &session.unit.gallery_progress {
        let (done, total) = p.counts();
        ui.horizontal(|ui| {
            ui.add(
                egui::ProgressBar::new(done as f32 / total.max(1) as f32)
                    .text(format!("{done} / {total}"))
                    .desired_width(240.0),
            );
            if ui.button("Cancel").clicked() {
                commands.push(Command::CancelAnalysis);
            }
        });
        ui.ctx().request_repaint_after(std::time::Duration::from_millis(100));
    }
    if let Some(g) = session
        .unit
        .gallery
        .as_ref()
        .filter(|g| g.position == position && g.unit == unit)
    {
        ui.horizontal_wrapped(|ui| {
            for &(i, total) in &g.top {
                ui.vertical(|ui| {
                    if let Some(t) = view.thumbnail(ui.ctx(), session, i) {
                        let r = ui
                            .add(
                                egui::Image::new(&t)
                                    .fit_to_exact_size(Vec2::splat(56.0))
                                    .sense(egui::Sense::click()),
                            )
                            .accessible_name(format!("gallery sample {i}"));
                        if r.clicked() {
                            commands.push(Command::SelectSample(i));
                        }
                    }
                    ui.label(egui::RichText::new(format!("#{i} {}", fmt_num(total))).small());
                });
            }
        });
    }
    commands
}
