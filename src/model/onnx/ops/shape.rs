//! `Flatten` (classic exporter), `Reshape` with a constant shape (dynamo exporter) and a `Transpose` that the
//! layout pass could not absorb (a permutation layer).

use super::{NodeCtx, Step};
use crate::error::LoadError;
use crate::model::Layer;

/// Flatten to `[batch, features]`: only `axis=1` keeps the batch dimension apart.
pub(super) fn flatten(ctx: &NodeCtx<'_>) -> Result<Step, LoadError> {
    ctx.data_at(0)?;
    let rank = ctx.shape.len() as i64 + 1;
    let axis = ctx.check(ctx.attrs.int_or("axis", 1))?;
    let axis = if axis < 0 { axis + rank } else { axis };
    if axis != 1 {
        return Err(ctx.fail(format!(
            "axis {axis} is not supported: only axis=1 (flatten everything but the batch dimension)"
        )));
    }
    Ok(Step::Layer(Layer::Flatten))
}

/// A transpose that keeps the batch axis first: a [`Layer::Permute`] of the per-sample axes.
pub(super) fn transpose(ctx: &NodeCtx<'_>) -> Result<Step, LoadError> {
    ctx.data_at(0)?;
    let rank = ctx.shape.len() + 1;
    let perm = ctx.check(ctx.attrs.ints("perm"))?;
    let perm: Vec<i64> = perm.map_or_else(|| (0..rank as i64).rev().collect(), <[i64]>::to_vec);
    if perm.len() != rank || perm.first() != Some(&0) {
        return Err(ctx.fail(format!(
            "perm {perm:?} moves the batch axis or does not match the input rank {rank}; only transposes of the \
             per-sample axes are supported"
        )));
    }
    let per_sample = perm[1..]
        .iter()
        .map(|&p| usize::try_from(p - 1).ok().filter(|&p| p < rank - 1))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| ctx.fail(format!("perm {perm:?} is not a permutation of {rank} axes")))?;
    Ok(Step::Layer(Layer::Permute(per_sample)))
}

/// Reshape to a constant int64 shape whose first entry keeps the batch: `-1`, `0` (copy) or the static batch size.
pub(super) fn reshape(ctx: &NodeCtx<'_>) -> Result<Step, LoadError> {
    ctx.data_at(0)?;
    let target = ctx.required(1, "shape")?;
    let target = ctx.check(target.ints())?;
    let allow_zero = ctx.check(ctx.attrs.int_or("allowzero", 0))? != 0;
    ctx.check(per_sample_shape(target, ctx.shape, ctx.batch, allow_zero))
        .map(|shape| Step::Layer(Layer::Reshape(shape)))
}

/// The per-sample shape that `target` (a full ONNX shape, batch first) gives an input of per-sample shape `input`.
fn per_sample_shape(
    target: &[i64],
    input: &[usize],
    batch: Option<usize>,
    allow_zero: bool,
) -> Result<Vec<usize>, String> {
    let len: usize = input.iter().product();
    let Some((&first, rest)) = target.split_first() else {
        return Err("the target shape is empty".into());
    };
    let keeps_batch = first == -1 || (first == 0 && !allow_zero) || batch.is_some_and(|b| first == b as i64);
    if !keeps_batch {
        return Err(format!(
            "target shape {target:?} does not keep the batch dimension (first entry must be -1, 0 or the batch size)"
        ));
    }
    let mut infer = None;
    let mut dims = Vec::with_capacity(rest.len());
    for (k, &d) in rest.iter().enumerate() {
        match d {
            -1 if first != -1 && infer.is_none() => {
                infer = Some(k);
                dims.push(1);
            }
            0 if !allow_zero => dims.push(
                *input
                    .get(k)
                    .ok_or_else(|| format!("target shape {target:?} copies a dimension the input does not have"))?,
            ),
            d if d > 0 => dims.push(d as usize),
            _ => return Err(format!("target shape {target:?} is not supported")),
        }
    }
    let known = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).unwrap_or(0);
    if let Some(k) = infer {
        if known == 0 || !len.is_multiple_of(known) {
            return Err(format!("cannot reshape [batch, {input:?}] to {target:?}"));
        }
        dims[k] = len / known;
    } else if known != len {
        return Err(format!("cannot reshape a sample of {len} values to {target:?}"));
    }
    Ok(dims)
}

#[cfg(test)]
mod tests {
    use super::per_sample_shape;

    #[test]
    fn batch_entry_and_inference() {
        let input = [16, 4, 4];
        assert_eq!(per_sample_shape(&[-1, 256], &input, None, false).unwrap(), vec![256]);
        assert_eq!(per_sample_shape(&[0, -1], &input, None, false).unwrap(), vec![256]);
        assert_eq!(
            per_sample_shape(&[0, 0, 16], &input, None, false).unwrap(),
            vec![16, 16]
        );
        assert_eq!(per_sample_shape(&[1, 256], &input, Some(1), false).unwrap(), vec![256]);
        assert!(per_sample_shape(&[1, 256], &input, None, false).is_err());
        assert!(per_sample_shape(&[-1, -1], &input, None, false).is_err());
        assert!(per_sample_shape(&[-1, 255], &input, None, false).is_err());
        assert!(per_sample_shape(&[0, 256], &input, None, true).is_err());
        assert!(per_sample_shape(&[], &input, None, false).is_err());
    }
}
