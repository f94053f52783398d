//! The forum user's hand-written LRP that started this project ("Difficulties to implement the layer-wise relevance
//! propagation in MATLAB"), transcribed line by line to plain loops, to try `lrp-explorer diagnose` and the window's
//! Check tab on a real case:
//!
//! ```text
//! R = nn.layers{end}.output;                         % the softmax output of every class
//! z = max(W2, 0) * a2;  s = R ./ z;                  % z+ at the hidden layer, no bias, no stabiliser
//! R2 = a2 .* (max(W2, 0)' * s);
//! R1(i) = Σ_j W1(j,i)^2 / Σ_k W1(j,k)^2 * R2(j)      % w² at the input
//! ```
//!
//! Usage: `cargo run --release --example seed_user_lrp -- MODEL DATA COUNT OUT.csv` for a one-hidden-layer MLP
//! (Dense, ReLU, Dense) on raw pixels in [0, 1]; writes `R` as MATLAB's `csvwrite` would: 784 rows, one column per
//! sample (samples 0..COUNT of DATA).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use lrp_explorer::model::{Layer, Model};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [model, data, count, out] = args.as_slice() else {
        bail!("usage: seed_user_lrp MODEL DATA COUNT OUT.csv");
    };
    let model = lrp_explorer::model::load(&PathBuf::from(model))?.model;
    let data = lrp_explorer::data::load_dataset(&PathBuf::from(data), None)?;
    let count: usize = count.parse().context("COUNT must be a number")?;
    let (w1, w2, b1, b2) = one_hidden_layer(&model)?;
    let mut columns = vec![];
    for i in 0..count.min(data.len()) {
        let a1: Vec<f64> = data.image(i).iter().map(|&v| f64::from(v)).collect();
        columns.push(seed_lrp(&w1, &b1, &w2, &b2, &a1));
    }
    let mut text = String::new();
    for row in 0..w1[0].len() {
        let cells: Vec<String> = columns.iter().map(|c| format!("{:.9e}", c[row])).collect();
        text.push_str(&cells.join(","));
        text.push('\n');
    }
    std::fs::write(out, text).with_context(|| format!("writing {out}"))?;
    println!(
        "wrote {out}: {} rows, {} maps (one per column)",
        w1[0].len(),
        columns.len()
    );
    Ok(())
}

type Matrix = Vec<Vec<f64>>;

/// `W1 [hidden, 784]`, `W2 [classes, hidden]` and the biases of a Dense–ReLU–Dense model.
fn one_hidden_layer(model: &Model) -> Result<(Matrix, Matrix, Vec<f64>, Vec<f64>)> {
    let dense: Vec<_> = model
        .layers()
        .iter()
        .filter_map(|l| match l {
            Layer::Dense(d) => Some(d),
            _ => None,
        })
        .collect();
    let [d1, d2] = dense.as_slice() else {
        bail!(
            "the seed's code is for one hidden layer: this model has {} Dense layers",
            dense.len()
        );
    };
    let matrix = |w: &ndarray::Array2<f32>| {
        w.outer_iter()
            .map(|r| r.iter().map(|&v| f64::from(v)).collect())
            .collect()
    };
    let bias = |d: &lrp_explorer::model::Dense| {
        d.bias.as_ref().map_or(vec![0.0; d.weight.nrows()], |b| {
            b.iter().map(|&v| f64::from(v)).collect()
        })
    };
    Ok((matrix(&d1.weight), matrix(&d2.weight), bias(d1), bias(d2)))
}

/// The user's code: softmax start, z⁺ without bias or stabiliser at the hidden layer, w² at the input.
fn seed_lrp(w1: &Matrix, b1: &[f64], w2: &Matrix, b2: &[f64], a1: &[f64]) -> Vec<f64> {
    let a2: Vec<f64> = w1
        .iter()
        .zip(b1)
        .map(|(row, b)| (row.iter().zip(a1).map(|(w, a)| w * a).sum::<f64>() + b).max(0.0))
        .collect();
    let out: Vec<f64> = w2
        .iter()
        .zip(b2)
        .map(|(row, b)| row.iter().zip(&a2).map(|(w, a)| w * a).sum::<f64>() + b)
        .collect();
    let top = out.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
    let total: f64 = out.iter().map(|v| (v - top).exp()).sum();
    let r3: Vec<f64> = out.iter().map(|v| (v - top).exp() / total).collect();
    // z = max(W2, 0) * a2;  s = R ./ z;  c = max(W2, 0)' * s;  R2 = a2 .* c
    let mut r2 = vec![0.0; a2.len()];
    for (j, row) in w2.iter().enumerate() {
        let z: f64 = row.iter().zip(&a2).map(|(w, a)| w.max(0.0) * a).sum();
        let s = r3[j] / z;
        for (i, w) in row.iter().enumerate() {
            r2[i] += a2[i] * w.max(0.0) * s;
        }
    }
    // Rfin(i) += W1(j,i)^2 * R2(j) / Σ_k W1(j,k)^2
    let mut r1 = vec![0.0; a1.len()];
    for (j, row) in w1.iter().enumerate() {
        let norm: f64 = row.iter().map(|w| w * w).sum();
        for (i, w) in row.iter().enumerate() {
            r1[i] += w * w * r2[j] / norm;
        }
    }
    r1
}
