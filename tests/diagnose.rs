//! `diagnose` against maps computed by a deliberately naive, loop-based re-implementation written like a MATLAB
//! script (column vectors, `W(j, i)` with rows = next layer, f64), with and without the classic mistakes, on the
//! bundled one-hidden-layer MLP (784-100-10, the seed's network shape) and the fixture MNIST digits.

// The reference is written as MATLAB-style index loops on purpose.
#![allow(clippy::needless_range_loop)]

mod common;

use std::path::Path;

use common::*;
use lrp_explorer::diagnose::{self, Init, Mistake, Options, Verdict};
use lrp_explorer::model::{Layer, Model};
use ndarray::{ArrayD, Axis};

fn bundled_mlp() -> Model {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/models/mlp-784-100-10.onnx");
    lrp_explorer::model::load(&path).unwrap().model
}

/// The MATLAB user's network: `W{l}` as `Vec<Vec<f64>>` rows = next layer, `b{l}`.
struct Net {
    w: Vec<Vec<Vec<f64>>>,
    b: Vec<Vec<f64>>,
}

fn net_of(model: &Model) -> Net {
    let mut net = Net { w: vec![], b: vec![] };
    for layer in model.layers() {
        if let Layer::Dense(d) = layer {
            net.w.push(
                d.weight
                    .rows()
                    .into_iter()
                    .map(|r| r.iter().map(|&v| f64::from(v)).collect())
                    .collect(),
            );
            let out = d.weight.nrows();
            net.b.push(match &d.bias {
                Some(b) => b.iter().map(|&v| f64::from(v)).collect(),
                None => vec![0.0; out],
            });
        }
    }
    assert_eq!(net.w.len(), 2, "a one-hidden-layer MLP");
    net
}

/// What the hand-written code does, mistake by mistake.
#[derive(Clone, Copy, Default)]
struct Script {
    /// R at the output: 0 = class logit, 1 = all logits, 2 = all softmax.
    start: u8,
    /// Input rule: 0 = z^B [0, 1], 1 = w², 2 = w² normalised over the outputs, 3 = ε (`eps`).
    input_rule: u8,
    /// Top layer: z+ (else ε).
    zplus: bool,
    bias: bool,
    /// ε of the ε rule, and the stabiliser of z+ and w² (0: none, as in the seed's code).
    eps: f64,
    /// Feed the image column by column (`img(:)` on a row-major net).
    transposed_input: bool,
    /// Use the hidden layer's pre-activations in the top layer's rule.
    pre_activations: bool,
}

fn col_major(x: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; 784];
    for r in 0..28 {
        for c in 0..28 {
            out[c * 28 + r] = x[r * 28 + c];
        }
    }
    out
}

fn sign(v: f64) -> f64 {
    if v >= 0.0 { 1.0 } else { -1.0 }
}

