//! Forward and backward passes of a [`Net`] with softmax cross-entropy: the loss and the gradient of every
//! weight and bias over a batch.
//!
//! A batch is cut into fixed chunks of [`CHUNK`] samples that run in parallel, each into its own gradient
//! buffer; the buffers are then added in chunk order, so the result does not depend on the thread count.

use ndarray::ArrayD;
use rayon::prelude::*;

use super::net::{Net, Op};
use crate::error::ShapeError;
use crate::ops::{ConvGeometry, PoolTies, Trans, gemm, max_pool_backward, max_pool_forward};

/// Samples per parallel work item.
pub(crate) const CHUNK: usize = 16;

/// Activations of one chunk: `acts[k]` is the input of op `k` (`[m, sizes[k]]`), `cols[k]` the im2col
/// matrices of a conv op (`m × [K, P]`, empty for other ops).
struct Tape {
    acts: Vec<Vec<f32>>,
    cols: Vec<Vec<f32>>,
}

impl Net {
    /// Forward pass of `m` samples `x: [m, input_len]`.
    fn forward_chunk(&self, x: Vec<f32>, m: usize) -> Result<Tape, ShapeError> {
        let mut acts = Vec::with_capacity(self.ops.len() + 1);
        let mut cols = Vec::with_capacity(self.ops.len());
        acts.push(x);
        for (k, op) in self.ops.iter().enumerate() {
            let input = &acts[k];
            let (out_len, in_len) = (self.sizes[k + 1], self.sizes[k]);
            let mut out = vec![0.0f32; m * out_len];
            let mut op_cols = Vec::new();
            match *op {
                Op::Dense {
                    inputs,
                    outputs,
                    weight,
                    bias,
                } => {
                    let w = &self.params[weight..weight + outputs * inputs];
                    gemm(m, inputs, outputs, input, Trans::No, w, Trans::Yes, &mut out, 0.0);
                    if let Some(b) = bias {
                        let b = &self.params[b..b + outputs];
                        for row in out.chunks_mut(outputs) {
                            row.iter_mut().zip(b).for_each(|(z, b)| *z += b);
                        }
                    }
                }
                Op::Conv {
                    geom,
                    outputs,
                    weight,
                    bias,
                } => {
                    let (kl, p) = (geom.patch_len(), geom.positions());
                    let w = &self.params[weight..weight + outputs * kl];
                    op_cols = vec![0.0f32; m * kl * p];
                    for ((xs, cs), zs) in input
                        .chunks(in_len)
                        .zip(op_cols.chunks_mut(kl * p))
                        .zip(out.chunks_mut(out_len))
                    {
                        geom.im2col(xs, cs);
                        gemm(outputs, kl, p, w, Trans::No, cs, Trans::No, zs, 0.0);
                        if let Some(b) = bias {
                            for (row, b) in zs.chunks_mut(p).zip(&self.params[b..b + outputs]) {
                                row.iter_mut().for_each(|z| *z += b);
                            }
                        }
                    }
                }
                Op::MaxPool { geom, channels } => {
                    let x = planes(input, m, channels, &geom, true)?;
                    out = max_pool_forward(&x, &geom)?.into_raw_vec_and_offset().0;
                }
                Op::Relu => out.iter_mut().zip(input).for_each(|(o, &v)| *o = v.max(0.0)),
                Op::Reshape => out.copy_from_slice(input),
            }
            acts.push(out);
            cols.push(op_cols);
        }
        Ok(Tape { acts, cols })
    }

