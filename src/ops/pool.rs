//! Max pooling forward and its relevance / gradient routing.

use ndarray::{ArrayD, IxDyn};

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
    let mut out = Vec::with_capacity(n * c * geom.positions());
    for src in xs.chunks(plane).take(n * c) {
        for oy in 0..geom.out_height {
            for ox in 0..geom.out_width {
                let mut best = f32::NEG_INFINITY;
                for_window(geom, oy, ox, |idx| {
                    if src[idx] > best {
                        best = src[idx];
                    }
                });
                out.push(best);
            }
        }
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
    let mut out = vec![0.0f32; xs.len()];
    let mut winners = Vec::new();
    for ((src, dst), rel) in xs.chunks(plane).zip(out.chunks_mut(plane)).zip(rs.chunks(positions)) {
        for oy in 0..geom.out_height {
            for ox in 0..geom.out_width {
                let value = rel[oy * geom.out_width + ox];
                let mut best = f32::NEG_INFINITY;
                winners.clear();
                for_window(geom, oy, ox, |idx| {
                    if src[idx] > best {
                        best = src[idx];
                        winners.clear();
                        winners.push(idx);
                    } else if src[idx] == best {
                        winners.push(idx);
                    }
                });
                match (ties, winners.first()) {
                    (_, None) => {}
                    (PoolTies::First, Some(&first)) => dst[first] += value,
                    (PoolTies::Split, Some(_)) => {
                        let share = value / winners.len() as f32;
                        for &idx in &winners {
                            dst[idx] += share;
                        }
                    }
                }
            }
        }
    }
    ArrayD::from_shape_vec(IxDyn(&s), out).unwrap_or_else(|_| ArrayD::zeros(IxDyn(&s)))
}

/// Calls `f` with the in-bounds plane indices of window `(oy, ox)` in row-major order.
#[inline]
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