/// The map, as loops: `for j`, `for i`, … like the seed's MATLAB.
fn run_script(net: &Net, image: &[f32], s: Script) -> Vec<f32> {
    let mut x: Vec<f64> = image.iter().map(|&v| f64::from(v)).collect();
    if s.transposed_input {
        x = col_major(&x);
    }
    let (w1, w2, b1, b2) = (&net.w[0], &net.w[1], &net.b[0], &net.b[1]);
    let hidden = w1.len();
    let mut z2 = vec![0.0; hidden];
    for j in 0..hidden {
        z2[j] = b1[j];
        for i in 0..784 {
            z2[j] += w1[j][i] * x[i];
        }
    }
    let a2: Vec<f64> = z2.iter().map(|&v| v.max(0.0)).collect();
    let mut out = vec![0.0; 10];
    for k in 0..10 {
        out[k] = b2[k];
        for j in 0..hidden {
            out[k] += w2[k][j] * a2[j];
        }
    }
    let class = (0..10).fold(0, |best, k| if out[k] > out[best] { k } else { best });
    let mut r3 = vec![0.0; 10];
    match s.start {
        0 => r3[class] = out[class],
        1 => r3.clone_from(&out),
        _ => {
            let top = out.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let total: f64 = out.iter().map(|&v| (v - top).exp()).sum();
            for k in 0..10 {
                r3[k] = (out[k] - top).exp() / total;
            }
        }
    }
    // Top layer.
    let a_in = if s.pre_activations { &z2 } else { &a2 };
    let mut r2 = vec![0.0; hidden];
    for k in 0..10 {
        let mut z = 0.0;
        for j in 0..hidden {
            z += if s.zplus {
                w2[k][j].max(0.0) * a_in[j]
            } else {
                w2[k][j] * a_in[j]
            };
        }
        if s.bias {
            z += if s.zplus { b2[k].max(0.0) } else { b2[k] };
        }
        z += s.eps * sign(z);
        for j in 0..hidden {
            let w = if s.zplus { w2[k][j].max(0.0) } else { w2[k][j] };
            r2[j] += a_in[j] * w * r3[k] / z;
        }
    }
    // Input layer.
    let mut r1 = vec![0.0; 784];
    match s.input_rule {
        0 => {
            for j in 0..hidden {
                let (mut z, mut lw, mut hw) = (0.0, 0.0, 0.0);
                for i in 0..784 {
                    z += w1[j][i] * x[i];
                    lw += 0.0 * w1[j][i].max(0.0);
                    hw += 1.0 * w1[j][i].min(0.0);
                }
                let d = z - lw - hw;
                let d = d + 1e-6 * sign(d);
                for i in 0..784 {
                    r1[i] += (w1[j][i] * x[i] - 0.0 * w1[j][i].max(0.0) - 1.0 * w1[j][i].min(0.0)) * r2[j] / d;
                }
            }
        }
        1 => {
            for i in 0..784 {
                for j in 0..hidden {
                    let mut norm = 0.0;
                    for k in 0..784 {
                        norm += w1[j][k] * w1[j][k];
                    }
                    r1[i] += w1[j][i] * w1[j][i] * r2[j] / (norm + s.eps);
                }
            }
        }
        2 => {
            for i in 0..784 {
                let mut norm = 0.0;
                for j in 0..hidden {
                    norm += w1[j][i] * w1[j][i];
                }
                for j in 0..hidden {
                    r1[i] += w1[j][i] * w1[j][i] * r2[j] / (norm + s.eps);
                }
            }
        }
        _ => {
            for j in 0..hidden {
                let mut z = if s.bias { b1[j] } else { 0.0 };
                for i in 0..784 {
                    z += w1[j][i] * x[i];
                }
                z += s.eps * sign(z);
                for i in 0..784 {
                    r1[i] += x[i] * w1[j][i] * r2[j] / z;
                }
            }
        }
    }
    r1.iter().map(|&v| v as f32).collect()
}

fn digits() -> ArrayD<f32> {
    inputs("mlp")
}

fn check(model: &Model, sample: usize, map: &[f32]) -> diagnose::Diagnosis {
    let x = digits().index_axis(Axis(0), sample).insert_axis(Axis(0)).to_owned();
    diagnose::diagnose(model, &x, map, &Options::default()).unwrap()
}

#[test]
fn the_seed_users_own_code_is_recognised() {
    let model = bundled_mlp();
    let net = net_of(&model);
    let seed = Script {
        start: 2,
        input_rule: 1,
        zplus: true,
        ..Script::default()
    };
    let mut unsure = 0;
    for sample in 0..8 {
        let image: Vec<f32> = digits().index_axis(Axis(0), sample).iter().copied().collect();
        let d = check(&model, sample, &run_script(&net, &image, seed));
        let best = d.best().unwrap();
        assert_eq!(d.verdict, Verdict::Identical, "{}", d.describe(best));
        assert_eq!(d.configs[best.config].label, "z+ hidden, w² input, no bias");
        // The seed's code divides with no stabiliser: closer to that variant than to the stabilised one.
        let seed_guess = (
            best.config,
            Init::AllSoftmax,
            vec![Mistake::AllSoftmax, Mistake::NoStabiliser],
        );
        if d.probability() > 0.9999 {
            // A sure network: its softmax is one-hot in float32, and the diagnosis says it cannot tell.
            let named =
                (best.config, best.init, best.mistakes.clone()) == seed_guess || best.also.contains(&seed_guess);
            assert!(named, "{}: {:?}", d.describe(best), best.also);
            continue;
        }
        unsure += 1;
        assert_eq!(best.init, Init::AllSoftmax, "p = {}", d.probability());
        // Without a zero denominator the missing stabiliser only shows when it moves the map beyond float32 noise.
        let named = best.mistakes == seed_guess.2 || best.also.contains(&seed_guess);
        assert!(
            named && best.mistakes.contains(&Mistake::AllSoftmax),
            "{}",
            d.describe(best)
        );
        assert!(best.max_error < 1e-4, "{}", best.max_error);
        let text = d.explanation(&model).join("\n");
        assert!(text.contains("Start from the chosen class's logit"), "{text}");
        assert!(
            text.contains("use z^B with those bounds at the first layer (first=zbox:0,1)"),
            "{text}"
        );
        assert!(
            text.contains("Recommended: z+ hidden, z^B input [0, 1] from the class logit."),
            "{text}"
        );
        // The recommended map is the engine's z+ / z^B map, which the script computes the same way.
        let fixed = run_script(
            &net,
            &image,
            Script {
                zplus: true,
                bias: true,
                eps: 1e-6,
                ..Script::default()
            },
        );
        let (corr, err, identical) = diagnose::compare(&fixed, &d.recommended_map);
        assert!(identical, "corr {corr}, err {err}");
        // The runner-up is a different map (candidates with the same numbers are folded into `also`).
        assert!(
            !d.ranked[1].identical && d.ranked[1].max_error > diagnose::IDENTICAL,
            "{:?}",
            d.describe(&d.ranked[1])
        );
    }
    assert!(
        unsure >= 2,
        "only {unsure} samples where the softmax start differs from one-hot"
    );
}

