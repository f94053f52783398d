//! Max pooling forward and its relevance / gradient routing.

use ndarray::ArrayD;

use super::conv::ConvGeometry;
use super::layout::row_major;
use super::shape::shaped;
use crate::error::ShapeError;

/// How a max-pooling window passes relevance (or gradient) back when several inputs share the maximum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PoolTies {
    /// Everything goes to the first maximum in row-major order (PyTorch's gradient, Zennit).
    First,
    /// Split equally among all maxima (the LRP Toolbox).
    Split,
}

/// For every output position, the plane indices of its window in row-major order (`NONE` where the window
/// covers padding): `positions × (kh·kw)` entries, built once per call so that the inner loops do not branch
/// on the geometry.
struct WindowTable {
    window: usize,
    indices: Vec<u32>,
}

const NONE: u32 = u32::MAX;

impl WindowTable {
    fn new(geom: &ConvGeometry) -> Self {
        let window = geom.kernel[0] * geom.kernel[1];
        let mut indices = Vec::with_capacity(geom.positions() * window);
        for oy in 0..geom.out_height {
            for ox in 0..geom.out_width {
                for i in 0..geom.kernel[0] {
                    let y = (oy * geom.stride[0] + i)
                        .checked_sub(geom.padding[0])
                        .filter(|&y| y < geom.height);
                    for j in 0..geom.kernel[1] {
                        let x = (ox * geom.stride[1] + j)
                            .checked_sub(geom.padding[1])
                            .filter(|&x| x < geom.width);
                        indices.push(match (y, x) {
                            (Some(y), Some(x)) => (y * geom.width + x) as u32,
                            _ => NONE,
                        });
                    }
                }
            }
        }
        WindowTable { window, indices }
    }

    fn windows(&self) -> std::slice::ChunksExact<'_, u32> {
        self.indices.chunks_exact(self.window.max(1))
    }
}

/// The first maximum of `src` over a window, or `None` when the window lies entirely in the padding.
#[inline]
fn first_max(src: &[f32], window: &[u32]) -> Option<(usize, f32)> {
    let mut best: Option<(usize, f32)> = None;
    for &idx in window {
        if idx == NONE {
            continue;
        }
        let v = src[idx as usize];
        match best {
            Some((_, b)) if v <= b => {}
            _ => best = Some((idx as usize, v)),
        }
    }
    best
}

/// The common case: 2×2 windows with stride 2 and no padding.
fn is_2x2(geom: &ConvGeometry) -> bool {
    geom.kernel == [2, 2] && geom.stride == [2, 2] && geom.padding == [0; 4]
}

/// Calls `f(position, (first maximum's plane index, maximum))` for every 2×2 window of one plane, in order.
#[inline]
fn for_2x2(geom: &ConvGeometry, src: &[f32], mut f: impl FnMut(usize, (usize, f32))) {
    let w = geom.width;
    for oy in 0..geom.out_height {
        let top = 2 * oy * w;
        let (r0, r1) = (&src[top..top + w], &src[top + w..top + 2 * w]);
        for ox in 0..geom.out_width {
            let x = 2 * ox;
            let mut best = (top + x, r0[x]);
            if r0[x + 1] > best.1 {
                best = (top + x + 1, r0[x + 1]);
            }
            if r1[x] > best.1 {
                best = (top + w + x, r1[x]);
            }
            if r1[x + 1] > best.1 {
                best = (top + w + x + 1, r1[x + 1]);
            }
            f(oy * geom.out_width + ox, best);
        }
    }
}

/// `(N, C)` of `shape`, which must be `[N, C, H, W]` with the planes of the one-channel geometry `geom`.
fn planes(
    op: &'static str,
    shape: &[usize],
    geom: &ConvGeometry,
    plane: [usize; 2],
) -> Result<(usize, usize), ShapeError> {
    match shape {
        &[n, c, h, w] if [h, w] == plane && geom.channels == 1 => Ok((n, c)),
        _ => Err(ShapeError {
            op,
            expected: format!("[N, C, {}, {}] (one-channel geometry)", plane[0], plane[1]),
            got: shape.to_vec(),
        }),
    }
}

/// `geom` describes one channel plane (`channels == 1`); `x: [N, C, H, W]` → `[N, C, OH, OW]`.
///
/// # Errors
/// [`ShapeError`] when `x` is not `[N, C, H, W]` with the planes of `geom`.
pub fn max_pool_forward(x: &ArrayD<f32>, geom: &ConvGeometry) -> Result<ArrayD<f32>, ShapeError> {
    const OP: &str = "max pooling forward";
    let (n, c) = planes(OP, x.shape(), geom, [geom.height, geom.width])?;
    let xs = row_major(x);
    let plane = geom.height * geom.width;
    let out_shape = [n, c, geom.out_height, geom.out_width];
    let mut out = Vec::with_capacity(n * c * geom.positions());
    if is_2x2(geom) {
        for src in xs.chunks_exact(plane.max(1)).take(n * c) {
            for_2x2(geom, src, |_, (_, best)| out.push(best));
        }
        return shaped(OP, &out_shape, out);
    }
    let table = WindowTable::new(geom);
    for src in xs.chunks_exact(plane.max(1)).take(n * c) {
        out.extend(
            table
                .windows()
                .map(|w| first_max(src, w).map_or(f32::NEG_INFINITY, |(_, v)| v)),
        );
    }
    shaped(OP, &out_shape, out)
}

