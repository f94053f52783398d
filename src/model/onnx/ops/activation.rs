//! Element-wise and pass-through ops: `Relu`, `Tanh`, `Identity`/`Dropout`, and a final `Softmax`/`LogSoftmax`.

use super::{NodeCtx, Step};
use crate::error::LoadError;
use crate::model::{Layer, OutputActivation};

pub(super) fn relu(ctx: &NodeCtx<'_>) -> Result<Step, LoadError> {
    ctx.data_at(0)?;
    Ok(Step::Layer(Layer::Relu))
}

pub(super) fn tanh(ctx: &NodeCtx<'_>) -> Result<Step, LoadError> {
    ctx.data_at(0)?;
    Ok(Step::Layer(Layer::Tanh))
}

/// `Identity`, and `Dropout` (an identity at inference).
pub(super) fn identity(ctx: &NodeCtx<'_>) -> Result<Step, LoadError> {
    ctx.data_at(0)?;
    Ok(Step::Skip)
}

/// Constant nodes are collected before the chain is walked; they never reach a builder.
pub(super) fn constant(_ctx: &NodeCtx<'_>) -> Result<Step, LoadError> {
    Ok(Step::Skip)
}

pub(super) fn softmax(ctx: &NodeCtx<'_>) -> Result<Step, LoadError> {
    output(ctx, OutputActivation::Softmax)
}

pub(super) fn log_softmax(ctx: &NodeCtx<'_>) -> Result<Step, LoadError> {
    output(ctx, OutputActivation::LogSoftmax)
}

/// Softmax over the classes of a `[batch, classes]` output (axis 1 or −1).
fn output(ctx: &NodeCtx<'_>, activation: OutputActivation) -> Result<Step, LoadError> {
    ctx.data_at(0)?;
    let default = if ctx.opset >= 13 { -1 } else { 1 };
    let axis = ctx.check(ctx.attrs.int_or("axis", default))?;
    if ctx.shape.len() != 1 || !(axis == 1 || axis == -1) {
        return Err(ctx.fail(format!(
            "only a softmax over the classes of a [batch, classes] output is supported (input rank {}, axis {axis})",
            ctx.shape.len() + 1
        )));
    }
    Ok(Step::Output(activation))
}
