//! Parsing of rule specs (`--rule`, the settings file, the window's fields) into a [`RuleChoice`]: single rules,
//! presets, baselines and per-layer assignments.
//!
//! ```text
//! SPEC     := RULE | PRESET | BASELINE | ASSIGN (';' ASSIGN)*
//! RULE     := lrp0 | epsilon:<e> | gamma:<g> | alphabeta:<a>,<b> | zplus | flat | wsquare | zbox:<l>,<h>
//!             | norm | wta | wta_split | pass         each optionally followed by @nobias and/or @stab=<s>
//!             | zbox                                   (alone: the bounds of the input's value range, where known)
//! PRESET   := epsilon_plus | epsilon_plus_flat | epsilon_alpha2_beta1 | epsilon_gamma_box[:<l>,<h>] | seed
//! BASELINE := gradient | input_x_gradient | integrated_gradients[:<steps>]
//! ASSIGN   := SELECTOR '=' RULE      SELECTOR := * | dense | conv | pool | maxpool | first | firstconv | last | <index>
//! ```

use std::str::FromStr;

use super::Method;
use super::choice::{Baseline, DEFAULT_IG_STEPS, RuleChoice};
use super::composite::{Composite, Preset, Selector};
use super::rule::{LayerRule, Rule};
use crate::error::LrpError;

fn spec_error(spec: &str, message: impl Into<String>) -> LrpError {
    LrpError::Spec {
        spec: spec.to_string(),
        message: message.into(),
    }
}

fn numbers(spec: &str, name: &str, args: Option<&str>, count: usize) -> Result<Vec<f32>, LrpError> {
    let Some(args) = args else {
        return Err(spec_error(
            spec,
            format!("{name} needs {count} parameter(s), e.g. {}", example(name)),
        ));
    };
    let values: Vec<f32> = args
        .split(',')
        .map(|a| a.trim().parse::<f32>())
        .collect::<Result<_, _>>()
        .map_err(|_| spec_error(spec, format!("{name}: cannot read numbers from {args:?}")))?;
    if values.len() != count {
        return Err(spec_error(
            spec,
            format!("{name} takes {count} parameter(s), got {}", values.len()),
        ));
    }
    Ok(values)
}

fn example(name: &str) -> &'static str {
    match name {
        "epsilon" => "epsilon:0.25",
        "gamma" => "gamma:0.25",
        "alphabeta" => "alphabeta:2,1",
        "zbox" => "zbox:0,1",
        _ => "",
    }
}

/// Parses one rule with its modifiers, e.g. `epsilon:0.25`, `wsquare@nobias`, `alphabeta:2,1@stab=1e-16`.
pub fn parse_layer_rule(spec: &str) -> Result<LayerRule, LrpError> {
    let mut parts = spec.trim().split('@');
    let head = parts.next().unwrap_or_default();
    let (name, args) = match head.split_once(':') {
        Some((n, a)) => (n.trim(), Some(a)),
        None => (head.trim(), None),
    };
    let no_args = |rule: Rule| {
        if args.is_some() {
            Err(spec_error(spec, format!("{name} takes no parameters")))
        } else {
            Ok(rule)
        }
    };
    let rule = match name {
        "lrp0" | "zero" => no_args(Rule::Zero)?,
        "epsilon" => Rule::Epsilon {
            epsilon: numbers(spec, name, args, 1)?[0],
        },
        "gamma" => Rule::Gamma {
            gamma: numbers(spec, name, args, 1)?[0],
        },
        "alphabeta" => {
            let v = numbers(spec, name, args, 2)?;
            Rule::AlphaBeta {
                alpha: v[0],
                beta: v[1],
            }
        }
        "zplus" => no_args(Rule::ZPlus)?,
        "flat" => no_args(Rule::Flat)?,
        "wsquare" => no_args(Rule::WSquare)?,
        "zbox" => {
            let v = numbers(spec, name, args, 2)?;
            Rule::ZBox { low: v[0], high: v[1] }
        }
        "norm" => no_args(Rule::Norm)?,
        "pass" => no_args(Rule::Pass)?,
        "wta" => no_args(Rule::WinnerTakeAll)?,
        "wta_split" => no_args(Rule::WinnerSplit)?,
        other => {
            return Err(spec_error(
                spec,
                format!(
                    "unknown rule {other:?}; rules: lrp0, epsilon:<e>, gamma:<g>, alphabeta:<a>,<b>, zplus, flat, \
                     wsquare, zbox:<l>,<h>, norm, wta, wta_split; presets: {}; baselines: gradient, \
                     input_x_gradient, integrated_gradients[:<steps>]",
                    Preset::ALL.map(Preset::name).join(", ")
                ),
            ));
        }
    };
    let mut layer_rule = LayerRule::new(rule);
    for modifier in parts {
        match modifier.trim() {
            "nobias" => layer_rule.bias = false,
            m if m.starts_with("stab=") => {
                layer_rule.stabilizer = m["stab=".len()..]
                    .parse()
                    .map_err(|_| spec_error(spec, format!("cannot read the stabilizer in {m:?}")))?;
            }
            m => {
                return Err(spec_error(
                    spec,
                    format!("unknown modifier @{m}; use @nobias or @stab=<value>"),
                ));
            }
        }
    }
    layer_rule.validate().map_err(|m| spec_error(spec, m))?;
    Ok(layer_rule)
}

