//! Shared by the data fuzz targets: the readers take paths, so each input is written to a per-process temp file.

use std::path::PathBuf;

/// Writes `data` to a file named `name` in this process's scratch folder and loads it as a dataset.
#[allow(dead_code)] // each target uses one of the helpers
pub fn load_as(name: &str, data: &[u8]) {
    let dir = std::env::temp_dir().join(format!("lrp-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path: PathBuf = dir.join(name);
    if std::fs::write(&path, data).is_ok() {
        // Any Ok or Err is fine; a panic, abort or runaway allocation is the bug.
        let _ = lrp_explorer::data::load_dataset(&path, None);
        let _ = lrp_explorer::data::load_labels(&path);
    }
}

/// Writes `data` to a file named `name` in this process's scratch folder and opens it as a model.
#[allow(dead_code)] // each target uses one of the helpers
pub fn load_model_as(name: &str, data: &[u8]) {
    let dir = std::env::temp_dir().join(format!("lrp-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path: PathBuf = dir.join(name);
    if std::fs::write(&path, data).is_ok()
        && let Ok(m) = lrp_explorer::model::load(&path)
        && m.model.input_len() <= 4096
        && m.model.parameter_count() <= 1 << 20
    {
        let mut shape = vec![1];
        shape.extend_from_slice(m.model.input_shape());
        let _ = m.model.logits(&ndarray::ArrayD::zeros(ndarray::IxDyn(&shape)));
    }
}
