//! NumPy `.npy` and `.npz` datasets (uint8, float32 or float64 images; integer or one-hot labels).
//!
//! Image arrays may be `[N,784]`, `[N,28,28]`, `[N,1,28,28]` or `[N,28,28,1]` (any square side), or one image
//! (`[H,W]`, `[784]`). uint8 is divided by 255; floats are used as given if their maximum is at most 1, else divided
//! by 255 (noted in `source`).
//!
//! `.npz` split selection: `data.npz` takes the test split if there is one (`x_test`/`y_test`), else `x`/`y`,
//! `images`/`labels`, then `x_train`/`y_train`, or the only array. `data.npz:train` takes `x_train`/`y_train`, and
//! `data.npz:KEY` takes the array `KEY` (its labels: `KEY` with `x`→`y` or `images`→`labels`).
//!
//! Each array's header is checked against its byte length before ndarray-npy reads it.

use std::path::{Path, PathBuf};

use ndarray::ArrayD;
use ndarray_npy::ReadNpyExt;

use super::bytes::{self, MAX_DECODED_BYTES, MAX_PIXELS};
use super::values::{labels_from_values, scale_floats};
use super::{Dataset, attach_labels, class_names_for, file_name};
use crate::error::LoadError;

/// Image keys tried in order when an `.npz` is opened without a selector, with their label keys.
const DEFAULT_PAIRS: [(&str, &str); 5] = [
    ("x_test", "y_test"),
    ("x", "y"),
    ("images", "labels"),
    ("x_train", "y_train"),
    ("X", "Y"),
];

/// Splits `data.npz:train` into the file and the selector; a path that exists as a file is never split.
pub fn split_npz_selector(path: &Path) -> (PathBuf, Option<String>) {
    if path.exists() {
        return (path.to_path_buf(), None);
    }
    let text = path.to_string_lossy();
    if let Some(at) = text.rfind(".npz:") {
        let (file, selector) = text.split_at(at + 4);
        return (PathBuf::from(file), Some(selector[1..].to_string()));
    }
    (path.to_path_buf(), None)
}

/// Reads a `.npy` of images; labels from a sibling `labels.npy`, `<stem>_labels.npy`, or the stem with
/// `images`→`labels` / `x`→`y`, if one exists.
/// Skips the search when `labels` (given by the caller) is set.
pub fn read_npy_file(path: &Path, labels: Option<&Path>) -> Result<Dataset, LoadError> {
    let array = parse_npy(path, &bytes::read_all(path)?)?;
    let mut ds = images_from_array(path, array, &file_name(path), "NPY")?;
    if labels.is_none()
        && let Some(labels_path) = sibling_labels(path)
    {
        let labels = read_labels_npy(&labels_path)?;
        attach_labels(&mut ds, labels, &labels_path)?;
    }
    Ok(ds)
}

/// Reads any numeric `.npy` as `f32` values in its logical shape (relevance maps; no scaling), bounded like the
/// image reader.
pub fn read_f32_array(path: &Path) -> Result<ArrayD<f32>, LoadError> {
    Ok(match parse_npy(path, &bytes::read_all(path)?)? {
        NpyArray::U8(a) => a.mapv(f32::from),
        NpyArray::F32(a) => a,
        NpyArray::F64(a) => a.mapv(|v| v as f32),
        NpyArray::Int(a) => a.mapv(|v| v as f32),
    })
}

/// Reads images (and labels, if paired and `labels` is not given) from an `.npz`; `selector` is the part after `:`
/// (see the module docs).
pub fn read_npz(path: &Path, selector: Option<&str>, labels: Option<&Path>) -> Result<Dataset, LoadError> {
    let mut zip = open_zip(path)?;
    let names: Vec<String> = zip
        .file_names()
        .filter_map(|n| n.strip_suffix(".npy"))
        .map(String::from)
        .collect();
    let (x_key, y_key) = choose_keys(path, &names, selector)?;
    let array = read_npz_array(path, &mut zip, &x_key)?;
    let label = match selector {
        Some(s) => format!("{}:{s}", file_name(path)),
        None => file_name(path),
    };
    let mut ds = images_from_array(path, array, &label, &format!("NPZ {x_key}"))?;
    if let Some(y_key) = y_key.filter(|_| labels.is_none()) {
        let (values, rows, cols) = to_f64(path, read_npz_array(path, &mut zip, &y_key)?)?;
        let labels = labels_from_values(path, &values, rows, cols)?;
        attach_labels(
            &mut ds,
            labels,
            &path.with_file_name(format!("{}:{y_key}", file_name(path))),
        )?;
    }
    Ok(ds)
}

