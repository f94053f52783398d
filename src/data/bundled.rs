//! The files bundled under `assets/` (the default model and samples of the window and the command line).

use std::path::{Path, PathBuf};

/// A bundled file under `assets/`: next to the executable, else in the source tree.
pub fn default_asset(relative: &str) -> Option<PathBuf> {
    let beside_exe = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("assets").join(relative)));
    let in_tree = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets").join(relative);
    beside_exe.into_iter().chain([in_tree]).find(|p| p.is_file())
}
