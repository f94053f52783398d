//! Digit | heatmap | overlay, large and pixel-crisp, with a colour bar, the hover readout and display options.

use egui::{Color32, Rect, Sense, Stroke, TextureHandle, Vec2, pos2, vec2};

use super::panel::PanelCx;
use super::{ViewCache, fmt_num};
use crate::app::Command;
use crate::app::state::Settings;
use crate::heatmap::{Colormap, Normalization};

/// The three large pictures of the current sample and their controls.
pub fn heatmap_view_ui(ui: &mut egui::Ui, cx: &mut PanelCx<'_>) -> Vec<Command> {
    let (settings, session, view) = (&mut *cx.settings, cx.session, &mut *cx.view);
    let commands = Vec::new();
    display_options_ui(ui, settings);
    let Some(tex) = view.input(ui.ctx(), settings, session) else {
        let text = if session.model.is_none() || session.dataset.is_none() {
            "Open a model and samples (File menu, drag and drop, or the command line)."
        } else if session.rule_error.is_some() {
            "No explanation: see the rule problem on the right."
        } else {
            "Explaining…"
        };
        ui.add_space(40.0);
        ui.vertical_centered(|ui| ui.label(egui::RichText::new(text).size(16.0).weak()));
        ui.add_space(40.0);
        return commands;
    };
    let maps = &tex.maps;
    let gap = 14.0;
    // Leave room for the scroll bar so the third picture is never clipped.
    let side = ((ui.available_width() - 2.0 * gap - 14.0) / 3.0).clamp(120.0, 340.0);
    let result = session.result.as_ref();
    let class = result.map_or(0, |r| r.target);
    let label = session.dataset.as_ref().and_then(|d| d.label(settings.sample));
    let titles = [
        match label {
            _ if session.canvas.is_some() => "Drawn digit (no label)".to_string(),
            Some(l) => format!("Input #{} (label {l})", settings.sample),
            None => format!("Input #{}", settings.sample),
        },
        match result.and_then(|r| r.contrast) {
            Some(against) if against != class => format!("Relevance for class {class} rather than {against}"),
            _ => format!("Relevance for class {class}"),
        },
        "Overlay".to_string(),
    ];
    let textures: [(&TextureHandle, &str); 3] = [
        (&tex.digit, "digit image"),
        (&tex.heat, "heatmap image"),
        (&tex.overlay, "overlay image"),
    ];
    let mut hovered = None;
    ui.horizontal(|ui| {
        ui.spacing_mut().item_spacing.x = gap;
        for (title, (texture, name)) in titles.iter().zip(textures) {
            ui.vertical(|ui| {
                ui.label(egui::RichText::new(title).strong());
                let image = egui::Image::new(texture)
                    .fit_to_exact_size(Vec2::splat(side))
                    .sense(Sense::hover());
                let response = super::framed_image(ui, image).accessible_name(name);
                if let Some(pos) = response.hover_pos() {
                    let rel = (pos - response.rect.min) / side;
                    let (r, c) = (
                        (rel.y * maps.height as f32) as usize,
                        (rel.x * maps.width as f32) as usize,
                    );
                    if r < maps.height && c < maps.width {
                        hovered = Some((r, c));
                    }
                }
                if let Some((r, c)) = view.hover {
                    let cell = vec2(side / maps.width as f32, side / maps.height as f32);
                    let min = response.rect.min + vec2(c as f32 * cell.x, r as f32 * cell.y);
                    ui.painter().rect_stroke(
                        Rect::from_min_size(min, cell),
                        0.0,
                        Stroke::new(1.5, Color32::YELLOW),
                        egui::StrokeKind::Outside,
                    );
                }
            });
        }
    });
    view.hover = hovered;
    let width = 3.0 * side + 2.0 * gap;
    colorbar_ui(ui, view, settings.colormap, maps.scale, width);
    let readout = match hovered {
        Some((r, c)) => {
            let i = r * maps.width + c;
            format!(
                "pixel (row {r}, col {c}):  input {}   relevance {}",
                fmt_num(maps.input.get(i).copied().unwrap_or(0.0)),
                fmt_num(maps.relevance.get(i).copied().unwrap_or(0.0))
            )
        }
        None => {
            let total: f32 = maps.relevance.iter().sum();
            format!(
                "Σ relevance {}  ·  hover a pixel to read its input value and relevance",
                fmt_num(total)
            )
        }
    };
    // One line whatever is hovered: a readout that wraps differently would move everything below it.
    ui.add(egui::Label::new(egui::RichText::new(readout).monospace()).truncate());
    commands
}

/// Width of the display options on one line; narrower views put the overlay slider on a second line.
const ONE_LINE_OPTIONS: f32 = 640.0;

/// Colormap, scale and overlay opacity: every control keeps its width whatever is chosen, and the rows depend only
/// on the view's width, so nothing shifts when an option changes.
fn display_options_ui(ui: &mut egui::Ui, settings: &mut Settings) {
    let one_line = ui.available_width() >= ONE_LINE_OPTIONS;
    ui.horizontal(|ui| {
        egui::ComboBox::from_id_salt("colormap")
            .width(150.0)
            .selected_text(settings.colormap.name())
            .show_ui(ui, |ui| {
                for c in Colormap::ALL {
                    ui.selectable_value(&mut settings.colormap, c, c.name());
                }
            })
            .response
            .accessible_name("Colormap")
            .on_hover_text("colormap of the heatmaps");
        ui.separator();
        ui.label("Scale:");
        ui.radio_value(&mut settings.normalization, Normalization::PerImage, "per image");
        ui.radio_value(&mut settings.normalization, Normalization::Shared, "shared");
        // Always there (greyed out per image), so that picking "shared" does not move what follows.
        ui.add_enabled(
            settings.normalization == Normalization::Shared,
            egui::DragValue::new(&mut settings.shared_scale)
                .speed(0.01)
                .range(1e-6..=1e6),
        )
        .accessible_name("shared scale")
        .on_hover_text("|relevance| mapped to the ends of the colormap, for every image (shared scale)");
        if one_line {
            ui.separator();
            overlay_slider_ui(ui, settings);
        }
    });
    if !one_line {
        ui.horizontal(|ui| overlay_slider_ui(ui, settings));
    }
    ui.add_space(4.0);
}

fn overlay_slider_ui(ui: &mut egui::Ui, settings: &mut Settings) {
    ui.spacing_mut().slider_width = 90.0;
    ui.add(egui::Slider::new(&mut settings.overlay_opacity, 0.0..=1.0).text("overlay"))
        .accessible_name("overlay opacity");
}

/// A colour bar `width` wide with `−scale`, `0` and `+scale` under it.
pub fn colorbar_ui(ui: &mut egui::Ui, view: &mut ViewCache, cmap: Colormap, scale: f32, width: f32) {
    let texture = view.colorbar(ui.ctx(), cmap);
    let (rect, _) = ui.allocate_exact_size(vec2(width, 14.0), Sense::hover());
    ui.painter().image(
        texture.id(),
        rect,
        Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0)),
        Color32::WHITE,
    );
    ui.allocate_ui(vec2(width, 18.0), |ui| {
        ui.horizontal(|ui| {
            ui.set_width(width);
            ui.label(format!("−{}", fmt_num(scale)));
            let mid = width / 2.0 - 40.0;
            ui.add_space(mid.max(0.0));
            ui.label("0");
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                ui.label(format!("+{}", fmt_num(scale)));
            });
        });
    });
}
