//! The rule picker's choices and the translation between the per-layer table and an LRP [`Method`].

use crate::lrp::{Composite, LayerRule, Method, Rule, Selector, check_applicable};
use crate::model::{LayerKind, Model};

/// A choice of the picker: its spec and a short description.
pub struct RuleChoice {
    pub spec: &'static str,
    pub description: &'static str,
}

const fn choice(spec: &'static str, description: &'static str) -> RuleChoice {
    RuleChoice { spec, description }
}

/// Composites (Zennit's presets).
pub const PRESETS: [RuleChoice; 5] = [
    choice("epsilon_plus", "ε on dense layers, z+ on convolutions"),
    choice("epsilon_plus_flat", "as epsilon_plus, flat on the first layer"),
    choice("epsilon_alpha2_beta1", "ε on dense, α2β1 on convolutions"),
    choice("epsilon_gamma_box", "ε dense, γ conv, z^B on the first conv"),
    choice("seed", "z+ everywhere, w² on the first layer"),
];

/// One rule on every layer with weights.
pub const SINGLE_RULES: [RuleChoice; 8] = [
    choice("lrp0", "LRP-0: plain relevance redistribution"),
    choice("epsilon:0.25", "LRP-ε: absorbs weak and contradictory relevance"),
    choice("gamma:0.25", "LRP-γ: favours positive contributions"),
    choice("alphabeta:2,1", "LRP-αβ: positive and negative apart"),
    choice("zplus", "z+: positive contributions only"),
    choice("flat", "flat: spread over the receptive field"),
    choice("wsquare", "w²: by squared weights"),
    choice("zbox", "z^B: for inputs bounded to the pixel range"),
];

/// Gradient-based baselines (no per-layer rules).
pub const BASELINES: [RuleChoice; 3] = [
    choice("gradient", "∂f/∂x"),
    choice("input_x_gradient", "x ⊙ ∂f/∂x"),
    choice("integrated_gradients", "integrated gradients, 32 steps"),
];

/// Whether `spec` names a gradient baseline.
pub fn is_baseline(spec: &str) -> bool {
    let head = spec.split(':').next().unwrap_or_default();
    BASELINES.iter().any(|b| b.spec == head)
}

/// The method for a picker spec; `box_bounds` fill in z^B bounds (`zbox`, `epsilon_gamma_box`).
pub fn method_for_choice(spec: &str, box_bounds: (f32, f32)) -> Result<Method, String> {
    let (lo, hi) = box_bounds;
    let spec = match spec {
        "zbox" => format!("zbox:{lo},{hi}"),
        "epsilon_gamma_box" => format!("epsilon_gamma_box:{lo},{hi}"),
        s => s.to_string(),
    };
    spec.parse().map_err(|e: crate::error::LrpError| e.to_string())
}

/// The rule of every layer for `method` (empty for baselines).
pub fn plan_for(method: &Method, model: &Model) -> Result<Vec<LayerRule>, String> {
    match method {
        Method::Lrp(c) => c.resolve(model).map_err(|e| e.to_string()),
        _ => Ok(Vec::new()),
    }
}

/// Whether a layer's rule can be chosen (it has weights or is a pooling layer).
pub fn is_editable(kind: LayerKind) -> bool {
    kind.is_weighted() || kind.is_linear_pool() || kind == LayerKind::MaxPool2d
}

/// The composite that assigns `plan[k]` to layer `k`, after checking every parameter.
pub fn composite_from_plan(plan: &[LayerRule], model: &Model) -> Result<Composite, String> {
    let mut c = Composite::default();
    for (k, (rule, layer)) in plan.iter().zip(model.layers()).enumerate() {
        if !is_editable(layer.kind()) {
            continue;
        }
        rule.validate()
            .map_err(|m| format!("layer {k} ({}): {m}", layer.kind().name()))?;
        check_applicable(layer.kind(), &rule.rule).map_err(|m| format!("layer {k}: {m}"))?;
        c.assignments.push((Selector::Index(k), *rule));
    }
    Ok(c)
}

/// `k=rule;…` for the editable layers, as persisted in the settings.
pub fn plan_spec(plan: &[LayerRule], model: &Model) -> String {
    plan.iter()
        .zip(model.layers())
        .enumerate()
        .filter(|(_, (_, l))| is_editable(l.kind()))
        .map(|(k, (r, _))| format!("{k}={r}"))
        .collect::<Vec<_>>()
        .join(";")
}

/// The rules a layer of `kind` can take, each with default parameters.
pub fn candidates(kind: LayerKind, box_bounds: (f32, f32)) -> Vec<Rule> {
    let (low, high) = box_bounds;
    match kind {
        LayerKind::Dense | LayerKind::Conv2d => vec![
            Rule::Epsilon {
                epsilon: crate::lrp::LRP0_EPSILON,
            },
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
        Rule::Epsilon { epsilon } if *epsilon == crate::lrp::LRP0_EPSILON => "LRP-0",
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
