//! CSV datasets: Kaggle's layout (`label,pixel0,…,pixel783`, header optional) or pixels only.
//!
//! Images are square: a row holds `side²` pixels, optionally with one label column (the first one, or the header's
//! `label` column). Values are 0–255 or 0–1, decided per file: if any value exceeds 1, all are divided by 255.
//! Plain or gzip (`.csv.gz`).

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use super::bytes::{self, MAX_PIXELS};
use super::{Dataset, class_names_for, file_name};
use crate::error::LoadError;

/// The longest line accepted (a row of 785 long floats is ~20 KB).
const MAX_LINE: usize = 1 << 20;

/// Header names taken to mean "the label column".
const LABEL_NAMES: [&str; 5] = ["label", "labels", "class", "y", "target"];

/// Reads a CSV dataset.
pub fn read(path: &Path) -> Result<Dataset, LoadError> {
    let mut reader = BufReader::new(bytes::decoded_reader(path)?);
    let mut line = Vec::new();
    let mut layout: Option<Layout> = None;
    let mut pixels: Vec<f32> = Vec::new();
    let mut labels: Vec<u8> = Vec::new();
    let mut max_value = 0.0f32;
    let mut line_no = 0usize;
    loop {
        line.clear();
        let n = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| bytes::decode_error(path, e))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        if line.len() > MAX_LINE {
            return Err(LoadError::format(
                path,
                format!("line {line_no} is longer than {MAX_LINE} bytes"),
            ));
        }
        let text = std::str::from_utf8(&line)
            .map_err(|_| LoadError::format(path, format!("line {line_no} is not UTF-8 text")))?;
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let cells: Vec<&str> = text.split(',').map(|c| c.trim().trim_matches('"')).collect();
        let current = match layout {
            Some(l) => l,
            None => {
                let is_header = cells.iter().any(|c| c.parse::<f64>().is_err());
                let label_column = if is_header {
                    cells
                        .iter()
                        .position(|c| LABEL_NAMES.contains(&c.to_ascii_lowercase().as_str()))
                } else {
                    None
                };
                let new = Layout::new(path, cells.len(), is_header, label_column)?;
                layout = Some(new);
                if is_header {
                    continue;
                }
                new
            }
        };
        if cells.len() != current.columns {
            return Err(LoadError::format(
                path,
                format!("line {line_no}: {} columns, expected {}", cells.len(), current.columns),
            ));
        }
        if pixels.len() + current.side * current.side > MAX_PIXELS {
            return Err(LoadError::format(path, format!("more than {MAX_PIXELS} pixels")));
        }
        for (col, cell) in cells.iter().enumerate() {
            if Some(col) == current.label_column {
                labels.push(parse_label(path, line_no, col, cell)?);
            } else {
                let v = parse_pixel(path, line_no, col, cell)?;
                max_value = max_value.max(v);
                pixels.push(v);
            }
        }
    }
    let Some(layout) = layout else {
        return Err(LoadError::format(path, "no data rows"));
    };
    let n = pixels.len() / (layout.side * layout.side);
    if n == 0 {
        return Err(LoadError::format(path, "no data rows, only a header"));
    }
    let scale = if max_value > 1.0 {
        pixels.iter_mut().for_each(|p| *p /= 255.0);
        "0-255"
    } else {
        "0-1"
    };
    Ok(Dataset {
        images: pixels,
        height: layout.side,
        width: layout.side,
        labels: layout.label_column.map(|_| labels),
        class_names: class_names_for(path),
        source: format!("{} (CSV, {n} images, values {scale})", file_name(path)),
    })
}

/// Where the label and pixels are in a row.
#[derive(Clone, Copy, Debug)]
struct Layout {
    columns: usize,
    label_column: Option<usize>,
    side: usize,
}

impl Layout {
    fn new(path: &Path, columns: usize, is_header: bool, label_column: Option<usize>) -> Result<Layout, LoadError> {
        let square = |n: usize| {
            let side = (n as f64).sqrt().round() as usize;
            (side >= 2 && side * side == n).then_some(side)
        };
        let found = match (is_header, label_column) {
            (true, Some(c)) => square(columns - 1).map(|side| (Some(c), side)),
            (true, None) => square(columns).map(|side| (None, side)),
            (false, _) => match square(columns) {
                Some(side) => Some((None, side)),
                None => square(columns.saturating_sub(1)).map(|side| (Some(0), side)),
            },
        };
        let (label_column, side) = found.ok_or_else(|| {
            LoadError::format(
                path,
                format!(
                    "{columns} columns: expected a square image's pixels (e.g. 784 for 28x28), \
                     optionally with a label column (785)"
                ),
            )
        })?;
        Ok(Layout {
            columns,
            label_column,
            side,
        })
    }
}

fn parse_pixel(path: &Path, line: usize, col: usize, cell: &str) -> Result<f32, LoadError> {
    let v: f32 = cell.parse().map_err(|_| {
        LoadError::format(
            path,
            format!("line {line}, column {}: {cell:?} is not a number", col + 1),
        )
    })?;
    if !(0.0..=255.0).contains(&v) {
        return Err(LoadError::format(
            path,
            format!("line {line}, column {}: pixel value {cell} is outside 0-255", col + 1),
        ));
    }
    Ok(v)
}

fn parse_label(path: &Path, line: usize, col: usize, cell: &str) -> Result<u8, LoadError> {
    let v: f64 = cell.parse().map_err(|_| {
        LoadError::format(
            path,
            format!("line {line}, column {}: label {cell:?} is not a number", col + 1),
        )
    })?;
    if v.fract() != 0.0 || !(0.0..=255.0).contains(&v) {
        return Err(LoadError::format(
            path,
            format!(
                "line {line}, column {}: label {cell} is not an integer in 0..=255",
                col + 1
            ),
        ));
    }
    Ok(v as u8)
}
