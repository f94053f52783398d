//! Digits from ordinary pictures (PNG/JPEG/BMP, one digit each, any size), converted the way MNIST was made.
//!
//! [`mnist_style`]: grayscale → invert a dark digit on a light background (judged by the border) → stretch contrast
//! above the background → crop to the ink's bounding box → fit into 20×20 keeping the aspect ratio (area averaging)
//! → place in 28×28 with the centre of mass at pixel (14, 14), as MNIST did.
//!
//! A folder is read in file-name order; a label comes from a parent folder named `0`…`9` or a leading digit of the
//! file name (`7.png`, `3_mine.jpg`), and the dataset has labels only if every image has one.

use std::path::{Path, PathBuf};

use ::image::{DynamicImage, ImageReader, Limits};

use super::bytes::MAX_PIXELS;
use super::{Dataset, file_name};
use crate::error::LoadError;

/// Side of the output images.
pub const SIDE: usize = 28;
/// Side of the box the digit is fitted into.
const BOX: usize = 20;
/// Largest accepted picture side.
const MAX_SIDE: u32 = 8192;
/// Ink below this fraction of the strongest stroke does not count for the bounding box.
const INK_THRESHOLD: f32 = 0.1;

const EXTENSIONS: [&str; 4] = ["png", "jpg", "jpeg", "bmp"];

/// Reads one picture as a one-image dataset.
pub fn read_file(path: &Path) -> Result<Dataset, LoadError> {
    let pixels = picture_to_mnist(path)?;
    let label = label_from_name(path);
    Ok(Dataset {
        images: pixels,
        height: SIDE,
        width: SIDE,
        labels: label.map(|l| vec![l]),
        class_names: None,
        source: format!("{} (image, converted to 28x28)", file_name(path)),
    })
}

/// Reads every picture in `dir` (and in subfolders named `0`…`9`), sorted by name.
pub fn read_folder(dir: &Path) -> Result<Dataset, LoadError> {
    let mut files = pictures_in(dir, None)?;
    let subdirs = std::fs::read_dir(dir).map_err(|e| LoadError::io(dir, e))?;
    for entry in subdirs.filter_map(Result::ok) {
        let path = entry.path();
        let name = file_name(&path);
        if path.is_dir()
            && let Ok(digit) = name.parse::<u8>()
            && digit < 10
        {
            files.extend(pictures_in(&path, Some(digit))?);
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    if files.is_empty() {
        return Err(LoadError::format(dir, "no .png/.jpg/.bmp pictures in this folder"));
    }
    if files.len() > MAX_PIXELS / (SIDE * SIDE) {
        return Err(LoadError::format(
            dir,
            format!("{} pictures is more than accepted", files.len()),
        ));
    }
    let mut images = Vec::with_capacity(files.len() * SIDE * SIDE);
    let mut labels = Vec::with_capacity(files.len());
    for (path, label) in &files {
        images.extend(picture_to_mnist(path)?);
        labels.push(*label);
    }
    let labels: Option<Vec<u8>> = labels.into_iter().collect();
    Ok(Dataset {
        images,
        height: SIDE,
        width: SIDE,
        labels,
        class_names: None,
        source: format!(
            "{}/ (images, {} pictures converted to 28x28)",
            file_name(dir),
            files.len()
        ),
    })
}

/// Picture files directly in `dir`, with a label from `folder_label` or the file name.
fn pictures_in(dir: &Path, folder_label: Option<u8>) -> Result<Vec<(PathBuf, Option<u8>)>, LoadError> {
    let entries = std::fs::read_dir(dir).map_err(|e| LoadError::io(dir, e))?;
    let mut found = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        if path.is_file() && EXTENSIONS.contains(&ext.as_str()) {
            let label = folder_label.or_else(|| label_from_name(&path));
            found.push((path, label));
        }
    }
    Ok(found)
}

/// A leading digit of the file name, if any.
fn label_from_name(path: &Path) -> Option<u8> {
    let first = file_name(path).chars().next()?;
    first.to_digit(10).map(|d| d as u8)
}

/// Decodes a picture (with size limits) and converts it.
fn picture_to_mnist(path: &Path) -> Result<Vec<f32>, LoadError> {
    let reader = ImageReader::open(path)
        .map_err(|e| LoadError::io(path, e))?
        .with_guessed_format()
        .map_err(|e| LoadError::io(path, e))?;
    let mut reader = reader;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    reader.limits(limits);
    let picture = reader
        .decode()
        .map_err(|e| LoadError::format(path, format!("cannot decode the picture: {e}")))?;
    let (w, h) = (picture.width() as usize, picture.height() as usize);
    Ok(mnist_style(&gray_of(&picture), w, h))
}

/// Luma in [0, 1]; for a picture with transparency, the opacity (strokes painted on a clear background).
fn gray_of(picture: &DynamicImage) -> Vec<f32> {
    if picture.color().has_alpha() {
        let rgba = picture.to_rgba32f();
        if rgba.pixels().any(|p| p.0[3] < 1.0) {
            return rgba.pixels().map(|p| p.0[3]).collect();
        }
    }
    picture.to_luma32f().into_raw()
}

/// Converts a grayscale picture (`w·h` values in [0, 1], row-major) into a 28×28 MNIST-style digit (ink = 1).
///
/// Returns all zeros for a blank picture or a size that does not match `gray`.
pub fn mnist_style(gray: &[f32], w: usize, h: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; SIDE * SIDE];
    if w == 0 || h == 0 || gray.len() != w * h {
        return out;
    }
    let ink = ink_of(gray, w, h);
    let Some((x0, y0, x1, y1)) = bounding_box(&ink, w, h) else {
        return out;
    };
    let (bw, bh) = (x1 - x0, y1 - y0);
    let scale = BOX as f64 / bw.max(bh) as f64;
    let nw = ((bw as f64 * scale).round() as usize).clamp(1, BOX);
    let nh = ((bh as f64 * scale).round() as usize).clamp(1, BOX);
    let patch = resample_area(&ink, w, (x0, y0, bw, bh), nw, nh);
    let mass: f64 = patch.iter().map(|&v| f64::from(v)).sum();
    if mass <= 0.0 {
        return out;
    }
    let (mut cx, mut cy) = (0.0f64, 0.0f64);
    for (k, &v) in patch.iter().enumerate() {
        cx += f64::from(v) * (k % nw) as f64;
        cy += f64::from(v) * (k / nw) as f64;
    }
    let half = SIDE as f64 / 2.0;
    let dx = (half - cx / mass).round() as i64;
    let dy = (half - cy / mass).round() as i64;
    for (k, &v) in patch.iter().enumerate() {
        let x = (k % nw) as i64 + dx;
        let y = (k / nw) as i64 + dy;
        if (0..SIDE as i64).contains(&x) && (0..SIDE as i64).contains(&y) {
            out[y as usize * SIDE + x as usize] = v;
        }
    }
    out
}

