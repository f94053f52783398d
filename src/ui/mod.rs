//! The panels of the window, one file each. Panels read the session, may edit display settings, and return
//! [`Command`]s for everything else.

pub mod arithmetic_view;
pub mod check_panel;
pub mod compare_panel;
pub mod draw_panel;
pub mod export_panel;
pub mod faithfulness_panel;
pub mod file_browser;
pub mod heatmap_view;
pub mod layer_panel;
pub mod ledger_panel;
pub mod menu_bar;
pub mod messages;
pub mod output_panel;
pub mod panel;
pub mod rules_panel;
pub mod sample_browser;
pub mod status_bar;
pub mod textures;
pub mod theme;
pub mod unit_panel;

pub use crate::app::state::subject_text;
pub use crate::heatmap::fmt_num;
pub use panel::{PanelCx, PanelFn};
pub use textures::ViewCache;

use crate::app::Command;
use crate::app::state::{CentralTab, Session, Settings};

/// The smallest window the layout is made for (every view visible from here up); set on the viewport.
pub const MIN_WINDOW_SIZE: [f32; 2] = [960.0, 640.0];
/// The narrowest the views in the centre get.
pub const CENTRAL_MIN_WIDTH: f32 = 440.0;
/// The narrowest the sample browser gets.
const SIDE_MIN_WIDTH: f32 = 150.0;
/// The narrowest the Rules panel gets.
const RULES_MIN_WIDTH: f32 = 230.0;
/// Below this width the Explain tab puts the output above the layers instead of beside them.
const TWO_COLUMNS_WIDTH: f32 = 600.0;

/// First widths of the sample browser and the Rules panel for a window `full` points wide: 196 and 350 at
/// 1280, 157 and 307 at 1024, so that the views keep their room.
pub fn side_panel_widths(full: f32) -> (f32, f32) {
    let left = (full * 0.153).clamp(SIDE_MIN_WIDTH, 196.0);
    let right = (full * 0.3).clamp(RULES_MIN_WIDTH, 350.0);
    (left, right)
}

/// The whole window: menu, status bar, sample browser (left), rules and export (right), views (centre).
pub fn root_ui(ui: &mut egui::Ui, settings: &mut Settings, session: &Session, view: &mut ViewCache) -> Vec<Command> {
    theme::apply(ui.ctx(), settings.dark_mode, &mut view.theme);
    let mut cx = PanelCx::new(settings, session, view);
    let mut commands = Vec::new();
    egui::Panel::top("menu_bar").show(ui, |ui| commands.extend(menu_bar::menu_bar_ui(ui, &mut cx)));
    egui::Panel::bottom("status_bar").show(ui, |ui| commands.extend(status_bar::status_bar_ui(ui, &mut cx)));
    // Both side panels can be dragged wider or narrower; together they leave the views at least
    // CENTRAL_MIN_WIDTH. Their contents scroll instead of widening them, so the width is the user's.
    let full = ui.available_width();
    let (left, right) = side_panel_widths(full);
    let room = (full - CENTRAL_MIN_WIDTH).max(2.0 * SIDE_MIN_WIDTH);
    egui::Panel::left("samples")
        .resizable(true)
        .default_size(left)
        .size_range(SIDE_MIN_WIDTH..=(room * 0.4).max(SIDE_MIN_WIDTH))
        .show(ui, |ui| commands.extend(sample_browser::sample_browser_ui(ui, &mut cx)));
    egui::Panel::right("rules")
        .resizable(true)
        .default_size(right)
        .size_range(RULES_MIN_WIDTH..=(room * 0.6).max(RULES_MIN_WIDTH))
        .show(ui, |ui| {
            egui::ScrollArea::both()
                .id_salt("rules_scroll")
                .auto_shrink([false, false])
                .show(ui, |ui| commands.extend(rules_panel::rules_panel_ui(ui, &mut cx)));
        });
    egui::CentralPanel::default().show(ui, |ui| {
        ui.horizontal(|ui| {
            for tab in CentralTab::ALL {
                ui.selectable_value(&mut cx.settings.tab, tab, tab.title())
                    .accessible_name(format!("{} tab", tab.title()));
            }
        });
        ui.separator();
        let width = ui.available_width();
        let panel = tab_panel(cx.settings.tab);
        egui::ScrollArea::vertical()
            .id_salt("central_scroll")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                ui.set_max_width(width);
                commands.extend(panel(ui, &mut cx));
            });
    });
    commands.extend(file_browser_ui(ui.ctx(), session, cx.view));
    commands.extend(messages::messages_ui(ui.ctx(), session));
    commands
}

