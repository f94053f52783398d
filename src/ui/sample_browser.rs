//! The sample browser: thumbnails with label and prediction (mistakes marked), class filter, "misclassified
//! only", jump to an index, and the preprocessing.

use egui::{Color32, RichText, Vec2};

use super::ViewCache;
use super::panel::PanelCx;
use super::theme::{ACCENT, MISTAKE};
use crate::app::Command;
use crate::app::samples::visible_samples;
use crate::app::state::{Session, Settings};

const THUMB: f32 = 42.0;
/// One thumbnail with its caption (42 + frame 11 + spacing 6 + caption 14, so that rows are exactly this high).
const CELL: Vec2 = Vec2::new(62.0, 74.0);

/// Filters, index jump and the thumbnail grid (only visible rows are drawn).
pub fn sample_browser_ui(ui: &mut egui::Ui, cx: &mut PanelCx<'_>) -> Vec<Command> {
    let (settings, session, view) = (&mut *cx.settings, cx.session, &mut *cx.view);
    let mut commands = Vec::new();
    ui.heading("Samples");
    let Some(data) = session.dataset.as_ref() else {
        ui.weak("no samples open");
        return commands;
    };
    ui.label(RichText::new(short_source(&data.source)).small().weak());
    let classes: u8 = session.model.as_ref().map_or(10, |m| m.num_outputs().min(255) as u8);
    ui.horizontal(|ui| {
        ui.label("Class");
        egui::ComboBox::from_id_salt("class_filter")
            .width(60.0)
            .selected_text(settings.class_filter.map_or("all".to_string(), |c| c.to_string()))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut settings.class_filter, None, "all");
                for c in 0..classes {
                    ui.selectable_value(&mut settings.class_filter, Some(c), c.to_string());
                }
            })
            .response
            .accessible_name("Class");
    });
    ui.checkbox(&mut settings.misclassified_only, "misclassified only");
    ui.horizontal(|ui| {
        ui.label("Go to");
        let mut index = settings.sample;
        let r = ui
            .add(egui::DragValue::new(&mut index).range(0..=data.len().saturating_sub(1)))
            .accessible_name("sample index");
        if r.changed() {
            commands.push(Command::SelectSample(index));
        }
        ui.label(format!("of {}", data.len()));
    });
    ui.horizontal(|ui| {
        if ui
            .button("< prev")
            .on_hover_text("previous sample (left arrow key)")
            .clicked()
        {
            commands.push(Command::StepSample(-1));
        }
        if ui
            .button("next >")
            .on_hover_text("next sample (right arrow key)")
            .clicked()
        {
            commands.push(Command::StepSample(1));
        }
    });
    preprocess_ui(ui, settings, view, &mut commands);
    if let Some(source) = &session.preprocess_source {
        ui.label(RichText::new(format!("preprocessing {source}")).small().weak());
    }
    let visible = visible_samples(settings, session);
    let current = visible.binary_search(&settings.sample).ok();
    ui.horizontal(|ui| {
        ui.label(RichText::new(format!("{} shown", visible.len())).small());
        if current.is_none() {
            ui.label(RichText::new(format!("(#{} hidden)", settings.sample)).small().weak());
        }
    });
    ui.label(RichText::new(caption_legend(data.labels.is_some())).small().weak());
    ui.separator();
    // The scroll bar's room is always kept, so that a filter that removes it does not re-wrap the grid.
    let bar = ui.spacing().scroll.bar_width + ui.spacing().scroll.bar_outer_margin;
    let columns = (((ui.available_width() - bar) / CELL.x).floor() as usize).max(1);
    let rows = visible.len().div_ceil(columns);
    let row_height = CELL.y + ui.spacing().item_spacing.y;
    let mut area = egui::ScrollArea::vertical()
        .id_salt("thumbs")
        .auto_shrink([false, false])
        .scroll_bar_visibility(egui::scroll_area::ScrollBarVisibility::AlwaysVisible);
    // A sample chosen elsewhere (Go to, prev/next, arrow keys, a gallery) is scrolled into the middle of the view.
    if view.browser_sample != Some(settings.sample) {
        if let Some(pos) = current {
            let row = (pos / columns) as f32;
            let height = ui.available_height();
            // Never past the end (show_rows' content is rows × row height minus one spacing), or it springs back.
            let last = (rows as f32 * row_height - ui.spacing().item_spacing.y - height - 1.0).max(0.0);
            let centred = row * row_height - (height - row_height) / 2.0;
            area = area.vertical_scroll_offset(centred.clamp(0.0, last));
        }
        view.browser_sample = Some(settings.sample);
    }
    area.show_rows(ui, CELL.y, rows, |ui, range| {
        for row in range {
            ui.horizontal(|ui| {
                for &i in visible.iter().skip(row * columns).take(columns) {
                    if thumbnail_ui(ui, settings, session, view, i) {
                        // Clicked where the user looks: no need to scroll.
                        view.browser_sample = Some(i);
                        commands.push(Command::SelectSample(i));
                    }
                }
            });
        }
    });
    commands
}

