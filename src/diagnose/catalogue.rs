//! What `diagnose` compares a user's map with: the configurations (rule per layer, baselines), the initial
//! relevances, and the classic mistakes of hand-written LRP, each with the plain-language text that explains it.
//!
//! The mistakes are variants of the engine's computation that exist only here: they are never offered as rules.

use std::fmt;

use crate::lrp::{Composite, LayerRule, Rule};
use crate::model::Model;

/// How the explanation is computed, before any mistake.
#[derive(Clone, Debug, PartialEq)]
pub enum Computation {
    /// LRP with one rule per layer (a resolved composite).
    Lrp(Vec<LayerRule>),
    /// `∂f_c/∂x`.
    Gradient,
    /// `x ⊙ ∂f_c/∂x`.
    InputXGradient,
}

/// One configuration of the catalogue.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Short name, e.g. `z+ hidden, w² input`.
    pub label: String,
    /// The rule spec that selects it elsewhere (`--rule`), with `@nobias` where the biases are left out.
    pub spec: String,
    pub computation: Computation,
}

impl Config {
    /// Whether the first weighted layer uses w².
    pub fn first_is_wsquare(&self, model: &Model) -> bool {
        match (&self.computation, model.first_weighted()) {
            (Computation::Lrp(plan), Some(k)) => plan.get(k).is_some_and(|r| r.rule == Rule::WSquare),
            _ => false,
        }
    }

    /// Whether any layer rule reads the biases.
    fn uses_bias(&self) -> bool {
        match &self.computation {
            Computation::Lrp(plan) => plan.iter().any(|r| r.bias),
            _ => false,
        }
    }
}

/// The configurations compared, for `model` with inputs in `bounds` (for z^B). Each LRP configuration comes with
/// and without biases when the model has any.
pub fn configs(model: &Model, bounds: (f32, f32)) -> Vec<Config> {
    let (l, h) = bounds;
    let uniform = |r: Rule| Composite::uniform(LayerRule::new(r));
    let first = |c: Composite, r: Rule| c.with(crate::lrp::Selector::First, LayerRule::new(r));
    let named: Vec<(String, String, Option<Composite>)> = vec![
        ("LRP-0".into(), "lrp0".into(), Some(uniform(Rule::Zero))),
        (
            "LRP-ε (ε=0.25)".into(),
            "epsilon:0.25".into(),
            Some(uniform(Rule::Epsilon { epsilon: 0.25 })),
        ),
        ("z+ everywhere".into(), "zplus".into(), Some(uniform(Rule::ZPlus))),
        (
            "α2β1 everywhere".into(),
            "alphabeta:2,1".into(),
            Some(uniform(Rule::AlphaBeta { alpha: 2.0, beta: 1.0 })),
        ),
        (
            "γ=0.25 everywhere".into(),
            "gamma:0.25".into(),
            Some(uniform(Rule::Gamma { gamma: 0.25 })),
        ),
        ("w² everywhere".into(), "wsquare".into(), Some(uniform(Rule::WSquare))),
        (
            "z+ hidden, w² input".into(),
            "seed".into(),
            Composite::preset("seed", None),
        ),
        (
            format!("z+ hidden, z^B input [{l}, {h}]"),
            format!("*=zplus;first=zbox:{l},{h}"),
            Some(first(uniform(Rule::ZPlus), Rule::ZBox { low: l, high: h })),
        ),
        (
            "z+ hidden, flat input".into(),
            "*=zplus;first=flat".into(),
            Some(first(uniform(Rule::ZPlus), Rule::Flat)),
        ),
        (
            "ε + z+ (epsilon_plus)".into(),
            "epsilon_plus".into(),
            Composite::preset("epsilon_plus", None),
        ),
        (
            "ε + z+, flat input (epsilon_plus_flat)".into(),
            "epsilon_plus_flat".into(),
            Composite::preset("epsilon_plus_flat", None),
        ),
        (
            "ε + α2β1 (epsilon_alpha2_beta1)".into(),
            "epsilon_alpha2_beta1".into(),
            Composite::preset("epsilon_alpha2_beta1", None),
        ),
        (
            format!("ε + γ, z^B input (epsilon_gamma_box:{l},{h})"),
            format!("epsilon_gamma_box:{l},{h}"),
            Composite::preset("epsilon_gamma_box", Some(bounds)),
        ),
    ];
    let has_bias = model.layers().iter().any(|layer| match layer {
        crate::model::Layer::Dense(d) => d.bias.is_some(),
        crate::model::Layer::Conv2d(c) => c.bias.is_some(),
        _ => false,
    });
    let mut out = vec![];
    for (label, spec, composite) in named {
        let Some(plan) = composite.and_then(|c| c.resolve(model).ok()) else {
            continue;
        };
        let with = Config {
            label: label.clone(),
            spec: spec.clone(),
            computation: Computation::Lrp(plan.clone()),
        };
        let uses_bias = with.uses_bias();
        out.push(with);
        let without: Vec<LayerRule> = plan.iter().map(|r| r.without_bias()).collect();
        // Rules whose denominators ignore the bias (flat, w², z^B) give the same map either way.
        if has_bias && uses_bias && differs_without_bias(&plan) {
            out.push(Config {
                label: format!("{label}, no bias"),
                spec: format!("{spec} (all layers @nobias)"),
                computation: Computation::Lrp(without),
            });
        }
    }
    out.push(Config {
        label: "gradient".into(),
        spec: "gradient".into(),
        computation: Computation::Gradient,
    });
    out.push(Config {
        label: "input × gradient".into(),
        spec: "input_x_gradient".into(),
        computation: Computation::InputXGradient,
    });
    out
}

