//! The IDX format of the MNIST distribution (`*-images-idx3-ubyte`, `*-labels-idx1-ubyte`), raw or gzip.
//!
//! Header: two zero bytes, a type byte (`0x08` = unsigned byte), the number of dimensions, then each dimension as a
//! big-endian `u32`; the data follow. The header is checked against the file (or, for gzip, the decoded stream is
//! capped to what the header claims) before any buffer of that size exists.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;

use super::bytes::{self, MAX_DECODED_BYTES, MAX_PIXELS};
use super::{Dataset, attach_labels, class_names_for, file_name};
use crate::error::LoadError;

/// Magic number of an IDX file of unsigned bytes with 3 dimensions (images).
pub const IMAGES_MAGIC: u32 = 0x0803;
/// Magic number of an IDX file of unsigned bytes with 1 dimension (labels).
pub const LABELS_MAGIC: u32 = 0x0801;

/// Reads an images file and its labels (`labels`, else the matching labels file next to it, if any).
pub fn read(path: &Path, labels: Option<&Path>) -> Result<Dataset, LoadError> {
    let (pixels, dims) = read_idx(path, IMAGES_MAGIC)?;
    let [n, height, width] = [dims[0], dims[1], dims[2]];
    let mut ds = Dataset {
        images: pixels.iter().map(|&p| f32::from(p) / 255.0).collect(),
        height,
        width,
        labels: None,
        class_names: class_names_for(path),
        source: format!("{} (IDX, {n} images)", file_name(path)),
    };
    if labels.is_none()
        && let Some(found) = find_labels(path)
    {
        let labels = read_labels(&found)?;
        attach_labels(&mut ds, labels, &found)?;
    }
    Ok(ds)
}

/// Reads an IDX1 labels file.
pub fn read_labels(path: &Path) -> Result<Vec<u8>, LoadError> {
    Ok(read_idx(path, LABELS_MAGIC)?.0)
}

/// The labels file belonging to an images file, if one exists next to it: `train-images-idx3-ubyte` ↔
/// `train-labels-idx1-ubyte` (either with or without `.gz`), and generally `…images…` → `…labels…`.
pub fn find_labels(images: &Path) -> Option<PathBuf> {
    let name = file_name(images);
    let stem = name.strip_suffix(".gz").unwrap_or(&name);
    let candidates = [
        stem.replace("images", "labels").replace("idx3", "idx1"),
        stem.replace("images", "labels"),
        stem.replace("idx3", "idx1"),
    ];
    let dir = images.parent().unwrap_or(Path::new(""));
    for candidate in candidates {
        if candidate == stem {
            continue;
        }
        for name in [candidate.clone(), format!("{candidate}.gz")] {
            let path = dir.join(&name);
            if path.is_file() {
                return Some(path);
            }
        }
    }
    None
}

/// Writes `count` images of `height`×`width` bytes as IDX3 (gzip if the name ends in `.gz`).
pub fn write_idx_images(
    path: &Path,
    pixels: &[u8],
    count: usize,
    height: usize,
    width: usize,
) -> Result<(), LoadError> {
    if count * height * width != pixels.len() {
        return Err(LoadError::format(
            path,
            format!("{} pixels is not {count} images of {height}x{width}", pixels.len()),
        ));
    }
    write_idx(path, IMAGES_MAGIC, &[count, height, width], pixels)
}

/// Writes labels as IDX1 (gzip if the name ends in `.gz`).
pub fn write_idx_labels(path: &Path, labels: &[u8]) -> Result<(), LoadError> {
    write_idx(path, LABELS_MAGIC, &[labels.len()], labels)
}

