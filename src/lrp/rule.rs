//! The LRP rules and their parameters, as data (the formulas live in [`super::propagate`]).

use std::fmt;

/// Default stabiliser of every rule except ε (Zennit's default).
pub const DEFAULT_STABILIZER: f32 = 1e-6;
/// The stabiliser of LRP-0 ([`Rule::Zero`]): small enough to vanish in float32, large enough to avoid 0/0.
pub const LRP0_EPSILON: f32 = 1e-9;

/// A relevance propagation rule for one layer.
///
/// Formulas and conventions follow Zennit 0.5.1 (see `tests/fixtures/README.md`); `stab(d) = d + s·sign(d)`
/// with `sign(0) = +1`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rule {
    /// LRP-0 (Bach et al. 2015): `R_i = x_i Σ_j w_ji R_j / z_j`, computed as LRP-ε with ε = [`LRP0_EPSILON`]
    /// so that a zero denominator gives 0 instead of NaN.
    Zero,
    /// LRP-ε (Bach et al. 2015): `R_i = x_i Σ_j w_ji R_j / stab_ε(z_j)`.
    Epsilon { epsilon: f32 },
    /// LRP-γ (Montavon et al. 2019): positive weights boosted by γ, split by the sign of z.
    Gamma { gamma: f32 },
    /// LRP-αβ (Bach et al. 2015) with α − β = 1: positive and negative contributions apart.
    AlphaBeta { alpha: f32, beta: f32 },
    /// z⁺ (deep Taylor, Montavon et al. 2017); identical to α1β0.
    ZPlus,
    /// Flat: relevance spread uniformly over the receptive field.
    Flat,
    /// w² (deep Taylor for unbounded inputs): `R_i = Σ_j w_ji² / Σ_i' w_ji'² R_j`.
    WSquare,
    /// z^B (deep Taylor for inputs bounded in `[low, high]`), meant for the first layer.
    ZBox { low: f32, high: f32 },
    /// Norm for average/sum pooling: `R_i = x_i Σ_j w_ji R_j / stab(z_j)` without bias.
    Norm,
    /// Relevance passes unchanged (activations, reshapes).
    Pass,
    /// Max pooling: everything to the first maximum of each window (the gradient).
    WinnerTakeAll,
    /// Max pooling: split equally among tied maxima (the LRP Toolbox).
    WinnerSplit,
}

/// A rule with its layer-level options.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerRule {
    pub rule: Rule,
    /// Whether the layer's bias takes part (`@nobias` turns it off, e.g. the LRP Toolbox's `ww`).
    pub bias: bool,
    /// Stabiliser added to denominators (ignored by ε, whose ε is the stabiliser).
    pub stabilizer: f32,
}

impl Rule {
    /// The ε that stabilises the denominator of LRP-0 and LRP-ε (`None` for every other rule).
    pub fn epsilon(&self) -> Option<f32> {
        match *self {
            Rule::Zero => Some(LRP0_EPSILON),
            Rule::Epsilon { epsilon } => Some(epsilon),
            _ => None,
        }
    }
}

impl LayerRule {
    pub const fn new(rule: Rule) -> Self {
        LayerRule {
            rule,
            bias: true,
            stabilizer: DEFAULT_STABILIZER,
        }
    }

    pub fn without_bias(mut self) -> Self {
        self.bias = false;
        self
    }

    /// Explains what is wrong with the parameters, if anything.
    pub fn validate(&self) -> Result<(), String> {
        let finite = |name: &str, v: f32| {
            if v.is_finite() {
                Ok(())
            } else {
                Err(format!("{name} must be a finite number, got {v}"))
            }
        };
        finite("stabilizer", self.stabilizer)?;
        if self.stabilizer < 0.0 {
            return Err(format!("the stabilizer must be ≥ 0, got {}", self.stabilizer));
        }
        match self.rule {
            Rule::Epsilon { epsilon } => {
                finite("ε", epsilon)?;
                if epsilon < 0.0 {
                    return Err(format!("ε must be ≥ 0, got {epsilon}"));
                }
            }
            Rule::Gamma { gamma } => {
                finite("γ", gamma)?;
                if gamma < 0.0 {
                    return Err(format!("γ must be ≥ 0, got {gamma}"));
                }
            }
            Rule::AlphaBeta { alpha, beta } => {
                finite("α", alpha)?;
                finite("β", beta)?;
                if alpha < 0.0 || beta < 0.0 {
                    return Err(format!("α and β must be ≥ 0, got α={alpha}, β={beta}"));
                }
                if ((alpha - beta) - 1.0).abs() > 1e-6 {
                    return Err(format!(
                        "α − β must be 1 for relevance to be conserved, got α={alpha}, β={beta} (α − β = {})",
                        alpha - beta
                    ));
                }
            }
            Rule::ZBox { low, high } => {
                finite("low", low)?;
                finite("high", high)?;
                if low > high {
                    return Err(format!("z^B needs low ≤ high, got low={low}, high={high}"));
                }
            }
            _ => {}
        }
        Ok(())
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Rule::Zero => write!(f, "lrp0"),
            Rule::Epsilon { epsilon } => write!(f, "epsilon:{epsilon}"),
            Rule::Gamma { gamma } => write!(f, "gamma:{gamma}"),
            Rule::AlphaBeta { alpha, beta } => write!(f, "alphabeta:{alpha},{beta}"),
            Rule::ZPlus => write!(f, "zplus"),
            Rule::Flat => write!(f, "flat"),
            Rule::WSquare => write!(f, "wsquare"),
            Rule::ZBox { low, high } => write!(f, "zbox:{low},{high}"),
            Rule::Norm => write!(f, "norm"),
            Rule::Pass => write!(f, "pass"),
            Rule::WinnerTakeAll => write!(f, "wta"),
            Rule::WinnerSplit => write!(f, "wta_split"),
        }
    }
}

/// The rule spec (`wsquare@nobias@stab=0`): the modifiers appear when they differ from the defaults.
impl fmt::Display for LayerRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.rule)?;
        if !self.bias {
            write!(f, "@nobias")?;
        }
        if self.stabilizer != DEFAULT_STABILIZER {
            write!(f, "@stab={}", self.stabilizer)?;
        }
        Ok(())
    }
}
