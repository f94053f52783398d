//! Line plots rendered headless as PNG: size, the curves' colours, text, and no overwriting.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use image::{Rgba, RgbaImage};
use lrp_explorer::error::ExportError;
use lrp_explorer::heatmap::plot::{BASELINE_COLOR, LinePlot, PALETTE, PLOT_SIZE, line_plot_image, save_line_plot};

fn count(img: &RgbaImage, c: [u8; 3]) -> usize {
    img.pixels().filter(|p| **p == Rgba([c[0], c[1], c[2], 255])).count()
}

fn sample_plot() -> LinePlot {
    let removed: Vec<f32> = (0..=10).map(|k| k as f32 * 0.02).collect();
    let fast: Vec<f32> = removed.iter().map(|r| 8.0 - 30.0 * r).collect();
    let slow: Vec<f32> = removed.iter().map(|r| 8.0 - 10.0 * r).collect();
    let random: Vec<f32> = removed.iter().map(|r| 8.0 - 2.0 * r).collect();
    LinePlot::faithfulness(
        "Pixel flipping · cnn · predicted class · 100 samples".into(),
        &removed,
        &[("epsilon_plus".into(), fast, 3.3), ("gradient".into(), slow, 1.1)],
        Some((&random, 0.22)),
    )
}

#[test]
fn the_plot_has_every_curve_colour_and_text() {
    let plot = sample_plot();
    assert_eq!(plot.curves.len(), 3);
    assert_eq!(plot.curves[0].label, "epsilon_plus (AOPC 3.3000)");
    assert!(plot.curves[2].dashed && plot.curves[2].color == BASELINE_COLOR);
    let img = line_plot_image(&plot, (800, 500)).unwrap();
    assert_eq!(img.dimensions(), (800, 500));
    let (orange, blue, grey) = (
        count(&img, PALETTE[0]),
        count(&img, PALETTE[1]),
        count(&img, BASELINE_COLOR),
    );
    eprintln!("pixels: orange {orange}, blue {blue}, grey {grey}");
    // Each line is 3 pixels wide and crosses most of the plot (plus its legend sample).
    assert!(orange > 600 && blue > 600, "orange {orange}, blue {blue}");
    // The dashed baseline: fewer pixels than a solid line of the same length, but clearly drawn.
    assert!(grey > 300 && grey < blue, "grey {grey}");
    // Text (title, tick labels, legend) leaves dark anti-aliased pixels; the background stays mostly white.
    let dark = img
        .pixels()
        .filter(|p| p.0[0] < 90 && p.0[1] < 90 && p.0[2] < 90)
        .count();
    let white = count(&img, [255, 255, 255]);
    assert!(dark > 500, "dark {dark}");
    assert!(white > 800 * 500 / 2, "white {white}");
    // The title sits at the top centre: dark pixels in the top band.
    let title_band = (0..40)
        .flat_map(|y| (200..600).map(move |x| (x, y)))
        .filter(|&(x, y)| img.get_pixel(x, y).0[0] < 120)
        .count();
    assert!(title_band > 100, "title pixels {title_band}");
}

#[test]
fn saving_writes_a_png_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("curves.png");
    save_line_plot(&path, &sample_plot()).unwrap();
    let img = image::open(&path).unwrap().to_rgba8();
    assert_eq!(img.dimensions(), PLOT_SIZE);
    assert!(count(&img, PALETTE[0]) > 0 && count(&img, PALETTE[1]) > 0 && count(&img, BASELINE_COLOR) > 0);
    let before = std::fs::read(&path).unwrap();
    let mut other = sample_plot();
    other.curves.truncate(1);
    let err = save_line_plot(&path, &other).unwrap_err();
    assert!(matches!(err, ExportError::Exists { .. }), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before, "the first file is unchanged");
    // No temporary file is left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn an_empty_plot_is_an_error() {
    let plot = LinePlot::faithfulness("t".into(), &[], &[], None);
    let err = line_plot_image(&plot, (400, 300)).unwrap_err();
    assert_eq!(err.to_string(), "nothing to plot: no curve has a finite point");
}