/// Route `r: [N, C, OH, OW]` back to the maxima of `x: [N, C, H, W]`.
///
/// # Errors
/// [`ShapeError`] when `x` or `r` do not have the planes of `geom`, or their `N, C` differ.
pub fn max_pool_backward(
    x: &ArrayD<f32>,
    r: &ArrayD<f32>,
    geom: &ConvGeometry,
    ties: PoolTies,
) -> Result<ArrayD<f32>, ShapeError> {
    const OP: &str = "max pooling backward";
    let (n, c) = planes(OP, x.shape(), geom, [geom.height, geom.width])?;
    if planes(OP, r.shape(), geom, [geom.out_height, geom.out_width])? != (n, c) {
        return Err(ShapeError {
            op: OP,
            expected: format!("[{n}, {c}, {}, {}]", geom.out_height, geom.out_width),
            got: r.shape().to_vec(),
        });
    }
    let s = x.shape().to_vec();
    let (xs, rs) = (row_major(x), row_major(r));
    let plane = geom.height * geom.width;
    let positions = geom.positions();
    let mut out = vec![0.0f32; xs.len()];
    if is_2x2(geom) && ties == PoolTies::First {
        for ((src, dst), rel) in xs
            .chunks_exact(plane.max(1))
            .zip(out.chunks_exact_mut(plane.max(1)))
            .zip(rs.chunks_exact(positions.max(1)))
        {
            for_2x2(geom, src, |p, (first, _)| dst[first] += rel[p]);
        }
        return shaped(OP, &s, out);
    }
    let table = WindowTable::new(geom);
    for ((src, dst), rel) in xs
        .chunks_exact(plane.max(1))
        .zip(out.chunks_exact_mut(plane.max(1)))
        .zip(rs.chunks_exact(positions.max(1)))
    {
        for (window, &value) in table.windows().zip(rel) {
            let Some((first, best)) = first_max(src, window) else {
                continue;
            };
            match ties {
                PoolTies::First => dst[first] += value,
                PoolTies::Split => {
                    let winners = window.iter().filter(|&&i| i != NONE && src[i as usize] == best);
                    let share = value / winners.clone().count() as f32;
                    for &idx in winners {
                        dst[idx as usize] += share;
                    }
                }
            }
        }
    }
    shaped(OP, &s, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::IxDyn;

    /// Window maxima and routing checked against a direct loop over every geometry, with ties.
    #[test]
    fn pooling_matches_the_definition_with_padding_strides_and_ties() {
        for (h, w, k, st, p) in [
            (6, 6, [2, 2], [2, 2], [0; 4]),
            (5, 7, [2, 2], [2, 2], [0; 4]),
            (5, 7, [3, 2], [2, 1], [1, 0, 1, 1]),
            (4, 4, [3, 3], [1, 1], [1; 4]),
            (3, 5, [2, 3], [3, 2], [0, 1, 0, 0]),
        ] {
            let Some(g) = ConvGeometry::new(1, h, w, k, st, p) else {
                continue;
            };
            // Few distinct values so that ties happen.
            let x: Vec<f32> = (0..2 * h * w).map(|v| ((v * 7) % 5).min(2) as f32).collect();
            let xa = ArrayD::from_shape_vec(IxDyn(&[1, 2, h, w]), x.clone()).unwrap();
            let fwd = max_pool_forward(&xa, &g).unwrap();
            let r: Vec<f32> = (0..2 * g.positions()).map(|v| v as f32 + 1.0).collect();
            let ra = ArrayD::from_shape_vec(IxDyn(&[1, 2, g.out_height, g.out_width]), r.clone()).unwrap();
            let first = max_pool_backward(&xa, &ra, &g, PoolTies::First).unwrap();
            let split = max_pool_backward(&xa, &ra, &g, PoolTies::Split).unwrap();
            let (mut want_first, mut want_split) = (vec![0.0f32; x.len()], vec![0.0f32; x.len()]);
            for c in 0..2 {
                for oy in 0..g.out_height {
                    for ox in 0..g.out_width {
                        let mut cells = Vec::new();
                        for i in 0..k[0] {
                            for j in 0..k[1] {
                                let y = (oy * st[0] + i) as isize - p[0] as isize;
                                let xx = (ox * st[1] + j) as isize - p[1] as isize;
                                if y >= 0 && xx >= 0 && (y as usize) < h && (xx as usize) < w {
                                    cells.push(c * h * w + y as usize * w + xx as usize);
                                }
                            }
                        }
                        let o = c * g.positions() + oy * g.out_width + ox;
                        let best = cells.iter().map(|&i| x[i]).fold(f32::NEG_INFINITY, f32::max);
                        assert_eq!(fwd.as_slice().unwrap()[o], best);
                        let winners: Vec<usize> = cells.iter().copied().filter(|&i| x[i] == best).collect();
                        if let Some(&w0) = winners.first() {
                            want_first[w0] += r[o];
                            for &wi in &winners {
                                want_split[wi] += r[o] / winners.len() as f32;
                            }
                        }
                    }
                }
            }
            assert_eq!(
                first.as_slice().unwrap(),
                &want_first[..],
                "{h}x{w} k{k:?} s{st:?} p{p:?}"
            );
            for (a, b) in split.iter().zip(&want_split) {
                assert!((a - b).abs() < 1e-5);
            }
        }
    }
}
