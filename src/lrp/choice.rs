//! The typed rule choice — a preset, one rule on every layer, a gradient baseline or per-layer assignments — and the
//! one registry of named choices that the spec parser, the window's rule picker and the comparison grid share.
//!
//! A spec string (`--rule`, the settings file, a text field) is parsed once into a [`RuleChoice`]; its `Display`
//! gives the canonical spec back. [`RuleChoice::method`] turns it into the engine's [`Method`].

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Method;
use super::composite::{Composite, DEFAULT_BOX_BOUNDS, Preset};
use super::rule::{DEFAULT_STABILIZER, LayerRule, Rule};
use crate::error::LrpError;

/// Steps of `integrated_gradients` without a number.
pub const DEFAULT_IG_STEPS: usize = 32;

/// A gradient-based explanation (no per-layer rules).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Baseline {
    /// `∂f/∂x`.
    Gradient,
    /// `x ⊙ ∂f/∂x`.
    InputXGradient,
    /// Integrated gradients from the zero input in `steps` steps.
    IntegratedGradients { steps: usize },
}

impl Baseline {
    /// The engine's method.
    pub fn method(self) -> Method {
        match self {
            Baseline::Gradient => Method::Gradient,
            Baseline::InputXGradient => Method::InputXGradient,
            Baseline::IntegratedGradients { steps } => Method::IntegratedGradients { steps },
        }
    }
}

/// What the user chose to explain with.
#[derive(Clone, Debug, PartialEq)]
pub enum RuleChoice {
    /// A named composite. `bounds` are z^B's for the presets that use it (`None`: the input's value range, or
    /// [`DEFAULT_BOX_BOUNDS`] when that is unknown).
    Preset { preset: Preset, bounds: Option<(f32, f32)> },
    /// One rule (with its modifiers) on every Dense and Conv2d layer.
    Rule(LayerRule),
    /// z^B on every Dense and Conv2d layer, with the bounds of the input's value range (`zbox` without numbers).
    InputBox,
    /// A gradient baseline.
    Baseline(Baseline),
    /// Per-layer assignments, `<selector>=<rule>;…`.
    Layers(Composite),
}

impl Default for RuleChoice {
    fn default() -> Self {
        RuleChoice::Preset {
            preset: Preset::EpsilonPlus,
            bounds: None,
        }
    }
}

impl RuleChoice {
    /// The engine's method. `input_range` is the value range of the model input (from the preprocessing), used as
    /// z^B's bounds where the choice gives none; without it `zbox` cannot be applied.
    pub fn method(&self, input_range: Option<(f32, f32)>) -> Result<Method, LrpError> {
        Ok(match self {
            RuleChoice::Preset { preset, bounds } => {
                Method::Lrp(preset.composite(bounds.or(input_range).unwrap_or(DEFAULT_BOX_BOUNDS)))
            }
            RuleChoice::Rule(rule) => Method::Lrp(Composite::uniform(*rule)),
            RuleChoice::InputBox => {
                let Some((low, high)) = input_range else {
                    return Err(LrpError::Spec {
                        spec: self.to_string(),
                        message: "zbox needs 2 parameter(s), e.g. zbox:0,1".into(),
                    });
                };
                Method::Lrp(Composite::uniform(LayerRule::new(Rule::ZBox { low, high })))
            }
            RuleChoice::Baseline(b) => b.method(),
            RuleChoice::Layers(c) => Method::Lrp(c.clone()),
        })
    }

    /// Whether this is a gradient baseline (no per-layer rules).
    pub fn is_baseline(&self) -> bool {
        matches!(self, RuleChoice::Baseline(_))
    }

    /// The registry entry of this choice, if it is a named one.
    pub fn entry(&self) -> Option<&'static ChoiceEntry> {
        REGISTRY.iter().find(|e| e.choice == *self)
    }
}

/// The canonical spec: `epsilon_plus`, `epsilon:0.25`, `zbox`, `integrated_gradients:8`, `*=zplus;first=wsquare`.
impl fmt::Display for RuleChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleChoice::Preset { preset, bounds } => {
                write!(f, "{}", preset.name())?;
                if let Some((low, high)) = bounds {
                    write!(f, ":{low},{high}")?;
                }
                Ok(())
            }
            RuleChoice::Rule(rule) => write!(f, "{rule}"),
            RuleChoice::InputBox => write!(f, "zbox"),
            RuleChoice::Baseline(Baseline::Gradient) => write!(f, "gradient"),
            RuleChoice::Baseline(Baseline::InputXGradient) => write!(f, "input_x_gradient"),
            RuleChoice::Baseline(Baseline::IntegratedGradients { steps }) if *steps == DEFAULT_IG_STEPS => {
                write!(f, "integrated_gradients")
            }
            RuleChoice::Baseline(Baseline::IntegratedGradients { steps }) => write!(f, "integrated_gradients:{steps}"),
            RuleChoice::Layers(c) => write!(f, "{c}"),
        }
    }
}

