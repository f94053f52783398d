//! Sample images with optional labels: the IDX reader (MNIST's format, optionally gzip-compressed).
//!
//! Minimal version for the GUI branch; the full reader (more formats) keeps this interface.

pub mod preprocess;

use std::io::Read;
use std::path::Path;

use crate::error::LoadError;

/// Largest file (after decompression) we read: 1 GiB.
const MAX_BYTES: u64 = 1 << 30;
const IDX_IMAGES: u32 = 2051;
const IDX_LABELS: u32 = 2049;

/// Gray images of one size, values in `[0, 1]`, with optional labels.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dataset {
    /// `N·H·W` values in `[0, 1]`, row-major, image after image.
    pub images: Vec<f32>,
    pub height: usize,
    pub width: usize,
    pub labels: Option<Vec<u8>>,
    pub class_names: Option<Vec<String>>,
    /// Where the images came from (for display).
    pub source: String,
}

impl Dataset {
    /// Number of images.
    pub fn len(&self) -> usize {
        let per = self.height * self.width;
        self.images.len().checked_div(per).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Image `i` (`H·W` values); empty if `i` is out of range.
    pub fn image(&self, i: usize) -> &[f32] {
        let per = self.height * self.width;
        self.images.get(i * per..(i + 1) * per).unwrap_or(&[])
    }

    /// Label of image `i`, if labels are known.
    pub fn label(&self, i: usize) -> Option<u8> {
        self.labels.as_ref()?.get(i).copied()
    }
}

/// Reads an IDX image file (magic 2051, `.gz` allowed) and optionally an IDX label file (magic 2049).
pub fn load_dataset(path: &Path, labels: Option<&Path>) -> Result<Dataset, LoadError> {
    let bytes = read_maybe_gz(path)?;
    let (magic, dims, body) = idx_header(path, &bytes)?;
    if magic == IDX_LABELS {
        return Err(LoadError::format(
            path,
            "this is an IDX label file (magic 2049); open it as labels",
        ));
    }
    if magic != IDX_IMAGES || dims.len() != 3 {
        return Err(LoadError::format(
            path,
            format!(
                "not an IDX image file: magic {magic}, {} dimensions (expected 2051 with 3)",
                dims.len()
            ),
        ));
    }
    let [n, height, width] = [dims[0], dims[1], dims[2]];
    let expected = n
        .checked_mul(height)
        .and_then(|v| v.checked_mul(width))
        .ok_or_else(|| LoadError::format(path, "image dimensions overflow"))?;
    if body.len() != expected {
        return Err(LoadError::format(
            path,
            format!(
                "header says {n} images of {height}x{width} ({expected} bytes) but the file holds {} bytes",
                body.len()
            ),
        ));
    }
    let images = body.iter().map(|&b| f32::from(b) / 255.0).collect();
    let labels = match labels {
        Some(lp) => Some(read_labels(lp, n)?),
        None => None,
    };
    Ok(Dataset {
        images,
        height,
        width,
        labels,
        class_names: None,
        source: path.display().to_string(),
    })
}

fn read_labels(path: &Path, count: usize) -> Result<Vec<u8>, LoadError> {
    let bytes = read_maybe_gz(path)?;
    let (magic, dims, body) = idx_header(path, &bytes)?;
    if magic != IDX_LABELS || dims.len() != 1 {
        return Err(LoadError::format(
            path,
            format!("not an IDX label file: magic {magic} (expected 2049)"),
        ));
    }
    if dims[0] != body.len() {
        return Err(LoadError::format(
            path,
            format!("header says {} labels but the file holds {}", dims[0], body.len()),
        ));
    }
    if body.len() != count {
        return Err(LoadError::format(
            path,
            format!("{} labels for {count} images", body.len()),
        ));
    }
    Ok(body.to_vec())
}

/// `(magic, dims, body)`; the magic's low byte is the dimension count, byte 2 the type (0x08 = u8).
fn idx_header<'a>(path: &Path, bytes: &'a [u8]) -> Result<(u32, Vec<usize>, &'a [u8]), LoadError> {
    let word = |i: usize| -> Option<u32> {
        let b = bytes.get(i * 4..i * 4 + 4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let magic = word(0).ok_or_else(|| LoadError::format(path, "file too short for an IDX header"))?;
    if magic >> 16 != 0 || (magic >> 8) & 0xff != 0x08 {
        return Err(LoadError::format(
            path,
            format!("not an unsigned-byte IDX file (magic {magic:#010x})"),
        ));
    }
    let ndims = (magic & 0xff) as usize;
    if !(1..=3).contains(&ndims) {
        return Err(LoadError::format(path, format!("IDX file with {ndims} dimensions")));
    }
    let dims = (1..=ndims)
        .map(|i| word(i).map(|d| d as usize))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| LoadError::format(path, "file too short for its IDX header"))?;
    Ok((magic, dims, &bytes[4 + 4 * ndims..]))
}

fn read_maybe_gz(path: &Path) -> Result<Vec<u8>, LoadError> {
    let file = std::fs::File::open(path).map_err(|e| LoadError::io(path, e))?;
    let mut raw = Vec::new();
    file.take(MAX_BYTES + 1)
        .read_to_end(&mut raw)
        .map_err(|e| LoadError::io(path, e))?;
    let mut out = Vec::new();
    if raw.starts_with(&[0x1f, 0x8b]) {
        flate2::read::GzDecoder::new(raw.as_slice())
            .take(MAX_BYTES + 1)
            .read_to_end(&mut out)
            .map_err(|e| LoadError::format(path, format!("gzip: {e}")))?;
    } else {
        out = raw;
    }
    if out.len() as u64 > MAX_BYTES {
        return Err(LoadError::format(path, "file larger than 1 GiB"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(magic: u32, dims: &[u32], body: &[u8]) -> Vec<u8> {
        let mut v = magic.to_be_bytes().to_vec();
        for d in dims {
            v.extend_from_slice(&d.to_be_bytes());
        }
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn reads_images_and_labels_and_rejects_truncation() {
        let dir = tempfile::tempdir().unwrap();
        let img = dir.path().join("img.idx");
        let lab = dir.path().join("lab.idx");
        std::fs::write(&img, idx(IDX_IMAGES, &[2, 2, 2], &[0, 255, 0, 0, 51, 0, 0, 0])).unwrap();
        std::fs::write(&lab, idx(IDX_LABELS, &[2], &[3, 9])).unwrap();
        let d = load_dataset(&img, Some(&lab)).unwrap();
        assert_eq!((d.len(), d.height, d.width), (2, 2, 2));
        assert_eq!(d.image(0), &[0.0, 1.0, 0.0, 0.0]);
        assert!((d.image(1)[0] - 0.2).abs() < 1e-6);
        assert_eq!(d.label(1), Some(9));
        std::fs::write(&img, idx(IDX_IMAGES, &[3, 2, 2], &[0; 8])).unwrap();
        let e = load_dataset(&img, None).unwrap_err().to_string();
        assert!(e.contains("3 images") && e.contains("img.idx"), "{e}");
    }
}
