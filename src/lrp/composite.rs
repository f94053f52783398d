//! Composites: which rule each layer uses. Assignments apply left to right; later ones override earlier ones.

use std::fmt;

use super::rule::{LayerRule, Rule};
use crate::error::LrpError;
use crate::model::{LayerKind, Model};

/// Which layers an assignment applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selector {
    /// Every Dense and Conv2d layer (`*`).
    Weighted,
    Dense,
    Conv,
    /// Average and sum pooling.
    Pool,
    MaxPool,
    /// The first Dense or Conv2d layer.
    First,
    /// The first Conv2d layer (Zennit's first-layer map in `epsilon_gamma_box`: it only matches convolutions).
    FirstConv,
    /// The last Dense or Conv2d layer.
    Last,
    /// A layer index as printed by `info`.
    Index(usize),
}

impl Selector {
    fn matches(self, model: &Model, index: usize) -> bool {
        let kind = model.layers()[index].kind();
        match self {
            Selector::Weighted => kind.is_weighted(),
            Selector::Dense => kind == LayerKind::Dense,
            Selector::Conv => kind == LayerKind::Conv2d,
            Selector::Pool => kind.is_linear_pool(),
            Selector::MaxPool => kind == LayerKind::MaxPool2d,
            Selector::First => model.first_weighted() == Some(index),
            Selector::FirstConv => model.layers().iter().position(|l| l.kind() == LayerKind::Conv2d) == Some(index),
            Selector::Last => model.last_weighted() == Some(index),
            Selector::Index(i) => i == index,
        }
    }

    /// The spelling used in rule specs.
    pub fn name(self) -> String {
        match self {
            Selector::Weighted => "*".into(),
            Selector::Dense => "dense".into(),
            Selector::Conv => "conv".into(),
            Selector::Pool => "pool".into(),
            Selector::MaxPool => "maxpool".into(),
            Selector::First => "first".into(),
            Selector::FirstConv => "firstconv".into(),
            Selector::Last => "last".into(),
            Selector::Index(i) => i.to_string(),
        }
    }
}

/// An ordered list of `(selector, rule)` assignments.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Composite {
    pub assignments: Vec<(Selector, LayerRule)>,
}

/// The named composites (Zennit's presets), in display order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Preset {
    /// ε on Dense layers, z⁺ on convolutions.
    EpsilonPlus,
    /// As [`Preset::EpsilonPlus`], flat on the first layer.
    EpsilonPlusFlat,
    /// ε on Dense layers, α2β1 on convolutions.
    EpsilonAlpha2Beta1,
    /// ε on Dense layers, γ = 0.25 on convolutions, z^B on the first convolution.
    EpsilonGammaBox,
    /// z⁺ everywhere, w² on the first layer (the seed project's choice).
    Seed,
}

impl Preset {
    /// Every preset, in display order.
    pub const ALL: [Preset; 5] = [
        Preset::EpsilonPlus,
        Preset::EpsilonPlusFlat,
        Preset::EpsilonAlpha2Beta1,
        Preset::EpsilonGammaBox,
        Preset::Seed,
    ];

