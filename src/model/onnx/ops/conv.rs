//! `Conv` (2-D, one group, no dilation) and the padding rules shared with pooling (`pads`, `auto_pad`).

use ndarray::{Array1, Array4};

use super::{NodeCtx, Step};
use crate::error::LoadError;
use crate::model::{Conv2d, Layer};

/// 2-D cross-correlation `Y = conv(X, W) + B` with constant `W: [O, C, kh, kw]` and optional `B: [O]`.
pub(super) fn conv(ctx: &NodeCtx<'_>) -> Result<Step, LoadError> {
    ctx.data_at(0)?;
    let group = ctx.check(ctx.attrs.int_or("group", 1))?;
    if group != 1 {
        return Err(ctx.fail(format!(
            "group={group} is not supported (only 1: no grouped or depthwise convolution)"
        )));
    }
    ctx.no_dilation()?;
    let w = ctx.required(1, "weight W")?;
    let values = ctx.check(w.floats())?;
    let &[o, c, kh, kw] = w.dims.as_slice() else {
        return Err(ctx.fail(format!(
            "only 2-D convolution is supported: the weight has shape {:?}, expected [O, C, kh, kw]",
            w.dims
        )));
    };
    let kernel = [kh, kw];
    if ctx.pair("kernel_shape", Some(kernel))? != kernel {
        return Err(ctx.fail(format!("kernel_shape does not match the weight's shape {:?}", w.dims)));
    }
    let weight = Array4::from_shape_vec((o, c, kh, kw), values.to_vec()).map_err(|e| ctx.fail(e))?;
    let bias = match ctx.constant(2, "bias B")? {
        Some(b) if b.len() == o => Some(Array1::from(ctx.check(b.floats())?.to_vec())),
        Some(b) => return Err(ctx.fail(format!("bias of shape {:?} for {o} output channels", b.dims))),
        None => None,
    };
    let [_, h, wd] = ctx.chw()?;
    let stride = ctx.pair("strides", Some([1, 1]))?;
    let padding = padding(ctx, [h, wd], kernel, stride)?;
    Ok(Step::Layer(Layer::Conv2d(Conv2d {
        weight,
        bias,
        stride,
        padding,
    })))
}

/// `[top, left, bottom, right]` from `pads` (ONNX order `[h_begin, w_begin, h_end, w_end]` is the same) or from
/// `auto_pad` (`VALID`: none; `SAME_UPPER` / `SAME_LOWER`: enough for `ceil(in / stride)` outputs, the odd pixel at
/// the end / the beginning).
pub(super) fn padding(
    ctx: &NodeCtx<'_>,
    input: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
) -> Result<[usize; 4], LoadError> {
    let auto = ctx.check(ctx.attrs.string("auto_pad"))?;
    let pads = ctx.check(ctx.attrs.ints("pads"))?;
    let explicit = match pads {
        None => [0; 4],
        Some(&[t, l, b, r]) if [t, l, b, r].iter().all(|&p| p >= 0) => [t as usize, l as usize, b as usize, r as usize],
        Some(p) => return Err(ctx.fail(format!("pads must be four non-negative values, got {p:?}"))),
    };
    let mode = auto.as_deref().unwrap_or("NOTSET");
    if mode != "NOTSET" && explicit != [0; 4] {
        return Err(ctx.fail(format!(
            "auto_pad={mode} cannot be combined with explicit pads {explicit:?}"
        )));
    }
    match mode {
        "NOTSET" => Ok(explicit),
        "VALID" => Ok([0; 4]),
        "SAME_UPPER" | "SAME_LOWER" => {
            let total = |axis: usize| {
                let out = input[axis].div_ceil(stride[axis]);
                ((out.saturating_sub(1)) * stride[axis] + kernel[axis]).saturating_sub(input[axis])
            };
            let (th, tw) = (total(0), total(1));
            if mode == "SAME_UPPER" {
                Ok([th / 2, tw / 2, th - th / 2, tw - tw / 2])
            } else {
                Ok([th - th / 2, tw - tw / 2, th / 2, tw / 2])
            }
        }
        other => Err(ctx.fail(format!("unknown auto_pad {other:?}"))),
    }
}
