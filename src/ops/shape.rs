//! The shape checks every kernel makes before it touches its slices: a kernel given arrays that do not fit its
//! geometry returns a [`ShapeError`] instead of reading the wrong values, panicking or producing zeros.

use ndarray::{ArrayD, IxDyn};

use crate::error::ShapeError;

/// The batch size `N` of `x`, which must be shaped `[N, per...]`.
pub fn batch_of(op: &'static str, x: &[usize], per: &[usize]) -> Result<usize, ShapeError> {
    match x.split_first() {
        Some((&n, rest)) if rest == per => Ok(n),
        _ => Err(ShapeError {
            op,
            expected: format!("[N, {}]", join(per)),
            got: x.to_vec(),
        }),
    }
}

/// `Ok` when a bias is absent or has `outputs` values.
pub fn check_bias(op: &'static str, bias: Option<usize>, outputs: usize) -> Result<(), ShapeError> {
    match bias {
        Some(len) if len != outputs => Err(ShapeError {
            op,
            expected: format!("a bias of [{outputs}]"),
            got: vec![len],
        }),
        _ => Ok(()),
    }
}

/// `values` as an array of `shape` (their lengths must agree).
pub fn shaped(op: &'static str, shape: &[usize], values: Vec<f32>) -> Result<ArrayD<f32>, ShapeError> {
    let len = values.len();
    ArrayD::from_shape_vec(IxDyn(shape), values).map_err(|_| ShapeError {
        op,
        expected: format!("[{}]", join(shape)),
        got: vec![len],
    })
}

/// `a` reshaped (row-major) to `shape`.
pub fn reshaped(op: &'static str, a: &ArrayD<f32>, shape: &[usize]) -> Result<ArrayD<f32>, ShapeError> {
    let err = || ShapeError {
        op,
        expected: format!("[{}] values", join(shape)),
        got: a.shape().to_vec(),
    };
    if a.len() != shape.iter().product::<usize>() {
        return Err(err());
    }
    shaped(op, shape, super::row_major(a).into_owned()).map_err(|_| err())
}

fn join(dims: &[usize]) -> String {
    dims.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_that_do_not_fit_are_named_in_the_error() {
        assert_eq!(batch_of("t", &[3, 4, 5], &[4, 5]), Ok(3));
        let e = batch_of("dense forward", &[3, 7], &[4]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "dense forward: expected an array shaped [N, 4], got [3, 7]"
        );
        assert!(batch_of("t", &[], &[4]).is_err());
        assert!(check_bias("t", Some(3), 4).is_err() && check_bias("t", None, 4).is_ok());
        let a = ArrayD::from_elem(IxDyn(&[2, 6]), 1.0f32);
        assert_eq!(reshaped("t", &a, &[2, 2, 3]).unwrap().shape(), &[2, 2, 3]);
        assert!(reshaped("t", &a, &[2, 5]).is_err());
    }
}
