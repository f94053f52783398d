//! How dataset pixels in `[0, 1]` become model inputs: value range, normalisation, zero padding.

use std::fmt;
use std::str::FromStr;

/// `range=lo,hi;normalize=m,s;pad=n`: `x ↦ ((lo + x·(hi − lo)) − m) / s`, then `n` pixels of background on each side.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Preprocess {
    pub range: (f32, f32),
    pub normalize: Option<(f32, f32)>,
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
    fn value(&self, x: f32) -> f32 {
        let v = self.range.0 + x * (self.range.1 - self.range.0);
        match self.normalize {
            Some((m, s)) if s != 0.0 => (v - m) / s,
            _ => v,
        }
    }

    /// One `h×w` image in `[0, 1]` → model input of `(h + 2·pad)·(w + 2·pad)` values.
    pub fn apply_one(&self, image: &[f32], h: usize, w: usize) -> Vec<f32> {
        let (ph, pw) = (h + 2 * self.pad, w + 2 * self.pad);
        let mut out = vec![self.value(0.0); ph * pw];
        for (r, row) in image.chunks(w.max(1)).take(h).enumerate() {
            for (c, &x) in row.iter().enumerate() {
                out[(r + self.pad) * pw + c + self.pad] = self.value(x);
            }
        }
        out
    }

    /// The model-input values of a black and a white pixel: the bounds of z^B.
    pub fn box_bounds(&self) -> (f32, f32) {
        let (a, b) = (self.value(0.0), self.value(1.0));
        (a.min(b), a.max(b))
    }

    /// A preprocessing that makes `h×w` images fit a model input of `model_input_len` values (padding only).
    pub fn suggest(model_input_len: usize, h: usize, w: usize) -> Option<Preprocess> {
        (0..=8).find_map(|pad| {
            ((h + 2 * pad) * (w + 2 * pad) == model_input_len).then_some(Preprocess {
                pad,
                ..Preprocess::default()
            })
        })
    }
}

impl FromStr for Preprocess {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let mut p = Preprocess::default();
        let pair = |v: &str| -> Result<(f32, f32), String> {
            let (a, b) = v
                .split_once(',')
                .ok_or_else(|| format!("{v:?}: expected two numbers a,b"))?;
            let num = |t: &str| t.trim().parse::<f32>().map_err(|_| format!("{t:?} is not a number"));
            Ok((num(a)?, num(b)?))
        };
        for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?}: expected key=value (range, normalize, pad)"))?;
            match key.trim() {
                "range" => p.range = pair(value)?,
                "normalize" => {
                    let (m, s) = pair(value)?;
                    if s == 0.0 {
                        return Err("normalize: the standard deviation must not be 0".into());
                    }
                    p.normalize = Some((m, s));
                }
                "pad" => {
                    p.pad = value
                        .trim()
                        .parse()
                        .map_err(|_| format!("pad: {value:?} is not a count"))?
                }
                other => return Err(format!("unknown key {other:?}; use range, normalize, pad")),
            }
        }
        Ok(p)
    }
}

impl fmt::Display for Preprocess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "range={},{}", self.range.0, self.range.1)?;
        if let Some((m, s)) = self.normalize {
            write!(f, ";normalize={m},{s}")?;
        }
        if self.pad > 0 {
            write!(f, ";pad={}", self.pad)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_applies_and_round_trips() {
        let p: Preprocess = "range=-1,1;pad=1".parse().unwrap();
        let out = p.apply_one(&[1.0, 0.5], 1, 2);
        assert_eq!(out.len(), 12);
        assert_eq!(&out[5..7], &[1.0, 0.0]);
        assert_eq!(out[0], -1.0);
        assert_eq!(p.box_bounds(), (-1.0, 1.0));
        assert_eq!(p.to_string().parse::<Preprocess>().unwrap(), p);
        assert_eq!(Preprocess::suggest(32 * 32, 28, 28).map(|p| p.pad), Some(2));
        assert!("pad=x".parse::<Preprocess>().is_err());
    }
}
