//! The "Ledger" tab: per layer, output first, the relevance in and out, the leak and where it went (bias and
//! stabiliser parts), with NaN and explosion warnings highlighted.

use super::fmt_num;
use crate::app::state::Session;
use crate::eval::{LedgerRow, Warning};

/// The text of a warning.
pub fn warning_text(w: &Warning) -> String {
    match w {
        Warning::NotFinite { count } => format!("{count} NaN/inf values"),
        Warning::Exploding { ratio } => format!("exploding: {} × the initial relevance", fmt_num(*ratio)),
    }
}

fn part(v: Option<f64>) -> String {
    v.map_or("—".to_string(), |v| fmt_num(v as f32))
}

/// The conservation ledger of the current explanation.
pub fn ledger_panel_ui(ui: &mut egui::Ui, session: &Session) {
    ui.heading("Conservation ledger");
    let (Some(result), Some(model)) = (&session.result, &session.model) else {
        ui.weak("no explanation yet");
        return;
    };
    if result.ledger.is_empty() {
        ui.weak("the ledger needs LRP rules (gradient baselines do not conserve relevance)");
        return;
    }
    ui.label(
        egui::RichText::new(
            "per layer, from the output to the input: relevance arriving (out), leaving (in), leak = out − in, and the parts of \
             the leak absorbed by the bias and by the stabiliser (ε and norm rules)",
        )
        .small()
        .weak(),
    );
    let warned = result.ledger.iter().filter(|r| !r.warnings.is_empty()).count();
    if warned > 0 {
        ui.colored_label(ui.visuals().error_fg_color, format!("{warned} layer(s) with warnings"));
    }
    egui::Grid::new("ledger_grid")
        .striped(true)
        .spacing([14.0, 4.0])
        .show(ui, |ui| {
            for h in ["layer", "rule", "out", "in", "leak", "bias", "stabiliser", "warnings"] {
                ui.label(egui::RichText::new(h).strong());
            }
            ui.end_row();
            for row in &result.ledger {
                row_ui(ui, model, session, row);
                ui.end_row();
            }
        });
}

fn row_ui(ui: &mut egui::Ui, model: &crate::model::Model, session: &Session, row: &LedgerRow) {
    let kind = model.layers().get(row.layer).map_or("?", |l| l.kind().name());
    ui.label(format!("{} {kind}", row.layer));
    ui.label(session.plan.get(row.layer).map_or("—".to_string(), |r| r.to_string()));
    ui.label(fmt_num(row.relevance_out as f32));
    ui.label(fmt_num(row.relevance_in as f32));
    ui.label(fmt_num(row.leak() as f32));
    ui.label(part(row.bias));
    ui.label(part(row.stabilizer));
    if row.warnings.is_empty() {
        ui.weak("—");
    } else {
        let text = row.warnings.iter().map(warning_text).collect::<Vec<_>>().join("; ");
        ui.colored_label(ui.visuals().error_fg_color, format!("warning: {text}"));
    }
}
