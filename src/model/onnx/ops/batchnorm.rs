//! `BatchNormalization` (inference mode): read here, folded into the preceding Conv/Gemm/MatMul by the converter.

use ndarray::Array1;

use super::{NodeCtx, Step};
use crate::error::LoadError;
use crate::model::BatchNormParams;

/// `Y = scale·(X − mean)/√(var + epsilon) + B`, per channel (axis 1).
pub(super) fn batch_norm(ctx: &NodeCtx<'_>) -> Result<Step, LoadError> {
    ctx.data_at(0)?;
    if ctx.check(ctx.attrs.int_or("training_mode", 0))? != 0 {
        return Err(ctx.fail("training_mode=1 is not supported: export the model in eval mode"));
    }
    if ctx.check(ctx.attrs.int_or("spatial", 1))? != 1 {
        return Err(ctx.fail("spatial=0 (per-element statistics) is not supported"));
    }
    let channels = ctx.shape.first().copied().unwrap_or(0);
    let vector = |index: usize, what: &str| -> Result<Array1<f32>, LoadError> {
        let t = ctx.required(index, what)?;
        let values = ctx.check(t.floats())?;
        if t.dims.len() != 1 || values.len() != channels {
            return Err(ctx.fail(format!(
                "{what} has shape {:?}, expected [{channels}] (one value per channel)",
                t.dims
            )));
        }
        Ok(Array1::from(values.to_vec()))
    };
    Ok(Step::MergeBatchNorm(BatchNormParams {
        scale: vector(1, "scale")?,
        shift: vector(2, "bias B")?,
        mean: vector(3, "mean")?,
        var: vector(4, "variance")?,
        epsilon: ctx.check(ctx.attrs.float_or("epsilon", 1e-5))?,
    }))
}