    /// Backward pass from `g = ∂loss/∂logits: [m, outputs]`; adds the parameter gradients to `grads`.
    fn backward_chunk(&self, tape: &Tape, mut g: Vec<f32>, m: usize, grads: &mut [f32]) -> Result<(), ShapeError> {
        for (k, op) in self.ops.iter().enumerate().rev() {
            let input = &tape.acts[k];
            let (out_len, in_len) = (self.sizes[k + 1], self.sizes[k]);
            let need_input_grad = k > 0;
            g = match *op {
                Op::Dense {
                    inputs,
                    outputs,
                    weight,
                    bias,
                } => {
                    let w = &self.params[weight..weight + outputs * inputs];
                    let dw = &mut grads[weight..weight + outputs * inputs];
                    gemm(outputs, m, inputs, &g, Trans::Yes, input, Trans::No, dw, 1.0);
                    if let Some(b) = bias {
                        let db = &mut grads[b..b + outputs];
                        for row in g.chunks(outputs) {
                            db.iter_mut().zip(row).for_each(|(d, v)| *d += v);
                        }
                    }
                    let mut dx = Vec::new();
                    if need_input_grad {
                        dx = vec![0.0f32; m * inputs];
                        gemm(m, outputs, inputs, &g, Trans::No, w, Trans::No, &mut dx, 0.0);
                    }
                    dx
                }
                Op::Conv {
                    geom,
                    outputs,
                    weight,
                    bias,
                } => {
                    let (kl, p) = (geom.patch_len(), geom.positions());
                    let w = &self.params[weight..weight + outputs * kl];
                    for (gs, cs) in g.chunks(out_len).zip(tape.cols[k].chunks(kl * p)) {
                        gemm(
                            outputs,
                            p,
                            kl,
                            gs,
                            Trans::No,
                            cs,
                            Trans::Yes,
                            &mut grads[weight..weight + outputs * kl],
                            1.0,
                        );
                        if let Some(b) = bias {
                            for (d, row) in grads[b..b + outputs].iter_mut().zip(gs.chunks(p)) {
                                *d += row.iter().sum::<f32>();
                            }
                        }
                    }
                    let mut dx = Vec::new();
                    if need_input_grad {
                        dx = vec![0.0f32; m * in_len];
                        let mut dcols = vec![0.0f32; kl * p];
                        for (gs, dxs) in g.chunks(out_len).zip(dx.chunks_mut(in_len)) {
                            gemm(kl, outputs, p, w, Trans::Yes, gs, Trans::No, &mut dcols, 0.0);
                            geom.col2im(&dcols, dxs);
                        }
                    }
                    dx
                }
                Op::MaxPool { geom, channels } => {
                    let x = planes(input, m, channels, &geom, true)?;
                    let r = planes(&g, m, channels, &geom, false)?;
                    max_pool_backward(&x, &r, &geom, PoolTies::First)?
                        .into_raw_vec_and_offset()
                        .0
                }
                Op::Relu => {
                    g.iter_mut().zip(input).for_each(|(d, &v)| {
                        if v <= 0.0 {
                            *d = 0.0;
                        }
                    });
                    g
                }
                Op::Reshape => g,
            };
        }
        Ok(())
    }

    /// Sum of the cross-entropy losses of the chunk and the parameter gradients of `scale ×` that sum.
    fn chunk_gradient(&self, x: Vec<f32>, labels: &[u8], scale: f32, grads: &mut [f32]) -> Result<f64, ShapeError> {
        let m = labels.len();
        let tape = self.forward_chunk(x, m)?;
        let classes = self.outputs();
        let logits = tape.acts.last().map_or(&[][..], Vec::as_slice);
        let mut g = vec![0.0f32; m * classes];
        let mut loss = 0.0f64;
        for ((row, d), &label) in logits.chunks(classes).zip(g.chunks_mut(classes)).zip(labels) {
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let sum: f32 = row.iter().map(|v| (v - max).exp()).sum();
            let log_sum = sum.ln() + max;
            let label = usize::from(label);
            loss += f64::from(log_sum - row.get(label).copied().unwrap_or(0.0));
            for (j, (dj, &v)) in d.iter_mut().zip(row).enumerate() {
                let p = (v - log_sum).exp();
                *dj = scale * (p - if j == label { 1.0 } else { 0.0 });
            }
        }
        self.backward_chunk(&tape, g, m, grads)?;
        Ok(loss)
    }

    /// Mean loss over the samples `order` of `images`/`labels` and its gradient (written to `grads`).
    ///
    /// `images` holds `input_len` values per sample; every index in `order` must be in range.
    pub fn batch_gradient(
        &self,
        images: &[f32],
        labels: &[u8],
        order: &[usize],
        grads: &mut [f32],
    ) -> Result<f32, ShapeError> {
        let len = self.input_len();
        let scale = 1.0 / order.len().max(1) as f32;
        let run = |chunk: &[usize]| {
            let mut x = Vec::with_capacity(chunk.len() * len);
            let mut y = Vec::with_capacity(chunk.len());
            for &i in chunk {
                x.extend_from_slice(&images[i * len..(i + 1) * len]);
                y.push(labels[i]);
            }
            let mut part = vec![0.0f32; self.params.len()];
            let loss = self.chunk_gradient(x, &y, scale, &mut part)?;
            Ok((loss, part))
        };
        let parts: Vec<(f64, Vec<f32>)> = if order.len() > CHUNK {
            order.par_chunks(CHUNK).map(run).collect::<Result<_, ShapeError>>()?
        } else {
            order.chunks(CHUNK).map(run).collect::<Result<_, ShapeError>>()?
        };
        grads.fill(0.0);
        let mut loss = 0.0f64;
        for (part_loss, part) in parts {
            loss += part_loss;
            grads.iter_mut().zip(&part).for_each(|(g, p)| *g += p);
        }
        Ok((loss * f64::from(scale)) as f32)
    }
}

/// `[m, channels, H, W]` view of a flat buffer as an owned array (the max-pool kernels take `ArrayD`).
/// `input` selects the plane size of the pool's input (`H × W`) or output (`OH × OW`).
fn planes(
    data: &[f32],
    m: usize,
    channels: usize,
    geom: &ConvGeometry,
    input: bool,
) -> Result<ArrayD<f32>, ShapeError> {
    let (h, w) = if input {
        (geom.height, geom.width)
    } else {
        (geom.out_height, geom.out_width)
    };
    crate::ops::shaped("max pooling planes", &[m, channels, h, w], data.to_vec())
}
