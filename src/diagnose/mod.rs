//! "Check my LRP": which configuration, or which classic mistake, produced a user's relevance map.
//!
//! [`diagnose`] computes, for one sample, every configuration of the [`catalogue`] from every start (class logit,
//! one-hot, and the mistaken ones) with up to two mistakes, compares each with the user's map (correlation and
//! normalised maximum error), ranks them and explains the best one in plain language.

pub mod catalogue;
mod maps;
pub mod reading;

use ndarray::{ArrayD, IxDyn};
use rayon::prelude::*;

pub use catalogue::{Computation, Config, Init, Mistake, Propagation};
pub use maps::{Forward, start_maps};

use crate::error::LrpError;
use crate::model::Model;

/// Relative error (max |user − candidate| / max |candidate|) below which two maps are the same in float32.
pub const IDENTICAL: f64 = 2e-4;
/// Correlation from which a match is called close (same map up to scale).
pub const CLOSE: f64 = 0.99;
/// Correlation below which nothing in the catalogue explains the map.
pub const NO_MATCH: f64 = 0.9;

/// Settings of a diagnosis.
#[derive(Clone, Debug)]
pub struct Options {
    /// The range of the model's inputs (for z^B), e.g. `(0, 1)` for pixels.
    pub bounds: (f32, f32),
    /// The class explained; the predicted one when `None`.
    pub class: Option<usize>,
    /// Most mistakes combined in one candidate.
    pub max_mistakes: usize,
    /// Rows of the ranked table kept.
    pub keep: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            bounds: (0.0, 1.0),
            class: None,
            max_mistakes: 2,
            keep: 20,
        }
    }
}

/// One candidate of the catalogue and how close it is to the user's map.
#[derive(Clone, Debug)]
pub struct Match {
    /// Index into [`Diagnosis::configs`].
    pub config: usize,
    pub init: Init,
    /// The mistakes made, sorted (empty: a correct configuration).
    pub mistakes: Vec<Mistake>,
    /// Pearson correlation with the user's map (on the entries finite in both; scaled down by disagreeing NaNs).
    pub correlation: f64,
    /// `max |user − candidate| / max |candidate|`.
    pub max_error: f64,
    /// Same map within float32 rounding.
    pub identical: bool,
    /// The candidate's map, in the model's input order.
    pub map: Vec<f32>,
    /// Other candidates that give the same map within float32 here (config, start, mistakes), ranked.
    pub also: Vec<(usize, Init, Vec<Mistake>)>,
}

/// How well the best match explains the map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A candidate gives the same numbers.
    Identical,
    /// A candidate gives the same map up to scale.
    Close,
    /// A candidate is similar but not the same.
    Likely,
    /// Nothing in the catalogue is near.
    NoCloseMatch,
}

/// The result of [`diagnose`] on one sample.
#[derive(Clone, Debug)]
pub struct Diagnosis {
    /// The explained class and the sample's logits.
    pub class: usize,
    pub logits: Vec<f32>,
    pub configs: Vec<Config>,
    /// Best first; candidates giving the same map are listed once (the one with fewest mistakes).
    pub ranked: Vec<Match>,
    pub verdict: Verdict,
    /// What we recommend instead, and its map.
    pub recommended: usize,
    pub recommended_map: Vec<f32>,
    /// Candidates compared.
    pub compared: usize,
}

impl Diagnosis {
    pub fn best(&self) -> Option<&Match> {
        self.ranked.first()
    }

    /// `"z+ hidden, w² input from all softmax + no stabiliser"`.
    pub fn describe(&self, m: &Match) -> String {
        self.describe_also(&(m.config, m.init, m.mistakes.clone()))
    }

    /// [`Diagnosis::describe`] of an entry of [`Match::also`].
    pub fn describe_also(&self, (config, init, mistakes): &(usize, Init, Vec<Mistake>)) -> String {
        let mut s = format!("{} from {}", self.configs[*config].label, init.label());
        for mistake in mistakes.iter().filter(|&&x| Some(x) != init.mistake()) {
            s.push_str(" + ");
            s.push_str(mistake.name());
        }
        s
    }

