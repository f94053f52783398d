//! Writing heatmaps (PNG) and relevance (`.npy`, `.csv`): atomically, never over an existing file.

use std::path::{Path, PathBuf};

use image::RgbaImage;

use crate::error::ExportError;

/// `path` if it does not exist, else `stem (2).ext`, `stem (3).ext`, … — the first free name.
pub fn unique_path(path: &Path) -> PathBuf {
    if !path.exists() {
        return path.to_path_buf();
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    (2..)
        .map(|k| path.with_file_name(format!("{stem} ({k}){ext}")))
        .find(|p| !p.exists())
        .unwrap_or_else(|| path.to_path_buf())
}

/// Writes `bytes` to `path` atomically (see [`crate::atomic_file::create_new`]); fails if `path` exists. An
/// interrupted run never leaves a half-written file under `path`; the data is not fsynced.
pub fn write_new_atomic(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    crate::atomic_file::create_new(path, bytes).map_err(|source| match source.kind() {
        std::io::ErrorKind::AlreadyExists => ExportError::Exists { path: path.into() },
        _ => ExportError::Io {
            path: path.to_path_buf(),
            source,
        },
    })
}

/// PNG bytes of an image.
pub fn png_bytes(path: &Path, img: &RgbaImage) -> Result<Vec<u8>, ExportError> {
    let mut buf = std::io::Cursor::new(Vec::new());
    img.write_to(&mut buf, image::ImageFormat::Png)
        .map_err(|e| ExportError::Encode {
            path: path.into(),
            message: e.to_string(),
        })?;
    Ok(buf.into_inner())
}

/// Saves `img` as PNG at `path` (which must not exist yet).
pub fn save_png(path: &Path, img: &RgbaImage) -> Result<(), ExportError> {
    write_new_atomic(path, &png_bytes(path, img)?)
}

/// Writes `bytes` to `path`, replacing any old file atomically (see [`crate::atomic_file::replace`]).
pub fn replace_atomic(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    crate::atomic_file::replace(path, bytes).map_err(|source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// `.npy` bytes of `values` (float32) with `shape`; `path` only names the file in errors.
pub fn npy_bytes(path: &Path, values: &[f32], shape: &[usize]) -> Result<Vec<u8>, ExportError> {
    let mut buf = Vec::with_capacity(128 + 4 * values.len());
    write_npy_f32(&mut buf, values, shape).map_err(|e| ExportError::Encode {
        path: path.into(),
        message: e.to_string(),
    })?;
    Ok(buf)
}

/// Writes row-major float32 `values` with `shape` in the `.npy` format (version 1.0, little-endian), streaming
/// the data in blocks: as fast as the writer, with no copy of the whole array.
pub fn write_npy_f32(w: &mut impl std::io::Write, values: &[f32], shape: &[usize]) -> std::io::Result<()> {
    if shape.iter().product::<usize>() != values.len() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} values do not fill the shape {shape:?}", values.len()),
        ));
    }
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_text = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape_text}, }}");
    // Magic (6) + version (2) + length (2) + header, padded with spaces to a multiple of 64, ending in '\n'.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');
    let length = u16::try_from(header.len())
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "npy header longer than 65535 bytes"))?;
    w.write_all(b"\x93NUMPY\x01\x00")?;
    w.write_all(&length.to_le_bytes())?;
    w.write_all(header.as_bytes())?;
    let mut block = Vec::with_capacity(1 << 16);
    for chunk in values.chunks(1 << 14) {
        block.clear();
        for v in chunk {
            block.extend_from_slice(&v.to_le_bytes());
        }
        w.write_all(&block)?;
    }
    Ok(())
}

/// CSV text of `values`, `width` numbers per line.
pub fn csv_text(values: &[f32], width: usize) -> String {
    let mut text = String::new();
    for row in values.chunks(width.max(1)) {
        let line: Vec<String> = row.iter().map(|v| format!("{v:e}")).collect();
        text.push_str(&line.join(","));
        text.push('\n');
    }
    text
}

/// Saves `values` with `shape` as a float32 `.npy`.
pub fn save_npy(path: &Path, values: &[f32], shape: &[usize]) -> Result<(), ExportError> {
    write_new_atomic(path, &npy_bytes(path, values, shape)?)
}

/// Saves `values` as CSV, `width` numbers per line.
pub fn save_csv(path: &Path, values: &[f32], width: usize) -> Result<(), ExportError> {
    write_new_atomic(path, csv_text(values, width).as_bytes())
}

#[cfg(test)]
mod tests {
    use ndarray::{ArrayD, IxDyn};
    use ndarray_npy::ReadNpyExt;

    /// What we write, ndarray-npy (and so NumPy) reads back: shapes of every rank, empty arrays included.
    #[test]
    fn npy_files_read_back_with_their_shape_and_values() {
        for shape in [vec![], vec![3], vec![2, 3], vec![0, 4], vec![2, 1, 28, 28]] {
            let n: usize = shape.iter().product();
            let values: Vec<f32> = (0..n).map(|i| i as f32 * 0.5 - 3.0).collect();
            let bytes = super::npy_bytes(std::path::Path::new("x.npy"), &values, &shape).unwrap();
            assert_eq!(bytes.len() % 4, 0);
            let back = ArrayD::<f32>::read_npy(&bytes[..]).unwrap();
            assert_eq!(
                back,
                ArrayD::from_shape_vec(IxDyn(&shape), values).unwrap(),
                "{shape:?}"
            );
        }
        assert!(super::npy_bytes(std::path::Path::new("x.npy"), &[1.0; 5], &[2, 3]).is_err());
    }

    use super::*;

    #[test]
    fn never_overwrites_and_picks_new_names() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.csv");
        save_csv(&p, &[1.0, -0.5, 2.0, 0.0], 2).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "1e0,-5e-1\n2e0,0e0\n");
        assert!(matches!(save_csv(&p, &[0.0], 1), Err(ExportError::Exists { .. })));
        assert_eq!(unique_path(&p), dir.path().join("r (2).csv"));
        save_npy(&unique_path(&p), &[1.0; 6], &[2, 3]).unwrap();
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 2);
        replace_atomic(&p, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            2,
            "no temporary file left"
        );
    }
}
