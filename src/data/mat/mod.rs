//! MATLAB Level 5 `.mat` datasets (compressed or not), read with `matfile` into plain vectors.
//!
//! MATLAB stores arrays column-major; this module turns them into upright, row-major images:
//! * `[N, 784]` (the LRP Toolbox's `test_images.mat`): one image per row, the 784 pixels in row-major order;
//! * `[784, N]`: one image per column, same pixel order;
//! * `[H, W, N]` (MATLAB's own image stacks) and `[N, H, W]`.
//!
//! Images are the largest numeric variable; labels come from a variable named like `labels`/`y` of matching length in
//! the same file, or from a sibling `*labels*.mat` (integers, `[N,1]` or `[1,N]`, or one-hot `[N,K]`). Roweis's
//! `mnist_all.mat` (`test0`…`test9`, `train0`…`train9`) gives the test digits with labels from the variable names.
//!
//! The file is first walked by this module: compressed variables are inflated with a size cap, non-numeric ones
//! dropped and dimensions checked, so that `matfile` only sees bounded, well-formed input.

pub mod tree;

use std::path::{Path, PathBuf};

use flate2::read::ZlibDecoder;
use matfile::{Array, MatFile, NumericData};

use super::bytes::{self, MAX_DECODED_BYTES, MAX_PIXELS};
use super::values::{labels_from_values, scale_floats};
use super::{Dataset, attach_labels, class_names_for, file_name};
use crate::error::LoadError;

const HEADER_LEN: usize = 128;
const MI_INT32: u32 = 5;
const MI_MATRIX: u32 = 14;
const MI_COMPRESSED: u32 = 15;

/// Reads images (and labels from the same file or, unless `labels` is given, a sibling labels file).
pub fn read(path: &Path, labels: Option<&Path>) -> Result<Dataset, LoadError> {
    let name = file_name(path).to_ascii_lowercase();
    if name.contains("label") && !name.contains("image") {
        return Err(LoadError::format(
            path,
            "this looks like a labels file: open the images file and give this one as its labels",
        ));
    }
    let mat = parse(path)?;
    let (mut ds, found_labels) = match digit_groups(&mat) {
        Some(groups) => dataset_from_groups(path, &groups)?,
        None => {
            let images = pick_images(path, &mat)?;
            let ds = images_from_array(path, images)?;
            let inner = mat
                .arrays()
                .iter()
                .filter(|a| a.name() != images.name() && looks_like_labels(a.name()))
                .find_map(|a| labels_from_array(path, a).ok().filter(|l| l.len() == ds.len()));
            (ds, inner)
        }
    };
    if let Some(l) = found_labels {
        ds.labels = Some(l);
    } else if labels.is_none()
        && let Some(sibling) = sibling_labels(path)
    {
        let l = read_labels(&sibling)?;
        attach_labels(&mut ds, l, &sibling)?;
    }
    Ok(ds)
}

/// Reads labels from a `.mat`: a variable named like `labels`/`y`, else the only (or first) numeric variable.
pub fn read_labels(path: &Path) -> Result<Vec<u8>, LoadError> {
    let mat = parse(path)?;
    let arrays = mat.arrays();
    let array = arrays
        .iter()
        .find(|a| looks_like_labels(a.name()))
        .or_else(|| arrays.first())
        .ok_or_else(|| LoadError::format(path, "no numeric variable"))?;
    labels_from_array(path, array)
}

/// Parses the file after making it safe for `matfile` (see the module docs). Used by every `.mat` reader.
pub(crate) fn parse(path: &Path) -> Result<MatFile, LoadError> {
    let data = bytes::read_capped(path, bytes::open(path)?, MAX_DECODED_BYTES)?;
    let clean = sanitise(path, &data)?;
    let parsed = std::panic::catch_unwind(|| MatFile::parse(clean.as_slice()));
    match parsed {
        Ok(Ok(mat)) => Ok(mat),
        Ok(Err(e)) => Err(LoadError::format(
            path,
            format!("not a readable MATLAB Level 5 .mat file ({e}); v7.3 (HDF5) files are not supported"),
        )),
        Err(_) => Err(LoadError::format(path, "the MATLAB parser failed on this file")),
    }
}