/// The panel of each central tab.
pub fn tab_panel(tab: CentralTab) -> PanelFn {
    match tab {
        CentralTab::Explain => explain_tab_ui,
        CentralTab::Compare => compare_panel::compare_panel_ui,
        CentralTab::Ledger => ledger_panel::ledger_panel_ui,
        CentralTab::Faithfulness => faithfulness_panel::faithfulness_panel_ui,
        CentralTab::Draw => draw_panel::draw_panel_ui,
        CentralTab::Check => check_panel::check_panel_ui,
    }
}

/// The in-window file browser while the session asks for one (kept across frames, rebuilt for a new request).
fn file_browser_ui(ctx: &egui::Context, session: &Session, view: &mut ViewCache) -> Option<Command> {
    let Some(request) = &session.browse else {
        view.browser = None;
        return None;
    };
    let current = view.browser.as_ref().is_some_and(|b| b.request() == request);
    if !current {
        view.browser = Some(file_browser::FileBrowser::new(request.clone()));
    }
    view.browser.as_mut().and_then(|b| b.ui(ctx))
}

/// Digit | heatmap | overlay, the output and the layers, and the conditional heatmap of a chosen unit.
fn explain_tab_ui(ui: &mut egui::Ui, cx: &mut PanelCx<'_>) -> Vec<Command> {
    let mut commands = heatmap_view::heatmap_view_ui(ui, cx);
    ui.add_space(6.0);
    ui.separator();
    if ui.available_width() >= TWO_COLUMNS_WIDTH {
        ui.columns(2, |cols| {
            commands.extend(output_panel::output_panel_ui(&mut cols[0], cx));
            commands.extend(layer_panel::layer_panel_ui(&mut cols[1], cx));
        });
    } else {
        commands.extend(output_panel::output_panel_ui(ui, cx));
        ui.separator();
        commands.extend(layer_panel::layer_panel_ui(ui, cx));
    }
    commands.extend(unit_panel::unit_view_ui(ui, cx));
    commands.extend(arithmetic_view::arithmetic_view_ui(ui, cx));
    commands
}

/// The label of stepper position `k`: the relevance at the input of layer `k`, named after the layer that outputs it
/// (`layers` = the model output, 0 = the input).
pub fn position_label(model: &crate::model::Model, k: usize) -> String {
    let layers = model.layers().len();
    let shape = model.shape_at(k.min(layers));
    let shape = shape.iter().map(usize::to_string).collect::<Vec<_>>().join("×");
    if k >= layers {
        format!("output · {shape}")
    } else if k == 0 {
        format!("input · {shape}")
    } else {
        let layer = &model.layers()[k - 1];
        format!("{} {} · {shape}", k - 1, layer.kind().name())
    }
}

/// An image with a thin frame around it, so that white heatmaps keep their edge on a light background.
pub fn framed_image(ui: &mut egui::Ui, image: egui::Image<'_>) -> egui::Response {
    let response = ui.add(image);
    let stroke = ui.visuals().widgets.noninteractive.bg_stroke;
    ui.painter()
        .rect_stroke(response.rect, 0.0, stroke, egui::StrokeKind::Outside);
    response
}
