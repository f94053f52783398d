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
pub mod rules_panel;
pub mod sample_browser;
pub mod status_bar;
pub mod textures;
pub mod theme;
pub mod unit_panel;

pub use textures::ViewCache;

use crate::app::Command;
use crate::app::state::{CentralTab, Session, Settings};

/// The whole window: menu, status bar, sample browser (left), rules and export (right), views (centre).
pub fn root_ui(ui: &mut egui::Ui, settings: &mut Settings, session: &Session, view: &mut ViewCache) -> Vec<Command> {
    theme::apply(ui.ctx(), settings.dark_mode, &mut view.theme);
    let mut commands = Vec::new();
    egui::Panel::top("menu_bar").show(ui, |ui| {
        commands.extend(menu_bar::menu_bar_ui(ui, settings, session, view));
    });
    egui::Panel::bottom("status_bar").show(ui, |ui| status_bar::status_bar_ui(ui, settings, session));
    egui::Panel::left("samples")
        .resizable(true)
        .default_size(196.0)
        .min_size(150.0)
        .show(ui, |ui| {
            commands.extend(sample_browser::sample_browser_ui(ui, settings, session, view))
        });
    egui::Panel::right("rules")
        .resizable(true)
        .default_size(350.0)
        .min_size(280.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical().id_salt("rules_scroll").show(ui, |ui| {
                commands.extend(rules_panel::rules_panel_ui(ui, settings, session));
            });
        });
    egui::CentralPanel::default().show(ui, |ui| {
        ui.horizontal(|ui| {
            for tab in CentralTab::ALL {
                ui.selectable_value(&mut settings.tab, tab, tab.title())
                    .accessible_name(format!("{} tab", tab.title()));
            }
        });
        ui.separator();
        let width = ui.available_width();
        egui::ScrollArea::vertical()
            .id_salt("central_scroll")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                ui.set_max_width(width);
                match settings.tab {
                    CentralTab::Explain => commands.extend(explain_tab_ui(ui, settings, session, view)),
                    CentralTab::Compare => {
                        commands.extend(compare_panel::compare_panel_ui(ui, settings, session, view))
                    }
                    CentralTab::Ledger => ledger_panel::ledger_panel_ui(ui, session),
                    CentralTab::Faithfulness => {
                        commands.extend(faithfulness_panel::faithfulness_panel_ui(ui, settings, session))
                    }
                    CentralTab::Draw => commands.extend(draw_panel::draw_panel_ui(ui, settings, session, view)),
                    CentralTab::Check => commands.extend(check_panel::check_panel_ui(ui, settings, session, view)),
                }
            });
    });
    commands.extend(file_browser_ui(ui.ctx(), session, view));
    commands.extend(messages::messages_ui(ui.ctx(), session));
    commands
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
fn explain_tab_ui(ui: &mut egui::Ui, settings: &mut Settings, session: &Session, view: &mut ViewCache) -> Vec<Command> {
    let mut commands = heatmap_view::heatmap_view_ui(ui, settings, session, view);
    ui.add_space(6.0);
    ui.separator();
    ui.columns(2, |cols| {
        commands.extend(output_panel::output_panel_ui(&mut cols[0], settings, session));
        commands.extend(layer_panel::layer_panel_ui(&mut cols[1], settings, session, view));
    });
    commands.extend(unit_panel::unit_view_ui(ui, settings, session, view));
    arithmetic_view::arithmetic_view_ui(ui, session, view);
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

/// A compact number: `1.23e-4`, `0.0123`, `12.3`.
pub fn fmt_num(v: f32) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e4).contains(&a) {
        format!("{v:.2e}")
    } else {
        format!("{v:.4}")
    }
}