/// Ink in [0, 1]: inverted if the border is light, then stretched so the background is 0 and the darkest stroke 1.
fn ink_of(gray: &[f32], w: usize, h: usize) -> Vec<f32> {
    let border_mean = |g: &[f32]| {
        let (mut sum, mut count) = (0.0f64, 0usize);
        for y in 0..h {
            for x in 0..w {
                if x == 0 || y == 0 || x == w - 1 || y == h - 1 {
                    sum += f64::from(g[y * w + x]);
                    count += 1;
                }
            }
        }
        (sum / count.max(1) as f64) as f32
    };
    let mut ink: Vec<f32> = gray.iter().map(|&v| v.clamp(0.0, 1.0)).collect();
    if border_mean(&ink) > 0.5 {
        ink.iter_mut().for_each(|v| *v = 1.0 - *v);
    }
    let background = border_mean(&ink);
    let peak = ink.iter().copied().fold(0.0f32, f32::max);
    if peak - background > 1e-3 {
        let range = peak - background;
        ink.iter_mut()
            .for_each(|v| *v = ((*v - background) / range).clamp(0.0, 1.0));
    } else {
        ink.iter_mut().for_each(|v| *v = 0.0);
    }
    ink
}

/// `(x0, y0, x1, y1)` (exclusive ends) of pixels with ink above the threshold.
fn bounding_box(ink: &[f32], w: usize, h: usize) -> Option<(usize, usize, usize, usize)> {
    let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
    for y in 0..h {
        for x in 0..w {
            if ink[y * w + x] > INK_THRESHOLD {
                x0 = x0.min(x);
                y0 = y0.min(y);
                x1 = x1.max(x + 1);
                y1 = y1.max(y + 1);
            }
        }
    }
    (x1 > x0 && y1 > y0).then_some((x0, y0, x1, y1))
}

/// Area-averaging resample of the `(x0, y0, bw, bh)` region of a `w`-wide image to `nw`×`nh`: each output pixel is
/// the mean of the source area it covers, partial pixels weighted by overlap.
fn resample_area(src: &[f32], w: usize, region: (usize, usize, usize, usize), nw: usize, nh: usize) -> Vec<f32> {
    let (x0, y0, bw, bh) = region;
    let sx = bw as f64 / nw as f64;
    let sy = bh as f64 / nh as f64;
    let weights = |start: f64, end: f64, limit: usize| -> Vec<(usize, f64)> {
        let mut v = Vec::new();
        let mut i = start.floor() as usize;
        while (i as f64) < end && i < limit {
            let overlap = (end.min(i as f64 + 1.0) - start.max(i as f64)).max(0.0);
            if overlap > 0.0 {
                v.push((i, overlap));
            }
            i += 1;
        }
        v
    };
    let mut out = vec![0.0f32; nw * nh];
    for oy in 0..nh {
        let rows = weights(oy as f64 * sy, (oy + 1) as f64 * sy, bh);
        for ox in 0..nw {
            let cols = weights(ox as f64 * sx, (ox + 1) as f64 * sx, bw);
            let (mut sum, mut area) = (0.0f64, 0.0f64);
            for &(ry, wy) in &rows {
                for &(rx, wx) in &cols {
                    sum += f64::from(src[(y0 + ry) * w + x0 + rx]) * wy * wx;
                    area += wy * wx;
                }
            }
            out[oy * nw + ox] = if area > 0.0 { (sum / area) as f32 } else { 0.0 };
        }
    }
    out
}