    /// The snake-case name used in rule specs.
    pub fn name(self) -> &'static str {
        match self {
            Preset::EpsilonPlus => "epsilon_plus",
            Preset::EpsilonPlusFlat => "epsilon_plus_flat",
            Preset::EpsilonAlpha2Beta1 => "epsilon_alpha2_beta1",
            Preset::EpsilonGammaBox => "epsilon_gamma_box",
            Preset::Seed => "seed",
        }
    }

    /// The preset called `name`, if any.
    pub fn from_name(name: &str) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Whether the preset uses z^B and so takes box bounds (`epsilon_gamma_box:<l>,<h>`).
    pub fn takes_bounds(self) -> bool {
        self == Preset::EpsilonGammaBox
    }

    /// The composite (Zennit's meanings); `bounds` are z^B's `(low, high)` where the preset uses it.
    pub fn composite(self, bounds: (f32, f32)) -> Composite {
        let eps = LayerRule::new(Rule::Epsilon { epsilon: 1e-6 });
        let zplus = LayerRule::new(Rule::ZPlus);
        match self {
            Preset::EpsilonPlus => Composite::default()
                .with(Selector::Dense, eps)
                .with(Selector::Conv, zplus),
            Preset::EpsilonPlusFlat => Preset::EpsilonPlus
                .composite(bounds)
                .with(Selector::First, LayerRule::new(Rule::Flat)),
            Preset::EpsilonAlpha2Beta1 => Composite::default().with(Selector::Dense, eps).with(
                Selector::Conv,
                LayerRule::new(Rule::AlphaBeta { alpha: 2.0, beta: 1.0 }),
            ),
            Preset::EpsilonGammaBox => {
                let (low, high) = bounds;
                Composite::default()
                    .with(Selector::Dense, eps)
                    .with(Selector::Conv, LayerRule::new(Rule::Gamma { gamma: 0.25 }))
                    .with(Selector::FirstConv, LayerRule::new(Rule::ZBox { low, high }))
            }
            Preset::Seed => Composite::uniform(zplus).with(Selector::First, LayerRule::new(Rule::WSquare)),
        }
    }
}

/// The box bounds z^B uses when none are given: pixels in `[0, 1]`.
pub const DEFAULT_BOX_BOUNDS: (f32, f32) = (0.0, 1.0);

impl Composite {
    /// The same rule on every Dense and Conv2d layer.
    pub fn uniform(rule: LayerRule) -> Self {
        Composite {
            assignments: vec![(Selector::Weighted, rule)],
        }
    }

    pub fn with(mut self, selector: Selector, rule: LayerRule) -> Self {
        self.assignments.push((selector, rule));
        self
    }

    /// A named preset (Zennit's meanings). `epsilon_gamma_box` takes its box bounds `(low, high)`.
    pub fn preset(name: &str, bounds: Option<(f32, f32)>) -> Option<Self> {
        Preset::from_name(name).map(|p| p.composite(bounds.unwrap_or(DEFAULT_BOX_BOUNDS)))
    }

    /// The rule of every layer of `model`: defaults first (LRP-0 on Dense/Conv, norm on average/sum pooling,
    /// winner-take-all on max pooling, pass elsewhere), then each assignment in order.
    pub fn resolve(&self, model: &Model) -> Result<Vec<LayerRule>, LrpError> {
        let mut plan: Vec<LayerRule> = model.layers().iter().map(|l| default_rule(l.kind())).collect();
        for (selector, rule) in &self.assignments {
            rule.validate().map_err(LrpError::Rule)?;
            if let Selector::Index(i) = selector
                && *i >= plan.len()
            {
                return Err(LrpError::Rule(format!(
                    "layer index {i} is out of range: the model has {} layers",
                    plan.len()
                )));
            }
            for (index, slot) in plan.iter_mut().enumerate() {
                if selector.matches(model, index) {
                    let kind = model.layers()[index].kind();
                    check_applicable(kind, &rule.rule)
                        .map_err(|m| LrpError::Rule(format!("layer {index} ({}): {m}", kind.name())))?;
                    *slot = *rule;
                }
            }
        }
        Ok(plan)
    }
}

/// The spec of the assignments, `<selector>=<rule>;…` (e.g. `*=zplus;first=wsquare`).
impl fmt::Display for Composite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (selector, rule)) in self.assignments.iter().enumerate() {
            if i > 0 {
                write!(f, ";")?;
            }
            write!(f, "{}={rule}", selector.name())?;
        }
        Ok(())
    }
}

fn default_rule(kind: LayerKind) -> LayerRule {
    match kind {
        LayerKind::Dense | LayerKind::Conv2d => LayerRule::new(Rule::Zero),
        LayerKind::AvgPool2d | LayerKind::SumPool2d => LayerRule::new(Rule::Norm),
        LayerKind::MaxPool2d => LayerRule::new(Rule::WinnerTakeAll),
        _ => LayerRule::new(Rule::Pass),
    }
}

