//! `MaxPool` and `AveragePool` (2-D), accepted only where they mean exactly what our pooling layers compute.

use super::conv::padding;
use super::{NodeCtx, Step};
use crate::error::LoadError;
use crate::model::{Layer, Pool2d};

/// Max pooling (padding counts as −∞, as in ONNX). `storage_order` must be 0 and the indices output unused.
pub(super) fn max_pool(ctx: &NodeCtx<'_>) -> Result<Step, LoadError> {
    let storage_order = ctx.check(ctx.attrs.int_or("storage_order", 0))?;
    if storage_order != 0 {
        return Err(ctx.fail(format!("storage_order={storage_order} is not supported (only 0)")));
    }
    Ok(Step::Layer(Layer::MaxPool2d(window(ctx)?)))
}

/// Average pooling. Our AvgPool2d divides by kh·kw everywhere, so padding needs `count_include_pad=1`.
pub(super) fn average_pool(ctx: &NodeCtx<'_>) -> Result<Step, LoadError> {
    let pool = window(ctx)?;
    let include_pad = ctx.check(ctx.attrs.int_or("count_include_pad", 0))? != 0;
    if pool.padding != [0; 4] && !include_pad {
        return Err(ctx.fail(format!(
            "padding {:?} with count_include_pad=0 is not supported: the average would exclude the padding \
             (export with count_include_pad=True, or without padding)",
            pool.padding
        )));
    }
    Ok(Step::Layer(Layer::AvgPool2d(pool)))
}

/// The window geometry shared by both pools; `ceil_mode=1` only where it gives the same output size as floor.
fn window(ctx: &NodeCtx<'_>) -> Result<Pool2d, LoadError> {
    ctx.data_at(0)?;
    ctx.no_dilation()?;
    let kernel = ctx.pair("kernel_shape", None)?;
    let stride = ctx.pair("strides", Some([1, 1]))?;
    let [_, h, w] = ctx.chw()?;
    let padding = padding(ctx, [h, w], kernel, stride)?;
    if ctx.check(ctx.attrs.int_or("ceil_mode", 0))? != 0 {
        let padded = [h + padding[0] + padding[2], w + padding[1] + padding[3]];
        for axis in 0..2 {
            let span = padded[axis].saturating_sub(kernel[axis]);
            if !span.is_multiple_of(stride[axis]) {
                return Err(ctx.fail(format!(
                    "ceil_mode=1 changes the output size here (input {h}x{w}, kernel {kernel:?}, stride {stride:?}, \
                     pads {padding:?}); only floor mode is supported"
                )));
            }
        }
    }
    Ok(Pool2d {
        kernel,
        stride,
        padding,
    })
}
