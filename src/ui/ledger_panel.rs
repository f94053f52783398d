//! The "Ledger" tab: per layer, output first, the relevance in and out, the leak and where it went (bias and
//! stabiliser parts), with NaN and explosion warnings highlighted.

use super::fmt_num;
use super::panel::PanelCx;
use crate::app::Command;
use crate::app::state::Session;
use crate::eval::{LedgerRow, Warning};
use crate::lrp::{LayerRule, Rule};

/// The text of a warning.
pub fn warning_text(w: &Warning) -> String {
    match w {
        Warning::NotFinite { count } => format!("{count} NaN/inf values"),
        Warning::Exploding { ratio } => format!("exploding: {} × the initial relevance", fmt_num(*ratio)),
    }
}

/// Where a layer's leak goes under `rule` when it cannot be split into a bias and a stabiliser part: a short note
/// for the row and the whole story for its tooltip. `None` for rules whose leak is split (ε, norm) or that conserve.
pub fn leak_explanation(rule: &LayerRule) -> Option<(&'static str, &'static str)> {
    match rule.rule {
        Rule::ZPlus => Some((
            "z+: negatives ignored, b+ keeps a share",
            "z+ keeps only the positive contributions x+·w+ (and x−·w−) and the positive bias b+: the share of b+ stays \
             in the bias, and a neuron with no positive contribution passes nothing on. So the layer's sum changes \
             although no ε is used; the two parts are not separated here.",
        )),
        Rule::AlphaBeta { .. } => Some((
            "αβ: bias parts and one-sided neurons",
            "αβ splits each neuron into its positive (×α) and negative (×β) contributions, each with its part of the \
             bias: b+ and b− keep their shares, and a neuron with no contribution of one sign passes nothing on that \
             side. So the layer's sum changes; the parts are not separated here.",
        )),
        Rule::Gamma { .. } => Some((
            "γ: the bias takes a share",
            "γ boosts the positive weights; the bias is part of the denominator and keeps its share of the relevance, \
             so the layer's sum changes. The parts are not separated here.",
        )),
        Rule::ZBox { .. } => Some((
            "z^B: the bias takes a share",
            "z^B puts the input bounds into the denominator; the bias (when on) keeps its share, so the sum changes.",
        )),
        _ => None,
    }
}

fn part(v: Option<f64>) -> String {
    v.map_or("—".to_string(), |v| fmt_num(v as f32))
}

/// The conservation ledger of the current explanation.
pub fn ledger_panel_ui(ui: &mut egui::Ui, cx: &mut PanelCx<'_>) -> Vec<Command> {
    let (settings, session) = (&*cx.settings, cx.session);
    ui.heading("Conservation ledger");
    let (Some(result), Some(model)) = (&session.result, &session.model) else {
        ui.weak("no explanation yet");
        return Vec::new();
    };
    ui.label(
        egui::RichText::new(format!(
            "{}, class {}, rules {}",
            super::subject_text(settings, session),
            result.target,
            settings.rule_choice
        ))
        .strong(),
    );
    if result.ledger.is_empty() {
        ui.weak("the ledger needs LRP rules (gradient baselines do not conserve relevance)");
        return Vec::new();
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
    // Wider than a narrow window: the table scrolls sideways instead of running under the side panels.
    egui::ScrollArea::horizontal().id_salt("ledger_scroll").show(ui, |ui| {
        egui::Grid::new("ledger_grid")
            .striped(true)
            .spacing([14.0, 4.0])
            .show(ui, |ui| {
                for h in [
                    "layer",
                    "rule",
                    "out",
                    "in",
                    "leak",
                    "bias",
                    "stabiliser",
                    "warnings",
                    "where the leak goes",
                ] {
                    ui.label(egui::RichText::new(h).strong());
                }
                ui.end_row();
                for row in &result.ledger {
                    row_ui(ui, model, session, row);
                    ui.end_row();
                }
            });
    });
    Vec::new()
}

fn row_ui(ui: &mut egui::Ui, model: &crate::model::Model, session: &Session, row: &LedgerRow) {
    let kind = model.layers().get(row.layer).map_or("?", |l| l.kind().name());
    ui.label(format!("{} {kind}", row.layer));
    let rule = session.plan.get(row.layer);
    ui.label(rule.map_or("—".to_string(), super::rules_panel::rule_text));
    ui.label(fmt_num(row.relevance_out as f32));
    ui.label(fmt_num(row.relevance_in as f32));
    ui.label(fmt_num(row.leak() as f32));
    let unsplit = "not separated for this rule (see \"where the leak goes\")";
    ui.label(part(row.bias)).on_hover_text(if row.bias.is_some() {
        "relevance absorbed by the bias"
    } else {
        unsplit
    });
    ui.label(part(row.stabilizer))
        .on_hover_text(if row.stabilizer.is_some() {
            "relevance absorbed by the stabiliser (ε)"
        } else {
            unsplit
        });
    if row.warnings.is_empty() {
        ui.weak("—");
    } else {
        let text = row.warnings.iter().map(warning_text).collect::<Vec<_>>().join("; ");
        ui.colored_label(ui.visuals().error_fg_color, format!("warning: {text}"));
    }
    let note = match (row.bias, rule.and_then(leak_explanation)) {
        (Some(_), _) => Some((
            "bias + stabiliser",
            "the leak is the bias part plus the stabiliser part",
        )),
        (None, Some(e)) => Some(e),
        (None, None) if row.leak().abs() > 1e-4 * row.relevance_out.abs().max(1e-12) => Some((
            "stabiliser and rounding",
            "only the small stabiliser of the denominators and float rounding",
        )),
        (None, None) => None,
    };
    match note {
        Some((short, long)) => {
            ui.label(egui::RichText::new(short).small()).on_hover_text(long);
        }
        None => {
            ui.weak("conserved");
        }
    }
}