/// Reads labels from a `.npy` (integers, `[N]` or `[N,1]`, or one-hot `[N,K]`).
pub fn read_labels_npy(path: &Path) -> Result<Vec<u8>, LoadError> {
    let array = parse_npy(path, &bytes::read_all(path)?)?;
    let (values, rows, cols) = to_f64(path, array)?;
    labels_from_values(path, &values, rows, cols)
}

/// Reads labels from an `.npz`: the key `selector`, else `y_test`, `y`, `labels`, `y_train`, or the only array.
pub fn read_labels_npz(path: &Path, selector: Option<&str>) -> Result<Vec<u8>, LoadError> {
    let mut zip = open_zip(path)?;
    let names: Vec<String> = zip
        .file_names()
        .filter_map(|n| n.strip_suffix(".npy"))
        .map(String::from)
        .collect();
    let key = match selector {
        Some(s) if names.iter().any(|n| n == s) => s.to_string(),
        Some(s) if names.iter().any(|n| *n == format!("y_{s}")) => format!("y_{s}"),
        Some(s) => return Err(no_key(path, s, &names)),
        None => ["y_test", "y", "labels", "y_train"]
            .iter()
            .find(|k| names.iter().any(|n| n == *k))
            .map(|k| k.to_string())
            .or_else(|| (names.len() == 1).then(|| names[0].clone()))
            .ok_or_else(|| no_key(path, "y_test", &names))?,
    };
    let (values, rows, cols) = to_f64(path, read_npz_array(path, &mut zip, &key)?)?;
    labels_from_values(path, &values, rows, cols)
}

/// A decoded array of one of the supported element types.
enum NpyArray {
    U8(ArrayD<u8>),
    F32(ArrayD<f32>),
    F64(ArrayD<f64>),
    Int(ArrayD<i64>),
}

impl NpyArray {
    fn shape(&self) -> &[usize] {
        match self {
            NpyArray::U8(a) => a.shape(),
            NpyArray::F32(a) => a.shape(),
            NpyArray::F64(a) => a.shape(),
            NpyArray::Int(a) => a.shape(),
        }
    }
}

fn open_zip(path: &Path) -> Result<zip::ZipArchive<std::fs::File>, LoadError> {
    zip::ZipArchive::new(bytes::open(path)?)
        .map_err(|e| LoadError::format(path, format!("not a valid .npz (zip) archive: {e}")))
}

fn read_npz_array(path: &Path, zip: &mut zip::ZipArchive<std::fs::File>, key: &str) -> Result<NpyArray, LoadError> {
    let entry = zip
        .by_name(&format!("{key}.npy"))
        .map_err(|e| LoadError::format(path, format!("array {key:?}: {e}")))?;
    if entry.size() > MAX_DECODED_BYTES {
        return Err(LoadError::format(
            path,
            format!("array {key:?} is {} bytes, more than this reader accepts", entry.size()),
        ));
    }
    let data = bytes::read_capped(path, entry, MAX_DECODED_BYTES)?;
    parse_npy(&path.with_file_name(format!("{}:{key}", file_name(path))), &data)
}

fn no_key(path: &Path, wanted: &str, names: &[String]) -> LoadError {
    LoadError::format(path, format!("no array {wanted:?}; the archive holds {names:?}"))
}

/// The image key and (if present) the label key.
fn choose_keys(path: &Path, names: &[String], selector: Option<&str>) -> Result<(String, Option<String>), LoadError> {
    let has = |k: &str| names.iter().any(|n| n == k);
    let paired = |x: &str| {
        let candidates = [
            x.replacen("x", "y", 1),
            x.replacen("X", "Y", 1),
            x.replace("images", "labels"),
        ];
        candidates.into_iter().find(|y| y != x && has(y))
    };
    match selector {
        Some(s) if has(&format!("x_{s}")) => {
            let x = format!("x_{s}");
            let y = paired(&x);
            Ok((x, y))
        }
        Some(s) if has(s) => Ok((s.to_string(), paired(s))),
        Some(s) => Err(no_key(path, &format!("x_{s}"), names)),
        None => {
            if let Some((x, y)) = DEFAULT_PAIRS.iter().find(|(x, _)| has(x)) {
                return Ok((x.to_string(), has(y).then(|| y.to_string())));
            }
            match names {
                [only] => Ok((only.clone(), None)),
                _ => Err(LoadError::format(
                    path,
                    format!("cannot tell which array holds the images among {names:?}; name one as FILE.npz:KEY"),
                )),
            }
        }
    }
}

