//! The per-layer rule table: which layers can be edited, the rules each can take, and the edits as a composite.
//! (The named choices of the picker live in the engine's registry, [`crate::lrp::REGISTRY`].)

use crate::lrp::{Composite, LayerRule, Rule, Selector};
use crate::model::{LayerKind, Model};

/// Whether a layer's rule can be chosen (it has weights or is a pooling layer).
pub fn is_editable(kind: LayerKind) -> bool {
    kind.is_weighted() || kind.is_linear_pool() || kind == LayerKind::MaxPool2d
}

/// The composite `k=rule;…` of the editable layers of `plan`, as persisted in the settings.
pub fn edits_of_plan(plan: &[LayerRule], model: &Model) -> Composite {
    Composite {
        assignments: plan
            .iter()
            .zip(model.layers())
            .enumerate()
            .filter(|(_, (_, l))| is_editable(l.kind()))
            .map(|(k, (r, _))| (Selector::Index(k), *r))
            .collect(),
    }
}

/// The rules a layer of `kind` can take, each with default parameters.
pub fn candidates(kind: LayerKind, box_bounds: (f32, f32)) -> Vec<Rule> {
    let (low, high) = box_bounds;
    match kind {
        LayerKind::Dense | LayerKind::Conv2d => vec![
            Rule::Zero,
            Rule::Epsilon { epsilon: 0.25 },
            Rule::Gamma { gamma: 0.25 },
            Rule::AlphaBeta { alpha: 2.0, beta: 1.0 },
            Rule::ZPlus,
            Rule::Flat,
            Rule::WSquare,
            Rule::ZBox { low, high },
        ],
        LayerKind::AvgPool2d | LayerKind::SumPool2d => {
            vec![Rule::Norm, Rule::Epsilon { epsilon: 0.25 }, Rule::ZPlus, Rule::Flat]
        }
        LayerKind::MaxPool2d => vec![Rule::WinnerTakeAll, Rule::WinnerSplit],
        _ => vec![Rule::Pass],
    }
}

/// The rule's name without parameters, for the per-layer picker.
pub fn rule_name(rule: &Rule) -> &'static str {
    match rule {
        Rule::Zero => "LRP-0",
        Rule::Epsilon { .. } => "ε",
        Rule::Gamma { .. } => "γ",
        Rule::AlphaBeta { .. } => "αβ",
        Rule::ZPlus => "z+",
        Rule::Flat => "flat",
        Rule::WSquare => "w²",
        Rule::ZBox { .. } => "z^B",
        Rule::Norm => "norm",
        Rule::Pass => "pass",
        Rule::WinnerTakeAll => "wta",
        Rule::WinnerSplit => "wta split",
    }
}

/// Whether two rules are the same kind (parameters aside).
pub fn same_kind(a: &Rule, b: &Rule) -> bool {
    rule_name(a) == rule_name(b)
}
