//! Relevance → pixels: normalisation, colormaps, overlays and the image/array exporters. No GUI here.

pub mod colormap;
pub mod export;
pub mod grid;
pub mod plot;

pub use colormap::Colormap;
use image::{Rgba, RgbaImage};
use serde::{Deserialize, Serialize};

/// How relevance values are scaled to the colormap's `[−1, 1]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Normalization {
    /// Each image by its own largest |relevance|.
    #[default]
    PerImage,
    /// One fixed scale for every image, so samples and rules can be compared.
    Shared,
}

/// A compact number for labels, the same in the window and in exported pictures: `1.23e-4`, `0.0123`, `12.3457`.
pub fn fmt_num(v: f32) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e4).contains(&a) {
        format!("{v:.2e}")
    } else {
        format!("{v:.4}")
    }
}

/// Opacity of the heatmap in overlays unless the user picks another.
pub const DEFAULT_OVERLAY_OPACITY: f32 = 0.85;

/// A model input (or its relevance) with `C` channels of `per` pixels, reduced to one picture:
/// `(relevance summed over channels, input averaged over channels)`.
/// `None` if the lengths differ or are not a multiple of `per`.
pub fn pixel_maps(relevance: &[f32], input: &[f32], per: usize) -> Option<(Vec<f32>, Vec<f32>)> {
    if per == 0 || !relevance.len().is_multiple_of(per) || relevance.len() != input.len() {
        return None;
    }
    let channels = relevance.len() / per;
    let mut rel = vec![0.0; per];
    let mut inp = vec![0.0; per];
    for c in 0..channels {
        for i in 0..per {
            rel[i] += relevance[c * per + i];
            inp[i] += input[c * per + i] / channels as f32;
        }
    }
    Some((rel, inp))
}

/// Largest absolute finite value (0 for an empty or all-zero slice).
pub fn max_abs(values: &[f32]) -> f32 {
    values
        .iter()
        .filter(|v| v.is_finite())
        .fold(0.0f32, |m, v| m.max(v.abs()))
}

/// The scale mapping relevance to `[−1, 1]`: never 0, so a blank map stays blank instead of dividing by zero.
pub fn scale_for(values: &[f32], norm: Normalization, shared_scale: f32) -> f32 {
    let s = match norm {
        Normalization::PerImage => max_abs(values),
        Normalization::Shared => shared_scale.abs(),
    };
    if s > 0.0 && s.is_finite() { s } else { 1.0 }
}

/// Colours `values` (row-major `height×width`) with `cmap` at `scale`.
pub fn relevance_image(values: &[f32], width: usize, height: usize, scale: f32, cmap: Colormap) -> RgbaImage {
    RgbaImage::from_fn(width as u32, height as u32, |x, y| {
        let v = values.get(y as usize * width + x as usize).copied().unwrap_or(0.0);
        let [r, g, b] = cmap.rgb(v / scale);
        Rgba([r, g, b, 255])
    })
}

/// Gray image of `values`, mapping `[lo, hi]` to black…white.
pub fn gray_image(values: &[f32], width: usize, height: usize, lo: f32, hi: f32) -> RgbaImage {
    let span = if hi > lo { hi - lo } else { 1.0 };
    RgbaImage::from_fn(width as u32, height as u32, |x, y| {
        let v = values.get(y as usize * width + x as usize).copied().unwrap_or(lo);
        let g = (((v - lo) / span).clamp(0.0, 1.0) * 255.0).round() as u8;
        Rgba([g, g, g, 255])
    })
}

/// The heatmap blended over the digit: each pixel's opacity grows with |relevance| (times `opacity`).
pub fn overlay_image(digit: &RgbaImage, values: &[f32], scale: f32, cmap: Colormap, opacity: f32) -> RgbaImage {
    let (w, h) = digit.dimensions();
    RgbaImage::from_fn(w, h, |x, y| {
        let v = values.get((y * w + x) as usize).copied().unwrap_or(0.0);
        let t = (v / scale).clamp(-1.0, 1.0);
        let a = (t.abs().sqrt() * opacity).clamp(0.0, 1.0);
        let heat = cmap.rgb(t);
        let base = digit.get_pixel(x, y).0;
        // The digit is dimmed so the colours read clearly on top of it.
        let mix = |i: usize| (f32::from(base[i]) * 0.6 * (1.0 - a) + f32::from(heat[i]) * a).round() as u8;
        Rgba([mix(0), mix(1), mix(2), 255])
    })
}

