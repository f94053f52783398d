//! 2-D convolution through im2col / col2im and a matrix product, batch-parallel with rayon.

use ndarray::{Array1, ArrayD, ArrayView2};
use rayon::prelude::*;

use super::gemm::{Trans, gemm};
use super::layout::row_major;
use super::shape::{batch_of, check_bias, shaped};
use crate::error::ShapeError;

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

/// Whether to spread a batch over threads: only for real work, and only when not already running inside
/// the thread pool (the batched engine splits batches into chunks at the top; nesting would only add overhead).
fn parallel(samples: usize, work: usize) -> bool {
    samples > 1 && work >= PARALLEL_WORK && rayon::current_thread_index().is_none()
}

/// `dst = src` for short rows (a convolution's output width, typically 8–28 values): in blocks of eight, which
/// compile to single vector moves, where a call to `memcpy` would cost more than the copy.
#[inline]
fn copy_short(dst: &mut [f32], src: &[f32]) {
    let (d8, d_rest) = dst.as_chunks_mut::<8>();
    let (s8, s_rest) = src.as_chunks::<8>();
    for (d, s) in d8.iter_mut().zip(s8) {
        *d = *s;
    }
    let (d4, d_rest) = d_rest.as_chunks_mut::<4>();
    let (s4, s_rest) = s_rest.as_chunks::<4>();
    for (d, s) in d4.iter_mut().zip(s4) {
        *d = *s;
    }
    for (d, s) in d_rest.iter_mut().zip(s_rest) {
        *d = *s;
    }
}

/// `dst += src` for short rows, in blocks of eight.
#[inline]
fn add_short(dst: &mut [f32], src: &[f32]) {
    let (d8, d_rest) = dst.as_chunks_mut::<8>();
    let (s8, s_rest) = src.as_chunks::<8>();
    for (d, s) in d8.iter_mut().zip(s8) {
        for i in 0..8 {
            d[i] += s[i];
        }
    }
    for (d, s) in d_rest.iter_mut().zip(s_rest) {
        *d += s;
    }
}