    /// The plain-language explanation of the best match: what the code does, why, and the change to make.
    pub fn explanation(&self, model: &Model) -> Vec<String> {
        let Some(best) = self.best() else {
            return vec!["nothing to compare".into()];
        };
        let rec = &self.configs[self.recommended];
        if self.verdict == Verdict::NoCloseMatch {
            return vec![
                format!(
                    "No close match: no configuration or mistake of the catalogue reproduces this map (best \
                     correlation {:.3}, {}).",
                    best.correlation,
                    self.describe(best)
                ),
                "Check that the map belongs to this sample, model and class, and that it is stored in the \
                 model's input order; a bug outside the catalogue (an index mix-up in a loop) also looks like \
                 this."
                    .into(),
                format!("Recommended: {} from the class logit.", rec.label),
            ];
        }
        let how = match self.verdict {
            Verdict::Identical => "identical within float32".to_string(),
            Verdict::Close => format!("the same map up to scale (correlation {:.4})", best.correlation),
            _ => format!("similar (correlation {:.3})", best.correlation),
        };
        let mut out = vec![format!("Best match: {} — {how}.", self.describe(best))];
        if !best.also.is_empty() {
            let others: Vec<String> = best.also.iter().take(3).map(|a| self.describe_also(a)).collect();
            out.push(format!(
                "Equally close on this sample (the numbers cannot tell them apart here): {}.",
                others.join("; ")
            ));
        }
        let config = &self.configs[best.config];
        if best.mistakes.is_empty() {
            out.push(format!(
                "Your code computes {} correctly{}.",
                config.label,
                match best.init {
                    Init::OneHot =>
                        ", starting from 1 on the class (Zennit's convention; the class logit instead \
                                    scales the map so that it sums to the output)",
                    _ => ", starting from the class logit",
                }
            ));
        }
        for mistake in &best.mistakes {
            out.push(format!("{}: {}", mistake.name(), mistake.explanation()));
        }
        let p = self.probability();
        if matches!(best.init, Init::AllSoftmax | Init::ClassSoftmax) && p > 0.999 {
            out.push(format!(
                "Here the network is sure (p = {p:.5}), so this start is numerically almost the one-hot start; on \
                 less certain samples the difference grows."
            ));
        }
        let (l, h) = self.bounds_low_high(rec);
        if config.first_is_wsquare(model) && !best.mistakes.contains(&Mistake::InputTransposed) {
            out.push(format!(
                "w² at the input: it ignores the pixel values (only the weights count), so every image gets \
                 nearly the same map; it is meant for unbounded inputs. Your pixels lie in [{l}, {h}]: use z^B \
                 with those bounds at the first layer (first=zbox:{l},{h})."
            ));
        }
        if self.recommended != best.config || !best.mistakes.is_empty() {
            out.push(format!("Recommended: {} from the class logit.", rec.label));
        }
        out
    }

    /// The softmax probability of the explained class.
    pub fn probability(&self) -> f32 {
        let top = self.logits.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let total: f32 = self.logits.iter().map(|&v| (v - top).exp()).sum();
        self.logits.get(self.class).map_or(0.0, |&v| (v - top).exp() / total)
    }

    fn bounds_low_high(&self, rec: &Config) -> (f32, f32) {
        if let Computation::Lrp(plan) = &rec.computation {
            for r in plan {
                if let crate::lrp::Rule::ZBox { low, high } = r.rule {
                    return (low, high);
                }
            }
        }
        (0.0, 1.0)
    }
}

/// `[C, H, W]` of the model's input image (a flat input of n = s² is one s×s channel).
pub fn image_dims(model: &Model) -> Option<(usize, usize, usize)> {
    match *model.input_shape() {
        [c, h, w] => Some((c, h, w)),
        [n] => {
            let s = (n as f64).sqrt().round() as usize;
            (s * s == n && s > 1).then_some((1, s, s))
        }
        _ => None,
    }
}

