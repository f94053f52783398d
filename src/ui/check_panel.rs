//! The *Check* tab: "what is my LRP doing wrong?". Open a relevance map computed by your own code (path, dialog or
//! drag and drop) and see it next to the best match of the catalogue, the recommended map and their difference,
//! with the ranked table and the plain-language explanation of the best match.

use std::sync::Arc;

use egui::{Color32, Rect, RichText, Sense, TextureHandle, TextureOptions, Vec2, pos2, vec2};

use super::panel::PanelCx;
use super::textures::color_image;
use super::{ViewCache, fmt_num};
use crate::app::Command;
use crate::app::check::{CheckCommand, CheckResult};
use crate::app::state::{Session, Settings};
use crate::heatmap::{self, Colormap};

/// The four maps' textures with their scales (max |R|), keyed by (result generation, colormap).
type MapTextures = ((u64, Colormap), Arc<Vec<(TextureHandle, f32)>>);

/// The textures of the four maps and the text of the path field.
#[derive(Default)]
pub struct CheckCache {
    maps: Option<MapTextures>,
    /// Text of the path field.
    pub path_text: String,
}

impl CheckCache {
    /// Textures of `result`'s four maps with their scales (max |R|), rebuilt when the result or colormap changes.
    fn maps(&mut self, ctx: &egui::Context, result: &CheckResult, cmap: Colormap) -> Arc<Vec<(TextureHandle, f32)>> {
        let key = (result.generation, cmap);
        if let Some((k, t)) = &self.maps
            && *k == key
        {
            return t.clone();
        }
        let textures: Vec<(TextureHandle, f32)> = result
            .maps
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let scale = heatmap::max_abs(&m.values).max(f32::MIN_POSITIVE);
                let img = heatmap::relevance_image(&m.values, result.width, result.height, scale, cmap);
                let t = ctx.load_texture(format!("check{i}"), color_image(&img), TextureOptions::NEAREST);
                (t, scale)
            })
            .collect();
        let t = Arc::new(textures);
        self.maps = Some((key, t.clone()));
        t
    }
}

/// The whole tab.
pub fn check_panel_ui(ui: &mut egui::Ui, cx: &mut PanelCx<'_>) -> Vec<Command> {
    let (settings, session, view) = (&mut *cx.settings, cx.session, &mut *cx.view);
    let mut commands = Vec::new();
    ui.label(
        "Check a relevance map computed by your own code: it is compared with every rule, preset and baseline \
         of this app from every start, with and without biases, and with the classic mistakes of hand-written LRP \
         (one or two at a time), for the sample shown.",
    );
    commands.extend(open_row_ui(ui, session, &mut view.check));
    let check = &session.check;
    if let Some(file) = &check.file {
        ui.label(RichText::new(format!("read as {}", file.maps.reading)).weak());
    }
    if let Some(problem) = &check.problem {
        ui.colored_label(ui.visuals().error_fg_color, problem);
    }
    let Some(result) = &check.result else {
        if check.running || check.loading {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Checking…");
            });
        } else if check.path.is_none() {
            ui.add_space(20.0);
            ui.label(
                RichText::new(
                    "Open a .npy, .mat or .csv file holding your map: [N, 784], [784, N] (MATLAB columns), \
                     [N, 28, 28] or one map. With several maps, map i belongs to sample i.",
                )
                .weak(),
            );
        }
        return commands;
    };
    ui.add_space(4.0);
    let d = &result.diagnosis;
    let logit = d.logits.get(d.class).copied().unwrap_or(f32::NAN);
    ui.label(
        RichText::new(format!(
            "Sample #{}, class {} (logit {}): {} — {} candidates compared{}",
            result.sample,
            d.class,
            fmt_num(logit),
            result.verdict_text(),
            d.compared,
            if check.running { " (updating…)" } else { "" }
        ))
        .strong(),
    );
    ui.add_space(4.0);
    maps_ui(ui, settings, result, view);
    ui.add_space(6.0);
    for line in &result.explanation {
        ui.label(line);
    }
    ui.add_space(6.0);
    ranked_table_ui(ui, result);
    commands
}

/// The path field with Open, the dialog button and the drop hint.
fn open_row_ui(ui: &mut egui::Ui, session: &Session, cache: &mut CheckCache) -> Vec<Command> {
    let mut commands = Vec::new();
    ui.horizontal_wrapped(|ui| {
        ui.label("Relevance file:");
        if cache.path_text.is_empty()
            && let Some(p) = &session.check.path
        {
            cache.path_text = p.display().to_string();
        }
        let field = ui
            .add(egui::TextEdit::singleline(&mut cache.path_text).desired_width(320.0))
            .accessible_name("relevance file path");
        let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if (ui.button("Check").clicked() || entered) && !cache.path_text.trim().is_empty() {
            commands.push(Command::Check(CheckCommand::Open(cache.path_text.trim().into())));
        }
        if ui.button("Browse…").on_hover_text("a file dialog").clicked() {
            commands.push(Command::Check(CheckCommand::Dialog));
        }
        if session.check.path.is_some() && ui.button("Close").clicked() {
            cache.path_text.clear();
            commands.push(Command::Check(CheckCommand::Close));
        }
        ui.label(RichText::new("or drop the file on the window").weak());
    });
    commands
}

/// The four maps side by side, each with its own colour bar.
fn maps_ui(ui: &mut egui::Ui, settings: &Settings, result: &CheckResult, view: &mut ViewCache) {
    let textures = view.check.maps(ui.ctx(), result, settings.colormap);
    let bar = view.colorbar(ui.ctx(), settings.colormap);
    let gap = 12.0;
    let side = ((ui.available_width() - 3.0 * gap - 14.0) / 4.0).clamp(100.0, 260.0);
    ui.horizontal_top(|ui| {
        ui.spacing_mut().item_spacing.x = gap;
        for (m, (texture, scale)) in result.maps.iter().zip(textures.iter()) {
            ui.vertical(|ui| {
                ui.set_width(side);
                ui.add(egui::Label::new(RichText::new(&m.title).strong()).wrap());
                let image = egui::Image::new(texture)
                    .fit_to_exact_size(Vec2::splat(side))
                    .sense(Sense::hover());
                ui.add(image).accessible_name(format!("check map {}", m.title));
                let (rect, _) = ui.allocate_exact_size(vec2(side, 10.0), Sense::hover());
                ui.painter().image(
                    bar.id(),
                    rect,
                    Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0)),
                    Color32::WHITE,
                );
                ui.horizontal(|ui| {
                    ui.label(RichText::new(format!("−{}", fmt_num(*scale))).small());
                    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                        ui.label(RichText::new(format!("+{}", fmt_num(*scale))).small());
                    });
                });
            });
        }
    });
}

/// Rank, configuration, correlation, normalised max error, identical within float32.
fn ranked_table_ui(ui: &mut egui::Ui, result: &CheckResult) {
    ui.label(RichText::new("Ranked candidates").strong());
    egui::Grid::new("check_table")
        .striped(true)
        .num_columns(5)
        .spacing([14.0, 3.0])
        .show(ui, |ui| {
            for h in ["rank", "configuration", "correlation", "max error", "identical"] {
                ui.label(RichText::new(h).weak());
            }
            ui.end_row();
            for (k, (label, corr, err, identical)) in result.rows.iter().enumerate() {
                ui.label(format!("{}", k + 1));
                ui.label(label);
                ui.label(RichText::new(format!("{corr:.4}")).monospace());
                ui.label(RichText::new(format!("{err:.2e}")).monospace());
                ui.label(if *identical { "yes" } else { "no" });
                ui.end_row();
            }
        });
}
