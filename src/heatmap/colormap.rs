//! Diverging colormaps for relevance: `t ∈ [−1, 1]` → sRGB, centred on zero.

use serde::{Deserialize, Serialize};

/// A symmetric diverging colormap. Positive relevance maps to the `+1` end, negative to `−1`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Colormap {
    /// Blue – white – red (linear).
    #[default]
    Bwr,
    /// ColorBrewer RdBu: dark blue – white – dark red.
    RdBu,
    /// ColorBrewer PuOr: purple – white – orange; safe for red–green colour blindness.
    PuOr,
    /// Cold'n'hot (LRP Toolbox style): cyan – blue – black – red – yellow; dark centre.
    ColdHot,
}

/// `(position in [−1, 1], rgb)` anchors of each map, interpolated linearly.
type Anchors = &'static [(f32, [u8; 3])];

const BWR: Anchors = &[(-1.0, [0, 0, 255]), (0.0, [255, 255, 255]), (1.0, [255, 0, 0])];
const RDBU: Anchors = &[
    (-1.0, [5, 48, 97]),
    (-0.6, [33, 102, 172]),
    (-0.3, [146, 197, 222]),
    (0.0, [247, 247, 247]),
    (0.3, [244, 165, 130]),
    (0.6, [178, 24, 43]),
    (1.0, [103, 0, 31]),
];
const PUOR: Anchors = &[
    (-1.0, [45, 0, 75]),
    (-0.6, [84, 39, 136]),
    (-0.3, [178, 171, 210]),
    (0.0, [247, 247, 247]),
    (0.3, [253, 184, 99]),
    (0.6, [224, 130, 20]),
    (1.0, [127, 59, 8]),
];
const COLDHOT: Anchors = &[
    (-1.0, [0, 255, 255]),
    (-0.5, [0, 0, 255]),
    (0.0, [0, 0, 0]),
    (0.5, [255, 0, 0]),
    (1.0, [255, 255, 0]),
];

impl Colormap {
    /// Every colormap, in display order.
    pub const ALL: [Colormap; 4] = [Colormap::Bwr, Colormap::RdBu, Colormap::PuOr, Colormap::ColdHot];

    /// Display name.
    pub fn name(self) -> &'static str {
        match self {
            Colormap::Bwr => "blue-white-red",
            Colormap::RdBu => "RdBu",
            Colormap::PuOr => "PuOr (colour-blind safe)",
            Colormap::ColdHot => "cold-hot",
        }
    }

    fn anchors(self) -> Anchors {
        match self {
            Colormap::Bwr => BWR,
            Colormap::RdBu => RDBU,
            Colormap::PuOr => PUOR,
            Colormap::ColdHot => COLDHOT,
        }
    }

    /// Colour of `t` (clamped to `[−1, 1]`; NaN maps to the centre).
    pub fn rgb(self, t: f32) -> [u8; 3] {
        let t = if t.is_nan() { 0.0 } else { t.clamp(-1.0, 1.0) };
        let a = self.anchors();
        let mut prev = a[0];
        for &next in &a[1..] {
            if t <= next.0 {
                let f = (t - prev.0) / (next.0 - prev.0);
                let mix = |i: usize| (f32::from(prev.1[i]) + f * (f32::from(next.1[i]) - f32::from(prev.1[i]))).round();
                return [mix(0) as u8, mix(1) as u8, mix(2) as u8];
            }
            prev = next;
        }
        prev.1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_and_centre() {
        assert_eq!(Colormap::Bwr.rgb(1.0), [255, 0, 0]);
        assert_eq!(Colormap::Bwr.rgb(-1.0), [0, 0, 255]);
        assert_eq!(Colormap::Bwr.rgb(0.0), [255, 255, 255]);
        assert_eq!(Colormap::Bwr.rgb(0.5), [255, 128, 128]);
        assert_eq!(Colormap::ColdHot.rgb(0.0), [0, 0, 0]);
        assert_eq!(Colormap::PuOr.rgb(7.0), [127, 59, 8]);
        assert_eq!(Colormap::RdBu.rgb(f32::NAN), [247, 247, 247]);
    }
}
