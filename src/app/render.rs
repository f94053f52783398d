//! The input-level pictures of the current result (digit, heatmap, overlay), shared by the view and the exports.

use image::RgbaImage;

use super::state::{ExplainResult, Session, Settings};
use crate::heatmap;

/// The model input and its relevance as one `height×width` picture (channels summed), ready to colour.
#[derive(Clone, Debug, PartialEq)]
pub struct InputMaps {
    pub width: usize,
    pub height: usize,
    /// Model-input values (channel mean).
    pub input: Vec<f32>,
    /// Relevance per pixel (channel sum).
    pub relevance: Vec<f32>,
    /// Relevance that maps to the ends of the colormap.
    pub scale: f32,
    /// The model-input values of black and white.
    pub range: (f32, f32),
}

impl InputMaps {
    /// The maps of `result` on its input picture, coloured for the current preprocessing; `None` if they do not fit.
    pub fn of(settings: &Settings, session: &Session, result: &ExplainResult) -> Option<InputMaps> {
        let (height, width) = result.image;
        let (relevance, input) =
            heatmap::pixel_maps(result.relevance.first()?, result.activations.first()?, height * width)?;
        let scale = heatmap::scale_for(&relevance, settings.normalization, settings.shared_scale);
        Some(InputMaps {
            width,
            height,
            input,
            relevance,
            scale,
            range: session.preprocess.box_bounds(),
        })
    }

    pub fn digit(&self) -> RgbaImage {
        heatmap::gray_image(&self.input, self.width, self.height, self.range.0, self.range.1)
    }

    pub fn heat(&self, settings: &Settings) -> RgbaImage {
        heatmap::relevance_image(&self.relevance, self.width, self.height, self.scale, settings.colormap)
    }

    pub fn overlay(&self, settings: &Settings) -> RgbaImage {
        heatmap::overlay_image(
            &self.digit(),
            &self.relevance,
            self.scale,
            settings.colormap,
            settings.overlay_opacity,
        )
    }
}