/// A copy of the file with compressed elements inflated (capped), and only numeric, non-sparse matrices with sane
/// dimensions kept.
fn sanitise(path: &Path, data: &[u8]) -> Result<Vec<u8>, LoadError> {
    if data.starts_with(b"MATLAB 7.3") || data.get(512..516) == Some(b"\x89HDF") {
        return Err(LoadError::format(
            path,
            "MATLAB v7.3 (HDF5) files are not supported; save with -v7 or -v6",
        ));
    }
    if !data.starts_with(b"MATLAB 5.0") || data.len() < HEADER_LEN {
        return Err(LoadError::format(
            path,
            "not a MATLAB Level 5 file (no 'MATLAB 5.0' header)",
        ));
    }
    let little = match &data[126..128] {
        b"IM" => true,
        b"MI" => false,
        _ => return Err(LoadError::format(path, "bad endianness indicator in the MATLAB header")),
    };
    let u32_at = |d: &[u8], at: usize| -> Option<u32> {
        let b: [u8; 4] = d.get(at..at + 4)?.try_into().ok()?;
        Some(if little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    };
    let mut out = data[..HEADER_LEN].to_vec();
    let mut at = HEADER_LEN;
    let mut kept = 0usize;
    while at + 8 <= data.len() {
        let (Some(kind), Some(size)) = (u32_at(data, at), u32_at(data, at + 4)) else {
            break;
        };
        if kind >> 16 != 0 {
            at += 8; // small data element at top level: nothing we use
            continue;
        }
        let size = size as usize;
        let body = data
            .get(at + 8..at + 8 + size)
            .ok_or_else(|| LoadError::format(path, format!("truncated: a variable at byte {at} ends past the file")))?;
        let element: Vec<u8>;
        let element = if kind == MI_COMPRESSED {
            let budget = MAX_DECODED_BYTES.saturating_sub(out.len() as u64);
            element = bytes::read_capped(path, ZlibDecoder::new(body), budget)?;
            at += 8 + size;
            element.as_slice()
        } else {
            let end = (at + 8 + size.div_ceil(8) * 8).min(data.len());
            let whole = &data[at..at + 8 + size];
            at = end;
            whole
        };
        if numeric_matrix_ok(path, element, &u32_at)? {
            out.extend_from_slice(element);
            out.resize(out.len().div_ceil(8) * 8, 0);
            kept += 1;
        }
    }
    if kept == 0 {
        return Err(LoadError::format(path, "no numeric matrix variable in the MATLAB file"));
    }
    Ok(out)
}

/// True for a well-formed numeric matrix element; errors for impossible dimensions.
fn numeric_matrix_ok(
    path: &Path,
    element: &[u8],
    u32_at: &dyn Fn(&[u8], usize) -> Option<u32>,
) -> Result<bool, LoadError> {
    if u32_at(element, 0) != Some(MI_MATRIX) {
        return Ok(false);
    }
    // Sub-elements: array flags (tag + 8 bytes), then the dimensions (miINT32 tag + values).
    let Some(flags) = u32_at(element, 16) else {
        return Ok(false);
    };
    let class = flags & 0xff;
    if !(6..=15).contains(&class) {
        return Ok(false); // cell, struct, object, char, sparse
    }
    let (Some(dim_kind), Some(dim_bytes)) = (u32_at(element, 24), u32_at(element, 28)) else {
        return Ok(false);
    };
    if dim_kind != MI_INT32 || dim_bytes < 8 || dim_bytes % 4 != 0 {
        return Ok(false);
    }
    let mut total = 1usize;
    for k in 0..(dim_bytes / 4) as usize {
        let d = u32_at(element, 32 + 4 * k).ok_or_else(|| LoadError::format(path, "truncated dimensions"))?;
        total = i32::try_from(d)
            .ok()
            .and_then(|d| total.checked_mul(d as usize))
            .filter(|&t| t <= i32::MAX as usize)
            .ok_or_else(|| LoadError::format(path, "a variable's dimensions are too large"))?;
    }
    // Every sub-element (flags, dimensions, name, real and imaginary parts) must fit inside the variable: `matfile`
    // rounds sizes up to 8 bytes in 32-bit arithmetic and panics on sizes near 4 GiB.
    let mut off = 8usize;
    while off + 8 <= element.len() {
        let (Some(kind), Some(size)) = (u32_at(element, off), u32_at(element, off + 4)) else {
            break;
        };
        let span = if kind >> 16 != 0 {
            8
        } else {
            8 + (size as usize).div_ceil(8) * 8
        };
        if kind >> 16 == 0 && (size as usize) > element.len() - off - 8 {
            return Err(LoadError::format(path, "a variable's part is larger than the variable"));
        }
        off += span;
    }
    Ok(true)
}

fn looks_like_labels(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.contains("label") || n == "y" || n.starts_with("y_") || n.ends_with("_y")
}

/// The largest numeric variable that is not named like labels.
fn pick_images<'a>(path: &Path, mat: &'a MatFile) -> Result<&'a Array, LoadError> {
    mat.arrays()
        .iter()
        .filter(|a| !looks_like_labels(a.name()))
        .max_by_key(|a| a.size().iter().product::<usize>())
        .ok_or_else(|| LoadError::format(path, "no numeric variable that could hold images"))
}

