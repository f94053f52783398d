//! Vector kernels for one sample at a time (matrix–vector products), compiled three times — AVX-512, AVX2+FMA
//! and the portable baseline — and chosen at run time from what the CPU offers. The rest of the crate is
//! built for the baseline x86-64, which has only 128-bit vectors.
//!
//! The only `unsafe` here is calling a `#[target_feature]` function, whose bodies are safe code (slices are
//! paired with `zip` and `as_chunks`, so unequal lengths use the common length and never index out of bounds):
//! the one obligation is that the CPU has the features, which each call checks at run time first.
#![allow(unsafe_code)]

/// Lanes summed independently: enough to hide the latency of the multiply-adds on wide vectors.
const LANES: usize = 64;

#[inline(always)]
fn dot_body<const FUSED: bool>(a: &[f32], b: &[f32]) -> f32 {
    let (a64, a_rest) = a.as_chunks::<LANES>();
    let (b64, b_rest) = b.as_chunks::<LANES>();
    let mut acc = [0.0f32; LANES];
    for (ca, cb) in a64.iter().zip(b64) {
        for i in 0..LANES {
            acc[i] = if FUSED {
                ca[i].mul_add(cb[i], acc[i])
            } else {
                acc[i] + ca[i] * cb[i]
            };
        }
    }
    let (a8, a_tail) = a_rest.as_chunks::<8>();
    let (b8, b_tail) = b_rest.as_chunks::<8>();
    for (ca, cb) in a8.iter().zip(b8) {
        for i in 0..8 {
            acc[i] = if FUSED {
                ca[i].mul_add(cb[i], acc[i])
            } else {
                acc[i] + ca[i] * cb[i]
            };
        }
    }
    let tail: f32 = a_tail.iter().zip(b_tail).map(|(x, y)| x * y).sum();
    // Pairwise reduction of the lanes.
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for i in 0..width {
            acc[i] += acc[i + width];
        }
    }
    acc[0] + tail
}

#[inline(always)]
fn axpy_body<const FUSED: bool>(y: &mut [f32], a: f32, x: &[f32]) {
    // A plain loop: the loop vectoriser turns it into full-width multiply-adds.
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi = if FUSED { a.mul_add(*xi, *yi) } else { *yi + a * xi };
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    #[target_feature(enable = "avx512f,fma")]
    pub fn dot_avx512(a: &[f32], b: &[f32]) -> f32 {
        super::dot_body::<true>(a, b)
    }

    #[target_feature(enable = "avx2,fma")]
    pub fn dot_avx2(a: &[f32], b: &[f32]) -> f32 {
        super::dot_body::<true>(a, b)
    }

    #[target_feature(enable = "avx512f,fma")]
    pub fn axpy_avx512(y: &mut [f32], a: f32, x: &[f32]) {
        super::axpy_body::<true>(y, a, x)
    }

    #[target_feature(enable = "avx2,fma")]
    pub fn axpy_avx2(y: &mut [f32], a: f32, x: &[f32]) {
        super::axpy_body::<true>(y, a, x)
    }
}

/// `Σ a_i b_i` over the common length.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has AVX-512F and FMA (checked just above), the only requirement of this safe-bodied function.
            return unsafe { x86::dot_avx512(a, b) };
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has AVX2 and FMA (checked just above).
            return unsafe { x86::dot_avx2(a, b) };
        }
    }
    dot_body::<false>(a, b)
}

/// `y += a·x` over the common length.
#[inline]
pub fn axpy(y: &mut [f32], a: f32, x: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has AVX-512F and FMA (checked just above).
            return unsafe { x86::axpy_avx512(y, a, x) };
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has AVX2 and FMA (checked just above).
            return unsafe { x86::axpy_avx2(y, a, x) };
        }
    }
    axpy_body::<false>(y, a, x)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every length class (full 64-lane blocks, 8-blocks, a scalar tail) against a float64 reference, on
    /// whichever path this CPU takes, and the portable path too.
    #[test]
    fn kernels_match_float64_references() {
        for len in [0, 1, 7, 8, 63, 64, 65, 300, 784, 1000] {
            let a: Vec<f32> = (0..len).map(|i| ((i * 37) % 11) as f32 * 0.25 - 1.2).collect();
            let b: Vec<f32> = (0..len).map(|i| ((i * 13) % 7) as f32 * 0.5 - 1.5).collect();
            let want: f64 = a.iter().zip(&b).map(|(x, y)| *x as f64 * *y as f64).sum();
            for got in [dot(&a, &b), dot_body::<false>(&a, &b)] {
                assert!((got as f64 - want).abs() < 1e-3, "len {len}: {got} vs {want}");
            }
            let mut y: Vec<f32> = b.clone();
            axpy(&mut y, -0.75, &a);
            let mut y0 = b.clone();
            axpy_body::<false>(&mut y0, -0.75, &a);
            for i in 0..len {
                let want = b[i] as f64 - 0.75 * a[i] as f64;
                assert!((y[i] as f64 - want).abs() < 1e-5 && (y0[i] as f64 - want).abs() < 1e-5);
            }
        }
    }
}
