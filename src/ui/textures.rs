//! GPU textures of what is on screen, rebuilt only when the result or the display settings change.

use std::collections::HashMap;
use std::sync::Arc;

use egui::{ColorImage, TextureHandle, TextureOptions};
use image::RgbaImage;

use crate::app::render::InputMaps;
use crate::app::state::{Session, Settings};
use crate::heatmap::{self, Colormap, Normalization};

/// What the input textures were built from.
#[derive(Clone, Debug, PartialEq)]
struct InputKey {
    generation: u64,
    colormap: Colormap,
    normalization: Normalization,
    shared_scale: f32,
    opacity: f32,
}

/// What a layer's channel textures were built from: the display key and the stepper position.
type LayerKey = (InputKey, usize);

/// Digit, heatmap and overlay of the current result.
pub struct InputTextures {
    pub maps: InputMaps,
    pub digit: TextureHandle,
    pub heat: TextureHandle,
    pub overlay: TextureHandle,
}

/// One channel of a convolutional layer: relevance and activation maps.
pub struct ChannelTextures {
    pub relevance: TextureHandle,
    pub activation: TextureHandle,
    pub total: f32,
}

/// Textures and transient UI state (text being typed, the hovered pixel). Nothing here is domain state.
#[derive(Default)]
pub struct ViewCache {
    input: Option<(InputKey, Arc<InputTextures>)>,
    layer: Option<(LayerKey, Arc<Vec<ChannelTextures>>)>,
    colorbar: Option<(Colormap, TextureHandle)>,
    thumbs: HashMap<usize, TextureHandle>,
    thumbs_of: usize,
    /// How many times result textures were (re)built; tests check that repaints do not rebuild them.
    pub texture_builds: u64,
    /// The pixel `(row, col)` under the pointer.
    pub hover: Option<(usize, usize)>,
    /// The theme last applied.
    pub theme: Option<bool>,
    /// Text of the preprocessing field.
    pub preprocess_text: Option<String>,
    /// Text of the "open path" field.
    pub path_text: String,
    /// The in-window file browser while one is shown.
    pub browser: Option<super::file_browser::FileBrowser>,
    /// The comparison grid's textures and selection.
    pub compare: super::compare_panel::CompareCache,
    /// The conditional heatmap's texture.
    pub unit: super::unit_panel::UnitCache,
    /// The drawing tool.
    pub draw: super::draw_panel::DrawState,
    /// The Check tab's textures and path field.
    pub check: super::check_panel::CheckCache,
    /// The rule arithmetic view's chosen position and last computation.
    pub arithmetic: super::arithmetic_view::ArithmeticCache,
    /// The sample the browser last scrolled to (or saw clicked); another one is scrolled into view.
    pub browser_sample: Option<usize>,
    /// The stepper position last shown; another one is scrolled into view.
    pub stepper_layer: Option<usize>,
    /// A unit just chosen whose conditional view is still to be scrolled into view.
    pub scroll_to_unit: Option<(usize, usize)>,
    /// The unit last seen chosen.
    pub seen_unit: Option<(usize, usize)>,
}

/// An egui image of an RGBA picture.
pub fn color_image(img: &RgbaImage) -> ColorImage {
    ColorImage::from_rgba_unmultiplied([img.width() as usize, img.height() as usize], img.as_raw())
}

fn key(settings: &Settings, generation: u64) -> InputKey {
    InputKey {
        generation,
        colormap: settings.colormap,
        normalization: settings.normalization,
        shared_scale: settings.shared_scale,
        opacity: settings.overlay_opacity,
    }
}

impl ViewCache {
    /// The input textures of the current result (built on first use after a change).
    pub fn input(&mut self, ctx: &egui::Context, settings: &Settings, session: &Session) -> Option<Arc<InputTextures>> {
        let result = session.result.as_ref()?;
        let k = key(settings, result.generation);
        if let Some((old, t)) = &self.input
            && *old == k
        {
            return Some(t.clone());
        }
        let maps = InputMaps::of(settings, session, result)?;
        let load = |name: &str, img: RgbaImage| ctx.load_texture(name, color_image(&img), TextureOptions::NEAREST);
        let t = Arc::new(InputTextures {
            digit: load("digit", maps.digit()),
            heat: load("heatmap", maps.heat(settings)),
            overlay: load("overlay", maps.overlay(settings)),
            maps,
        });
        self.texture_builds += 1;
        self.input = Some((k, t.clone()));
        Some(t)
    }

    /// Per-channel maps of stepper position `layer` when it is `[C, H, W]`.
    pub fn channels(
        &mut self,
        ctx: &egui::Context,
        settings: &Settings,
        session: &Session,
        layer: usize,
    ) -> Option<Arc<Vec<ChannelTextures>>> {
        let result = session.result.as_ref()?;
        let model = session.model.as_ref()?;
        let [c, h, w] = *model.shape_at(layer.min(model.layers().len())) else {
            return None;
        };
        let k = (key(settings, result.generation), layer);
        if let Some((old, t)) = &self.layer
            && *old == k
        {
            return Some(t.clone());
        }
        let rel = result.relevance.get(layer)?;
        let act = result.activations.get(layer)?;
        let per = h * w;
        if rel.len() != c * per || act.len() != c * per {
            return None;
        }
        let scale = heatmap::scale_for(rel, settings.normalization, settings.shared_scale);
        let act_max = heatmap::max_abs(act).max(f32::MIN_POSITIVE);
        let maps: Vec<ChannelTextures> = (0..c)
            .map(|ch| {
                let r = &rel[ch * per..(ch + 1) * per];
                let a = &act[ch * per..(ch + 1) * per];
                let ri = heatmap::relevance_image(r, w, h, scale, settings.colormap);
                let ai = heatmap::gray_image(a, w, h, 0.0, act_max);
                ChannelTextures {
                    relevance: ctx.load_texture(format!("rel{ch}"), color_image(&ri), TextureOptions::NEAREST),
                    activation: ctx.load_texture(format!("act{ch}"), color_image(&ai), TextureOptions::NEAREST),
                    total: r.iter().sum(),
                }
            })
            .collect();
        self.texture_builds += 1;
        let t = Arc::new(maps);
        self.layer = Some((k, t.clone()));
        Some(t)
    }

    /// The colour bar of `cmap`.
    pub fn colorbar(&mut self, ctx: &egui::Context, cmap: Colormap) -> TextureHandle {
        if let Some((c, t)) = &self.colorbar
            && *c == cmap
        {
            return t.clone();
        }
        let img = heatmap::colorbar_image(cmap, 256, 1);
        let t = ctx.load_texture("colorbar", color_image(&img), TextureOptions::LINEAR);
        self.colorbar = Some((cmap, t.clone()));
        t
    }

    /// Thumbnail of sample `i`, made on first view; dropped when the dataset changes.
    pub fn thumbnail(&mut self, ctx: &egui::Context, session: &Session, i: usize) -> Option<TextureHandle> {
        let data = session.dataset.as_ref()?;
        let id = Arc::as_ptr(data) as usize;
        if self.thumbs_of != id {
            self.thumbs.clear();
            self.thumbs_of = id;
        }
        if let Some(t) = self.thumbs.get(&i) {
            return Some(t.clone());
        }
        let img = heatmap::gray_image(data.image(i), data.width, data.height, 0.0, 1.0);
        let t = ctx.load_texture(format!("thumb{i}"), color_image(&img), TextureOptions::NEAREST);
        self.thumbs.insert(i, t.clone());
        Some(t)
    }
}