fn sibling_labels(path: &Path) -> Option<PathBuf> {
    let stem = path.file_stem()?.to_string_lossy().into_owned();
    let dir = path.parent().unwrap_or(Path::new(""));
    let mut candidates = vec![format!("{stem}_labels.npy")];
    for (from, to) in [("images", "labels"), ("x_", "y_"), ("X_", "y_"), ("x", "y")] {
        if stem.contains(from) {
            candidates.push(format!("{}.npy", stem.replacen(from, to, 1)));
        }
    }
    candidates.push("labels.npy".to_string());
    candidates
        .into_iter()
        .map(|name| dir.join(name))
        .find(|p| p.is_file() && p.as_path() != path)
}

/// Interprets an array as images; see the module docs for the accepted shapes.
fn images_from_array(path: &Path, array: NpyArray, name: &str, kind: &str) -> Result<Dataset, LoadError> {
    let shape = array.shape().to_vec();
    let (n, height, width) = image_layout(&shape).ok_or_else(|| {
        LoadError::format(
            path,
            format!("array of shape {shape:?} is not images: expected [N,784], [N,28,28], [N,1,28,28] or [N,28,28,1]"),
        )
    })?;
    if n == 0 || height == 0 || width == 0 {
        return Err(LoadError::format(
            path,
            format!("the array of shape {shape:?} holds no pixels"),
        ));
    }
    let (images, note) = match array {
        NpyArray::U8(a) => (a.iter().map(|&v| f32::from(v) / 255.0).collect(), ""),
        NpyArray::F32(a) => scale_floats(path, a.iter().copied().collect())?,
        NpyArray::F64(a) => scale_floats(path, a.iter().map(|&v| v as f32).collect())?,
        NpyArray::Int(_) => {
            return Err(LoadError::format(
                path,
                "integer images other than uint8 are not supported; save them as uint8 or float",
            ));
        }
    };
    Ok(Dataset {
        images,
        height,
        width,
        labels: None,
        class_names: class_names_for(path),
        source: format!("{name} ({kind}, {n} images{note})"),
    })
}

/// `(N, H, W)` for an accepted image shape.
fn image_layout(shape: &[usize]) -> Option<(usize, usize, usize)> {
    let side = |n: usize| {
        let s = (n as f64).sqrt().round() as usize;
        (s >= 2 && s * s == n).then_some(s)
    };
    match *shape {
        [len] => side(len).map(|s| (1, s, s)),
        [n, len] => match side(len) {
            Some(s) => Some((n, s, s)),
            None => Some((1, n, len)),
        },
        [n, h, w] => Some((n, h, w)),
        [n, 1, h, w] | [n, h, w, 1] => Some((n, h, w)),
        _ => None,
    }
}

/// Row-major values with the array as `rows × cols` (vectors as one column).
fn to_f64(path: &Path, array: NpyArray) -> Result<(Vec<f64>, usize, usize), LoadError> {
    let shape = array.shape().to_vec();
    let (rows, cols) = match shape[..] {
        [n] => (n, 1),
        [n, k] => (n, k),
        _ => {
            return Err(LoadError::format(
                path,
                format!("labels of shape {shape:?}: expected [N], [N,1] or one-hot [N,K]"),
            ));
        }
    };
    let values = match array {
        NpyArray::U8(a) => a.iter().map(|&v| f64::from(v)).collect(),
        NpyArray::F32(a) => a.iter().map(|&v| f64::from(v)).collect(),
        NpyArray::F64(a) => a.iter().copied().collect(),
        NpyArray::Int(a) => a.iter().map(|&v| v as f64).collect(),
    };
    Ok((values, rows, cols))
}

/// The parsed `.npy` header: element type and shape, and where the data start.
struct Header {
    descr: String,
    shape: Vec<usize>,
    data_start: usize,
}