/// A row-major image buffer read in the other memory order, per channel: `out[c·h + r] = v[r·w + c]` (what
/// MATLAB's `img(:)` gives for an image stored row by row, and what `reshape` does to a row-major map).
pub fn other_order(v: &[f32], (channels, h, w): (usize, usize, usize)) -> Vec<f32> {
    let plane = h * w;
    let mut out = v.to_vec();
    for ch in 0..channels {
        let (src, dst) = (&v[ch * plane..][..plane], &mut out[ch * plane..][..plane]);
        for r in 0..h {
            for c in 0..w {
                dst[c * h + r] = src[r * w + c];
            }
        }
    }
    out
}

/// Compares `user` with `candidate`: (correlation, normalised max error, identical).
pub fn compare(user: &[f32], candidate: &[f32]) -> (f64, f64, bool) {
    let n = user.len().min(candidate.len());
    let mut agree = 0usize;
    let (mut su, mut sc, mut suu, mut scc, mut suc, mut k) = (0.0f64, 0.0, 0.0, 0.0, 0.0, 0usize);
    let (mut max_c, mut max_err) = (0.0f64, 0.0f64);
    for (&u, &c) in user.iter().zip(candidate) {
        let (fu, fc) = (u.is_finite(), c.is_finite());
        if fu == fc {
            agree += 1;
        }
        if fu && fc {
            let (u, c) = (f64::from(u), f64::from(c));
            su += u;
            sc += c;
            suu += u * u;
            scc += c * c;
            suc += u * c;
            k += 1;
            max_c = max_c.max(c.abs());
            max_err = max_err.max((u - c).abs());
        }
    }
    let agreement = if n == 0 { 0.0 } else { agree as f64 / n as f64 };
    if k == 0 {
        // Both all NaN/∞ (a fully poisoned map) or nothing to compare.
        let same = agree == n && n > 0;
        return (
            if same { 1.0 } else { 0.0 },
            if same { 0.0 } else { f64::INFINITY },
            same,
        );
    }
    let kf = k as f64;
    let cov = suc - su * sc / kf;
    let vu = suu - su * su / kf;
    let vc = scc - sc * sc / kf;
    let corr = if vu > 0.0 && vc > 0.0 {
        cov / (vu * vc).sqrt()
    } else if vu == 0.0 && vc == 0.0 {
        1.0
    } else {
        0.0
    };
    let err = if max_c > 0.0 { max_err / max_c } else { max_err };
    (corr * agreement, err, agree == n && err <= IDENTICAL)
}

