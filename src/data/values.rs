//! Reading meaning into the numbers of any container (`.npy`, `.npz`, `.mat`, text): labels as integers or one-hot
//! rows, pixel intensities as 0..1 or 0..255. A leaf module, so that the readers share it without depending on
//! one another.

use std::path::Path;

use crate::error::LoadError;

/// Labels from a numeric array of `rows`×`cols` values, row-major: a vector (`[N]`, `[N,1]`, `[1,N]`) of integers, or
/// one-hot rows (`[N,K]`, exactly one 1 per row).
pub(crate) fn labels_from_values(path: &Path, values: &[f64], rows: usize, cols: usize) -> Result<Vec<u8>, LoadError> {
    if rows == 1 || cols == 1 {
        return values
            .iter()
            .enumerate()
            .map(|(i, &v)| label_value(path, i, v))
            .collect();
    }
    let mut labels = Vec::with_capacity(rows);
    for (i, row) in values.chunks_exact(cols).enumerate() {
        let ones = row.iter().filter(|&&v| v == 1.0).count();
        let zeros = row.iter().filter(|&&v| v == 0.0).count();
        if ones != 1 || ones + zeros != cols {
            return Err(LoadError::format(
                path,
                format!("labels are a {rows}x{cols} matrix but row {i} is not one-hot"),
            ));
        }
        let hot = row.iter().position(|&v| v == 1.0).unwrap_or(0);
        labels.push(label_value(path, i, hot as f64)?);
    }
    Ok(labels)
}

fn label_value(path: &Path, index: usize, v: f64) -> Result<u8, LoadError> {
    if v.fract() == 0.0 && (0.0..=255.0).contains(&v) {
        Ok(v as u8)
    } else {
        Err(LoadError::format(
            path,
            format!("label {index} is {v}, not an integer in 0..=255"),
        ))
    }
}

/// Floats: as given if all in [0, 1]; divided by 255 if the maximum is above 1 (and at most 255).
pub(crate) fn scale_floats(path: &Path, mut values: Vec<f32>) -> Result<(Vec<f32>, &'static str), LoadError> {
    let (lo, hi) = values.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
        (lo.min(v), hi.max(v))
    });
    if values.iter().any(|v| !v.is_finite()) {
        return Err(LoadError::format(path, "the images contain NaN or infinite values"));
    }
    if lo < 0.0 || hi > 255.0 {
        return Err(LoadError::format(
            path,
            format!(
                "pixel values span {lo}..{hi}; expected raw intensities in 0..1 or 0..255 \
                 (normalised data? store the raw images and give the normalisation as preprocessing)"
            ),
        ));
    }
    if hi > 1.0 {
        values.iter_mut().for_each(|v| *v /= 255.0);
        return Ok((values, ", values 0-255 scaled to 0-1"));
    }
    Ok((values, ""))
}
