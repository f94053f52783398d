//! Fully connected layers: `Gemm` (classic exporter) and `MatMul` + `Add` (a Linear in the dynamo exporter).

use ndarray::{Array1, Array2};

use super::{NodeCtx, Step};
use crate::error::LoadError;
use crate::model::onnx::tensor::Tensor;
use crate::model::{Dense, Layer};

/// `Y = alpha·A·op(B) + beta·C` with `A` the data, `B` and `C` constants.
pub(super) fn gemm(ctx: &NodeCtx<'_>) -> Result<Step, LoadError> {
    ctx.data_at(0)?;
    if ctx.check(ctx.attrs.int_or("transA", 0))? != 0 {
        return Err(ctx.fail("transA=1 is not supported: the input must be [batch, features]"));
    }
    let trans_b = ctx.check(ctx.attrs.int_or("transB", 0))? != 0;
    let alpha = ctx.check(ctx.attrs.float_or("alpha", 1.0))?;
    let beta = ctx.check(ctx.attrs.float_or("beta", 1.0))?;
    let b = matrix(ctx, &ctx.required(1, "weight B")?)?;
    let mut weight = if trans_b { b } else { b.reversed_axes() };
    if alpha != 1.0 {
        weight.mapv_inplace(|w| w * alpha);
    }
    let bias = match ctx.constant(2, "bias C")? {
        Some(c) => {
            let mut bias = ctx.check(bias_vector(&c, weight.nrows()))?;
            bias.mapv_inplace(|v| v * beta);
            Some(bias)
        }
        None => None,
    };
    Ok(Step::Layer(Layer::Dense(Dense { weight, bias })))
}

/// `Y = A·B` with a constant `[in, out]` matrix `B`.
pub(super) fn matmul(ctx: &NodeCtx<'_>) -> Result<Step, LoadError> {
    ctx.data_at(0)?;
    let b = matrix(ctx, &ctx.required(1, "weight B")?)?;
    Ok(Step::Layer(Layer::Dense(Dense {
        weight: b.reversed_axes(),
        bias: None,
    })))
}

/// `Y = X + C` with a constant `C` (either operand order): a bias for the layer before.
pub(super) fn add(ctx: &NodeCtx<'_>) -> Result<Step, LoadError> {
    let other = if ctx.data_input == 0 { 1 } else { 0 };
    Ok(Step::AddBias(ctx.required(other, "addend")?))
}

/// Adds the constant `bias` to the output of `layer` (a Dense or Conv2d whose output has per-sample `shape`).
/// The constant must be one value per output channel (or a single value), broadcast like ONNX does.
pub(in crate::model::onnx) fn add_bias(layer: &mut Layer, shape: &[usize], bias: &Tensor) -> Result<(), String> {
    let (target, channels) = match layer {
        Layer::Dense(d) => (&mut d.bias, d.weight.nrows()),
        Layer::Conv2d(c) => (&mut c.bias, c.weight.shape()[0]),
        other => {
            return Err(format!(
                "Add of a constant is only supported right after a Conv, Gemm or MatMul, not after {}",
                other.kind().name()
            ));
        }
    };
    // Right-align the constant's dimensions with [batch, shape...]: only the channel axis may differ from 1.
    let rank = shape.len() + 1;
    let dims = &bias.dims;
    let per_channel = dims.len() <= rank
        && dims.iter().rev().enumerate().all(|(k, &d)| {
            let axis = rank - 1 - k;
            d == 1 || (axis == 1 && d == channels)
        });
    if !per_channel {
        return Err(format!(
            "the added constant of shape {dims:?} is not a per-channel bias for an output of shape [batch, {}]",
            shape.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
        ));
    }
    let values = bias.floats()?;
    let add: Array1<f32> = match values.len() {
        1 => Array1::from_elem(channels, values[0]),
        _ => Array1::from(values.to_vec()),
    };
    *target = Some(match target.take() {
        Some(old) => old + &add,
        None => add,
    });
    Ok(())
}

fn matrix(ctx: &NodeCtx<'_>, t: &Tensor) -> Result<Array2<f32>, LoadError> {
    let values = ctx.check(t.floats())?;
    match t.dims.as_slice() {
        [rows, cols] => Array2::from_shape_vec((*rows, *cols), values.to_vec())
            .map_err(|e| ctx.fail(format!("weight matrix {:?}: {e}", t.dims))),
        dims => Err(ctx.fail(format!("the weight must be a matrix, got shape {dims:?}"))),
    }
}

/// The `C` operand of Gemm as one value per output (a single value is repeated).
fn bias_vector(c: &Tensor, outputs: usize) -> Result<Array1<f32>, String> {
    let values = c.floats()?;
    let last = c.dims.last().copied().unwrap_or(1);
    let leading_ones = c.dims.iter().rev().skip(1).all(|&d| d == 1);
    match values.len() {
        1 => Ok(Array1::from_elem(outputs, values[0])),
        n if n == outputs && last == outputs && leading_ones => Ok(Array1::from(values.to_vec())),
        _ => Err(format!(
            "bias C of shape {:?} does not broadcast to {outputs} outputs",
            c.dims
        )),
    }
}
