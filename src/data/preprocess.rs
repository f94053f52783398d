//! The map from raw pixels to model input, its text spec, and the per-model sidecar file that remembers it.
//!
//! Spec: `range=<lo>,<hi>;normalize=<mean>,<std>;pad=<n>`, any subset in any order (defaults: `range=0,1`, no
//! normalisation, no padding). A raw pixel `p ∈ [0, 1]` becomes `lo + p·(hi − lo)`, then `(v − mean) / std`; the
//! image is then padded on each side with the value a background pixel (`p = 0`) maps to.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use ndarray::Array2;

use super::Dataset;
use crate::error::{LoadError, PreprocessError};

/// Largest padding accepted in a spec or suggested.
const MAX_PAD: usize = 64;

/// How raw intensities become model input.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Preprocess {
    /// The interval `[0, 1]` is mapped linearly onto `(lo, hi)`.
    pub range: (f32, f32),
    /// `(mean, std)` applied after the range.
    pub normalize: Option<(f32, f32)>,
    /// Pixels added on each side (background value).
    pub pad: usize,
}

impl Default for Preprocess {
    fn default() -> Self {
        Preprocess {
            range: (0.0, 1.0),
            normalize: None,
            pad: 0,
        }
    }
}

impl Preprocess {
    /// The model-input value of a raw pixel `p`.
    pub fn map(&self, p: f32) -> f32 {
        let (lo, hi) = self.range;
        let v = lo + p * (hi - lo);
        match self.normalize {
            Some((mean, std)) => (v - mean) / std,
            None => v,
        }
    }

    /// Output `(height, width)` for `h`×`w` input.
    pub fn output_size(&self, h: usize, w: usize) -> (usize, usize) {
        (h + 2 * self.pad, w + 2 * self.pad)
    }

    /// The images of `p = 0` and `p = 1`, as `(low, high)` (ordered): the default bounds of the z^B rule.
    pub fn box_bounds(&self) -> (f32, f32) {
        let (a, b) = (self.map(0.0), self.map(1.0));
        (a.min(b), a.max(b))
    }

    /// One `h`×`w` image → `(h+2·pad)·(w+2·pad)` values, row-major.
    pub fn apply_one(&self, image: &[f32], h: usize, w: usize) -> Vec<f32> {
        let (oh, ow) = self.output_size(h, w);
        let mut out = vec![self.map(0.0); oh * ow];
        for (y, row) in image.chunks_exact(w.max(1)).take(h).enumerate() {
            let start = (y + self.pad) * ow + self.pad;
            for (o, &p) in out[start..start + w].iter_mut().zip(row) {
                *o = self.map(p);
            }
        }
        out
    }

    /// Images `range` of `ds` (clamped) as a `[n, (H+2·pad)·(W+2·pad)]` batch.
    pub fn apply(&self, ds: &Dataset, range: Range<usize>) -> Array2<f32> {
        let n = ds.len();
        let start = range.start.min(n);
        let end = range.end.clamp(start, n);
        let (oh, ow) = self.output_size(ds.height, ds.width);
        let mut out = Array2::<f32>::zeros((end - start, oh * ow));
        for (i, mut row) in (start..end).zip(out.rows_mut()) {
            let values = self.apply_one(ds.image(i), ds.height, ds.width);
            row.iter_mut().zip(values).for_each(|(o, v)| *o = v);
        }
        out
    }

    /// The preprocessing implied by a model's input size for `h`×`w` data, when there is exactly one:
    /// `h·w` → the default; `(h+2p)·(w+2p)` → `pad=p` (e.g. 32·32 for 28×28 data → `pad=2`).
    pub fn suggest(model_input_len: usize, h: usize, w: usize) -> Option<Preprocess> {
        (0..=MAX_PAD)
            .find(|&p| (h + 2 * p) * (w + 2 * p) == model_input_len)
            .map(|pad| Preprocess {
                pad,
                ..Preprocess::default()
            })
    }
}

impl fmt::Display for Preprocess {
    /// Writes `range=lo,hi`, then `;normalize=mean,std` and `;pad=n` when set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "range={},{}", self.range.0, self.range.1)?;
        if let Some((mean, std)) = self.normalize {
            write!(f, ";normalize={mean},{std}")?;
        }
        if self.pad > 0 {
            write!(f, ";pad={}", self.pad)?;
        }
        Ok(())
    }
}

impl FromStr for Preprocess {
    type Err = PreprocessError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let err = |message: String| PreprocessError {
            spec: spec.to_string(),
            message,
        };
        let mut out = Preprocess::default();
        let mut seen: Vec<&str> = Vec::new();
        for part in spec.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| err(format!("{part:?} is not key=value")))?;
            let key = key.trim();
            if seen.contains(&key) {
                return Err(err(format!("{key} is given twice")));
            }
            seen.push(key);
            match key {
                "range" => {
                    let (lo, hi) = pair(value).map_err(|m| err(format!("range: {m}")))?;
                    if lo == hi {
                        return Err(err("range: lo and hi must differ".to_string()));
                    }
                    out.range = (lo, hi);
                }
                "normalize" => {
                    let (mean, std) = pair(value).map_err(|m| err(format!("normalize: {m}")))?;
                    if std <= 0.0 {
                        return Err(err(format!("normalize: std must be positive, got {std}")));
                    }
                    out.normalize = Some((mean, std));
                }
                "pad" => {
                    let pad: usize = value
                        .trim()
                        .parse()
                        .map_err(|_| err(format!("pad: {value:?} is not a whole number")))?;
                    if pad > MAX_PAD {
                        return Err(err(format!("pad: {pad} is more than {MAX_PAD}")));
                    }
                    out.pad = pad;
                }
                other => return Err(err(format!("unknown key {other:?}; expected range, normalize or pad"))),
            }
        }
        Ok(out)
    }
}

/// Two finite numbers separated by a comma.
fn pair(value: &str) -> Result<(f32, f32), String> {
    let (a, b) = value
        .split_once(',')
        .ok_or_else(|| format!("{value:?} is not two comma-separated numbers"))?;
    let num = |s: &str| -> Result<f32, String> {
        let v: f32 = s
            .trim()
            .parse()
            .map_err(|_| format!("{:?} is not a number", s.trim()))?;
        if v.is_finite() {
            Ok(v)
        } else {
            Err(format!("{v} is not finite"))
        }
    };
    Ok((num(a)?, num(b)?))
}

/// `<model>.preprocess` next to the model file (e.g. `mlp.onnx.preprocess`).
pub fn sidecar_path(model: &Path) -> PathBuf {
    let mut name = model.as_os_str().to_owned();
    name.push(".preprocess");
    PathBuf::from(name)
}

/// The preprocessing remembered for `model`, or `None` if it has no sidecar.
pub fn read_sidecar(model: &Path) -> Result<Option<Preprocess>, LoadError> {
    let path = sidecar_path(model);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(LoadError::io(&path, e)),
    };
    let spec = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'));
    match spec {
        None => Ok(Some(Preprocess::default())),
        Some(spec) => spec
            .parse()
            .map(Some)
            .map_err(|e: PreprocessError| LoadError::format(&path, e.to_string())),
    }
}

/// Remembers `pre` for `model` (written to a temporary file, then renamed over the sidecar).
pub fn write_sidecar(model: &Path, pre: &Preprocess) -> Result<(), LoadError> {
    let path = sidecar_path(model);
    crate::atomic_file::replace(&path, format!("{pre}\n").as_bytes()).map_err(|e| LoadError::io(&path, e))
}
