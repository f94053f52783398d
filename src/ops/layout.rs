//! An array's values as one row-major slice: borrowed when the array is already laid out that way (the usual
//! case), copied otherwise (a transposed or sliced view), so that the kernels never see a non-contiguous view.

use std::borrow::Cow;

use ndarray::{ArrayBase, Data, Dimension};

/// The values of `a` in logical row-major order; `len() == a.len()` always.
pub fn row_major<S: Data<Elem = f32>, D: Dimension>(a: &ArrayBase<S, D>) -> Cow<'_, [f32]> {
    match a.as_slice() {
        Some(values) => Cow::Borrowed(values),
        None => Cow::Owned(a.iter().copied().collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, s};

    #[test]
    fn views_that_are_not_row_major_are_copied_in_logical_order() {
        let a = Array2::from_shape_fn((2, 3), |(i, j)| (10 * i + j) as f32);
        assert!(matches!(row_major(&a), Cow::Borrowed(_)));
        assert_eq!(&*row_major(&a.t()), &[0.0, 10.0, 1.0, 11.0, 2.0, 12.0]);
        assert_eq!(&*row_major(&a.slice(s![.., 1..])), &[1.0, 2.0, 11.0, 12.0]);
    }
}
