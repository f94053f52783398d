//! Line plots as pictures, with no GUI: axes with ticks and labels, one coloured line per curve (baselines dashed
//! and grey), a legend and a title. Drawn with plotters' bitmap backend; text uses egui's bundled Ubuntu font
//! through ab_glyph, so no system font library is needed.

use std::path::Path;
use std::sync::OnceLock;

use image::{Rgba, RgbaImage};
use plotters::prelude::*;

use crate::error::ExportError;

/// Width and height in pixels of exported plots.
pub const PLOT_SIZE: (u32, u32) = (960, 600);

/// Colours of successive curves (orange, blue, green, purple, red, teal); repeats after six.
pub const PALETTE: [[u8; 3]; 6] = [
    [230, 120, 40],
    [60, 130, 220],
    [40, 160, 80],
    [150, 80, 200],
    [210, 50, 60],
    [30, 160, 170],
];

/// Colour of a baseline curve (drawn dashed).
pub const BASELINE_COLOR: [u8; 3] = [150, 150, 150];

/// Font family name under which the bundled font is registered with plotters.
pub(crate) const FONT: &str = "sans-serif";

/// The colour of the `k`-th curve.
pub fn series_color(k: usize) -> [u8; 3] {
    PALETTE[k % PALETTE.len()]
}

/// One curve: a value at each x of its [`LinePlot`].
#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    /// Legend text.
    pub label: String,
    pub values: Vec<f32>,
    pub color: [u8; 3],
    /// Dashed (for baselines) instead of solid.
    pub dashed: bool,
}

/// A plot of curves sharing one x axis.
#[derive(Clone, Debug, PartialEq)]
pub struct LinePlot {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x: Vec<f32>,
    pub curves: Vec<Curve>,
}

impl LinePlot {
    /// Pixel-flipping curves: target logit against the fraction removed, each legend entry with its AOPC. `rules`
    /// are `(label, mean curve, AOPC)`; `random` is the random-order baseline, drawn dashed and grey.
    pub fn faithfulness(
        title: String,
        removed: &[f32],
        rules: &[(String, Vec<f32>, f32)],
        random: Option<(&[f32], f32)>,
    ) -> Self {
        let mut curves: Vec<Curve> = rules
            .iter()
            .enumerate()
            .map(|(k, (label, values, aopc))| Curve {
                label: format!("{label} (AOPC {aopc:.4})"),
                values: values.clone(),
                color: series_color(k),
                dashed: false,
            })
            .collect();
        if let Some((values, aopc)) = random {
            curves.push(Curve {
                label: format!("random (AOPC {aopc:.4})"),
                values: values.to_vec(),
                color: BASELINE_COLOR,
                dashed: true,
            });
        }
        Self {
            title,
            x_label: "fraction of the input removed".into(),
            y_label: "mean target logit".into(),
            x: removed.to_vec(),
            curves,
        }
    }
}

/// A plot that could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("nothing to plot: no curve has a finite point")]
    Empty,
    #[error("the bundled font cannot be read")]
    Font,
    #[error("drawing the plot: {message}")]
    Draw { message: String },
}

pub(crate) fn register_font() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, epaint_default_fonts::UBUNTU_LIGHT).is_ok()
    });
    if ok { Ok(()) } else { Err(PlotError::Font) }
}

/// `(min, max)` of the finite values, widened a little (and never empty).
fn value_range(values: impl Iterator<Item = f32>) -> Option<(f32, f32)> {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        return None;
    }
    let pad = ((hi - lo) * 0.05).max(1e-3);
    Some((lo - pad, hi + pad))
}

fn rgb(c: [u8; 3]) -> RGBColor {
    RGBColor(c[0], c[1], c[2])
}

/// Draws `plot` into a `width`×`height` picture.
pub fn line_plot_image(plot: &LinePlot, (width, height): (u32, u32)) -> Result<RgbaImage, PlotError> {
    register_font()?;
    let (x0, x1) = value_range(plot.x.iter().copied()).ok_or(PlotError::Empty)?;
    let (y0, y1) = value_range(plot.curves.iter().flat_map(|c| c.values.iter().copied())).ok_or(PlotError::Empty)?;
    let draw = |e: &dyn std::fmt::Display| PlotError::Draw { message: e.to_string() };
    let mut buf = vec![255u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| draw(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(&plot.title, (FONT, 24))
            .margin(18)
            .x_label_area_size(52)
            .y_label_area_size(72)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(|e| draw(&e))?;
        chart
            .configure_mesh()
            .x_desc(&plot.x_label)
            .y_desc(&plot.y_label)
            .label_style((FONT, 16))
            .axis_desc_style((FONT, 18))
            .bold_line_style(RGBColor(225, 225, 225))
            .light_line_style(RGBColor(244, 244, 244))
            .draw()
            .map_err(|e| draw(&e))?;
        for c in &plot.curves {
            let style = rgb(c.color).stroke_width(3);
            let points: Vec<(f32, f32)> = plot
                .x
                .iter()
                .zip(&c.values)
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .map(|(&x, &y)| (x, y))
                .collect();
            let series = if c.dashed {
                chart.draw_series(DashedLineSeries::new(points, 12, 8, style))
            } else {
                chart.draw_series(LineSeries::new(points, style))
            };
            series
                .map_err(|e| draw(&e))?
                .label(&c.label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 28, y)], style));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerLeft)
            .label_font((FONT, 16))
            .background_style(WHITE.mix(0.9))
            .border_style(RGBColor(180, 180, 180))
            .draw()
            .map_err(|e| draw(&e))?;
        root.present().map_err(|e| draw(&e))?;
    }
    let mut img = RgbaImage::new(width, height);
    for (p, c) in img.pixels_mut().zip(buf.chunks_exact(3)) {
        *p = Rgba([c[0], c[1], c[2], 255]);
    }
    Ok(img)
}

/// Draws `plot` at [`PLOT_SIZE`] and saves it as PNG at `path` (which must not exist yet), atomically.
pub fn save_line_plot(path: &Path, plot: &LinePlot) -> Result<(), ExportError> {
    let img = line_plot_image(plot, PLOT_SIZE).map_err(|e| ExportError::Encode {
        path: path.into(),
        message: e.to_string(),
    })?;
    super::export::save_png(path, &img)
}