fn parse_selector(spec: &str, s: &str) -> Result<Selector, LrpError> {
    Ok(match s.trim() {
        "*" => Selector::Weighted,
        "dense" => Selector::Dense,
        "conv" => Selector::Conv,
        "pool" => Selector::Pool,
        "maxpool" => Selector::MaxPool,
        "first" => Selector::First,
        "firstconv" => Selector::FirstConv,
        "last" => Selector::Last,
        other => Selector::Index(other.parse().map_err(|_| {
            spec_error(
                spec,
                format!("unknown selector {other:?}; use *, dense, conv, pool, maxpool, first, firstconv, last or a layer index"),
            )
        })?),
    })
}

/// Per-layer assignments `<selector>=<rule>;…`, applied left to right.
impl FromStr for Composite {
    type Err = LrpError;

    fn from_str(spec: &str) -> Result<Self, LrpError> {
        let mut composite = Composite::default();
        for part in spec.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((sel, rule)) = part.split_once('=') else {
                return Err(spec_error(spec, format!("{part:?} is not <selector>=<rule>")));
            };
            composite
                .assignments
                .push((parse_selector(spec, sel)?, parse_layer_rule(rule)?));
        }
        Ok(composite)
    }
}

impl FromStr for RuleChoice {
    type Err = LrpError;

    fn from_str(spec: &str) -> Result<Self, LrpError> {
        let s = spec.trim();
        if s.is_empty() {
            return Err(spec_error(spec, "empty rule spec"));
        }
        let (head, args) = match s.split_once(':') {
            Some((h, a)) => (h, Some(a)),
            None => (s, None),
        };
        match head {
            "gradient" if args.is_none() => return Ok(RuleChoice::Baseline(Baseline::Gradient)),
            "input_x_gradient" if args.is_none() => return Ok(RuleChoice::Baseline(Baseline::InputXGradient)),
            "integrated_gradients" => {
                let steps = match args {
                    None => DEFAULT_IG_STEPS,
                    Some(a) => a
                        .trim()
                        .parse::<usize>()
                        .ok()
                        .filter(|&n| n > 0)
                        .ok_or_else(|| spec_error(spec, "integrated_gradients:<steps> needs a positive integer"))?,
                };
                return Ok(RuleChoice::Baseline(Baseline::IntegratedGradients { steps }));
            }
            "zbox" if args.is_none() => return Ok(RuleChoice::InputBox),
            _ => {}
        }
        if let Some(preset) = Preset::from_name(head) {
            let bounds = match args {
                None => None,
                Some(a) if preset.takes_bounds() => {
                    let v = numbers(spec, head, Some(a), 2)?;
                    if v[0] > v[1] {
                        return Err(spec_error(spec, "box bounds need low ≤ high"));
                    }
                    Some((v[0], v[1]))
                }
                Some(_) => return Err(spec_error(spec, format!("preset {head} takes no parameters"))),
            };
            return Ok(RuleChoice::Preset { preset, bounds });
        }
        let is_assignment = s
            .split_once('=')
            .is_some_and(|(lhs, _)| !lhs.contains('@') && !lhs.contains(':'));
        if is_assignment {
            return s.parse().map(RuleChoice::Layers);
        }
        parse_layer_rule(s).map(RuleChoice::Rule)
    }
}