/// What a thumbnail's caption means.
fn caption_legend(has_labels: bool) -> &'static str {
    if has_labels {
        "caption: the label; \"label ≠ prediction\" in red where the model is wrong"
    } else {
        "caption: the model's prediction (the samples have no labels)"
    }
}

/// A thumbnail's caption and whether it marks a mistake: `7`, `7 ≠ 2` (wrong), `pred 2` (no label), `…` (pending).
pub fn caption(label: Option<u8>, predicted: Option<u8>) -> (String, bool) {
    match (label, predicted) {
        (Some(l), Some(p)) if l != p => (format!("{l} ≠ {p}"), true),
        (Some(l), _) => (l.to_string(), false),
        (None, Some(p)) => (format!("pred {p}"), false),
        (None, None) => ("…".to_string(), false),
    }
}

fn thumbnail_ui(ui: &mut egui::Ui, settings: &Settings, session: &Session, view: &mut ViewCache, i: usize) -> bool {
    let Some(texture) = view.thumbnail(ui.ctx(), session, i) else {
        return false;
    };
    let label = session.dataset.as_ref().and_then(|d| d.label(i));
    let predicted = session.predicted_class(i);
    let (text, wrong) = caption(label, predicted);
    // The current sample (not a drawn digit) is marked in the accent colour, above any mistake mark.
    let selected = i == settings.sample && session.canvas.is_none();
    let caption = RichText::new(text)
        .small()
        .color(if wrong { MISTAKE } else { Color32::GRAY });
    let response = ui
        .allocate_ui(CELL, |ui| {
            ui.vertical_centered(|ui| {
                let image = egui::Image::new(&texture).fit_to_exact_size(Vec2::splat(THUMB));
                // Every frame is as wide as the current one's, so that marking a sample moves nothing.
                let frame = if selected {
                    ACCENT
                } else if wrong {
                    MISTAKE
                } else {
                    Color32::TRANSPARENT
                };
                let button = egui::Button::image(image)
                    .selected(selected)
                    .stroke(egui::Stroke::new(2.5, frame));
                let r = ui.add(button).accessible_name(format!("sample {i}"));
                ui.label(caption);
                r
            })
            .inner
        })
        .inner;
    response
        .on_hover_text(format!(
            "#{i} · label {} · predicted {}",
            label.map_or("unknown".into(), |l| l.to_string()),
            predicted.map_or("pending".into(), |p| p.to_string())
        ))
        .clicked()
}

fn preprocess_ui(ui: &mut egui::Ui, settings: &Settings, view: &mut ViewCache, commands: &mut Vec<Command>) {
    let text = view.preprocess_text.get_or_insert_with(|| settings.preprocess.clone());
    ui.horizontal(|ui| {
        let r = ui
            // As wide as the panel leaves beside the button, so that the field never widens the panel.
            .add(egui::TextEdit::singleline(text).desired_width((ui.available_width() - 60.0).max(60.0)))
            .accessible_name("preprocessing");
        let submitted = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if ui
            .button("Apply")
            .on_hover_text("range=lo,hi;normalize=m,s;pad=n")
            .clicked()
            || submitted
        {
            commands.push(Command::SetPreprocess(text.clone()));
        }
    });
    if !ui.ctx().egui_wants_keyboard_input() && *text != settings.preprocess && commands.is_empty() {
        // keep the field in step with the applied value when not editing
        view.preprocess_text = Some(settings.preprocess.clone());
    }
}

fn short_source(source: &str) -> String {
    std::path::Path::new(source)
        .file_name()
        .map_or_else(|| source.to_string(), |n| n.to_string_lossy().into_owned())
}
