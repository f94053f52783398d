//! Row-major n-d array helpers for constant folding, generic over the element (a float or a symbolic integer).

/// Number of elements of `dims`, or `None` on overflow.
pub(super) fn count(dims: &[usize]) -> Option<usize> {
    dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d))
}

/// `axis` (possibly negative) as an index into `rank` axes.
pub(super) fn axis(axis: i64, rank: usize) -> Result<usize, String> {
    let a = if axis < 0 { axis + rank as i64 } else { axis };
    usize::try_from(a)
        .ok()
        .filter(|&a| a < rank)
        .ok_or_else(|| format!("axis {axis} is out of range for rank {rank}"))
}

/// `Gather` along `axis` with integer `indices` of shape `index_dims` (negative indices count from the end).
pub(super) fn gather<T: Clone>(
    dims: &[usize],
    values: &[T],
    axis: usize,
    index_dims: &[usize],
    indices: &[i64],
) -> Result<(Vec<usize>, Vec<T>), String> {
    let n = dims[axis];
    let outer: usize = dims[..axis].iter().product();
    let inner: usize = dims[axis + 1..].iter().product();
    let picks = indices
        .iter()
        .map(|&i| {
            let k = if i < 0 { i + n as i64 } else { i };
            usize::try_from(k)
                .ok()
                .filter(|&k| k < n)
                .ok_or_else(|| format!("index {i} is out of range for an axis of {n}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::with_capacity(outer * picks.len() * inner);
    for o in 0..outer {
        for &k in &picks {
            out.extend_from_slice(&values[(o * n + k) * inner..][..inner]);
        }
    }
    let out_dims = [&dims[..axis], index_dims, &dims[axis + 1..]].concat();
    Ok((out_dims, out))
}

/// `Concat` of arrays that agree on every axis but `axis`.
pub(super) fn concat<T: Clone>(parts: &[(Vec<usize>, Vec<T>)], axis: usize) -> Result<(Vec<usize>, Vec<T>), String> {
    let Some((first, _)) = parts.first() else {
        return Err("nothing to concatenate".into());
    };
    if axis >= first.len() {
        return Err(format!("axis {axis} is out of range for rank {}", first.len()));
    }
    for (dims, _) in parts {
        let same = dims.len() == first.len()
            && dims
                .iter()
                .zip(first)
                .enumerate()
                .all(|(k, (a, b))| k == axis || a == b);
        if !same {
            return Err(format!(
                "cannot concatenate shapes {first:?} and {dims:?} along axis {axis}"
            ));
        }
    }
    let outer: usize = first[..axis].iter().product();
    let inner: usize = first[axis + 1..].iter().product();
    let mut out = Vec::new();
    for o in 0..outer {
        for (dims, values) in parts {
            let chunk = dims[axis] * inner;
            out.extend_from_slice(&values[o * chunk..][..chunk]);
        }
    }
    let mut dims = first.clone();
    dims[axis] = parts.iter().map(|(d, _)| d[axis]).sum();
    Ok((dims, out))
}

/// Axis permutation: output axis `k` is input axis `perm[k]`.
pub(super) fn transpose<T: Clone>(dims: &[usize], values: &[T], perm: &[usize]) -> (Vec<usize>, Vec<T>) {
    let out_dims: Vec<usize> = perm.iter().map(|&p| dims[p]).collect();
    let in_strides = strides(dims);
    let picked: Vec<usize> = perm.iter().map(|&p| in_strides[p]).collect();
    let out = MultiIndex::new(&out_dims)
        .map(|idx| values[idx.iter().zip(&picked).map(|(i, s)| i * s).sum::<usize>()].clone())
        .collect();
    (out_dims, out)
}

/// For each output axis of a slice: `(start, step, len)` in input coordinates.
pub(super) fn slice<T: Clone>(dims: &[usize], values: &[T], ranges: &[(usize, i64, usize)]) -> (Vec<usize>, Vec<T>) {
    let out_dims: Vec<usize> = ranges.iter().map(|r| r.2).collect();
    let in_strides = strides(dims);
    let out = MultiIndex::new(&out_dims)
        .map(|idx| {
            let at: i64 = idx
                .iter()
                .zip(ranges)
                .zip(&in_strides)
                .map(|((&i, &(start, step, _)), &s)| (start as i64 + i as i64 * step) * s as i64)
                .sum();
            values[at as usize].clone()
        })
        .collect();
    (out_dims, out)
}

/// Numpy-style broadcasting of `f` over two arrays.
pub(super) fn broadcast<T: Clone, U>(
    a: (&[usize], &[T]),
    b: (&[usize], &[T]),
    f: impl Fn(&T, &T) -> Result<U, String>,
) -> Result<(Vec<usize>, Vec<U>), String> {
    let dims = broadcast_dims(a.0, b.0)?;
    let (sa, sb) = (broadcast_strides(a.0, &dims), broadcast_strides(b.0, &dims));
    let out = MultiIndex::new(&dims)
        .map(|idx| {
            let at = |s: &[usize]| idx.iter().zip(s).map(|(i, s)| i * s).sum::<usize>();
            f(&a.1[at(&sa)], &b.1[at(&sb)])
        })
        .collect::<Result<Vec<U>, String>>()?;
    Ok((dims, out))
}

/// The shape two shapes broadcast to.
pub(super) fn broadcast_dims(a: &[usize], b: &[usize]) -> Result<Vec<usize>, String> {
    let rank = a.len().max(b.len());
    let pad = |d: &[usize], k: usize| if k + d.len() < rank { 1 } else { d[k + d.len() - rank] };
    (0..rank)
        .map(|k| match (pad(a, k), pad(b, k)) {
            (x, y) if x == y || y == 1 => Ok(x),
            (1, y) => Ok(y),
            _ => Err(format!("shapes {a:?} and {b:?} do not broadcast")),
        })
        .collect()
}

/// Row-major strides of `dims`.
pub(super) fn strides(dims: &[usize]) -> Vec<usize> {
    let mut s = vec![1; dims.len()];
    for k in (0..dims.len().saturating_sub(1)).rev() {
        s[k] = s[k + 1] * dims[k + 1];
    }
    s
}

/// Strides that read an array of `dims` broadcast to `out` (0 along broadcast axes).
fn broadcast_strides(dims: &[usize], out: &[usize]) -> Vec<usize> {
    let own = strides(dims);
    let offset = out.len() - dims.len();
    (0..out.len())
        .map(|k| {
            if k < offset || dims[k - offset] == 1 {
                0
            } else {
                own[k - offset]
            }
        })
        .collect()
}

/// Every multi-index of a shape, in row-major order.
struct MultiIndex {
    dims: Vec<usize>,
    next: Option<Vec<usize>>,
}

impl MultiIndex {
    fn new(dims: &[usize]) -> Self {
        let empty = dims.contains(&0);
        MultiIndex {
            dims: dims.to_vec(),
            next: (!empty).then(|| vec![0; dims.len()]),
        }
    }
}

impl Iterator for MultiIndex {
    type Item = Vec<usize>;

    fn next(&mut self) -> Option<Vec<usize>> {
        let current = self.next.take()?;
        let mut idx = current.clone();
        let mut k = idx.len();
        self.next = loop {
            if k == 0 {
                break None;
            }
            k -= 1;
            idx[k] += 1;
            if idx[k] < self.dims[k] {
                break Some(idx);
            }
            idx[k] = 0;
        };
        Some(current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gather_concat_transpose_slice_broadcast() {
        let v: Vec<i64> = (0..6).collect();
        assert_eq!(gather(&[2, 3], &v, 1, &[], &[-1]).unwrap(), (vec![2], vec![2, 5]));
        assert_eq!(gather(&[6], &v, 0, &[2], &[0, 3]).unwrap(), (vec![2], vec![0, 3]));
        assert!(gather(&[6], &v, 0, &[], &[6]).is_err());
        let c = concat(&[(vec![1], vec![7]), (vec![2], vec![-1, 3])], 0).unwrap();
        assert_eq!(c, (vec![3], vec![7, -1, 3]));
        assert_eq!(transpose(&[2, 3], &v, &[1, 0]), (vec![3, 2], vec![0, 3, 1, 4, 2, 5]));
        assert_eq!(slice(&[6], &v, &[(5, -2, 3)]), (vec![3], vec![5, 3, 1]));
        let (d, s) = broadcast((&[2, 1], &[10, 20][..]), (&[3], &[1, 2, 3][..]), |a, b| Ok(a + b)).unwrap();
        assert_eq!((d, s), (vec![2, 3], vec![11, 12, 13, 21, 22, 23]));
        assert!(broadcast_dims(&[2, 3], &[4]).is_err());
        assert_eq!(MultiIndex::new(&[0, 2]).count(), 0);
        assert_eq!(MultiIndex::new(&[]).count(), 1);
    }
}