/// Whether `rule` makes sense on a layer of `kind`.
pub fn check_applicable(kind: LayerKind, rule: &Rule) -> Result<(), String> {
    let max_pool_rule = matches!(rule, Rule::WinnerTakeAll | Rule::WinnerSplit);
    match kind {
        LayerKind::MaxPool2d if !max_pool_rule => Err(format!("max pooling takes wta or wta_split, not {rule}")),
        LayerKind::Relu | LayerKind::Tanh | LayerKind::Flatten | LayerKind::Reshape if *rule != Rule::Pass => {
            Err(format!("this layer passes relevance unchanged; {rule} does not apply"))
        }
        k if k != LayerKind::MaxPool2d && max_pool_rule => Err(format!("{rule} only applies to max pooling")),
        k if (k.is_weighted() || k.is_linear_pool()) && *rule == Rule::Pass => {
            Err("pass does not apply to a layer with weights".into())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Conv2d, Dense, Layer, OutputActivation, Pool2d};
    use ndarray::{Array2, Array4};

    fn mlp() -> Model {
        let d = |o, k| {
            Layer::Dense(Dense {
                weight: Array2::zeros((o, k)),
                bias: None,
            })
        };
        Model::new(
            "mlp",
            vec![4],
            vec![d(3, 4), Layer::Relu, d(2, 3)],
            OutputActivation::None,
        )
        .unwrap()
    }

    fn cnn() -> Model {
        let conv = |o, c| {
            Layer::Conv2d(Conv2d {
                weight: Array4::zeros((o, c, 3, 3)),
                bias: None,
                stride: [1, 1],
                padding: [1; 4],
            })
        };
        let pool = Pool2d {
            kernel: [2, 2],
            stride: [2, 2],
            padding: [0; 4],
        };
        let layers = vec![
            conv(2, 1),
            Layer::Relu,
            Layer::AvgPool2d(pool),
            conv(2, 2),
            Layer::MaxPool2d(pool),
            Layer::Flatten,
            Layer::Dense(Dense {
                weight: Array2::zeros((3, 8)),
                bias: None,
            }),
        ];
        Model::new("cnn", vec![1, 8, 8], layers, OutputActivation::None).unwrap()
    }

    fn names(plan: &[LayerRule]) -> Vec<String> {
        plan.iter().map(|r| r.to_string()).collect()
    }

    #[test]
    fn box_rule_only_matches_a_first_conv() {
        let plan = Composite::preset("epsilon_gamma_box", Some((0.0, 1.0)))
            .unwrap()
            .resolve(&mlp())
            .unwrap();
        assert_eq!(names(&plan), ["epsilon:0.000001", "pass", "epsilon:0.000001"]);
        let plan = Composite::preset("epsilon_gamma_box", Some((-1.0, 1.0)))
            .unwrap()
            .resolve(&cnn())
            .unwrap();
        assert_eq!(
            names(&plan),
            [
                "zbox:-1,1",
                "pass",
                "norm",
                "gamma:0.25",
                "wta",
                "pass",
                "epsilon:0.000001"
            ]
        );
    }

    #[test]
    fn presets_resolve_per_layer() {
        let plan = Composite::preset("epsilon_plus_flat", None)
            .unwrap()
            .resolve(&cnn())
            .unwrap();
        assert_eq!(
            names(&plan),
            ["flat", "pass", "norm", "zplus", "wta", "pass", "epsilon:0.000001"]
        );
        let plan = Composite::preset("seed", None).unwrap().resolve(&mlp()).unwrap();
        assert_eq!(names(&plan), ["wsquare", "pass", "zplus"]);
    }

    #[test]
    fn inapplicable_rules_are_refused() {
        let c = Composite::default().with(Selector::MaxPool, LayerRule::new(Rule::ZPlus));
        assert!(c.resolve(&cnn()).is_err());
        let c = Composite::default().with(Selector::Index(1), LayerRule::new(Rule::Flat));
        assert!(c.resolve(&cnn()).is_err());
        let c = Composite::default().with(Selector::Index(99), LayerRule::new(Rule::Flat));
        assert!(c.resolve(&cnn()).unwrap_err().to_string().contains("out of range"));
        let c = Composite::default().with(Selector::MaxPool, LayerRule::new(Rule::WinnerSplit));
        assert_eq!(c.resolve(&cnn()).unwrap()[4].rule, Rule::WinnerSplit);
    }
}
