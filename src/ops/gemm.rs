//! Row-major single-precision matrix product on top of `matrixmultiply`.

/// Whether an operand is used as stored or transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trans {
    No,
    Yes,
}

/// `c = beta·c + op(a) · op(b)` with row-major `op(a): [m, k]`, `op(b): [k, n]`, `c: [m, n]`.
///
/// `a` is stored `[m, k]` (or `[k, m]` when transposed), `b` is stored `[k, n]` (or `[n, k]`).
#[allow(clippy::too_many_arguments)]
pub fn gemm(m: usize, k: usize, n: usize, a: &[f32], ta: Trans, b: &[f32], tb: Trans, c: &mut [f32], beta: f32) {
    debug_assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        for v in c.iter_mut().take(m * n) {
            *v *= beta;
        }
        return;
    }
    let (rsa, csa) = match ta {
        Trans::No => (k as isize, 1),
        Trans::Yes => (1, m as isize),
    };
    let (rsb, csb) = match tb {
        Trans::No => (n as isize, 1),
        Trans::Yes => (1, k as isize),
    };
    // SAFETY-free: matrixmultiply's sgemm is an unsafe fn; the slices above are bounds-checked by the
    // debug assertion and by construction at every call site.
    #[allow(unsafe_code)]
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            rsa,
            csa,
            b.as_ptr(),
            rsb,
            csb,
            beta,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_transpose_combinations_match_naive_product() {
        let (m, k, n) = (3, 4, 5);
        let a: Vec<f32> = (0..m * k).map(|i| i as f32 * 0.5 - 2.0).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32).sin()).collect();
        let mut expected = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                expected[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            }
        }
        let at: Vec<f32> = (0..k * m).map(|idx| a[(idx % m) * k + idx / m]).collect();
        let bt: Vec<f32> = (0..n * k).map(|idx| b[(idx % k) * n + idx / k]).collect();
        for (aa, ta) in [(&a, Trans::No), (&at, Trans::Yes)] {
            for (bb, tb) in [(&b, Trans::No), (&bt, Trans::Yes)] {
                let mut c = vec![0.0; m * n];
                gemm(m, k, n, aa, ta, bb, tb, &mut c, 0.0);
                for (x, y) in c.iter().zip(&expected) {
                    assert!((x - y).abs() < 1e-4, "{ta:?} {tb:?}: {x} vs {y}");
                }
            }
        }
    }
}
