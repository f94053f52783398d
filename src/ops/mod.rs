//! Numerical kernels shared by the forward pass, the LRP rules and the gradient baselines.
//!
//! Every Dense or Conv2d layer (and every average/sum pooling layer, seen as a depthwise convolution with
//! a constant kernel) is a linear map `f(x, W, b)` plus its transpose `fᵀ(S, W)` (the vector–Jacobian product
//! with respect to the input). [`Affine`] packages both so that each LRP rule can be written once, in the
//! formula's own terms, and run on any of those layers.

mod conv;
mod gemm;
mod pool;

pub use conv::ConvGeometry;
pub use gemm::{Trans, gemm};
pub use pool::{PoolTies, max_pool_backward, max_pool_forward};

use ndarray::{Array1, ArrayD, ArrayView2, IxDyn};

/// A linear layer's geometry: how its weight matrix `W: [out, K]` is applied to a batch.
#[derive(Clone, Debug)]
pub enum Affine {
    /// `x: [N, K]` → `z: [N, out]`.
    Dense,
    /// `x: [N, C, H, W]` → `z: [N, O, OH, OW]` through im2col with `K = C·kh·kw`.
    Conv(ConvGeometry),
    /// Depthwise pooling: each channel of `x: [N, C, H, W]` is convolved with the same `[1, kh·kw]` kernel.
    Depthwise(ConvGeometry),
}

impl Affine {
    /// `f(x, W, b)`.
    pub fn forward(&self, x: &ArrayD<f32>, w: ArrayView2<'_, f32>, b: Option<&Array1<f32>>) -> ArrayD<f32> {
        match self {
            Affine::Dense => {
                let n = x.shape()[0];
                let k = w.ncols();
                let o = w.nrows();
                let xs = x.as_standard_layout();
                let xs = xs.as_slice().unwrap_or(&[]);
                let mut z = vec![0.0f32; n * o];
                gemm(
                    n,
                    k,
                    o,
                    xs,
                    Trans::No,
                    w.as_slice().unwrap_or(&[]),
                    Trans::Yes,
                    &mut z,
                    0.0,
                );
                if let Some(b) = b {
                    for row in z.chunks_mut(o) {
                        for (zi, bi) in row.iter_mut().zip(b.iter()) {
                            *zi += bi;
                        }
                    }
                }
                ArrayD::from_shape_vec(IxDyn(&[n, o]), z).unwrap_or_else(|_| ArrayD::zeros(IxDyn(&[n, o])))
            }
            Affine::Conv(g) => g.forward(x, w, b),
            Affine::Depthwise(g) => {
                let s = x.shape();
                let (n, c) = (s[0], s[1]);
                let flat = x
                    .to_shape(IxDyn(&[n * c, 1, s[2], s[3]]))
                    .map(|v| v.to_owned())
                    .unwrap_or_else(|_| ArrayD::zeros(IxDyn(&[n * c, 1, s[2], s[3]])));
                let z = g.forward(&flat, w, b);
                let zs = z.shape().to_vec();
                z.into_shape_with_order(IxDyn(&[n, c, zs[2], zs[3]]))
                    .unwrap_or_else(|_| ArrayD::zeros(IxDyn(&[n, c, zs[2], zs[3]])))
            }
        }
    }

    /// `fᵀ(S, W)`: the vector–Jacobian product with respect to the input. Zero-padding positions are dropped.
    pub fn transpose(&self, s: &ArrayD<f32>, w: ArrayView2<'_, f32>, input_shape: &[usize]) -> ArrayD<f32> {
        match self {
            Affine::Dense => {
                let n = s.shape()[0];
                let o = w.nrows();
                let k = w.ncols();
                let ss = s.as_standard_layout();
                let mut g = vec![0.0f32; n * k];
                gemm(
                    n,
                    o,
                    k,
                    ss.as_slice().unwrap_or(&[]),
                    Trans::No,
                    w.as_slice().unwrap_or(&[]),
                    Trans::No,
                    &mut g,
                    0.0,
                );
                ArrayD::from_shape_vec(IxDyn(&[n, k]), g).unwrap_or_else(|_| ArrayD::zeros(IxDyn(&[n, k])))
            }
            Affine::Conv(g) => g.transpose(s, w),
            Affine::Depthwise(g) => {
                let sh = s.shape();
                let (n, c) = (sh[0], sh[1]);
                let flat = s
                    .to_shape(IxDyn(&[n * c, 1, sh[2], sh[3]]))
                    .map(|v| v.to_owned())
                    .unwrap_or_else(|_| ArrayD::zeros(IxDyn(&[n * c, 1, sh[2], sh[3]])));
                let r = g.transpose(&flat, w);
                r.into_shape_with_order(IxDyn(input_shape))
                    .unwrap_or_else(|_| ArrayD::zeros(IxDyn(input_shape)))
            }
        }
    }
}