/// A spec straight to the engine's method (z^B without bounds cannot be applied: no input range is known here).
impl FromStr for Method {
    type Err = LrpError;

    fn from_str(spec: &str) -> Result<Self, LrpError> {
        spec.parse::<RuleChoice>()?.method(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules_of(spec: &str) -> Vec<(Selector, LayerRule)> {
        match spec.parse::<Method>() {
            Ok(Method::Lrp(c)) => c.assignments,
            other => panic!("{spec}: {other:?}"),
        }
    }

    #[test]
    fn single_rules_parse_with_modifiers() {
        let r = rules_of("alphabeta:2,1@stab=1e-16@nobias");
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].0, Selector::Weighted);
        assert_eq!(r[0].1.rule, Rule::AlphaBeta { alpha: 2.0, beta: 1.0 });
        assert!(!r[0].1.bias);
        assert_eq!(r[0].1.stabilizer, 1e-16);
        assert_eq!(rules_of("lrp0")[0].1.rule, Rule::Zero);
        assert_eq!(rules_of("zbox:-1,1")[0].1.rule, Rule::ZBox { low: -1.0, high: 1.0 });
    }

    #[test]
    fn assignments_keep_their_order() {
        let r = rules_of("*=zplus;first=wsquare@stab=0;3=epsilon:0.5");
        assert_eq!(
            r.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
            vec![Selector::Weighted, Selector::First, Selector::Index(3)]
        );
        assert_eq!(r[1].1.stabilizer, 0.0);
        assert_eq!(r[2].1.rule, Rule::Epsilon { epsilon: 0.5 });
    }

    #[test]
    fn baselines_and_presets() {
        assert_eq!("gradient".parse::<Method>().ok(), Some(Method::Gradient));
        assert_eq!(
            "integrated_gradients:8".parse::<Method>().ok(),
            Some(Method::IntegratedGradients { steps: 8 })
        );
        assert_eq!(
            "integrated_gradients".parse::<Method>().ok(),
            Some(Method::IntegratedGradients { steps: 32 })
        );
        let boxed = rules_of("epsilon_gamma_box:-1,1");
        assert_eq!(
            boxed.last().map(|r| r.1.rule),
            Some(Rule::ZBox { low: -1.0, high: 1.0 })
        );
        assert_eq!(boxed.last().map(|r| r.0), Some(Selector::FirstConv));
        for preset in Preset::ALL {
            assert!(preset.name().parse::<Method>().is_ok(), "{}", preset.name());
        }
    }

    #[test]
    fn bad_specs_are_explained() {
        for (spec, needle) in [
            ("alphabeta:2,2", "α − β must be 1"),
            ("epsilon", "needs 1 parameter"),
            ("epsilon:abc", "cannot read numbers"),
            ("bogus", "unknown rule"),
            ("zplus:1", "takes no parameters"),
            ("foo=zplus", "unknown selector"),
            ("zbox:1,0", "low ≤ high"),
            ("flat@weird", "unknown modifier"),
            ("integrated_gradients:0", "positive integer"),
            ("", "empty"),
        ] {
            let err = spec.parse::<Method>().err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains(needle), "{spec:?}: {err}");
        }
    }
}
