//! The look: a calm dark (or light) theme with slightly larger text.

use egui::{Color32, FontId, TextStyle};

/// Accent used for the selected class and the selection.
pub const ACCENT: Color32 = Color32::from_rgb(255, 140, 66);
/// Colour of wrong predictions.
pub const MISTAKE: Color32 = Color32::from_rgb(235, 87, 87);
/// Colour of right predictions.
pub const CORRECT: Color32 = Color32::from_rgb(111, 207, 151);

/// Sets visuals and text sizes when `dark` differs from what was applied (`applied`).
pub fn apply(ctx: &egui::Context, dark: bool, applied: &mut Option<bool>) {
    if *applied == Some(dark) {
        return;
    }
    *applied = Some(dark);
    let mut visuals = if dark {
        egui::Visuals::dark()
    } else {
        egui::Visuals::light()
    };
    if dark {
        visuals.panel_fill = Color32::from_rgb(24, 26, 31);
        visuals.window_fill = Color32::from_rgb(30, 33, 39);
        visuals.extreme_bg_color = Color32::from_rgb(16, 17, 20);
        visuals.faint_bg_color = Color32::from_rgb(32, 35, 42);
    }
    visuals.selection.bg_fill = if dark {
        Color32::from_rgb(52, 92, 150)
    } else {
        Color32::from_rgb(150, 190, 240)
    };
    let theme = if dark { egui::Theme::Dark } else { egui::Theme::Light };
    ctx.set_theme(theme);
    ctx.set_visuals_of(theme, visuals);
    ctx.all_styles_mut(|style| {
        style.text_styles.insert(TextStyle::Body, FontId::proportional(14.0));
        style.text_styles.insert(TextStyle::Button, FontId::proportional(14.0));
        style.text_styles.insert(TextStyle::Small, FontId::proportional(11.5));
        style.text_styles.insert(TextStyle::Heading, FontId::proportional(18.0));
        style.text_styles.insert(TextStyle::Monospace, FontId::monospace(13.0));
        style.spacing.item_spacing = egui::vec2(8.0, 6.0);
        style.spacing.button_padding = egui::vec2(7.0, 3.0);
    });
}
