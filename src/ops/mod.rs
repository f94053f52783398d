//! Numerical kernels shared by the forward pass, the LRP rules and the gradient baselines.
//!
//! Every Dense or Conv2d layer (and every average/sum pooling layer, seen as a depthwise convolution with
//! a constant kernel) is a linear map `f(x, W, b)` plus its transpose `fᵀ(S, W)` (the vector–Jacobian product
//! with respect to the input). [`Affine`] packages both so that each LRP rule can be written once, in the
//! formula's own terms, and run on any of those layers.

mod conv;
mod gemm;
mod layout;
mod pool;
mod simd;

pub use conv::{ConvGeometry, window_output_len};
pub use gemm::{Trans, gemm};
pub use layout::row_major;
pub use pool::{PoolTies, max_pool_backward, max_pool_forward};
pub use simd::{axpy, dot};

use ndarray::{Array1, ArrayD, ArrayView2, IxDyn};

/// Up to this many samples, Dense layers use matrix–vector kernels (no packing of the weights).
const SMALL_BATCH: usize = 4;

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
                let (o, k) = w.dim();
                let (xs, ws) = (row_major(x), row_major(&w));
                let mut z = vec![0.0f32; n * o];
                if n <= SMALL_BATCH {
                    for (xrow, zrow) in xs.chunks_exact(k).zip(z.chunks_exact_mut(o)) {
                        for (zj, wrow) in zrow.iter_mut().zip(ws.chunks_exact(k)) {
                            *zj = dot(wrow, xrow);
                        }
                    }
                } else {
                    gemm(n, k, o, &xs, Trans::No, &ws, Trans::Yes, &mut z, 0.0);
                }
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

    /// `fᵀ(S, 1)` for an all-ones weight matrix, given `s` summed over the output channels (`[N, OH, OW]` for a
    /// convolution, `[N]` for a Dense layer): every input receives the sum of the `S` of the windows covering it.
    pub fn transpose_ones(&self, s_sum: &ArrayD<f32>, input_shape: &[usize]) -> ArrayD<f32> {
        let n = input_shape.first().copied().unwrap_or(0);
        let per: usize = input_shape.iter().skip(1).product();
        let ss = row_major(s_sum);
        let mut out = vec![0.0f32; n * per];
        match self {
            Affine::Dense | Affine::Depthwise(_) => {
                for (row, &v) in out.chunks_exact_mut(per.max(1)).zip(ss.iter()) {
                    row.fill(v);
                }
            }
            Affine::Conv(g) if g.stride == [1, 1] && g.padding == [0; 4] => {
                // Each input pixel gets the sum of S over the windows covering it: a box filter, done as a
                // horizontal then a vertical running sum, identical for every input channel.
                let plane = g.height * g.width;
                let mut rows = vec![0.0f32; g.out_height * g.width];
                for (x, s) in out
                    .chunks_exact_mut(per.max(1))
                    .zip(ss.chunks_exact(g.positions().max(1)))
                {
                    rows.fill(0.0);
                    for (row, srow) in rows.chunks_exact_mut(g.width).zip(s.chunks_exact(g.out_width.max(1))) {
                        for j in 0..g.kernel[1] {
                            for (d, v) in row[j..j + g.out_width].iter_mut().zip(srow) {
                                *d += v;
                            }
                        }
                    }
                    let (first, rest) = x.split_at_mut(plane.min(x.len()));
                    for (oy, row) in rows.chunks_exact(g.width).enumerate() {
                        for i in 0..g.kernel[0] {
                            for (d, v) in first[(oy + i) * g.width..][..g.width].iter_mut().zip(row) {
                                *d += v;
                            }
                        }
                    }
                    for channel in rest.chunks_exact_mut(plane.max(1)) {
                        channel.copy_from_slice(first);
                    }
                }
            }
            Affine::Conv(g) => {
                let (k, p) = (g.patch_len(), g.positions());
                let mut cols = vec![0.0f32; k * p];
                for (x, s) in out.chunks_exact_mut(per.max(1)).zip(ss.chunks_exact(p.max(1))) {
                    for row in cols.chunks_exact_mut(p.max(1)) {
                        row.copy_from_slice(s);
                    }
                    g.col2im(&cols, x);
                }
            }
        }
        ArrayD::from_shape_vec(IxDyn(input_shape), out).unwrap_or_else(|_| ArrayD::zeros(IxDyn(input_shape)))
    }

    /// `fᵀ(S, W)`: the vector–Jacobian product with respect to the input. Zero-padding positions are dropped.
    pub fn transpose(&self, s: &ArrayD<f32>, w: ArrayView2<'_, f32>, input_shape: &[usize]) -> ArrayD<f32> {
        match self {
            Affine::Dense => {
                let n = s.shape()[0];
                let (o, k) = w.dim();
                let (ss, ws) = (row_major(s), row_major(&w));
                let mut g = vec![0.0f32; n * k];
                if n <= SMALL_BATCH {
                    for (srow, grow) in ss.chunks_exact(o).zip(g.chunks_exact_mut(k)) {
                        for (&sj, wrow) in srow.iter().zip(ws.chunks_exact(k)) {
                            if sj != 0.0 {
                                axpy(grow, sj, wrow);
                            }
                        }
                    }
                } else {
                    gemm(n, o, k, &ss, Trans::No, &ws, Trans::No, &mut g, 0.0);
                }
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
