//! What an export writes, prepared on the UI thread, and the writing itself (on the io worker).

use super::job_error::JobError;
use crate::heatmap::export;
use crate::heatmap::plot::LinePlot;
use image::RgbaImage;

/// The content of an export, prepared on the UI thread from the current result.
#[derive(Clone, Debug)]
pub enum ExportData {
    Image(RgbaImage),
    Array {
        values: Vec<f32>,
        shape: Vec<usize>,
    },
    Csv {
        values: Vec<f32>,
        width: usize,
    },
    /// Text written as is (e.g. the faithfulness curves as CSV).
    Text(String),
    /// A line plot drawn as PNG (e.g. the faithfulness curves).
    Plot(LinePlot),
    /// The comparison grid with its names, scales and colour bar, drawn as PNG.
    Grid {
        text: crate::heatmap::grid::GridText,
        cells: Vec<crate::heatmap::grid::GridCell>,
        columns: usize,
        colormap: crate::heatmap::Colormap,
        /// Pixels per heatmap pixel (the tiles are upscaled in the export job, off the UI thread).
        scale: u32,
    },
}

pub(super) fn write_export(path: &std::path::Path, data: &ExportData) -> Result<(), JobError> {
    match data {
        ExportData::Image(img) => export::save_png(path, img),
        ExportData::Array { values, shape } => export::save_npy(path, values, shape),
        ExportData::Csv { values, width } => export::save_csv(path, values, *width),
        ExportData::Text(text) => export::write_new_atomic(path, text.as_bytes()),
        ExportData::Plot(plot) => crate::heatmap::plot::save_line_plot(path, plot),
        ExportData::Grid {
            text,
            cells,
            columns,
            colormap,
            scale,
        } => {
            let cells: Vec<_> = cells
                .iter()
                .map(|c| crate::heatmap::grid::GridCell {
                    image: c.image.as_ref().map(|t| crate::heatmap::upscale_nearest(t, *scale)),
                    caption: c.caption.clone(),
                    note: c.note.clone(),
                })
                .collect();
            let img = crate::heatmap::grid::labelled_grid(text, &cells, *columns, *colormap).map_err(|e| {
                crate::error::ExportError::Encode {
                    path: path.into(),
                    message: e.to_string(),
                }
            })?;
            export::save_png(path, &img)
        }
    }?;
    Ok(())
}