#[test]
fn a_correct_map_is_called_correct() {
    let model = bundled_mlp();
    let net = net_of(&model);
    let image: Vec<f32> = digits().index_axis(Axis(0), 3).iter().copied().collect();
    let map = run_script(
        &net,
        &image,
        Script {
            zplus: true,
            bias: true,
            eps: 1e-6,
            ..Script::default()
        },
    );
    let d = check(&model, 3, &map);
    let best = d.best().unwrap();
    assert_eq!(d.verdict, Verdict::Identical);
    assert_eq!(d.configs[best.config].label, "z+ hidden, z^B input [0, 1]");
    assert_eq!(best.init, Init::Logit);
    assert!(best.mistakes.is_empty());
    let text = d.explanation(&model).join("\n");
    assert!(
        text.contains("computes z+ hidden, z^B input [0, 1] correctly, starting from the class logit"),
        "{text}"
    );
}

#[test]
fn two_mistakes_at_once_transposed_image_and_all_logits() {
    let model = bundled_mlp();
    let net = net_of(&model);
    let image: Vec<f32> = digits().index_axis(Axis(0), 1).iter().copied().collect();
    let script = Script {
        start: 1,
        input_rule: 3,
        bias: true,
        eps: 0.25,
        transposed_input: true,
        ..Script::default()
    };
    let d = check(&model, 1, &run_script(&net, &image, script));
    let best = d.best().unwrap();
    assert_eq!(d.verdict, Verdict::Identical, "{}", d.describe(best));
    assert_eq!(d.configs[best.config].label, "LRP-ε (ε=0.25)");
    assert_eq!(best.mistakes, [Mistake::AllLogits, Mistake::InputTransposed]);
    let text = d.explanation(&model).join("\n");
    assert!(text.contains("Flatten the image row by row"), "{text}");
}

#[test]
fn wsquare_over_the_wrong_axis_and_pre_activations() {
    let model = bundled_mlp();
    let net = net_of(&model);
    let image: Vec<f32> = digits().index_axis(Axis(0), 2).iter().copied().collect();
    let wrong_axis = Script {
        input_rule: 2,
        zplus: true,
        bias: true,
        eps: 1e-6,
        ..Script::default()
    };
    let d = check(&model, 2, &run_script(&net, &image, wrong_axis));
    let best = d.best().unwrap();
    assert_eq!(d.verdict, Verdict::Identical, "{}", d.describe(best));
    assert_eq!(d.configs[best.config].label, "z+ hidden, w² input");
    assert_eq!(best.mistakes, [Mistake::WSquareWrongAxis]);

    // LRP-ε on the top layer with the hidden pre-activations, plus the class-logit start: one mistake.
    let pre = Script {
        input_rule: 3,
        bias: true,
        eps: 0.25,
        pre_activations: true,
        ..Script::default()
    };
    let d = check(&model, 2, &run_script(&net, &image, pre));
    let best = d.best().unwrap();
    assert_eq!(d.verdict, Verdict::Identical, "{}", d.describe(best));
    assert_eq!(d.configs[best.config].label, "LRP-ε (ε=0.25)");
    assert_eq!(best.mistakes, [Mistake::PreActivations]);
}

#[test]
fn a_transposed_map_and_a_random_map() {
    let model = bundled_mlp();
    let net = net_of(&model);
    let image: Vec<f32> = digits().index_axis(Axis(0), 4).iter().copied().collect();
    let map = run_script(
        &net,
        &image,
        Script {
            zplus: true,
            bias: true,
            eps: 1e-6,
            ..Script::default()
        },
    );
    let written: Vec<f32> = col_major(&map.iter().map(|&v| f64::from(v)).collect::<Vec<_>>())
        .iter()
        .map(|&v| v as f32)
        .collect();
    let d = check(&model, 4, &written);
    let best = d.best().unwrap();
    assert_eq!(d.verdict, Verdict::Identical);
    assert_eq!(best.mistakes, [Mistake::MapTransposed]);

    // A map of noise: no configuration comes near.
    let mut state = 12345u64;
    let noise: Vec<f32> = (0..784)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        })
        .collect();
    let d = check(&model, 4, &noise);
    assert_eq!(d.verdict, Verdict::NoCloseMatch);
    assert!(d.best().unwrap().correlation < 0.5, "{}", d.best().unwrap().correlation);
    assert!(d.explanation(&model)[0].starts_with("No close match"));
}

