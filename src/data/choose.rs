//! Which preprocessing to use for a model and a dataset: the user's choice, else what is remembered for the
//! model (sidecar file, then ONNX metadata), else what the model's input size implies.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use super::preprocess::{Preprocess, read_sidecar};
use crate::error::LoadError;

/// The metadata key under which models written by this project store their preprocessing spec.
pub const METADATA_KEY: &str = "preprocess";

/// The metadata key under which a loader records the input range its file format's own tools use (the LRP
/// Toolbox scales pixels to [-1, 1]); the padding still follows from the input size.
pub const RANGE_CONVENTION_KEY: &str = "input_range_convention";

/// Where the chosen preprocessing came from (shown to the user).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PreprocessSource {
    Given,
    Sidecar,
    Metadata,
    /// The file format's convention (e.g. the LRP Toolbox's [-1, 1]), with the padding the input size implies.
    Convention,
    Suggested,
}

impl fmt::Display for PreprocessSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PreprocessSource::Given => "given",
            PreprocessSource::Sidecar => "remembered next to the model",
            PreprocessSource::Metadata => "stored in the model file",
            PreprocessSource::Convention => "the model format's convention, padding from the input size",
            PreprocessSource::Suggested => "implied by the model's input size",
        })
    }
}

/// Chooses the preprocessing for `model_path` (with its file metadata and input size) and `h`×`w` data.
/// A given or remembered spec that does not fit the sizes is an error naming the spec and the sizes.
pub fn choose_preprocess(
    given: Option<&str>,
    model_path: &Path,
    metadata: &BTreeMap<String, String>,
    model_input_len: usize,
    h: usize,
    w: usize,
) -> Result<(Preprocess, PreprocessSource), LoadError> {
    let fits = |p: &Preprocess| {
        let (ph, pw) = p.output_size(h, w);
        ph * pw == model_input_len
    };
    let check = |p: Preprocess, source: PreprocessSource| {
        if fits(&p) {
            Ok((p, source))
        } else {
            let (ph, pw) = p.output_size(h, w);
            Err(LoadError::format(
                model_path,
                format!(
                    "preprocessing {p} ({source}) turns {h}x{w} samples into {ph}x{pw} = {} values, but the model \
                     takes {model_input_len}",
                    ph * pw
                ),
            ))
        }
    };
    if let Some(spec) = given {
        let p: Preprocess = spec
            .parse()
            .map_err(|e: crate::error::PreprocessError| LoadError::format(model_path, e.to_string()))?;
        return check(p, PreprocessSource::Given);
    }
    if let Some(p) = read_sidecar(model_path)? {
        return check(p, PreprocessSource::Sidecar);
    }
    if let Some(spec) = metadata.get(METADATA_KEY) {
        let p: Preprocess = spec.parse().map_err(|e: crate::error::PreprocessError| {
            LoadError::format(model_path, format!("metadata {METADATA_KEY:?}: {e}"))
        })?;
        return check(p, PreprocessSource::Metadata);
    }
    let suggested = Preprocess::suggest(model_input_len, h, w);
    if let (Some(range), Some(p)) = (metadata.get(RANGE_CONVENTION_KEY), suggested) {
        let p = Preprocess {
            range: parse_range(range).ok_or_else(|| {
                LoadError::format(
                    model_path,
                    format!("metadata {RANGE_CONVENTION_KEY:?}: {range:?} is not lo,hi"),
                )
            })?,
            ..p
        };
        return Ok((p, PreprocessSource::Convention));
    }
    match suggested {
        Some(p) => Ok((p, PreprocessSource::Suggested)),
        None => Err(LoadError::format(
            model_path,
            format!(
                "the model takes {model_input_len} values; no preprocessing of {h}x{w} samples gives that: \
                 pass --preprocess (e.g. pad=2 for 32x32 inputs)"
            ),
        )),
    }
}

/// `lo,hi` as two finite numbers with `lo < hi`.
fn parse_range(text: &str) -> Option<(f32, f32)> {
    let (lo, hi) = text.split_once(',')?;
    let (lo, hi): (f32, f32) = (lo.trim().parse().ok()?, hi.trim().parse().ok()?);
    (lo.is_finite() && hi.is_finite() && lo < hi).then_some((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_given_sidecar_metadata_suggested() {
        let dir = tempfile::tempdir().unwrap();
        let model = dir.path().join("m.onnx");
        let mut meta = BTreeMap::new();
        let (p, s) = choose_preprocess(None, &model, &meta, 1024, 28, 28).unwrap();
        assert_eq!((p.pad, s), (2, PreprocessSource::Suggested));
        meta.insert(METADATA_KEY.to_string(), "range=-1,1;pad=2".to_string());
        let (p, s) = choose_preprocess(None, &model, &meta, 1024, 28, 28).unwrap();
        assert_eq!((p.range, s), ((-1.0, 1.0), PreprocessSource::Metadata));
        // A format convention gives the range; the input size still gives the padding.
        let convention = BTreeMap::from([(RANGE_CONVENTION_KEY.to_string(), "-1,1".to_string())]);
        let (p, s) = choose_preprocess(None, &model, &convention, 1024, 28, 28).unwrap();
        assert_eq!(
            (p, s),
            ("range=-1,1;pad=2".parse().unwrap(), PreprocessSource::Convention)
        );
        let (p, _) = choose_preprocess(None, &model, &convention, 784, 28, 28).unwrap();
        assert_eq!(p, "range=-1,1".parse().unwrap());
        crate::data::write_sidecar(&model, &"normalize=0.1307,0.3081;pad=2".parse().unwrap()).unwrap();
        let (p, s) = choose_preprocess(None, &model, &meta, 1024, 28, 28).unwrap();
        assert_eq!((p.normalize, s), (Some((0.1307, 0.3081)), PreprocessSource::Sidecar));
        let (p, s) = choose_preprocess(Some("pad=2"), &model, &meta, 1024, 28, 28).unwrap();
        assert_eq!((p, s), ("pad=2".parse().unwrap(), PreprocessSource::Given));
        let err = choose_preprocess(Some("pad=1"), &model, &meta, 1024, 28, 28)
            .unwrap_err()
            .to_string();
        assert!(err.contains("30x30 = 900 values, but the model takes 1024"), "{err}");
        assert!(choose_preprocess(None, &dir.path().join("x.onnx"), &BTreeMap::new(), 1000, 28, 28).is_err());
    }
}