/// Output size along one axis of a sliding window (convolution or pooling) over `input` values padded by
/// `pad_lo` and `pad_hi`, or `None` if the window does not fit (or a size is zero or overflows).
pub fn window_output_len(input: usize, kernel: usize, stride: usize, pad_lo: usize, pad_hi: usize) -> Option<usize> {
    let padded = input.checked_add(pad_lo)?.checked_add(pad_hi)?;
    if kernel == 0 || stride == 0 || padded < kernel {
        return None;
    }
    Some((padded - kernel) / stride + 1)
}

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
        let out_height = window_output_len(height, kernel[0], stride[0], padding[0], padding[2])?;
        let out_width = window_output_len(width, kernel[1], stride[1], padding[1], padding[3])?;
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

    /// Output columns `ox` whose input column `ox·stride + j − pad_left` lies inside the image, as a range.
    #[inline]
    fn valid_columns(&self, j: usize) -> std::ops::Range<usize> {
        let (s, pl, w) = (self.stride[1], self.padding[1], self.width);
        let start = pl.saturating_sub(j).div_ceil(s);
        // x = ox·s + j − pl < w  ⇔  ox·s < w + pl − j
        let end = if w + pl > j { (w + pl - j).div_ceil(s) } else { 0 };
        start.min(self.out_width)..end.min(self.out_width).max(start.min(self.out_width))
    }

    /// Input row of output row `oy` for kernel row `i`, or `None` in the padding.
    #[inline]
    fn input_row(&self, i: usize, oy: usize) -> Option<usize> {
        let y = (oy * self.stride[0] + i).checked_sub(self.padding[0])?;
        (y < self.height).then_some(y)
    }

    /// Stride 1 and no padding (most convolutions of small vision networks): every window row lies inside
    /// the image, so im2col and col2im need no bounds logic.
    fn is_plain(&self) -> bool {
        self.stride == [1, 1] && self.padding == [0; 4] && self.out_width > 0
    }

    /// im2col of one sample: `cols: [K, P]` (zero where the window covers padding).
    pub fn im2col(&self, x: &[f32], cols: &mut [f32]) {
        let p = self.positions();
        if self.is_plain() {
            let (plane_len, w, ow) = (self.height * self.width, self.width, self.out_width);
            let rows = cols.chunks_exact_mut(p.max(1));
            let mut rows = rows.into_iter();
            for plane in x.chunks_exact(plane_len.max(1)).take(self.channels) {
                for i in 0..self.kernel[0] {
                    for j in 0..self.kernel[1] {
                        let Some(row) = rows.next() else { return };
                        for (oy, out) in row.chunks_exact_mut(ow).enumerate() {
                            copy_short(out, &plane[(oy + i) * w + j..][..ow]);
                        }
                    }
                }
            }
            return;
        }
        let [kh, kw] = self.kernel;
        let (ow, sw) = (self.out_width, self.stride[1]);
        for c in 0..self.channels {
            let plane = &x[c * self.height * self.width..][..self.height * self.width];
            for i in 0..kh {
                for j in 0..kw {
                    let row = &mut cols[((c * kh + i) * kw + j) * p..][..p];
                    let valid = self.valid_columns(j);
                    for oy in 0..self.out_height {
                        let out = &mut row[oy * ow..][..ow];
                        let Some(y) = self.input_row(i, oy).filter(|_| !valid.is_empty()) else {
                            out.fill(0.0);
                            continue;
                        };
                        out[..valid.start].fill(0.0);
                        out[valid.end..].fill(0.0);
                        let src = &plane[y * self.width..][..self.width];
                        let x0 = valid.start * sw + j - self.padding[1];
                        if sw == 1 {
                            copy_short(&mut out[valid.clone()], &src[x0..x0 + valid.len()]);
                        } else {
                            for (k, o) in out[valid.clone()].iter_mut().enumerate() {
                                *o = src[x0 + k * sw];
                            }
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
        if self.is_plain() {
            let (plane_len, w, ow) = (self.height * self.width, self.width, self.out_width);
            let mut rows = cols.chunks_exact(p.max(1));
            for plane in x.chunks_exact_mut(plane_len.max(1)).take(self.channels) {
                for i in 0..self.kernel[0] {
                    for j in 0..self.kernel[1] {
                        let Some(row) = rows.next() else { return };
                        for (oy, src) in row.chunks_exact(ow).enumerate() {
                            add_short(&mut plane[(oy + i) * w + j..][..ow], src);
                        }
                    }
                }
            }
            return;
        }
        let [kh, kw] = self.kernel;
        let (ow, sw) = (self.out_width, self.stride[1]);
        for c in 0..self.channels {
            let plane = &mut x[c * self.height * self.width..][..self.height * self.width];
            for i in 0..kh {
                for j in 0..kw {
                    let row = &cols[((c * kh + i) * kw + j) * p..][..p];
                    let valid = self.valid_columns(j);
                    for oy in 0..self.out_height {
                        let Some(y) = self.input_row(i, oy).filter(|_| !valid.is_empty()) else {
                            continue;
                        };
                        let src = &row[oy * ow..][..ow];
                        let dst = &mut plane[y * self.width..][..self.width];
                        let x0 = valid.start * sw + j - self.padding[1];
                        if sw == 1 {
                            add_short(&mut dst[x0..x0 + valid.len()], &src[valid.clone()]);
                        } else {
                            for (k, s) in src[valid.clone()].iter().enumerate() {
                                dst[x0 + k * sw] += s;
                            }
                        }
                    }
                }
            }
        }
    }

    /// Each input pixel of `out` (`[N, C, H, W]`, `per = C·H·W` values a sample) gets the sum of `s_sum`
    /// (`[N, OH, OW]`) over the windows covering it, for stride 1 and no padding: a box filter, done as a
    /// horizontal then a vertical running sum, identical for every input channel.
    pub(super) fn box_sum_into(&self, s_sum: &[f32], out: &mut [f32], per: usize) {
        let plane = self.height * self.width;
        let mut rows = vec![0.0f32; self.out_height * self.width];
        for (x, s) in out
            .chunks_exact_mut(per.max(1))
            .zip(s_sum.chunks_exact(self.positions().max(1)))
        {
            rows.fill(0.0);
            for (row, srow) in rows
                .chunks_exact_mut(self.width.max(1))
                .zip(s.chunks_exact(self.out_width.max(1)))
            {
                for j in 0..self.kernel[1] {
                    for (d, v) in row[j..j + self.out_width].iter_mut().zip(srow) {
                        *d += v;
                    }
                }
            }
            let (first, rest) = x.split_at_mut(plane.min(x.len()));
            for (oy, row) in rows.chunks_exact(self.width.max(1)).enumerate() {
                for i in 0..self.kernel[0] {
                    for (d, v) in first[(oy + i) * self.width..][..self.width].iter_mut().zip(row) {
                        *d += v;
                    }
                }
            }
            for channel in rest.chunks_exact_mut(plane.max(1)) {
                channel.copy_from_slice(first);
            }
        }
    }

    /// `z = conv(x, W) + b` for `x: [N, C, H, W]`, `w: [O, K]` → `[N, O, OH, OW]`.
    ///
    /// # Errors
    /// [`ShapeError`] when `x` is not `[N, C, H, W]` of this geometry, `w` has not `K` columns or `b` not `O` values.
    pub fn forward(
        &self,
        x: &ArrayD<f32>,
        w: ArrayView2<'_, f32>,
        b: Option<&Array1<f32>>,
    ) -> Result<ArrayD<f32>, ShapeError> {
        const OP: &str = "convolution forward";
        let n = batch_of(OP, x.shape(), &[self.channels, self.height, self.width])?;
        let (o, k, p) = (w.nrows(), self.patch_len(), self.positions());
        self.check_weight(OP, w)?;
        check_bias(OP, b.map(Array1::len), o)?;
        let (xs, ws) = (row_major(x), row_major(&w));
        let mut z = vec![0.0f32; n * o * p];
        // One im2col buffer per thread, reused for every sample (im2col writes all of it).
        let one = |cols: &mut Vec<f32>, (sample, out): (usize, &mut [f32])| {
            cols.resize(k * p, 0.0);
            self.im2col(&xs[sample * self.input_len()..][..self.input_len()], cols);
            gemm(o, k, p, &ws, Trans::No, cols, Trans::No, out, 0.0);
            if let Some(b) = b {
                for (row, bias) in out.chunks_mut(p.max(1)).zip(b.iter()) {
                    row.iter_mut().for_each(|v| *v += bias);
                }
            }
        };
        if o * p > 0 {
            if parallel(n, n * o * k * p) {
                z.par_chunks_mut(o * p).enumerate().for_each_init(Vec::new, one);
            } else {
                let mut cols = Vec::new();
                z.chunks_mut(o * p).enumerate().for_each(|item| one(&mut cols, item));
            }
        }
        shaped(OP, &[n, o, self.out_height, self.out_width], z)
    }

    /// `fᵀ(S, W)` for `s: [N, O, OH, OW]`, `w: [O, K]` → `[N, C, H, W]`.
    ///
    /// # Errors
    /// [`ShapeError`] when `s` is not `[N, O, OH, OW]` of this geometry or `w` has not `K` columns.
    pub fn transpose(&self, s: &ArrayD<f32>, w: ArrayView2<'_, f32>) -> Result<ArrayD<f32>, ShapeError> {
        const OP: &str = "convolution transpose";
        let (o, k, p) = (w.nrows(), self.patch_len(), self.positions());
        let n = batch_of(OP, s.shape(), &[o, self.out_height, self.out_width])?;
        self.check_weight(OP, w)?;
        let (ss, ws) = (row_major(s), row_major(&w));
        let len = self.input_len();
        let mut g = vec![0.0f32; n * len];
        let one = |cols: &mut Vec<f32>, (sample, out): (usize, &mut [f32])| {
            cols.resize(k * p, 0.0);
            gemm(
                k,
                o,
                p,
                &ws,
                Trans::Yes,
                &ss[sample * o * p..][..o * p],
                Trans::No,
                cols,
                0.0,
            );
            self.col2im(cols, out);
        };
        if len > 0 {
            if parallel(n, n * o * k * p) {
                g.par_chunks_mut(len).enumerate().for_each_init(Vec::new, one);
            } else {
                let mut cols = Vec::new();
                g.chunks_mut(len).enumerate().for_each(|item| one(&mut cols, item));
            }
        }
        shaped(OP, &[n, self.channels, self.height, self.width], g)
    }

    /// `Ok` when `w` is `[O, K]` with `K` = [`Self::patch_len`].
    fn check_weight(&self, op: &'static str, w: ArrayView2<'_, f32>) -> Result<(), ShapeError> {
        if w.ncols() == self.patch_len() {
            Ok(())
        } else {
            Err(ShapeError {
                op,
                expected: format!("weights [O, {}]", self.patch_len()),
                got: w.shape().to_vec(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// im2col against the definition, for strides and paddings larger than the image.
    #[test]
    fn im2col_matches_the_definition_on_awkward_geometries() {
        for (h, w, k, s, p) in [
            (5, 4, [3, 2], [1, 1], [1, 2, 0, 1]),
            (2, 3, [2, 2], [3, 4], [2, 3, 2, 3]),
            (1, 1, [3, 3], [2, 2], [1; 4]),
            (7, 9, [3, 2], [1, 1], [0; 4]),
            (12, 12, [5, 5], [1, 1], [0; 4]),
        ] {
            let Some(g) = ConvGeometry::new(2, h, w, k, s, p) else {
                continue;
            };
            let x: Vec<f32> = (0..2 * h * w).map(|v| v as f32 + 1.0).collect();
            let mut cols = vec![f32::NAN; g.patch_len() * g.positions()];
            g.im2col(&x, &mut cols);
            for c in 0..2 {
                for i in 0..k[0] {
                    for j in 0..k[1] {
                        for oy in 0..g.out_height {
                            for ox in 0..g.out_width {
                                let y = (oy * s[0] + i) as isize - p[0] as isize;
                                let xx = (ox * s[1] + j) as isize - p[1] as isize;
                                let want = if y >= 0 && xx >= 0 && (y as usize) < h && (xx as usize) < w {
                                    x[(c * h + y as usize) * w + xx as usize]
                                } else {
                                    0.0
                                };
                                let got = cols[((c * k[0] + i) * k[1] + j) * g.positions() + oy * g.out_width + ox];
                                assert_eq!(got, want, "{h}x{w} k{k:?} s{s:?} p{p:?}");
                            }
                        }
                    }
                }
            }
            // col2im is im2col's transpose: <im2col(x), c> = <x, col2im(c)>.
            let c: Vec<f32> = (0..cols.len()).map(|v| (v % 7) as f32 - 3.0).collect();
            let mut back = vec![0.0; x.len()];
            g.col2im(&c, &mut back);
            let lhs: f32 = cols.iter().zip(&c).map(|(a, b)| a * b).sum();
            let rhs: f32 = x.iter().zip(&back).map(|(a, b)| a * b).sum();
            assert!((lhs - rhs).abs() < 1e-3, "{lhs} vs {rhs}");
        }
    }
}