/// Each pixel becomes a `factor×factor` block.
pub fn upscale_nearest(img: &RgbaImage, factor: u32) -> RgbaImage {
    let f = factor.max(1) as usize;
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut out = Vec::with_capacity(w * h * f * f * 4);
    let mut row = Vec::with_capacity(w * f * 4);
    for src in img.as_raw().chunks_exact(w * 4).take(h) {
        row.clear();
        for pixel in src.chunks_exact(4) {
            for _ in 0..f {
                row.extend_from_slice(pixel);
            }
        }
        for _ in 0..f {
            out.extend_from_slice(&row);
        }
    }
    RgbaImage::from_raw((w * f) as u32, (h * f) as u32, out).unwrap_or_default()
}

/// Images left to right, `gap` white pixels apart, top-aligned.
pub fn side_by_side(images: &[&RgbaImage], gap: u32) -> RgbaImage {
    let width = images.iter().map(|i| i.width()).sum::<u32>() + gap * images.len().saturating_sub(1) as u32;
    let height = images.iter().map(|i| i.height()).max().unwrap_or(0);
    let mut out = RgbaImage::from_pixel(width, height, Rgba([255, 255, 255, 255]));
    let stride = width as usize * 4;
    let mut x0 = 0usize;
    for img in images {
        let row_len = img.width() as usize * 4;
        if row_len > 0 {
            for (dst, src) in out.chunks_exact_mut(stride).zip(img.as_raw().chunks_exact(row_len)) {
                dst[x0 * 4..x0 * 4 + row_len].copy_from_slice(src);
            }
        }
        x0 += img.width() as usize + gap as usize;
    }
    out
}

/// A horizontal colour bar `width×height` from −1 (left) to +1 (right).
pub fn colorbar_image(cmap: Colormap, width: u32, height: u32) -> RgbaImage {
    let span = width.saturating_sub(1).max(1) as f32;
    RgbaImage::from_fn(width, height, |x, _| {
        let [r, g, b] = cmap.rgb(2.0 * x as f32 / span - 1.0);
        Rgba([r, g, b, 255])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_symmetric_and_composes() {
        let rel = [2.0, -1.0, 0.0, 4.0];
        let s = scale_for(&rel, Normalization::PerImage, 9.0);
        assert_eq!(s, 4.0);
        assert_eq!(scale_for(&[0.0], Normalization::PerImage, 9.0), 1.0);
        assert_eq!(scale_for(&rel, Normalization::Shared, 9.0), 9.0);
        let img = relevance_image(&rel, 2, 2, s, Colormap::Bwr);
        assert_eq!(img.get_pixel(1, 1).0, [255, 0, 0, 255]);
        assert_eq!(img.get_pixel(0, 1).0, [255, 255, 255, 255]);
        assert_eq!(img.get_pixel(1, 0).0, [191, 191, 255, 255]);
        let big = upscale_nearest(&img, 3);
        assert_eq!(big.dimensions(), (6, 6));
        assert_eq!(big.get_pixel(5, 5), img.get_pixel(1, 1));
        let both = side_by_side(&[&img, &big], 2);
        assert_eq!(both.dimensions(), (10, 6));
        assert_eq!(both.get_pixel(2, 0).0, [255, 255, 255, 255]);
        let digit = gray_image(&[0.0, 1.0, 0.5, 0.0], 2, 2, 0.0, 1.0);
        assert_eq!(digit.get_pixel(1, 0).0, [255, 255, 255, 255]);
        let over = overlay_image(&digit, &rel, s, Colormap::Bwr, 1.0);
        assert_eq!(over.get_pixel(1, 1).0, [255, 0, 0, 255]);
        // No relevance: the digit shows through, dimmed to 60 %.
        assert_eq!(over.get_pixel(0, 1).0, [77, 77, 77, 255]);
    }

    /// Every output pixel against the definitions, with images of different sizes side by side.
    #[test]
    fn upscaling_and_side_by_side_place_every_pixel() {
        let a = RgbaImage::from_fn(3, 2, |x, y| Rgba([x as u8, y as u8, 7, 255]));
        let b = RgbaImage::from_fn(2, 5, |x, y| Rgba([100 + x as u8, 100 + y as u8, 9, 255]));
        let big = upscale_nearest(&a, 4);
        assert_eq!(big.dimensions(), (12, 8));
        for (x, y, p) in big.enumerate_pixels() {
            assert_eq!(p, a.get_pixel(x / 4, y / 4));
        }
        assert_eq!(upscale_nearest(&a, 0), a);
        let both = side_by_side(&[&a, &b], 3);
        assert_eq!(both.dimensions(), (8, 5));
        for (x, y, p) in both.enumerate_pixels() {
            let want = match x {
                0..3 if y < 2 => *a.get_pixel(x, y),
                6..8 => *b.get_pixel(x - 6, y),
                _ => Rgba([255, 255, 255, 255]),
            };
            assert_eq!(*p, want, "({x}, {y})");
        }
    }
}
