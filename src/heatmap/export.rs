//! Writing heatmaps (PNG) and relevance (`.npy`, `.csv`): atomically, never over an existing file.

use std::io::Write;
use std::path::{Path, PathBuf};

use image::RgbaImage;
use ndarray::{ArrayD, IxDyn};
use ndarray_npy::WriteNpyExt;

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

/// Writes `bytes` to a temporary file next to `path`, then links it into place; fails if `path` exists. An
/// interrupted run never leaves a half-written file under `path` (the link is atomic); the data is not fsynced.
pub fn write_new_atomic(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    let io = |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    };
    if path.exists() {
        return Err(ExportError::Exists { path: path.into() });
    }
    // `hard_link` fails if the target exists, so a file that appeared meanwhile is never replaced.
    match via_temp_file(path, bytes, |tmp, to| std::fs::hard_link(tmp, to)) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(ExportError::Exists { path: path.into() }),
        Err(e) => Err(io(e)),
    }
}

/// Writes `bytes` to `.<name>.<pid>.tmp` next to `path`, then `publish(tmp, path)`; the temporary file never stays.
fn via_temp_file(path: &Path, bytes: &[u8], publish: fn(&Path, &Path) -> std::io::Result<()>) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let result = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes))
        .and_then(|()| publish(&tmp, path));
    // After a rename the temporary name is gone already; after a hard link or a failure it is removed here.
    let _ = std::fs::remove_file(&tmp);
    result
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

/// Writes `bytes` to a temporary file next to `path`, then renames it over `path` (replacing any old file).
/// Readers see either the old file or the complete new one, never a partial write.
pub fn replace_atomic(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    via_temp_file(path, bytes, |tmp, to| std::fs::rename(tmp, to)).map_err(|source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// `.npy` bytes of `values` (float32) with `shape`; `path` only names the file in errors.
pub fn npy_bytes(path: &Path, values: &[f32], shape: &[usize]) -> Result<Vec<u8>, ExportError> {
    let encode = |message: String| ExportError::Encode {
        path: path.into(),
        message,
    };
    let a = ArrayD::from_shape_vec(IxDyn(shape), values.to_vec()).map_err(|e| encode(e.to_string()))?;
    let mut buf = Vec::new();
    a.write_npy(&mut buf).map_err(|e| encode(e.to_string()))?;
    Ok(buf)
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
