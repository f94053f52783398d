//! The rule comparison grid: one sample under many rules, or one rule across several samples, computed in one job.

use std::sync::Arc;

use image::RgbaImage;
use ndarray::{ArrayD, IxDyn};

use super::job_error::JobError;
use super::state::SampleArray;
use crate::heatmap::{self, Colormap};
use crate::lrp::{InitRelevance, RuleChoice, Target, explain, grid_entries};
use crate::model::Model;

/// What the grid compares.
#[derive(Clone, Debug, PartialEq)]
pub enum CompareMode {
    /// The current sample under every configuration of the grid ([`grid_entries`]).
    Rules,
    /// The rule `choice` on the current sample and the next `count − 1` samples.
    Samples { choice: RuleChoice, count: usize },
}

/// One cell to compute.
#[derive(Clone, Debug)]
pub struct CellRequest {
    pub label: String,
    pub sample: usize,
    /// The preprocessed sample.
    pub input: Vec<f32>,
    pub choice: RuleChoice,
}

/// A grid to compute.
#[derive(Clone, Debug)]
pub struct CompareRequest {
    pub generation: u64,
    pub model: Arc<Model>,
    pub cells: Vec<CellRequest>,
    /// The value range of the model input: z^B's bounds where a choice gives none.
    pub input_range: (f32, f32),
    pub target: Target,
    pub init: InitRelevance,
}

/// One computed cell.
#[derive(Debug)]
pub struct CompareCell {
    pub label: String,
    pub sample: usize,
    /// Relevance at the model input (one sample), or why it could not be computed.
    pub relevance: Result<SampleArray, JobError>,
}

/// The grid of one request.
#[derive(Debug)]
pub struct CompareResult {
    pub generation: u64,
    pub cells: Vec<CompareCell>,
}

/// The cells of `mode`: `input_of(i)` gives the preprocessed sample `i`.
pub fn cells_for(
    mode: &CompareMode,
    sample: usize,
    sample_count: usize,
    mut input_of: impl FnMut(usize) -> Vec<f32>,
) -> Vec<CellRequest> {
    match mode {
        CompareMode::Rules => {
            let input = input_of(sample);
            grid_entries()
                .map(|entry| CellRequest {
                    label: entry.spec.to_string(),
                    sample,
                    input: input.clone(),
                    choice: entry.choice.clone(),
                })
                .collect()
        }
        CompareMode::Samples { choice, count } => (sample..sample_count)
            .take((*count).max(1))
            .map(|i| CellRequest {
                label: format!("#{i} {choice}"),
                sample: i,
                input: input_of(i),
                choice: choice.clone(),
            })
            .collect(),
    }
}

/// Computes every cell (on the worker); a failing cell carries its error, the others are still shown.
pub fn run_compare(req: &CompareRequest) -> CompareResult {
    let mut shape = vec![1];
    shape.extend_from_slice(req.model.input_shape());
    let cell = |cell: &CellRequest| -> Result<SampleArray, JobError> {
        let method = cell.choice.method(Some(req.input_range))?;
        let x = ArrayD::from_shape_vec(IxDyn(&shape), cell.input.clone()).map_err(|_| JobError::InputSize {
            got: cell.input.len(),
            input_shape: req.model.input_shape().to_vec(),
            input_len: req.model.input_len(),
        })?;
        let e = explain(&req.model, &x, &method, &req.target, req.init)?;
        SampleArray::of_sample(e.input_relevance(), 0).ok_or_else(|| JobError::request("no relevance computed"))
    };
    let cells = req
        .cells
        .iter()
        .map(|c| CompareCell {
            label: c.label.clone(),
            sample: c.sample,
            relevance: cell(c),
        })
        .collect();
    CompareResult {
        generation: req.generation,
        cells,
    }
}

/// Sums the channels of an input-relevance vector into one `per`-pixel map.
pub fn channel_sum(values: &[f32], per: usize) -> Vec<f32> {
    let mut out = vec![0.0; per];
    if per == 0 {
        return out;
    }
    for chunk in values.chunks_exact(per) {
        out.iter_mut().zip(chunk).for_each(|(o, v)| *o += v);
    }
    out
}

