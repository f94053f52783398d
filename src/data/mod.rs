//! Sample datasets: one [`Dataset`] type, a reader per file format, and the preprocessing to model input.
//!
//! Every reader returns raw intensities in `[0, 1]`, row-major and upright, whatever the file stored.

mod bundled;
pub(crate) mod bytes;
mod choose;
pub mod csv;
pub mod idx;
pub mod image;
mod labels;
pub mod mat;
pub mod npy;
pub mod preprocess;
mod values;

use std::ops::Range;
use std::path::Path;

use crate::error::LoadError;

pub use bundled::default_asset;
pub use choose::{METADATA_KEY, PreprocessSource, RANGE_CONVENTION_KEY, choose_preprocess};
pub use labels::{labels_next_to, load_labels};
pub use preprocess::{Preprocess, read_sidecar, sidecar_path, write_sidecar};

/// The ten Fashion-MNIST class names, by label.
pub const FASHION_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// A set of equally sized grayscale images with optional labels.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dataset {
    /// `N·H·W` raw intensities in `[0, 1]`, row-major, upright (0 = background, 1 = ink).
    pub images: Vec<f32>,
    pub height: usize,
    pub width: usize,
    /// One label per image, if the source had them.
    pub labels: Option<Vec<u8>>,
    /// Names of the classes, indexed by label (e.g. Fashion-MNIST's).
    pub class_names: Option<Vec<String>>,
    /// What was read, e.g. `"t10k-images-idx3-ubyte.gz (IDX, 10000 images)"`.
    pub source: String,
}

impl Dataset {
    /// Number of images.
    pub fn len(&self) -> usize {
        let per = self.height * self.width;
        self.images.len().checked_div(per).unwrap_or(0)
    }

    /// True if there are no images.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Pixels of image `i` (`H·W`, row-major).
    ///
    /// # Panics
    /// If `i >= self.len()`, like slice indexing.
    pub fn image(&self, i: usize) -> &[f32] {
        let per = self.height * self.width;
        &self.images[i * per..(i + 1) * per]
    }

    /// Label of image `i`, if labels are known and `i` is in range.
    pub fn label(&self, i: usize) -> Option<u8> {
        self.labels.as_ref().and_then(|l| l.get(i).copied())
    }

    /// Name of class `label`: the class name if known, else the number.
    pub fn class_name(&self, label: u8) -> String {
        self.class_names
            .as_ref()
            .and_then(|names| names.get(label as usize).cloned())
            .unwrap_or_else(|| label.to_string())
    }

    /// How many images carry each label (index = label); `None` without labels.
    /// The vector covers at least every label present and every named class.
    pub fn label_counts(&self) -> Option<Vec<usize>> {
        let labels = self.labels.as_ref()?;
        let max = labels.iter().copied().max().map_or(0, |m| m as usize + 1);
        let named = self.class_names.as_ref().map_or(0, Vec::len);
        let mut counts = vec![0usize; max.max(named)];
        for &l in labels {
            counts[l as usize] += 1;
        }
        Some(counts)
    }

    /// The images in `range` (clamped to the dataset), with their labels.
    pub fn subset(&self, range: Range<usize>) -> Dataset {
        let n = self.len();
        let start = range.start.min(n);
        let end = range.end.clamp(start, n);
        let per = self.height * self.width;
        Dataset {
            images: self.images[start * per..end * per].to_vec(),
            height: self.height,
            width: self.width,
            labels: self.labels.as_ref().map(|l| l[start..end].to_vec()),
            class_names: self.class_names.clone(),
            source: format!("{} [{start}..{end}]", self.source),
        }
    }
}

