//! Pure model rewrites done at load time: merging batch normalisation into the preceding linear layer.

use ndarray::{Array1, Axis};

use super::Layer;

/// Inference-mode batch-normalisation parameters, one entry per channel / feature.
#[derive(Clone, Debug)]
pub struct BatchNormParams {
    pub scale: Array1<f32>,
    pub shift: Array1<f32>,
    pub mean: Array1<f32>,
    pub var: Array1<f32>,
    pub epsilon: f32,
}

/// Folds `y = scale·(z − mean)/√(var + ε) + shift` into the Dense or Conv2d `layer` producing `z`,
/// so that the merged layer computes `y` directly. Errors if the layer has no weights or the sizes differ.
pub fn merge_batchnorm(layer: &mut Layer, bn: &BatchNormParams) -> Result<(), String> {
    let channels = bn.scale.len();
    if [bn.shift.len(), bn.mean.len(), bn.var.len()]
        .iter()
        .any(|&l| l != channels)
    {
        return Err("batch-norm parameters have different lengths".into());
    }
    let factor: Array1<f32> = bn
        .scale
        .iter()
        .zip(bn.var.iter())
        .map(|(s, v)| s / (v + bn.epsilon).sqrt())
        .collect();
    let (weight_rows, bias) = match layer {
        Layer::Dense(d) => (d.weight.len_of(Axis(0)), &mut d.bias),
        Layer::Conv2d(c) => (c.weight.len_of(Axis(0)), &mut c.bias),
        other => return Err(format!("cannot merge batch-norm into a {} layer", other.kind().name())),
    };
    if weight_rows != channels {
        return Err(format!(
            "batch-norm has {channels} channels, the layer has {weight_rows} outputs"
        ));
    }
    let old_bias = bias.take().unwrap_or_else(|| Array1::zeros(channels));
    *bias = Some(
        (0..channels)
            .map(|c| (old_bias[c] - bn.mean[c]) * factor[c] + bn.shift[c])
            .collect(),
    );
    match layer {
        Layer::Dense(d) => {
            for (mut row, f) in d.weight.axis_iter_mut(Axis(0)).zip(factor.iter()) {
                row.mapv_inplace(|w| w * f);
            }
        }
        Layer::Conv2d(c) => {
            for (mut filter, f) in c.weight.axis_iter_mut(Axis(0)).zip(factor.iter()) {
                filter.mapv_inplace(|w| w * f);
            }
        }
        _ => {}
    }
    Ok(())
}