/// Persisted as its spec string.
impl Serialize for RuleChoice {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RuleChoice {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spec = String::deserialize(deserializer)?;
        spec.parse().map_err(serde::de::Error::custom)
    }
}

/// Persisted as its spec string (`0=epsilon:0.25;3=zplus`).
impl Serialize for Composite {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Composite {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spec = String::deserialize(deserializer)?;
        spec.parse().map_err(serde::de::Error::custom)
    }
}

/// The group a named choice belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChoiceKind {
    Preset,
    SingleRule,
    Baseline,
}

impl ChoiceKind {
    /// Every group, in the rule picker's order.
    pub const ALL: [ChoiceKind; 3] = [ChoiceKind::Preset, ChoiceKind::SingleRule, ChoiceKind::Baseline];

    /// The group's title in the rule picker.
    pub fn title(self) -> &'static str {
        match self {
            ChoiceKind::Preset => "Presets",
            ChoiceKind::SingleRule => "One rule everywhere",
            ChoiceKind::Baseline => "Baselines",
        }
    }
}

/// A named choice of the registry.
#[derive(Debug)]
pub struct ChoiceEntry {
    /// The short name shown on the picker's button (`epsilon` for `epsilon:0.25`).
    pub name: &'static str,
    /// The canonical spec, `choice.to_string()`.
    pub spec: &'static str,
    /// The name in the literature (`LRP-ε`).
    pub label: &'static str,
    /// One line on what it does.
    pub description: &'static str,
    pub kind: ChoiceKind,
    /// Whether the comparison grid shows it (integrated gradients is left out: 32 passes per cell).
    pub in_grid: bool,
    pub choice: RuleChoice,
}

const fn rule(rule: Rule) -> RuleChoice {
    RuleChoice::Rule(LayerRule {
        rule,
        bias: true,
        stabilizer: DEFAULT_STABILIZER,
    })
}

const fn preset(preset: Preset) -> RuleChoice {
    RuleChoice::Preset { preset, bounds: None }
}