fn run_cli(args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lrp-explorer"))
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// The seed's code re-run in numpy by `scripts/make_matlab_net_files.py` on the seed-style `nn.layers{l}` file,
/// saved by scipy as MATLAB would (`R` 784×2, one map per column).
#[test]
fn cli_names_the_seed_mistake_from_a_matlab_file() {
    use ndarray_npy::WriteNpyExt;
    let dir = tempfile::tempdir().unwrap();
    let weights = fixtures().join("weights");
    let file = std::fs::File::open(weights.join("matlab_net_expected.npz")).unwrap();
    let x: ndarray::Array2<f32> = ndarray_npy::NpzReader::new(file).unwrap().by_name("x").unwrap();
    let x_path = dir.path().join("x.npy");
    x.write_npy(std::fs::File::create(&x_path).unwrap()).unwrap();
    let model = weights.join("matlab_net_layers.mat");
    let relevance = weights.join("matlab_net_seed_relevance.mat");
    let (ok, text) = run_cli(&[
        "diagnose",
        "--model",
        model.to_str().unwrap(),
        "--input",
        x_path.to_str().unwrap(),
        "--relevance",
        relevance.to_str().unwrap(),
    ]);
    assert!(ok, "{text}");
    assert!(
        text.contains("R double 784×2 (column-major .mat) [784, 2]: 2 maps, one per column"),
        "{text}"
    );
    assert_eq!(text.matches("verdict: identical within float32").count(), 2, "{text}");
    assert!(
        text.contains("1     z+ hidden, w² input, no bias from all softmax"),
        "{text}"
    );
    // Two maps for three inputs: a clear error.
    let three = dir.path().join("x3.npy");
    ndarray::concatenate(Axis(0), &[x.view(), x.slice(ndarray::s![0..1, ..])])
        .unwrap()
        .write_npy(std::fs::File::create(&three).unwrap())
        .unwrap();
    let (ok, text) = run_cli(&[
        "diagnose",
        "--model",
        model.to_str().unwrap(),
        "--input",
        three.to_str().unwrap(),
        "--relevance",
        relevance.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(text.contains("holds 2 map(s) but 3 sample(s) were given"), "{text}");
}

#[test]
fn relevance_files_in_the_shapes_people_save() {
    use lrp_explorer::diagnose::reading::interpret;
    let p = Path::new("r.npy");
    let maps: Vec<f32> = (0..2 * 784).map(|v| v as f32).collect();
    // [N, 784] rows and [N, 28, 28] images: the same two maps.
    let rows = ArrayD::from_shape_vec(ndarray::IxDyn(&[2, 784]), maps.clone()).unwrap();
    let read = interpret(p, &rows, 784, Some((28, 28)), "npy").unwrap();
    assert_eq!(read.reading, "npy [2, 784]: 2 maps, one per row");
    assert_eq!(read.maps[1][0], 784.0);
    let images = rows
        .clone()
        .into_shape_with_order(ndarray::IxDyn(&[2, 28, 28]))
        .unwrap();
    assert_eq!(
        interpret(p, &images, 784, Some((28, 28)), "npy").unwrap().maps,
        read.maps
    );
    // [784, N] columns and [28, 28, N] stacks.
    let columns = rows.t().to_owned();
    let read_cols = interpret(p, &columns, 784, Some((28, 28)), "npy").unwrap();
    assert_eq!(read_cols.reading, "npy [784, 2]: 2 maps, one per column");
    assert_eq!(read_cols.maps, read.maps);
    let stack = images.permuted_axes(vec![1, 2, 0]).to_owned();
    assert_eq!(
        interpret(p, &stack, 784, Some((28, 28)), "npy").unwrap().maps,
        read.maps
    );
    // One map as [1, 784], [784] or 28×28.
    let one = ArrayD::from_shape_vec(ndarray::IxDyn(&[1, 784]), maps[..784].to_vec()).unwrap();
    assert_eq!(
        interpret(p, &one, 784, Some((28, 28)), "npy").unwrap().maps,
        [maps[..784].to_vec()]
    );
    let bad = ArrayD::from_shape_vec(ndarray::IxDyn(&[3, 100]), vec![0.0; 300]).unwrap();
    let e = interpret(p, &bad, 784, Some((28, 28)), "npy").unwrap_err().to_string();
    assert!(
        e.contains("r.npy") && e.contains("[3, 100] does not hold maps of 784 values"),
        "{e}"
    );
}