/// Opens a dataset of any supported format, by extension or, failing that, by magic bytes.
///
/// * IDX (`*-images-idx3-ubyte`, raw or `.gz`); labels from the matching `*-labels-idx1-ubyte` next to it.
/// * CSV (`label,pixel0..pixel783` as on Kaggle, or pixels only); `.csv.gz` too.
/// * `.npy` / `.npz`. For an `.npz`, `file.npz:train` picks `x_train`/`y_train`; the default is the test split
///   if present (see [`npy`]).
/// * MATLAB `.mat` (Level 5, compressed or not); labels from a sibling `*labels*.mat`.
/// * PNG/JPEG/BMP of one digit, or a folder of them, converted MNIST-style (see [`image`]).
///
/// `labels` overrides any labels found in or next to the file (IDX1, `.npy`, `.mat`, or text with one integer per
/// line); its count must match the images.
pub fn load_dataset(path: &Path, labels: Option<&Path>) -> Result<Dataset, LoadError> {
    let (file, npz_split) = npy::split_npz_selector(path);
    let mut ds = if file.is_dir() {
        image::read_folder(&file)?
    } else {
        match Format::of(&file)? {
            Format::Idx => idx::read(&file, labels)?,
            Format::Csv => csv::read(&file)?,
            Format::Npy => npy::read_npy_file(&file, labels)?,
            Format::Npz => npy::read_npz(&file, npz_split.as_deref(), labels)?,
            Format::Mat => mat::read(&file, labels)?,
            Format::Image => image::read_file(&file)?,
        }
    };
    if let Some(labels_path) = labels {
        let found = load_labels(labels_path)?;
        attach_labels(&mut ds, found, labels_path)?;
    }
    Ok(ds)
}

/// `samples: N`, `shape: HxW` and the label counts on one line (`labels: 0:980 1:1135 …` or `labels: none`).
pub fn summary(ds: &Dataset) -> String {
    let labels = match ds.label_counts() {
        None => "none".to_string(),
        Some(counts) => counts
            .iter()
            .enumerate()
            .map(|(label, n)| format!("{label}:{n}"))
            .collect::<Vec<_>>()
            .join(" "),
    };
    format!(
        "samples: {}\nshape: {}x{}\nlabels: {labels}\n",
        ds.len(),
        ds.height,
        ds.width
    )
}

/// Replaces the labels of `ds` with `labels` read from `labels_path`, checking the count.
pub(crate) fn attach_labels(ds: &mut Dataset, labels: Vec<u8>, labels_path: &Path) -> Result<(), LoadError> {
    if labels.len() != ds.len() {
        return Err(LoadError::format(
            labels_path,
            format!("{} labels for {} images (from {})", labels.len(), ds.len(), ds.source),
        ));
    }
    ds.labels = Some(labels);
    ds.source = format!("{} + labels {}", ds.source, file_name(labels_path));
    Ok(())
}

/// The file name of `path` for messages.
pub(crate) fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Fashion-MNIST class names if the path (file or folder name) says "fashion".
pub(crate) fn class_names_for(path: &Path) -> Option<Vec<String>> {
    let text = path.to_string_lossy().to_ascii_lowercase();
    text.contains("fashion")
        .then(|| FASHION_CLASSES.iter().map(|s| s.to_string()).collect())
}

/// The formats [`load_dataset`] recognises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Idx,
    Csv,
    Npy,
    Npz,
    Mat,
    Image,
}

impl Format {
    fn of(path: &Path) -> Result<Format, LoadError> {
        let name = file_name(path).to_ascii_lowercase();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
        let by_ext = match ext {
            "csv" | "txt" => Some(Format::Csv),
            "npy" => Some(Format::Npy),
            "npz" => Some(Format::Npz),
            "mat" => Some(Format::Mat),
            "png" | "jpg" | "jpeg" | "bmp" => Some(Format::Image),
            _ if name.contains("idx") => Some(Format::Idx),
            _ => None,
        };
        if let Some(format) = by_ext {
            return Ok(format);
        }
        let head = bytes::head(path, 16)?;
        let magic = bytes::sniff(&head);
        magic.ok_or_else(|| {
            LoadError::format(
                path,
                "unknown data format: expected IDX (*-idx3-ubyte[.gz]), .csv, .npy, .npz, .mat, \
                 .png/.jpg/.bmp or a folder of images",
            )
        })
    }
}
