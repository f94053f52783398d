//! Max pooling forward and its relevance / gradient routing.

use ndarray::{ArrayD, IxDyn};
use rayon::prelude::*;

use super::conv::ConvGeometry;

/// How a max-pooling window passes relevance (or gradient) back when several inputs share the maximum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PoolTies {
    /// Everything goes to the first maximum in row-major order (PyTorch's gradient, Zennit).
    First,
    /// Split equally among all maxima (the LRP Toolbox).
    Split,
}

/// `geom` describes one channel plane (`channels == 1`); `x: [N, C, H, W]` → `[N, C, OH, OW]`.
pub fn max_pool_forward(x: &ArrayD<f32>, geom: &ConvGeometry) -> ArrayD<f32> {
    let s = x.shape();
    let (n, c) = (s[0], s[1]);
    let xs = x.as_standard_layout();
    let xs = xs.as_slice().unwrap_or(&[]);
    let plane = geom.height * geom.width;
    let windows = Windows::new(geom);
    let mut out = vec![f32::NEG_INFINITY; n * c * geom.positions()];
    let one = |(src, dst): (&[f32], &mut [f32])| {
        for (o, best) in dst.iter_mut().enumerate() {
            for &idx in windows.of(o) {
                if src[idx] > *best {
                    *best = src[idx];
                }
            }
        }
    };
    if xs.len() >= PARALLEL_VALUES {
        xs.par_chunks(plane)
            .zip(out.par_chunks_mut(geom.positions()))
            .for_each(one);
    } else {
        xs.chunks(plane).zip(out.chunks_mut(geom.positions())).for_each(one);
    }
    ArrayD::from_shape_vec(IxDyn(&[n, c, geom.out_height, geom.out_width]), out)
        .unwrap_or_else(|_| ArrayD::zeros(IxDyn(&[n, c, geom.out_height, geom.out_width])))
}

/// Route `r: [N, C, OH, OW]` back to the maxima of `x: [N, C, H, W]`.
pub fn max_pool_backward(x: &ArrayD<f32>, r: &ArrayD<f32>, geom: &ConvGeometry, ties: PoolTies) -> ArrayD<f32> {
    let s = x.shape().to_vec();
    let xs = x.as_standard_layout();
    let xs = xs.as_slice().unwrap_or(&[]);
    let rs = r.as_standard_layout();
    let rs = rs.as_slice().unwrap_or(&[]);
    let plane = geom.height * geom.width;
    let positions = geom.positions();
    let windows = Windows::new(geom);
    let mut out = vec![0.0f32; xs.len()];
    let one = |((src, dst), rel): ((&[f32], &mut [f32]), &[f32])| {
        for (o, &value) in rel.iter().enumerate() {
            let window = windows.of(o);
            // The first maximum in row-major order, then (to split) how many share it.
            let mut first = None;
            let mut best = f32::NEG_INFINITY;
            for &idx in window {
                if src[idx] > best || first.is_none() && src[idx] == best {
                    best = src[idx];
                    first = Some(idx);
                }
            }
            let Some(first) = first else { continue };
            match ties {
                PoolTies::First => dst[first] += value,
                PoolTies::Split => {
                    let count = window.iter().filter(|&&idx| src[idx] == best).count();
                    let share = value / count as f32;
                    for &idx in window {
                        if src[idx] == best {
                            dst[idx] += share;
                        }
                    }
                }
            }
        }
    };
    if xs.len() >= PARALLEL_VALUES {
        xs.par_chunks(plane)
            .zip(out.par_chunks_mut(plane))
            .zip(rs.par_chunks(positions))
            .for_each(one);
    } else {
        xs.chunks(plane)
            .zip(out.chunks_mut(plane))
            .zip(rs.chunks(positions))
            .for_each(one);
    }
    ArrayD::from_shape_vec(IxDyn(&s), out).unwrap_or_else(|_| ArrayD::zeros(IxDyn(&s)))
}

/// Inputs (values of all planes together) from which pooling runs on several threads.
const PARALLEL_VALUES: usize = 1 << 16;

/// The in-bounds plane indices of every output position's window, in row-major order, computed once per call.
struct Windows {
    indices: Vec<usize>,
    /// `starts[o]..starts[o + 1]`: the window of output position `o`.
    starts: Vec<usize>,
}

impl Windows {
    fn new(geom: &ConvGeometry) -> Self {
        let mut indices = Vec::with_capacity(geom.positions() * geom.kernel[0] * geom.kernel[1]);
        let mut starts = Vec::with_capacity(geom.positions() + 1);
        starts.push(0);
        for oy in 0..geom.out_height {
            for ox in 0..geom.out_width {
                for_window(geom, oy, ox, |idx| indices.push(idx));
                starts.push(indices.len());
            }
        }
        Self { indices, starts }
    }

    fn of(&self, o: usize) -> &[usize] {
        match (self.starts.get(o), self.starts.get(o + 1)) {
            (Some(&a), Some(&b)) => &self.indices[a..b],
            _ => &[],
        }
    }
}

/// Calls `f` with the in-bounds plane indices of window `(oy, ox)` in row-major order.
fn for_window(geom: &ConvGeometry, oy: usize, ox: usize, mut f: impl FnMut(usize)) {
    for i in 0..geom.kernel[0] {
        let Some(y) = (oy * geom.stride[0] + i).checked_sub(geom.padding[0]) else {
            continue;
        };
        if y >= geom.height {
            continue;
        }
        for j in 0..geom.kernel[1] {
            let Some(x) = (ox * geom.stride[1] + j).checked_sub(geom.padding[1]) else {
                continue;
            };
            if x < geom.width {
                f(y * geom.width + x);
            }
        }
    }
}