/// Values of an array, column-major, as f32 (uint8 already divided by 255, others scaled like `.npy` floats).
fn intensities(path: &Path, array: &Array) -> Result<(Vec<f32>, &'static str), LoadError> {
    match array.data() {
        NumericData::UInt8 { real, imag: None } => Ok((real.iter().map(|&v| f32::from(v) / 255.0).collect(), "")),
        NumericData::UInt8 { imag: Some(_), .. } => Err(complex(path, array)),
        other => {
            let values = values_f64(path, array, other)?;
            scale_floats(path, values.into_iter().map(|v| v as f32).collect())
        }
    }
}

fn complex(path: &Path, array: &Array) -> LoadError {
    LoadError::format(path, format!("variable {:?} is complex", array.name()))
}

fn values_f64(path: &Path, array: &Array, data: &NumericData) -> Result<Vec<f64>, LoadError> {
    fn conv<T: Copy + Into<f64>>(v: &[T]) -> Vec<f64> {
        v.iter().map(|&x| x.into()).collect()
    }
    let values = match data {
        NumericData::Int8 { real, imag: None } => conv(real),
        NumericData::UInt8 { real, imag: None } => conv(real),
        NumericData::Int16 { real, imag: None } => conv(real),
        NumericData::UInt16 { real, imag: None } => conv(real),
        NumericData::Int32 { real, imag: None } => conv(real),
        NumericData::UInt32 { real, imag: None } => conv(real),
        NumericData::Int64 { real, imag: None } => real.iter().map(|&x| x as f64).collect(),
        NumericData::UInt64 { real, imag: None } => real.iter().map(|&x| x as f64).collect(),
        NumericData::Single { real, imag: None } => conv(real),
        NumericData::Double { real, imag: None } => real.clone(),
        _ => return Err(complex(path, array)),
    };
    Ok(values)
}

/// Upright row-major images from a column-major array (see the module docs for the layouts).
fn images_from_array(path: &Path, array: &Array) -> Result<Dataset, LoadError> {
    let size = array.size().clone();
    let side = |n: usize| {
        let s = (n as f64).sqrt().round() as usize;
        (s >= 2 && s * s == n).then_some(s)
    };
    // index(n, r, c) of the column-major data for image n, pixel (r, c).
    let (n, h, w, layout) = match size[..] {
        [rows, cols] if side(cols).is_some() => {
            let s = side(cols).unwrap_or(0);
            (rows, s, s, Layout::RowsAreImages { rows })
        }
        [rows, cols] if side(rows).is_some() => {
            let s = side(rows).unwrap_or(0);
            (cols, s, s, Layout::ColumnsAreImages { rows })
        }
        [h, w, n] if h == w || size[2] != size[1] => (n, h, w, Layout::HeightWidthN { h, w }),
        [n, h, w] => (n, h, w, Layout::NHeightWidth { n, h }),
        _ => {
            return Err(LoadError::format(
                path,
                format!(
                    "variable {:?} of size {size:?} is not images: expected [N,784], [784,N], [H,W,N] or [N,H,W]",
                    array.name()
                ),
            ));
        }
    };
    if n == 0 || h == 0 || w == 0 || n * h * w > MAX_PIXELS {
        return Err(LoadError::format(
            path,
            format!("variable {:?} holds {n} images", array.name()),
        ));
    }
    let (values, note) = intensities(path, array)?;
    let mut images = Vec::with_capacity(n * h * w);
    for i in 0..n {
        for r in 0..h {
            for c in 0..w {
                let at = layout.index(i, r, c, w);
                images.push(values.get(at).copied().unwrap_or(0.0));
            }
        }
    }
    Ok(Dataset {
        images,
        height: h,
        width: w,
        labels: None,
        class_names: class_names_for(path),
        source: format!(
            "{} (MAT {:?} {size:?}, {n} images{note})",
            file_name(path),
            array.name()
        ),
    })
}

