//! One sample's files: its name (`00042_label7_pred7`), its picture (the same pictures the window exports) and
//! its raw relevance bytes.

use std::path::Path;

use image::RgbaImage;

use crate::error::ExportError;
use crate::heatmap::{self, Colormap, Normalization, export};

/// What each PNG shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Layout {
    /// The heatmap alone.
    #[default]
    Heatmap,
    /// The digit and its heatmap, left to right (the window's "digit + heatmap" export).
    SideBySide,
    /// The heatmap blended over the digit.
    Overlay,
}

/// The file format of the raw relevance written next to each PNG.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawFormat {
    /// float32 `.npy` shaped like one model input.
    Npy,
    /// `.csv`, one line per input row.
    Csv,
}

impl RawFormat {
    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            RawFormat::Npy => "npy",
            RawFormat::Csv => "csv",
        }
    }
}

/// How the pictures are drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Picture {
    pub layout: Layout,
    pub colormap: Colormap,
    /// Pixels per input pixel (each input pixel becomes a `scale×scale` block).
    pub scale: u32,
    /// Opacity of the heatmap in [`Layout::Overlay`], `0..=1`.
    pub overlay_opacity: f32,
}

impl Default for Picture {
    fn default() -> Self {
        Picture {
            layout: Layout::Heatmap,
            colormap: Colormap::Bwr,
            scale: 1,
            overlay_opacity: heatmap::DEFAULT_OVERLAY_OPACITY,
        }
    }
}

/// `00042_label7_pred7` (or `00042_pred7` without a label), the index padded to `digits`.
pub fn file_stem(index: usize, digits: usize, label: Option<u8>, prediction: usize) -> String {
    match label {
        Some(l) => format!("{index:0digits$}_label{l}_pred{prediction}"),
        None => format!("{index:0digits$}_pred{prediction}"),
    }
}

/// Digits needed to write every index below `len`, at least 5.
pub fn index_digits(len: usize) -> usize {
    len.saturating_sub(1).to_string().len().max(5)
}

/// The picture of one sample: `relevance` and `input` are the model input and its relevance (all channels),
/// `height×width` pixels per channel; `input_range` are the input values drawn black and white.
/// Normalised per image. `None` if the sizes do not fit.
pub fn render(
    picture: &Picture,
    relevance: &[f32],
    input: &[f32],
    height: usize,
    width: usize,
    input_range: (f32, f32),
) -> Option<RgbaImage> {
    let (rel, inp) = heatmap::pixel_maps(relevance, input, height * width)?;
    let scale = heatmap::scale_for(&rel, Normalization::PerImage, 1.0);
    let digit = || heatmap::gray_image(&inp, width, height, input_range.0, input_range.1);
    let s = picture.scale.max(1);
    let heat = || {
        heatmap::upscale_nearest(
            &heatmap::relevance_image(&rel, width, height, scale, picture.colormap),
            s,
        )
    };
    Some(match picture.layout {
        Layout::Heatmap => heat(),
        Layout::SideBySide => heatmap::side_by_side(&[&heatmap::upscale_nearest(&digit(), s), &heat()], s * 2),
        Layout::Overlay => heatmap::upscale_nearest(
            &heatmap::overlay_image(&digit(), &rel, scale, picture.colormap, picture.overlay_opacity),
            s,
        ),
    })
}

/// The bytes of the raw relevance file of one sample shaped `input_shape` (`path` only names it in errors).
pub fn raw_bytes(
    format: RawFormat,
    path: &Path,
    relevance: &[f32],
    input_shape: &[usize],
) -> Result<Vec<u8>, ExportError> {
    match format {
        RawFormat::Npy => export::npy_bytes(path, relevance, input_shape),
        RawFormat::Csv => {
            let width = input_shape.last().copied().unwrap_or(relevance.len());
            Ok(export::csv_text(relevance, width).into_bytes())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_sizes() {
        assert_eq!(file_stem(42, 5, Some(7), 7), "00042_label7_pred7");
        assert_eq!(file_stem(3, 6, None, 1), "000003_pred1");
        assert_eq!((index_digits(10_000), index_digits(100_001)), (5, 6));
        let rel = [1.0, -1.0, 0.0, 0.5];
        let inp = [0.0, 1.0, 1.0, 0.0];
        let mut p = Picture {
            scale: 3,
            ..Picture::default()
        };
        let heat = render(&p, &rel, &inp, 2, 2, (0.0, 1.0)).unwrap();
        assert_eq!(heat.dimensions(), (6, 6));
        assert_eq!(heat.get_pixel(0, 0).0, [255, 0, 0, 255]);
        p.layout = Layout::SideBySide;
        assert_eq!(render(&p, &rel, &inp, 2, 2, (0.0, 1.0)).unwrap().dimensions(), (18, 6));
        p.layout = Layout::Overlay;
        assert_eq!(render(&p, &rel, &inp, 2, 2, (0.0, 1.0)).unwrap().dimensions(), (6, 6));
        assert!(render(&p, &rel, &inp[..3], 2, 2, (0.0, 1.0)).is_none());
    }
}