fn differs_without_bias(plan: &[LayerRule]) -> bool {
    plan.iter().any(|r| {
        matches!(
            r.rule,
            Rule::Zero
                | Rule::Epsilon { .. }
                | Rule::Gamma { .. }
                | Rule::AlphaBeta { .. }
                | Rule::ZPlus
                | Rule::WSquare
        )
    })
}

/// Where the relevance at the output comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Init {
    /// The chosen class's logit, zeros elsewhere (the LRP Toolbox convention).
    Logit,
    /// 1 for the chosen class (Zennit's convention).
    OneHot,
    /// Mistake: the whole output vector of logits (`R = output`).
    AllLogits,
    /// Mistake: the whole softmax vector (`R = nn.layers{end}.output` of a softmax layer).
    AllSoftmax,
    /// Mistake: the chosen class's softmax probability.
    ClassSoftmax,
}

impl Init {
    pub const ALL: [Init; 5] = [
        Init::Logit,
        Init::OneHot,
        Init::AllLogits,
        Init::AllSoftmax,
        Init::ClassSoftmax,
    ];

    /// The mistake this start is, if any.
    pub fn mistake(self) -> Option<Mistake> {
        match self {
            Init::Logit | Init::OneHot => None,
            Init::AllLogits => Some(Mistake::AllLogits),
            Init::AllSoftmax => Some(Mistake::AllSoftmax),
            Init::ClassSoftmax => Some(Mistake::ClassSoftmax),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Init::Logit => "class logit",
            Init::OneHot => "one-hot",
            Init::AllLogits => "all logits",
            Init::AllSoftmax => "all softmax",
            Init::ClassSoftmax => "class softmax",
        }
    }
}

/// The classic mistakes of a hand-written LRP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mistake {
    /// Initial relevance = every output's logit.
    AllLogits,
    /// Initial relevance = every output's softmax probability.
    AllSoftmax,
    /// Initial relevance = the class's softmax probability instead of its logit.
    ClassSoftmax,
    /// `R./z` with no stabiliser: 0/0 gives NaN, tiny z gives huge values.
    NoStabiliser,
    /// The image fed to the network in the other memory order (column-major `img(:)` on a row-major net).
    InputTransposed,
    /// The right map, written or reshaped in the other memory order.
    MapTransposed,
    /// w² normalised over the layer's outputs instead of its inputs.
    WSquareWrongAxis,
    /// Pre-activations (before the ReLU) used where the rule needs the activations.
    PreActivations,
}

/// The mistakes that change the propagation itself (not the start nor the reading of the map).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Propagation {
    pub no_stabiliser: bool,
    pub input_transposed: bool,
    pub wsquare_wrong_axis: bool,
    pub pre_activations: bool,
}

impl Propagation {
    pub fn mistakes(self) -> Vec<Mistake> {
        let mut m = vec![];
        if self.no_stabiliser {
            m.push(Mistake::NoStabiliser);
        }
        if self.input_transposed {
            m.push(Mistake::InputTransposed);
        }
        if self.wsquare_wrong_axis {
            m.push(Mistake::WSquareWrongAxis);
        }
        if self.pre_activations {
            m.push(Mistake::PreActivations);
        }
        m
    }