/// Checks the header against the data length, then lets ndarray-npy decode.
fn parse_npy(path: &Path, data: &[u8]) -> Result<NpyArray, LoadError> {
    let header = parse_header(path, data)?;
    let item = item_size(&header.descr)
        .ok_or_else(|| LoadError::format(path, format!("unsupported element type {:?}", header.descr)))?;
    let count = header
        .shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&c| c <= MAX_PIXELS)
        .ok_or_else(|| LoadError::format(path, format!("shape {:?} is larger than accepted", header.shape)))?;
    let have = data.len() - header.data_start;
    if have != count * item {
        return Err(LoadError::format(
            path,
            format!(
                "{}: header claims shape {:?} of {:?} ({} bytes) but {have} data bytes follow",
                if have < count * item {
                    "truncated"
                } else {
                    "size mismatch"
                },
                header.shape,
                header.descr,
                count * item
            ),
        ));
    }
    let kind = header.descr.get(1..).unwrap_or("");
    let err = |e: ndarray_npy::ReadNpyError| LoadError::format(path, format!("cannot read the array: {e}"));
    Ok(match kind {
        "u1" => NpyArray::U8(ArrayD::<u8>::read_npy(data).map_err(err)?),
        "f4" => NpyArray::F32(ArrayD::<f32>::read_npy(data).map_err(err)?),
        "f8" => NpyArray::F64(ArrayD::<f64>::read_npy(data).map_err(err)?),
        "i8" => NpyArray::Int(ArrayD::<i64>::read_npy(data).map_err(err)?),
        "i1" => NpyArray::Int(ArrayD::<i8>::read_npy(data).map_err(err)?.mapv(i64::from)),
        "i2" => NpyArray::Int(ArrayD::<i16>::read_npy(data).map_err(err)?.mapv(i64::from)),
        "i4" => NpyArray::Int(ArrayD::<i32>::read_npy(data).map_err(err)?.mapv(i64::from)),
        "u2" => NpyArray::Int(ArrayD::<u16>::read_npy(data).map_err(err)?.mapv(i64::from)),
        "u4" => NpyArray::Int(ArrayD::<u32>::read_npy(data).map_err(err)?.mapv(i64::from)),
        _ => {
            return Err(LoadError::format(
                path,
                format!("unsupported element type {:?}", header.descr),
            ));
        }
    })
}

fn item_size(descr: &str) -> Option<usize> {
    let kind = descr.get(1..2)?;
    let size: usize = descr.get(2..)?.parse().ok()?;
    (["u", "i", "f"].contains(&kind) && [1, 2, 4, 8].contains(&size)).then_some(size)
}

fn parse_header(path: &Path, data: &[u8]) -> Result<Header, LoadError> {
    let bad = |m: &str| LoadError::format(path, format!("not a valid .npy: {m}"));
    if !data.starts_with(b"\x93NUMPY") || data.len() < 10 {
        return Err(bad("missing the \\x93NUMPY magic"));
    }
    let (len, start): (usize, usize) = match data[6] {
        1 => (u16::from_le_bytes([data[8], data[9]]) as usize, 10),
        2 | 3 if data.len() >= 12 => (u32::from_le_bytes([data[8], data[9], data[10], data[11]]) as usize, 12),
        v => return Err(bad(&format!("unknown version {v}"))),
    };
    let end = start
        .checked_add(len)
        .filter(|&e| e <= data.len())
        .ok_or_else(|| bad("truncated header"))?;
    let text = std::str::from_utf8(&data[start..end]).map_err(|_| bad("header is not text"))?;
    // Each key exactly once, so that this check and ndarray-npy's own parse see the same shape.
    for key in ["'descr'", "'shape'", "'fortran_order'"] {
        if text.matches(key).count() != 1 {
            return Err(bad(&format!("the header must name {key} exactly once")));
        }
    }
    let descr = dict_value(text, "descr")
        .and_then(|v| v.strip_prefix('\'').and_then(|v| v.split('\'').next()))
        .ok_or_else(|| bad("no 'descr' in the header (structured arrays are not supported)"))?;
    let shape_text = dict_value(text, "shape")
        .and_then(|v| v.strip_prefix('('))
        .and_then(|v| v.split(')').next())
        .ok_or_else(|| bad("no 'shape' in the header"))?;
    let shape = shape_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| bad(&format!("bad shape ({shape_text})")))?;
    Ok(Header {
        descr: descr.to_string(),
        shape,
        data_start: end,
    })
}

/// The text after `'key':` in a Python dict literal, leading spaces removed.
fn dict_value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let at = text.find(&format!("'{key}'"))?;
    let rest = text.get(at + key.len() + 2..)?.trim_start().strip_prefix(':')?;
    Some(rest.trim_start())
}
