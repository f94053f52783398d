//! 2-D convolution through im2col / col2im and a matrix product, batch-parallel with rayon.

use ndarray::{Array1, ArrayD, ArrayView2, IxDyn};
use rayon::prelude::*;

use super::gemm::{Trans, gemm};

/// Geometry of a 2-D convolution (or of a pooling window seen as one): input `[C, H, W]` → output
/// `[O, OH, OW]` with `K = C·kh·kw` weights per output channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGeometry {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    /// `[top, left, bottom, right]`.
    pub padding: [usize; 4],
    pub out_height: usize,
    pub out_width: usize,
}

/// Below this many multiply-adds per batch, threads cost more than they save.
const PARALLEL_WORK: usize = 1 << 18;

impl ConvGeometry {
    /// Geometry for input `[channels, height, width]`, or `None` if the kernel does not fit.
    pub fn new(
        channels: usize,
        height: usize,
        width: usize,
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 4],
    ) -> Option<Self> {
        let out_height = crate::model::Pool2d::output_len(height, kernel[0], stride[0], padding[0], padding[2])?;
        let out_width = crate::model::Pool2d::output_len(width, kernel[1], stride[1], padding[1], padding[3])?;
        Some(ConvGeometry {
            channels,
            height,
            width,
            kernel,
            stride,
            padding,
            out_height,
            out_width,
        })
    }

    /// Weights per output channel: `C·kh·kw`.
    pub fn patch_len(&self) -> usize {
        self.channels * self.kernel[0] * self.kernel[1]
    }

    /// Output positions per channel: `OH·OW`.
    pub fn positions(&self) -> usize {
        self.out_height * self.out_width
    }

    fn input_len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// For every patch row `k = (c, i, j)` and output position `p = (oy, ox)`: the input index, or `None` in the padding.
    #[inline]
    fn source(&self, c: usize, i: usize, j: usize, oy: usize, ox: usize) -> Option<usize> {
        let y = (oy * self.stride[0] + i).checked_sub(self.padding[0])?;
        let x = (ox * self.stride[1] + j).checked_sub(self.padding[1])?;
        (y < self.height && x < self.width).then(|| (c * self.height + y) * self.width + x)
    }

    /// im2col of one sample: `cols: [K, P]`.
    pub fn im2col(&self, x: &[f32], cols: &mut [f32]) {
        let p = self.positions();
        let [kh, kw] = self.kernel;
        for c in 0..self.channels {
            for i in 0..kh {
                for j in 0..kw {
                    let row = &mut cols[((c * kh + i) * kw + j) * p..][..p];
                    for oy in 0..self.out_height {
                        for ox in 0..self.out_width {
                            row[oy * self.out_width + ox] = self.source(c, i, j, oy, ox).map_or(0.0, |s| x[s]);
                        }
                    }
                }
            }
        }
    }

    /// col2im of one sample: scatter-add `cols: [K, P]` into `x` (zeroed first). Padding positions are dropped.
    pub fn col2im(&self, cols: &[f32], x: &mut [f32]) {
        x.fill(0.0);
        let p = self.positions();
        let [kh, kw] = self.kernel;
        for c in 0..self.channels {
            for i in 0..kh {
                for j in 0..kw {
                    let row = &cols[((c * kh + i) * kw + j) * p..][..p];
                    for oy in 0..self.out_height {
                        for ox in 0..self.out_width {
                            if let Some(s) = self.source(c, i, j, oy, ox) {
                                x[s] += row[oy * self.out_width + ox];
                            }
                        }
                    }
                }
            }
        }
    }

    /// `z = conv(x, W) + b` for `x: [N, C, H, W]`, `w: [O, K]` → `[N, O, OH, OW]`.
    pub fn forward(&self, x: &ArrayD<f32>, w: ArrayView2<'_, f32>, b: Option<&Array1<f32>>) -> ArrayD<f32> {
        let n = x.shape()[0];
        let (o, k, p) = (w.nrows(), self.patch_len(), self.positions());
        let xs = x.as_standard_layout();
        let xs = xs.as_slice().unwrap_or(&[]);
        let ws = w.as_slice().unwrap_or(&[]);
        let mut z = vec![0.0f32; n * o * p];
        let one = |(sample, out): (usize, &mut [f32])| {
            let mut cols = vec![0.0f32; k * p];
            self.im2col(&xs[sample * self.input_len()..][..self.input_len()], &mut cols);
            gemm(o, k, p, ws, Trans::No, &cols, Trans::No, out, 0.0);
            if let Some(b) = b {
                for (row, bias) in out.chunks_mut(p).zip(b.iter()) {
                    row.iter_mut().for_each(|v| *v += bias);
                }
            }
        };
        if n > 1 && n * o * k * p >= PARALLEL_WORK {
            z.par_chunks_mut(o * p).enumerate().for_each(one);
        } else {
            z.chunks_mut(o * p).enumerate().for_each(one);
        }
        ArrayD::from_shape_vec(IxDyn(&[n, o, self.out_height, self.out_width]), z)
            .unwrap_or_else(|_| ArrayD::zeros(IxDyn(&[n, o, self.out_height, self.out_width])))
    }

    /// `fᵀ(S, W)` for `s: [N, O, OH, OW]`, `w: [O, K]` → `[N, C, H, W]`.
    pub fn transpose(&self, s: &ArrayD<f32>, w: ArrayView2<'_, f32>) -> ArrayD<f32> {
        let n = s.shape()[0];
        let (o, k, p) = (w.nrows(), self.patch_len(), self.positions());
        let ss = s.as_standard_layout();
        let ss = ss.as_slice().unwrap_or(&[]);
        let ws = w.as_slice().unwrap_or(&[]);
        let len = self.input_len();
        let mut g = vec![0.0f32; n * len];
        let one = |(sample, out): (usize, &mut [f32])| {
            let mut cols = vec![0.0f32; k * p];
            gemm(
                k,
                o,
                p,
                ws,
                Trans::Yes,
                &ss[sample * o * p..][..o * p],
                Trans::No,
                &mut cols,
                0.0,
            );
            self.col2im(&cols, out);
        };
        if n > 1 && n * o * k * p >= PARALLEL_WORK {
            g.par_chunks_mut(len).enumerate().for_each(one);
        } else {
            g.chunks_mut(len).enumerate().for_each(one);
        }
        ArrayD::from_shape_vec(IxDyn(&[n, self.channels, self.height, self.width]), g)
            .unwrap_or_else(|_| ArrayD::zeros(IxDyn(&[n, self.channels, self.height, self.width])))
    }
}
