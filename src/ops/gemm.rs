//! Row-major single-precision matrix product on top of `matrixmultiply`.

/// Whether an operand is used as stored or transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trans {
    No,
    Yes,
}

/// `c = beta·c + op(a) · op(b)` with row-major `op(a): [m, k]`, `op(b): [k, n]`, `c: [m, n]`.
///
/// `a` is stored `[m, k]` (or `[k, m]` when transposed), `b` is stored `[k, n]` (or `[n, k]`), both dense and
/// row-major; longer slices are fine (only the first `m·k`, `k·n`, `m·n` values are used).
///
/// # Panics
/// If a slice is shorter than its operand (or a size overflows): a bug in the caller, which must check the
/// shapes it was given before calling (the layers return typed errors for shapes that do not fit).
#[allow(clippy::too_many_arguments)]
pub fn gemm(m: usize, k: usize, n: usize, a: &[f32], ta: Trans, b: &[f32], tb: Trans, c: &mut [f32], beta: f32) {
    let fits = |len: usize, rows: usize, cols: usize| rows.checked_mul(cols).is_some_and(|need| len >= need);
    assert!(
        fits(a.len(), m, k),
        "gemm: a has {} values, [{m}, {k}] needs more",
        a.len()
    );
    assert!(
        fits(b.len(), k, n),
        "gemm: b has {} values, [{k}, {n}] needs more",
        b.len()
    );
    assert!(
        fits(c.len(), m, n),
        "gemm: c has {} values, [{m}, {n}] needs more",
        c.len()
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        for v in c.iter_mut().take(m * n) {
            *v *= beta;
        }
        return;
    }
    // m, k, n ≥ 1 here and each is at most the length of a slice (`len ≥ rows·cols ≥ rows, cols`), and a slice
    // has at most isize::MAX elements: the casts are exact.
    let (m_i, k_i, n_i) = (m as isize, k as isize, n as isize);
    let (rsa, csa) = match ta {
        Trans::No => (k_i, 1),
        Trans::Yes => (1, m_i),
    };
    let (rsb, csb) = match tb {
        Trans::No => (n_i, 1),
        Trans::Yes => (1, k_i),
    };
    #[allow(unsafe_code)]
    // SAFETY: `sgemm` reads `a[i·rsa + p·csa]` for i < m, p < k, `b[p·rsb + j·csb]` for p < k, j < n, and reads
    // and writes `c[i·n + j]`. With the strides above the largest index of each is (rows·cols − 1) of its
    // operand, for both `Trans` choices: `(m−1)·k + (k−1)` or `(m−1) + (k−1)·m` = m·k − 1 for `a`, k·n − 1 for
    // `b`, m·n − 1 for `c`; the assertions above guarantee each slice is at least that long. `c` is borrowed
    // mutably, so it cannot alias `a` or `b`; every pointer comes from a live slice for the whole call, and
    // f32 has no invalid bit patterns.
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
            n_i,
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

    /// A slice one value short of its operand is refused before any memory is touched.
    #[test]
    #[should_panic(expected = "gemm: b has 11 values, [3, 4] needs more")]
    fn a_short_operand_panics_instead_of_reading_out_of_bounds() {
        let mut c = vec![0.0; 8];
        gemm(2, 3, 4, &[1.0; 6], Trans::No, &[1.0; 11], Trans::No, &mut c, 0.0);
    }

    /// `m·k` overflowing `usize` is refused rather than wrapping around to a small length.
    #[test]
    #[should_panic(expected = "gemm: a has")]
    fn an_overflowing_size_panics() {
        let mut c = vec![0.0; 4];
        gemm(
            usize::MAX / 2,
            4,
            1,
            &[1.0; 4],
            Trans::No,
            &[1.0; 4],
            Trans::No,
            &mut c,
            0.0,
        );
    }
}