/// Every named choice: presets, single rules, baselines, each group in display order.
pub static REGISTRY: [ChoiceEntry; 16] = [
    ChoiceEntry {
        name: "epsilon_plus",
        spec: "epsilon_plus",
        label: "ε + z⁺",
        description: "ε on dense layers, z+ on convolutions",
        kind: ChoiceKind::Preset,
        in_grid: true,
        choice: preset(Preset::EpsilonPlus),
    },
    ChoiceEntry {
        name: "epsilon_plus_flat",
        spec: "epsilon_plus_flat",
        label: "ε + z⁺ + flat",
        description: "as epsilon_plus, flat on the first layer",
        kind: ChoiceKind::Preset,
        in_grid: true,
        choice: preset(Preset::EpsilonPlusFlat),
    },
    ChoiceEntry {
        name: "epsilon_alpha2_beta1",
        spec: "epsilon_alpha2_beta1",
        label: "ε + α2β1",
        description: "ε on dense, α2β1 on convolutions",
        kind: ChoiceKind::Preset,
        in_grid: true,
        choice: preset(Preset::EpsilonAlpha2Beta1),
    },
    ChoiceEntry {
        name: "epsilon_gamma_box",
        spec: "epsilon_gamma_box",
        label: "ε + γ + z^B",
        description: "ε dense, γ conv, z^B on the first conv",
        kind: ChoiceKind::Preset,
        in_grid: true,
        choice: preset(Preset::EpsilonGammaBox),
    },
    ChoiceEntry {
        name: "seed",
        spec: "seed",
        label: "z⁺ + w²",
        description: "z+ everywhere, w² on the first layer",
        kind: ChoiceKind::Preset,
        in_grid: true,
        choice: preset(Preset::Seed),
    },
    ChoiceEntry {
        name: "lrp0",
        spec: "lrp0",
        label: "LRP-0",
        description: "LRP-0: plain relevance redistribution",
        kind: ChoiceKind::SingleRule,
        in_grid: true,
        choice: rule(Rule::Zero),
    },
    ChoiceEntry {
        name: "epsilon",
        spec: "epsilon:0.25",
        label: "LRP-ε",
        description: "LRP-ε: absorbs weak and contradictory relevance",
        kind: ChoiceKind::SingleRule,
        in_grid: true,
        choice: rule(Rule::Epsilon { epsilon: 0.25 }),
    },
    ChoiceEntry {
        name: "gamma",
        spec: "gamma:0.25",
        label: "LRP-γ",
        description: "LRP-γ: favours positive contributions",
        kind: ChoiceKind::SingleRule,
        in_grid: true,
        choice: rule(Rule::Gamma { gamma: 0.25 }),
    },
    ChoiceEntry {
        name: "alphabeta",
        spec: "alphabeta:2,1",
        label: "LRP-αβ",
        description: "LRP-αβ: positive and negative apart",
        kind: ChoiceKind::SingleRule,
        in_grid: true,
        choice: rule(Rule::AlphaBeta { alpha: 2.0, beta: 1.0 }),
    },
    ChoiceEntry {
        name: "zplus",
        spec: "zplus",
        label: "z⁺",
        description: "z+: positive contributions only",
        kind: ChoiceKind::SingleRule,
        in_grid: true,
        choice: rule(Rule::ZPlus),
    },
    ChoiceEntry {
        name: "flat",
        spec: "flat",
        label: "flat",
        description: "flat: spread over the receptive field",
        kind: ChoiceKind::SingleRule,
        in_grid: true,
        choice: rule(Rule::Flat),
    },
    ChoiceEntry {
        name: "wsquare",
        spec: "wsquare",
        label: "w²",
        description: "w²: by squared weights",
        kind: ChoiceKind::SingleRule,
        in_grid: true,
        choice: rule(Rule::WSquare),
    },
    ChoiceEntry {
        name: "zbox",
        spec: "zbox",
        label: "z^B",
        description: "z^B: for inputs bounded to the pixel range",
        kind: ChoiceKind::SingleRule,
        in_grid: true,
        choice: RuleChoice::InputBox,
    },
    ChoiceEntry {
        name: "gradient",
        spec: "gradient",
        label: "gradient",
        description: "∂f/∂x",
        kind: ChoiceKind::Baseline,
        in_grid: true,
        choice: RuleChoice::Baseline(Baseline::Gradient),
    },
    ChoiceEntry {
        name: "input_x_gradient",
        spec: "input_x_gradient",
        label: "input × gradient",
        description: "x ⊙ ∂f/∂x",
        kind: ChoiceKind::Baseline,
        in_grid: true,
        choice: RuleChoice::Baseline(Baseline::InputXGradient),
    },
    ChoiceEntry {
        name: "integrated_gradients",
        spec: "integrated_gradients",
        label: "integrated gradients",
        description: "integrated gradients, 32 steps",
        kind: ChoiceKind::Baseline,
        in_grid: false,
        choice: RuleChoice::Baseline(Baseline::IntegratedGradients {
            steps: DEFAULT_IG_STEPS,
        }),
    },
];

/// The registry entries of one group, in display order.
pub fn entries_of(kind: ChoiceKind) -> impl Iterator<Item = &'static ChoiceEntry> {
    REGISTRY.iter().filter(move |e| e.kind == kind)
}

