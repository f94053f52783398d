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
mod shape;
mod simd;

pub use conv::{ConvGeometry, window_output_len};
pub use gemm::{Trans, gemm};
pub use layout::row_major;
pub use pool::{PoolTies, max_pool_backward, max_pool_forward};
pub use shape::{batch_of, reshaped, shaped};
pub use simd::{axpy, dot};

use ndarray::{Array1, ArrayD, ArrayView2};

use crate::error::ShapeError;
use shape::check_bias;

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
    ///
    /// # Errors
    /// [`ShapeError`] when `x`, `W` or `b` do not fit the geometry (e.g. `x` not `[N, K]` for a Dense layer).
    pub fn forward(
        &self,
        x: &ArrayD<f32>,
        w: ArrayView2<'_, f32>,
        b: Option<&Array1<f32>>,
    ) -> Result<ArrayD<f32>, ShapeError> {
        match self {
            Affine::Dense => {
                const OP: &str = "dense forward";
                let (o, k) = w.dim();
                let n = batch_of(OP, x.shape(), &[k])?;
                check_bias(OP, b.map(Array1::len), o)?;
                let (xs, ws) = (row_major(x), row_major(&w));
                let mut z = vec![0.0f32; n * o];
                if n <= SMALL_BATCH {
                    for (xrow, zrow) in xs.chunks_exact(k.max(1)).zip(z.chunks_exact_mut(o.max(1))) {
                        for (zj, wrow) in zrow.iter_mut().zip(ws.chunks_exact(k.max(1))) {
                            *zj = dot(wrow, xrow);
                        }
                    }
                } else {
                    gemm(n, k, o, &xs, Trans::No, &ws, Trans::Yes, &mut z, 0.0);
                }
                if let Some(b) = b {
                    for row in z.chunks_mut(o.max(1)) {
                        for (zi, bi) in row.iter_mut().zip(b.iter()) {
                            *zi += bi;
                        }
                    }
                }
                shaped(OP, &[n, o], z)
            }
            Affine::Conv(g) => g.forward(x, w, b),
            Affine::Depthwise(g) => {
                let (n, c) = depthwise_batch("depthwise forward", x.shape(), g, [g.height, g.width])?;
                let flat = reshaped("depthwise forward", x, &[n * c, 1, g.height, g.width])?;
                let z = g.forward(&flat, w, b)?;
                reshaped("depthwise forward", &z, &[n, c, g.out_height, g.out_width])
            }
        }
    }

    /// `fᵀ(S, 1)` for an all-ones weight matrix, given `s` summed over the output channels (`[N, OH, OW]` for a
    /// convolution, `[N]` for a Dense layer): every input receives the sum of the `S` of the windows covering it.
    ///
    /// # Errors
    /// [`ShapeError`] when `s_sum` does not hold one value per sample (per output position) of `input_shape`.
    pub fn transpose_ones(&self, s_sum: &ArrayD<f32>, input_shape: &[usize]) -> Result<ArrayD<f32>, ShapeError> {
        const OP: &str = "transpose of all-ones weights";
        let n = input_shape.first().copied().unwrap_or(0);
        let per: usize = input_shape.iter().skip(1).product();
        let ss = row_major(s_sum);
        let mut out = vec![0.0f32; n * per];
        match self {
            Affine::Dense | Affine::Depthwise(_) => {
                batch_of(OP, s_sum.shape(), &[])?;
                if s_sum.len() != n {
                    return Err(ShapeError {
                        op: OP,
                        expected: format!("[{n}]"),
                        got: s_sum.shape().to_vec(),
                    });
                }
                for (row, &v) in out.chunks_exact_mut(per.max(1)).zip(ss.iter()) {
                    row.fill(v);
                }
            }
            Affine::Conv(g) => {
                batch_of(OP, input_shape, &[g.channels, g.height, g.width])?;
                let sn = batch_of(OP, s_sum.shape(), &[g.out_height, g.out_width])?;
                if sn != n {
                    return Err(ShapeError {
                        op: OP,
                        expected: format!("[{n}, {}, {}]", g.out_height, g.out_width),
                        got: s_sum.shape().to_vec(),
                    });
                }
                if g.stride == [1, 1] && g.padding == [0; 4] {
                    g.box_sum_into(&ss, &mut out, per);
                } else {
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
        }
        shaped(OP, input_shape, out)
    }

    /// `fᵀ(S, W)`: the vector–Jacobian product with respect to the input. Zero-padding positions are dropped.
    ///
    /// # Errors
    /// [`ShapeError`] when `s` or `W` do not fit the geometry and `input_shape`.
    pub fn transpose(
        &self,
        s: &ArrayD<f32>,
        w: ArrayView2<'_, f32>,
        input_shape: &[usize],
    ) -> Result<ArrayD<f32>, ShapeError> {
        match self {
            Affine::Dense => {
                const OP: &str = "dense transpose";
                let (o, k) = w.dim();
                let n = batch_of(OP, s.shape(), &[o])?;
                let (ss, ws) = (row_major(s), row_major(&w));
                let mut g = vec![0.0f32; n * k];
                if n <= SMALL_BATCH {
                    for (srow, grow) in ss.chunks_exact(o.max(1)).zip(g.chunks_exact_mut(k.max(1))) {
                        for (&sj, wrow) in srow.iter().zip(ws.chunks_exact(k.max(1))) {
                            if sj != 0.0 {
                                axpy(grow, sj, wrow);
                            }
                        }
                    }
                } else {
                    gemm(n, o, k, &ss, Trans::No, &ws, Trans::No, &mut g, 0.0);
                }
                shaped(OP, &[n, k], g)
            }
            Affine::Conv(g) => g.transpose(s, w),
            Affine::Depthwise(g) => {
                const OP: &str = "depthwise transpose";
                let (n, c) = depthwise_batch(OP, s.shape(), g, [g.out_height, g.out_width])?;
                let flat = reshaped(OP, s, &[n * c, 1, g.out_height, g.out_width])?;
                let r = g.transpose(&flat, w)?;
                reshaped(OP, &r, input_shape)
            }
        }
    }
}

/// `(N, C)` of a depthwise layer's `[N, C, H, W]` array whose planes are `plane` (`[H, W]`); the geometry is the
/// one of a single plane.
fn depthwise_batch(
    op: &'static str,
    shape: &[usize],
    g: &ConvGeometry,
    plane: [usize; 2],
) -> Result<(usize, usize), ShapeError> {
    match shape {
        &[n, c, h, w] if [h, w] == plane && g.channels == 1 => Ok((n, c)),
        _ => Err(ShapeError {
            op,
            expected: format!("[N, C, {}, {}] (one-channel geometry)", plane[0], plane[1]),
            got: shape.to_vec(),
        }),
    }
}