/// Compares the user's map of one sample (`x`: `[1, input...]`, `user`: `input_len` values in the model's input
/// order) with the whole catalogue.
pub fn diagnose(model: &Model, x: &ArrayD<f32>, user: &[f32], options: &Options) -> Result<Diagnosis, LrpError> {
    let len = model.input_len();
    if user.len() != len {
        return Err(LrpError::Rule(format!(
            "the map has {} values, the model's input {len}",
            user.len()
        )));
    }
    model.check_finite()?;
    let configs = catalogue::configs(model, options.bounds);
    let x = model.shape_batch(x.clone())?;
    let dims = image_dims(model);
    let fwd = Forward::new(model, &x, options.class)?;
    let fwd_t = match dims {
        Some(d) => {
            let flat: Vec<f32> = x.iter().copied().collect();
            let xt = ArrayD::from_shape_vec(IxDyn(x.shape()), other_order(&flat, d))
                .map_err(|e| LrpError::Rule(e.to_string()))?;
            Some(Forward::new(model, &xt, options.class)?)
        }
        None => None,
    };
    let max = options.max_mistakes;
    // One task per configuration (rayon): each propagates its variants and scores every start.
    let per_config: Vec<Vec<Match>> = configs
        .par_iter()
        .enumerate()
        .map(|(ci, config)| {
            let mut found = vec![];
            for prop in Propagation::variants(model, config, max) {
                let f = match (prop.input_transposed, &fwd_t) {
                    (false, _) => &fwd,
                    (true, Some(t)) => t,
                    (true, None) => continue,
                };
                let maps = start_maps(model, f, config, prop)?;
                for (row, &init) in Init::ALL.iter().enumerate() {
                    let mut mistakes = prop.mistakes();
                    mistakes.extend(init.mistake());
                    if mistakes.len() > max {
                        continue;
                    }
                    let map = maps.row(row).to_vec();
                    let transposed = match dims {
                        Some(d) if mistakes.len() < max && !prop.input_transposed => Some(other_order(&map, d)),
                        _ => None,
                    };
                    let variants =
                        std::iter::once((map, None)).chain(transposed.map(|t| (t, Some(Mistake::MapTransposed))));
                    for (map, extra) in variants {
                        let (correlation, max_error, identical) = compare(user, &map);
                        let mut mistakes = mistakes.clone();
                        mistakes.extend(extra);
                        mistakes.sort();
                        found.push(Match {
                            config: ci,
                            init,
                            mistakes,
                            correlation,
                            max_error,
                            identical,
                            map,
                            also: vec![],
                        });
                    }
                }
            }
            Ok(found)
        })
        .collect::<Result<_, LrpError>>()?;
    let mut all: Vec<Match> = per_config.into_iter().flatten().collect();
    let compared = all.len();
    rank(&mut all);
    let ranked = dedupe(all, options.keep);
    let verdict = match ranked.first() {
        Some(b) if b.identical => Verdict::Identical,
        Some(b) if b.correlation >= CLOSE => Verdict::Close,
        Some(b) if b.correlation >= NO_MATCH => Verdict::Likely,
        _ => Verdict::NoCloseMatch,
    };
    let recommended = recommend(model, &configs, ranked.first().map(|m| m.config));
    let rec_maps = start_maps(model, &fwd, &configs[recommended], Propagation::default())?;
    Ok(Diagnosis {
        class: fwd.class,
        logits: fwd.logits.clone(),
        configs,
        ranked,
        verdict,
        recommended,
        recommended_map: rec_maps.row(0).to_vec(),
        compared,
    })
}

/// Identical first, by decade of error (a map computed in float64 by the user's code sits orders of magnitude
/// closer to its own configuration than to a near-identical one), then fewest mistakes; the others by correlation,
/// fewest mistakes, smallest error.
fn rank(all: &mut [Match]) {
    let key = |m: &Match| -> (u8, i64, usize, u64) {
        if m.identical {
            let decade = m.max_error.max(1e-12).log10().floor() as i64;
            (0, decade, m.mistakes.len(), m.max_error.to_bits())
        } else {
            let corr = (m.correlation * 1e5).round() as i64;
            (1, -corr, m.mistakes.len(), m.max_error.to_bits())
        }
    };
    all.sort_by_key(key);
}

/// Keeps the first of candidates whose maps are the same (within float32), up to `keep` rows.
fn dedupe(all: Vec<Match>, keep: usize) -> Vec<Match> {
    let mut out: Vec<Match> = vec![];
    for m in all {
        let full = out.len() >= keep;
        match out.iter_mut().find(|o| compare(&o.map, &m.map).2) {
            Some(o) if o.also.len() < 8 => o.also.push((m.config, m.init, m.mistakes)),
            None if !full => out.push(m),
            _ => {}
        }
        // Once the table is full, only identical candidates (ranked first) still add to `also`.
        if out.len() >= keep && !out.last().is_some_and(|o| o.identical) {
            break;
        }
    }
    out
}

/// The configuration we recommend: the user's own rules without the mistakes, with z^B in place of w² at a
/// bounded input; z+ with z^B for baselines and when nothing matched.
fn recommend(model: &Model, configs: &[Config], best: Option<usize>) -> usize {
    let zbox = configs
        .iter()
        .position(|c| c.spec.starts_with("*=zplus;first=zbox"))
        .unwrap_or(0);
    match best.map(|b| &configs[b]) {
        Some(c) if c.first_is_wsquare(model) => zbox,
        Some(c) if matches!(c.computation, Computation::Lrp(_)) => best.unwrap_or(zbox),
        _ => zbox,
    }
}