fn write_idx(path: &Path, magic: u32, dims: &[usize], data: &[u8]) -> Result<(), LoadError> {
    let mut header = magic.to_be_bytes().to_vec();
    for &d in dims {
        let d = u32::try_from(d).map_err(|_| LoadError::format(path, format!("dimension {d} exceeds u32")))?;
        header.extend_from_slice(&d.to_be_bytes());
    }
    let io = |e| LoadError::io(path, e);
    let file = BufWriter::new(File::create(path).map_err(io)?);
    let mut out: Box<dyn Write> = if file_name(path).ends_with(".gz") {
        Box::new(GzEncoder::new(file, Compression::default()))
    } else {
        Box::new(file)
    };
    out.write_all(&header).map_err(io)?;
    out.write_all(data).map_err(io)?;
    out.flush().map_err(io)?;
    drop(out);
    Ok(())
}

/// Reads an IDX file of unsigned bytes with the expected magic; returns the data and the dimensions.
fn read_idx(path: &Path, magic: u32) -> Result<(Vec<u8>, Vec<usize>), LoadError> {
    let gzip = bytes::is_gzip(path)?;
    let mut reader = bytes::decoded_reader(path)?;
    let mut head = [0u8; 4];
    let got = bytes::read_up_to(&mut reader, &mut head).map_err(|e| bytes::decode_error(path, e))?;
    if got < 4 {
        return Err(LoadError::format(path, "truncated: shorter than the 4-byte IDX magic"));
    }
    let found = u32::from_be_bytes(head);
    if found != magic {
        return Err(LoadError::format(path, wrong_magic(found, magic)));
    }
    let ndims = (magic & 0xff) as usize;
    let mut dims_bytes = vec![0u8; 4 * ndims];
    let got = bytes::read_up_to(&mut reader, &mut dims_bytes).map_err(|e| bytes::decode_error(path, e))?;
    if got < dims_bytes.len() {
        return Err(LoadError::format(path, "truncated: the IDX header ends early"));
    }
    let dims: Vec<usize> = dims_bytes
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let shape = dims.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("x");
    let total = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    let total = match total {
        Some(t) if t as u64 <= MAX_DECODED_BYTES && t <= MAX_PIXELS => t,
        _ => {
            return Err(LoadError::format(
                path,
                format!("header claims {shape} values, more than this reader accepts ({MAX_PIXELS})"),
            ));
        }
    };
    if dims.contains(&0) {
        return Err(LoadError::format(
            path,
            format!("header claims an empty array ({shape})"),
        ));
    }
    let header_len = 4 + 4 * ndims as u64;
    if !gzip {
        let len = bytes::file_len(path)?;
        if len != header_len + total as u64 {
            return Err(LoadError::format(
                path,
                format!(
                    "{}: header claims {shape} ({} data bytes) but the file has {} data bytes",
                    if len < header_len + total as u64 {
                        "truncated"
                    } else {
                        "size mismatch"
                    },
                    total,
                    len.saturating_sub(header_len)
                ),
            ));
        }
    }
    let mut data = Vec::new();
    reader
        .take(total as u64 + 1)
        .read_to_end(&mut data)
        .map_err(|e| bytes::decode_error(path, e))?;
    if data.len() > total {
        return Err(LoadError::format(
            path,
            format!("size mismatch: more data than the header's {shape} claims"),
        ));
    }
    if data.len() != total {
        return Err(LoadError::format(
            path,
            format!(
                "truncated: header claims {shape} ({total} data bytes) but only {} are present",
                data.len()
            ),
        ));
    }
    Ok((data, dims))
}

fn wrong_magic(found: u32, expected: u32) -> String {
    let what = |m: u32| match m {
        IMAGES_MAGIC => "IDX images (2051)".to_string(),
        LABELS_MAGIC => "IDX labels (2049)".to_string(),
        m if m >> 16 == 0 => format!("IDX type 0x{:02x} with {} dimensions ({m})", (m >> 8) & 0xff, m & 0xff),
        m => format!("{m:#010x}, not an IDX file"),
    };
    format!("wrong magic number: expected {}, found {}", what(expected), what(found))
}