/// The colour scale of every cell: one shared maximum, or each cell's own.
pub fn cell_scales(maps: &[Option<Vec<f32>>], shared: bool) -> Vec<f32> {
    let own: Vec<f32> = maps
        .iter()
        .map(|m| m.as_deref().map_or(1.0, heatmap::max_abs).max(f32::MIN_POSITIVE))
        .collect();
    if shared {
        let top = own.iter().copied().fold(f32::MIN_POSITIVE, f32::max);
        vec![top; own.len()]
    } else {
        own
    }
}

/// The heatmap pictures of the cells (`None` for a failed cell), `width×height` each.
pub fn cell_images(
    result: &CompareResult,
    width: usize,
    height: usize,
    shared: bool,
    cmap: Colormap,
) -> Vec<Option<RgbaImage>> {
    cell_tiles(result, width, height, shared, cmap).0
}

/// [`cell_images`] with the scale each cell was drawn at (the largest |R| that reaches the colormap's end).
pub fn cell_tiles(
    result: &CompareResult,
    width: usize,
    height: usize,
    shared: bool,
    cmap: Colormap,
) -> (Vec<Option<RgbaImage>>, Vec<f32>) {
    let maps: Vec<Option<Vec<f32>>> = result
        .cells
        .iter()
        .map(|c| c.relevance.as_ref().ok().map(|r| channel_sum(r, width * height)))
        .collect();
    let scales = cell_scales(&maps, shared);
    let images = maps
        .iter()
        .zip(&scales)
        .map(|(m, &s)| m.as_ref().map(|m| heatmap::relevance_image(m, width, height, s, cmap)))
        .collect();
    (images, scales)
}

/// `a − b` of two cells' input maps, when both were computed.
pub fn difference(result: &CompareResult, a: usize, b: usize, per: usize) -> Option<Vec<f32>> {
    let ra = result.cells.get(a)?.relevance.as_ref().ok()?;
    let rb = result.cells.get(b)?.relevance.as_ref().ok()?;
    let (ma, mb) = (channel_sum(ra, per), channel_sum(rb, per));
    Some(ma.iter().zip(&mb).map(|(x, y)| x - y).collect())
}

/// Tiles of equal size in rows of `columns`, `gap` pixels apart on a white background; missing tiles stay blank.
pub fn grid_image(tiles: &[Option<RgbaImage>], columns: usize, gap: u32) -> RgbaImage {
    let columns = columns.max(1);
    let (tw, th) = tiles
        .iter()
        .flatten()
        .next()
        .map_or((1, 1), |t| (t.width(), t.height()));
    let rows = tiles.len().div_ceil(columns).max(1) as u32;
    let cols = columns.min(tiles.len().max(1)) as u32;
    let mut out = RgbaImage::from_pixel(
        cols * tw + (cols + 1) * gap,
        rows * th + (rows + 1) * gap,
        image::Rgba([255, 255, 255, 255]),
    );
    for (k, tile) in tiles.iter().enumerate() {
        let Some(tile) = tile else { continue };
        let (c, r) = ((k % columns) as u32, (k / columns) as u32);
        let x = gap + c * (tw + gap);
        let y = gap + r * (th + gap);
        image::imageops::overlay(&mut out, tile, i64::from(x), i64::from(y));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_scale_is_the_largest_and_channels_add_up() {
        let maps = vec![Some(vec![1.0, -3.0]), None, Some(vec![0.5, 0.25])];
        assert_eq!(cell_scales(&maps, true), vec![3.0; 3]);
        assert_eq!(cell_scales(&maps, false)[2], 0.5);
        assert_eq!(channel_sum(&[1.0, 2.0, 3.0, 4.0], 2), vec![4.0, 6.0]);
    }

    #[test]
    fn grid_image_has_room_for_every_tile() {
        let tile = Some(RgbaImage::new(4, 3));
        let img = grid_image(&[tile.clone(), tile.clone(), tile], 2, 1);
        assert_eq!((img.width(), img.height()), (2 * 4 + 3, 2 * 3 + 3));
    }
}