    /// Every propagation with at most `max` mistakes that applies to `config` on `model`.
    pub fn variants(model: &Model, config: &Config, max: usize) -> Vec<Propagation> {
        let lrp = matches!(config.computation, Computation::Lrp(_));
        let wsquare = config.first_is_wsquare(model);
        let pre = lrp && has_relu_before_weights(model);
        let mut out = vec![];
        for bits in 0u8..16 {
            let p = Propagation {
                no_stabiliser: bits & 1 != 0,
                input_transposed: bits & 2 != 0,
                wsquare_wrong_axis: bits & 4 != 0,
                pre_activations: bits & 8 != 0,
            };
            let applies =
                (!p.no_stabiliser || lrp) && (!p.wsquare_wrong_axis || wsquare) && (!p.pre_activations || pre);
            if applies && (bits.count_ones() as usize) <= max {
                out.push(p);
            }
        }
        out
    }
}

/// Whether some weighted layer reads the output of a ReLU (so that pre-activations differ from activations).
pub fn has_relu_before_weights(model: &Model) -> bool {
    use crate::model::Layer;
    model
        .layers()
        .windows(2)
        .any(|w| matches!(w[0], Layer::Relu) && matches!(w[1], Layer::Dense(_) | Layer::Conv2d(_)))
}

impl Mistake {
    pub fn name(self) -> &'static str {
        match self {
            Mistake::AllLogits => "starts from all logits",
            Mistake::AllSoftmax => "starts from all softmax outputs",
            Mistake::ClassSoftmax => "starts from the class's softmax",
            Mistake::NoStabiliser => "no stabiliser",
            Mistake::InputTransposed => "image fed transposed",
            Mistake::MapTransposed => "map transposed",
            Mistake::WSquareWrongAxis => "w² normalised over the wrong axis",
            Mistake::PreActivations => "pre-activations for activations",
        }
    }

    /// What the user's code does, why the map looks as it does, and the one change that fixes it.
    pub fn explanation(self) -> &'static str {
        match self {
            Mistake::AllLogits => {
                "Your code starts from the network's whole output vector (R = output): the map explains all ten \
                 classes at once, their evidence for and against mixed, so the chosen digit's strokes hardly stand \
                 out. Start from the chosen class's logit and zeros elsewhere."
            }
            Mistake::AllSoftmax => {
                "Your code starts from the softmax outputs of every class (R = nn.layers{end}.output): the map \
                 explains all classes at once, weighted by their probabilities, and the softmax is not a layer that \
                 LRP propagates through. Start from the chosen class's logit (before the softmax) and zeros \
                 elsewhere."
            }
            Mistake::ClassSoftmax => {
                "Your code starts from the chosen class's softmax probability: the map has the right shape but the \
                 wrong total (p ≤ 1 instead of the logit), so relevances do not add up to the network's output. \
                 Start from the class's logit, before the softmax."
            }
            Mistake::NoStabiliser => {
                "Your code divides R./z with no stabiliser: where a denominator is 0 the division is 0/0 = NaN and \
                 the NaN spreads to every pixel below it; where it is tiny the map explodes. Add a small ε to z with \
                 the sign of z (z + ε·sign(z), sign(0) = 1), e.g. ε = 1e-6."
            }
            Mistake::InputTransposed => {
                "Your code feeds the image in the other memory order (MATLAB's img(:) is column by column, the \
                 network was trained on rows): the network sees a transposed digit, so its prediction and the map \
                 are those of another picture. Flatten the image row by row (reshape(img', [], 1) in MATLAB)."
            }
            Mistake::MapTransposed => {
                "Your map is right but stored in the other memory order: reshaping the 784-vector column by column \
                 shows it transposed (mirrored on the diagonal). Reshape it row by row (reshape(R, 28, 28)' in \
                 MATLAB)."
            }
            Mistake::WSquareWrongAxis => {
                "Your w² rule divides by the sum of squared weights over the wrong index (the outputs j of each input \
                 instead of the inputs i of each neuron j): relevance is no longer conserved and pixels with small \
                 weights everywhere get inflated. Normalise each neuron's column: Σ_i w_ij²."
            }
            Mistake::PreActivations => {
                "Your code uses each layer's pre-activations (before the ReLU) where the rule needs the \
                 activations a = max(0, z): switched-off neurons take part with negative values. Use the layer's \
                 output after the ReLU."
            }
        }
    }
}

impl fmt::Display for Mistake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