/// Where image `n`'s pixel `(r, c)` sits in column-major data.
#[derive(Clone, Copy, Debug)]
enum Layout {
    /// `[N, H·W]`, pixels row-major within a row.
    RowsAreImages { rows: usize },
    /// `[H·W, N]`, pixels row-major within a column.
    ColumnsAreImages { rows: usize },
    /// `[H, W, N]`.
    HeightWidthN { h: usize, w: usize },
    /// `[N, H, W]`.
    NHeightWidth { n: usize, h: usize },
}

impl Layout {
    fn index(self, i: usize, r: usize, c: usize, width: usize) -> usize {
        let pixel = r * width + c;
        match self {
            Layout::RowsAreImages { rows } => i + rows * pixel,
            Layout::ColumnsAreImages { rows } => pixel + rows * i,
            Layout::HeightWidthN { h, w } => r + h * c + h * w * i,
            Layout::NHeightWidth { n, h } => i + n * r + n * h * c,
        }
    }
}

/// Labels from a variable: `[N,1]`/`[1,N]` integers or one-hot `[N,K]` (column-major, so transposed first).
fn labels_from_array(path: &Path, array: &Array) -> Result<Vec<u8>, LoadError> {
    let size = array.size();
    let [rows, cols] = size[..] else {
        return Err(LoadError::format(path, format!("labels variable has size {size:?}")));
    };
    let values = values_f64(path, array, array.data())?;
    let mut row_major = Vec::with_capacity(values.len());
    for r in 0..rows {
        for c in 0..cols {
            row_major.push(values.get(r + rows * c).copied().unwrap_or(f64::NAN));
        }
    }
    labels_from_values(path, &row_major, rows, cols)
}

/// `test0`…`test9` (or `train0`…`train9`): Roweis's per-digit layout.
fn digit_groups(mat: &MatFile) -> Option<Vec<(u8, &Array)>> {
    for prefix in ["test", "train"] {
        let groups: Vec<(u8, &Array)> = (0u8..10)
            .filter_map(|d| mat.find_by_name(&format!("{prefix}{d}")).map(|a| (d, a)))
            .collect();
        if groups.len() == 10 {
            return Some(groups);
        }
    }
    None
}

fn dataset_from_groups(path: &Path, groups: &[(u8, &Array)]) -> Result<(Dataset, Option<Vec<u8>>), LoadError> {
    let mut all: Option<Dataset> = None;
    let mut labels = Vec::new();
    for &(digit, array) in groups {
        let part = images_from_array(path, array)?;
        labels.extend(std::iter::repeat_n(digit, part.len()));
        match &mut all {
            None => all = Some(part),
            Some(ds) if ds.height == part.height && ds.width == part.width => {
                if ds.images.len() + part.images.len() > MAX_PIXELS {
                    return Err(LoadError::format(path, "too many pixels"));
                }
                ds.images.extend_from_slice(&part.images);
            }
            Some(_) => {
                return Err(LoadError::format(
                    path,
                    "per-digit variables have different image sizes",
                ));
            }
        }
    }
    let mut ds = all.ok_or_else(|| LoadError::format(path, "no digit variables"))?;
    ds.source = format!(
        "{} (MAT {}0..{}9, {} images)",
        file_name(path),
        groups[0].1.name().trim_end_matches('0'),
        groups[0].1.name().trim_end_matches('0'),
        labels.len()
    );
    Ok((ds, Some(labels)))
}

/// `…images….mat` → `…labels….mat`, else the only `*label*.mat` in the folder.
fn sibling_labels(path: &Path) -> Option<PathBuf> {
    let name = file_name(path);
    let dir = path.parent().unwrap_or(Path::new(""));
    if name.contains("images") {
        let candidate = dir.join(name.replace("images", "labels"));
        if candidate.is_file() {
            return Some(candidate);
        }
    }
    let entries = std::fs::read_dir(if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    })
    .ok()?;
    let found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            let n = file_name(p).to_ascii_lowercase();
            n.contains("label") && n.ends_with(".mat") && p != path
        })
        .collect();
    match &found[..] {
        [only] => Some(only.clone()),
        _ => None,
    }
}