/// The comparison grid's configurations, in order: single rules, presets, then the gradient baselines.
pub fn grid_entries() -> impl Iterator<Item = &'static ChoiceEntry> {
    [ChoiceKind::SingleRule, ChoiceKind::Preset, ChoiceKind::Baseline]
        .into_iter()
        .flat_map(entries_of)
        .filter(|e| e.in_grid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registry_entry_round_trips() {
        for e in &REGISTRY {
            assert_eq!(e.choice.to_string(), e.spec, "{}", e.name);
            let parsed: RuleChoice = e.spec.parse().unwrap_or_else(|err| panic!("{}: {err}", e.spec));
            assert_eq!(parsed, e.choice, "{}", e.spec);
            assert_eq!(parsed.to_string(), e.spec);
            assert!(e.spec.starts_with(e.name), "{}", e.spec);
            assert_eq!(e.choice.entry().map(|x| x.spec), Some(e.spec));
            assert_eq!(e.kind == ChoiceKind::Baseline, e.choice.is_baseline(), "{}", e.spec);
        }
        let names: std::collections::HashSet<_> = REGISTRY.iter().map(|e| e.name).collect();
        assert_eq!(names.len(), REGISTRY.len(), "names are unique");
    }

    #[test]
    fn other_specs_round_trip_through_their_canonical_form() {
        for spec in [
            "epsilon_gamma_box:-1,1",
            "zbox:0,1",
            "wsquare@nobias@stab=0",
            "alphabeta:2,1@stab=1e-16",
            "integrated_gradients:8",
            "*=zplus;first=wsquare",
            "dense=epsilon:0.5;3=flat@nobias;maxpool=wta_split",
            "epsilon:1e-9",
        ] {
            let choice: RuleChoice = spec.parse().unwrap_or_else(|e| panic!("{spec}: {e}"));
            let again: RuleChoice = choice.to_string().parse().unwrap_or_else(|e| panic!("{choice}: {e}"));
            assert_eq!(again, choice, "{spec} → {choice}");
        }
        assert_eq!(
            "integrated_gradients:32"
                .parse::<RuleChoice>()
                .map(|c| c.to_string())
                .ok()
                .as_deref(),
            Some("integrated_gradients")
        );
        assert_eq!(
            " zplus ".parse::<RuleChoice>().map(|c| c.to_string()).ok().as_deref(),
            Some("zplus")
        );
    }

    #[test]
    fn lrp0_is_its_own_rule_and_epsilon_stays_epsilon() {
        assert_eq!("lrp0".parse::<RuleChoice>().ok(), Some(rule(Rule::Zero)));
        assert_eq!("zero".parse::<RuleChoice>().ok(), Some(rule(Rule::Zero)));
        let tiny: RuleChoice = "epsilon:1e-9".parse().unwrap_or_default();
        assert_eq!(tiny, rule(Rule::Epsilon { epsilon: 1e-9 }));
        assert_ne!(tiny.to_string(), "lrp0");
    }

    #[test]
    fn box_bounds_come_from_the_spec_else_the_input_range() {
        let uniform_box = |m: Method| match m {
            Method::Lrp(c) => c.assignments.last().map(|a| a.1.rule),
            _ => None,
        };
        let range = Some((-1.0, 1.0));
        let zbox = RuleChoice::InputBox;
        assert_eq!(
            zbox.method(range).ok().and_then(uniform_box),
            Some(Rule::ZBox { low: -1.0, high: 1.0 })
        );
        let err = zbox.method(None).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("zbox needs 2 parameter"), "{err}");
        let given: RuleChoice = "epsilon_gamma_box:0,2".parse().unwrap_or_default();
        assert_eq!(
            given.method(range).ok().and_then(uniform_box),
            Some(Rule::ZBox { low: 0.0, high: 2.0 })
        );
        let from_input: RuleChoice = "epsilon_gamma_box".parse().unwrap_or_default();
        assert_eq!(
            from_input.method(range).ok().and_then(uniform_box),
            Some(Rule::ZBox { low: -1.0, high: 1.0 })
        );
        assert_eq!(
            from_input.method(None).ok().and_then(uniform_box),
            Some(Rule::ZBox { low: 0.0, high: 1.0 })
        );
    }

    #[test]
    fn the_grid_is_single_rules_then_presets_then_two_baselines() {
        let specs: Vec<&str> = grid_entries().map(|e| e.spec).collect();
        assert_eq!(
            specs,
            [
                "lrp0",
                "epsilon:0.25",
                "gamma:0.25",
                "alphabeta:2,1",
                "zplus",
                "flat",
                "wsquare",
                "zbox",
                "epsilon_plus",
                "epsilon_plus_flat",
                "epsilon_alpha2_beta1",
                "epsilon_gamma_box",
                "seed",
                "gradient",
                "input_x_gradient",
            ]
        );
    }

    #[test]
    fn choices_persist_as_their_spec() {
        let choice: RuleChoice = "alphabeta:2,1@nobias".parse().unwrap_or_default();
        let json = serde_json::to_string(&choice).unwrap_or_default();
        assert_eq!(json, "\"alphabeta:2,1@nobias\"");
        assert_eq!(serde_json::from_str::<RuleChoice>(&json).ok(), Some(choice));
        let err = serde_json::from_str::<RuleChoice>("\"bogus\"")
            .err()
            .map(|e| e.to_string());
        assert!(err.unwrap_or_default().contains("unknown rule"));
        let c: Composite = "0=epsilon:0.25;3=zplus".parse().unwrap_or_default();
        assert_eq!(
            serde_json::to_string(&c).unwrap_or_default(),
            "\"0=epsilon:0.25;3=zplus\""
        );
    }
}
