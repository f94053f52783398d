//! The LRP Toolbox text reader: real files (fixture MLP, the toolbox's LeNet-5), NHWC → NCHW conversion checked
//! against a naive channel-last reference, and every bad-input case.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use lrp_explorer::error::LoadError;
use lrp_explorer::lrp::{InitRelevance, Method, Target, explain};
use lrp_explorer::model::toolbox_txt::{self, ToolboxModel};
use lrp_explorer::model::{LayerKind, OutputActivation};
use ndarray::{Array2, ArrayD, IxDyn};

fn mlp_txt() -> ToolboxModel {
    toolbox_txt::load(&fixtures().join("models/mlp.txt"), None).unwrap()
}

#[test]
fn mlp_txt_layers_and_logits_match_the_toolbox() {
    let m = mlp_txt();
    let kinds: Vec<LayerKind> = m.model.layers().iter().map(|l| l.kind()).collect();
    use LayerKind::*;
    assert_eq!(kinds, [Dense, Relu, Dense, Relu, Dense]);
    assert_eq!(m.model.input_shape(), [784]);
    assert_eq!(m.model.shape_at(2), [300]);
    assert_eq!(m.model.shape_at(4), [100]);
    assert_eq!(m.model.num_outputs(), 10);
    assert!(
        m.notes.iter().any(|n| n.contains("input [784] from the first Linear")),
        "{:?}",
        m.notes
    );
    let logits = m.model.logits(&inputs("mlp")).unwrap().into_dyn();
    let expected = read_f32(fixtures().join("toolbox/mlp/logits.npy"));
    let err = (&logits - &expected).mapv(f32::abs).fold(0.0f32, |a, &b| a.max(b));
    assert!(err <= 1e-4, "max |logit − toolbox| = {err}");
}

#[test]
fn mlp_txt_relevances_match_the_toolbox() {
    let model = mlp_txt().model;
    let x = inputs("mlp");
    let dir = fixtures().join("toolbox/mlp");
    let cases = [
        ("simple", "epsilon:1e-16"),
        ("epsilon_0.01", "epsilon:0.01"),
        ("alphabeta_2", "alphabeta:2,1@stab=1e-16"),
        ("alphabeta_1", "alphabeta:1,0@stab=1e-16"),
        ("ww", "wsquare@nobias@stab=0"),
        ("flat", "flat@stab=0"),
    ];
    let mut report = vec![];
    let mut failures = vec![];
    for (rule, spec) in cases {
        let method: Method = spec.parse().unwrap();
        let e = explain(&model, &x, &method, &Target::Predicted, InitRelevance::Logit).unwrap();
        let stored = stored_layers(&dir.join(rule));
        assert_eq!(stored.len(), 3, "{rule}: expected R_input and two hidden layers");
        for (k, path) in stored {
            let err = max_norm_err(&e.relevance[k], &read_f32(&path));
            report.push(format!("{rule} layer {k}: {err:.2e}"));
            if err > 1e-4 {
                failures.push(format!("{rule} layer {k}: {err:.3e}"));
            }
        }
    }
    println!("{}", report.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `$CARGO_MANIFEST_DIR/../shared/lrp-toolbox/<name>` (or `$LRP_TOOLBOX_DIR/<name>`, for checkouts elsewhere), if
/// present. These files are never copied into the repository.
fn shared_toolbox_file(name: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("LRP_TOOLBOX_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/lrp-toolbox"),
        PathBuf::from,
    );
    let path = dir.join(name);
    if path.is_file() {
        Some(path)
    } else {
        println!("skipped: {} not found", path.display());
        None
    }
}

#[test]
fn lenet5_layers_and_inferred_input() {
    let Some(path) = shared_toolbox_file("LeNet-5.txt") else {
        return;
    };
    let m = toolbox_txt::load(&path, None).unwrap();
    use LayerKind::*;
    let kinds: Vec<LayerKind> = m.model.layers().iter().map(|l| l.kind()).collect();
    assert_eq!(
        kinds,
        [
            Conv2d, Relu, SumPool2d, Conv2d, Relu, SumPool2d, Conv2d, Relu, SumPool2d, Conv2d, Flatten
        ]
    );
    let shapes: Vec<&[usize]> = (0..=kinds.len()).map(|k| m.model.shape_at(k)).collect();
    let expected: [&[usize]; 12] = [
        &[1, 32, 32],
        &[10, 28, 28],
        &[10, 28, 28],
        &[10, 14, 14],
        &[25, 10, 10],
        &[25, 10, 10],
        &[25, 5, 5],
        &[100, 2, 2],
        &[100, 2, 2],
        &[100, 1, 1],
        &[10, 1, 1],
        &[10],
    ];
    assert_eq!(shapes, expected);
    assert_eq!(m.model.output_activation(), OutputActivation::None);
    let note = &m.notes[0];
    assert!(
        note.contains("[1, 32, 32]") && note.contains("the only square size"),
        "{note}"
    );
}

/// Reads the `[N, K]` MATLAB matrix `data` as `f32` values in MATLAB's column-major order: element (i, j) is at
/// `i + j·N`. `test_images.mat` holds `data`, 10000 × 784, pixel values 0..255 (scipy reports the class as uint8,
/// matfile 0.5 hands it over as double): row i is test image i, its 784 pixels in row-major (y·28 + x) order
/// (checked against the fixture inputs, which are images 0..7 / 255). `test_labels.mat` holds `data`, 10000 × 1,
/// the digit labels 0..9.
fn read_mat_data(path: &Path) -> (usize, usize, Vec<f32>) {
    let mat = matfile::MatFile::parse(std::fs::File::open(path).unwrap()).unwrap();
    let array = mat.find_by_name("data").unwrap();
    let (rows, cols) = (array.size()[0], array.size()[1]);
    let values: Vec<f32> = match array.data() {
        matfile::NumericData::Double { real, .. } => real.iter().map(|&v| v as f32).collect(),
        matfile::NumericData::UInt8 { real, .. } => real.iter().map(|&v| f32::from(v)).collect(),
        _ => panic!("{}: expected double or uint8 data", path.display()),
    };
    assert_eq!(values.len(), rows * cols);
    (rows, cols, values)
}

#[test]
fn lenet5_classifies_toolbox_test_images() {
    let Some(model_path) = shared_toolbox_file("LeNet-5.txt") else {
        return;
    };
    let (Some(images), Some(labels)) = (
        shared_toolbox_file("test_images.mat"),
        shared_toolbox_file("test_labels.mat"),
    ) else {
        return;
    };
    let model = toolbox_txt::load(&model_path, None).unwrap().model;
    let (rows, cols, pixels) = read_mat_data(&images);
    let (label_rows, _, label_data) = read_mat_data(&labels);
    assert_eq!((rows, cols, label_rows), (10000, 784, 10000));
    let count = 1000;
    // The toolbox's LeNet-5 input: pixels / 127.5 − 1, padded from 28×28 to 32×32 with −1.
    let x = ArrayD::from_shape_fn(IxDyn(&[count, 1, 32, 32]), |ix| {
        let (n, y, x) = (ix[0], ix[2], ix[3]);
        if (2..30).contains(&y) && (2..30).contains(&x) {
            let p = (y - 2) * 28 + (x - 2);
            pixels[n + p * rows] / 127.5 - 1.0
        } else {
            -1.0
        }
    });
    let logits: Array2<f32> = model.logits(&x).unwrap();
    let correct = logits
        .rows()
        .into_iter()
        .enumerate()
        .filter(|(n, row)| {
            let pred = row
                .iter()
                .enumerate()
                .fold(0, |best, (i, &v)| if v > row[best] { i } else { best });
            pred as f32 == label_data[*n]
        })
        .count();
    let accuracy = correct as f64 / count as f64;
    println!("LeNet-5 accuracy on the first {count} toolbox test images: {accuracy:.4}");
    assert!(accuracy >= 0.98, "accuracy {accuracy}");
}

// ---------------------------------------------------------------------------------------------------------------
// Synthetic models: our NCHW model must compute what the toolbox computes in NHWC.

/// Deterministic pseudo-random numbers in [−1, 1).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
    fn vec(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.next()).collect()
    }
}

/// A toolbox layer with its parameters, evaluated naively in NHWC order (the reference).
enum Tb {
    Conv {
        k: [usize; 4],
        s: [usize; 2],
        w: Vec<f32>,
        b: Vec<f32>,
    },
    Linear {
        m: usize,
        n: usize,
        w: Vec<f32>,
        b: Vec<f32>,
    },
    SumPool {
        p: [usize; 2],
        s: [usize; 2],
    },
    MaxPool {
        p: [usize; 2],
        s: [usize; 2],
    },
    Rect,
    Tanh,
    Flatten,
}

fn join(v: &[f32]) -> String {
    v.iter().map(|x| format!("{x}")).collect::<Vec<_>>().join(" ")
}

fn to_text(layers: &[Tb]) -> String {
    let mut out = String::new();
    for l in layers {
        out += &match l {
            Tb::Conv { k, s, w, b } => format!(
                "Convolution {} {} {} {} {} {}\n{}\n{}\n",
                k[0],
                k[1],
                k[2],
                k[3],
                s[0],
                s[1],
                join(w),
                join(b)
            ),
            Tb::Linear { m, n, w, b } => format!("Linear {m} {n}\n{}\n{}\n", join(w), join(b)),
            Tb::SumPool { p, s } => format!("SumPool {} {} {} {}\n", p[0], p[1], s[0], s[1]),
            Tb::MaxPool { p, s } => format!("MaxPool {} {} {} {}\n", p[0], p[1], s[0], s[1]),
            Tb::Rect => "Rect\n".into(),
            Tb::Tanh => "Tanh\n".into(),
            Tb::Flatten => "Flatten\n".into(),
        };
    }
    out
}

/// One sample through the layers; `x` is `[H, W, C]` (or flat, `dims = [len, 1, 1]`... as `[1, 1, len]`).
fn reference(layers: &[Tb], mut x: Vec<f32>, mut dims: [usize; 3]) -> Vec<f32> {
    for l in layers {
        let [h, w, c] = dims;
        let at = |x: &[f32], i: usize, j: usize, k: usize| x[(i * w + j) * c + k];
        match l {
            Tb::Conv { k, s, w: wt, b } => {
                let [kh, kw, d, n] = *k;
                assert_eq!(d, c);
                let (oh, ow) = ((h - kh) / s[0] + 1, (w - kw) / s[1] + 1);
                let mut y = vec![0.0; oh * ow * n];
                for i in 0..oh {
                    for j in 0..ow {
                        for o in 0..n {
                            let mut acc = b[o];
                            for a in 0..kh {
                                for bb in 0..kw {
                                    for ch in 0..d {
                                        acc += at(&x, i * s[0] + a, j * s[1] + bb, ch)
                                            * wt[((a * kw + bb) * d + ch) * n + o];
                                    }
                                }
                            }
                            y[(i * ow + j) * n + o] = acc;
                        }
                    }
                }
                x = y;
                dims = [oh, ow, n];
            }
            Tb::SumPool { p, s } | Tb::MaxPool { p, s } => {
                let (oh, ow) = ((h - p[0]) / s[0] + 1, (w - p[1]) / s[1] + 1);
                let is_sum = matches!(l, Tb::SumPool { .. });
                let mut y = vec![0.0; oh * ow * c];
                for i in 0..oh {
                    for j in 0..ow {
                        for ch in 0..c {
                            let window = (0..p[0])
                                .flat_map(|a| (0..p[1]).map(move |bb| (a, bb)))
                                .map(|(a, bb)| at(&x, i * s[0] + a, j * s[1] + bb, ch));
                            y[(i * ow + j) * c + ch] = if is_sum {
                                window.sum::<f32>() / ((p[0] * p[1]) as f32).sqrt()
                            } else {
                                window.fold(f32::NEG_INFINITY, f32::max)
                            };
                        }
                    }
                }
                x = y;
                dims = [oh, ow, c];
            }
            Tb::Linear { m, n, w: wt, b } => {
                assert_eq!(x.len(), *m, "the reference flattens NHWC implicitly");
                x = (0..*n)
                    .map(|o| b[o] + (0..*m).map(|i| x[i] * wt[i * n + o]).sum::<f32>())
                    .collect();
                dims = [1, 1, *n];
            }
            Tb::Rect => x.iter_mut().for_each(|v| *v = v.max(0.0)),
            Tb::Tanh => x.iter_mut().for_each(|v| *v = v.tanh()),
            Tb::Flatten => dims = [1, 1, x.len()],
        }
    }
    x
}

/// Writes `layers` to a temporary file, loads it, and compares with the NHWC reference on random inputs.
fn check_against_reference(layers: &[Tb], hwc: [usize; 3], input_shape: Option<&[usize]>) -> ToolboxModel {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net.txt");
    std::fs::write(&path, to_text(layers)).unwrap();
    let m = toolbox_txt::load(&path, input_shape).unwrap();
    let [h, w, c] = hwc;
    assert_eq!(m.model.input_shape(), [c, h, w]);
    let mut rng = Lcg(7);
    let n = 3;
    let samples: Vec<Vec<f32>> = (0..n).map(|_| rng.vec(h * w * c)).collect();
    // Our input is channel-first: x[c, h, w] = sample[(h·W + w)·C + c].
    let x = ArrayD::from_shape_fn(IxDyn(&[n, c, h, w]), |ix| {
        samples[ix[0]][(ix[2] * w + ix[3]) * c + ix[1]]
    });
    let logits = m.model.logits(&x).unwrap();
    for (s, sample) in samples.iter().enumerate() {
        let expected = reference(layers, sample.clone(), hwc);
        assert_eq!(logits.ncols(), expected.len());
        for (o, &e) in expected.iter().enumerate() {
            assert!(
                (logits[[s, o]] - e).abs() < 1e-4,
                "sample {s} output {o}: {} vs {e}",
                logits[[s, o]]
            );
        }
    }
    m
}

#[test]
fn strided_conv_maxpool_flatten_linear_matches_nhwc_reference() {
    let mut r = Lcg(1);
    let layers = [
        Tb::Conv {
            k: [3, 2, 2, 4],
            s: [2, 1],
            w: r.vec(3 * 2 * 2 * 4),
            b: r.vec(4),
        },
        Tb::Rect,
        Tb::MaxPool { p: [2, 2], s: [1, 2] },
        Tb::Flatten,
        Tb::Linear {
            m: 16,
            n: 5,
            w: r.vec(80),
            b: r.vec(5),
        },
        Tb::Tanh,
        Tb::Linear {
            m: 5,
            n: 3,
            w: r.vec(15),
            b: r.vec(3),
        },
    ];
    // Non-square 7×6 input with 2 channels: given explicitly as [C, H, W].
    let m = check_against_reference(&layers, [7, 6, 2], Some(&[2, 7, 6]));
    assert!(
        m.notes.iter().any(|n| n.contains("columns are permuted")),
        "{:?}",
        m.notes
    );
}

#[test]
fn sumpool_and_implicit_flatten_match_nhwc_reference() {
    let mut r = Lcg(2);
    let layers = [
        Tb::Conv {
            k: [2, 2, 1, 3],
            s: [1, 1],
            w: r.vec(12),
            b: r.vec(3),
        },
        Tb::SumPool { p: [2, 2], s: [2, 2] },
        // No Flatten: a Linear fed by a 2×2×3 image.
        Tb::Linear {
            m: 12,
            n: 4,
            w: r.vec(48),
            b: r.vec(4),
        },
    ];
    // Inferred: 5×5 is the only square size that tiles exactly and gives the Linear its 12 inputs.
    let m = check_against_reference(&layers, [5, 5, 1], None);
    assert!(m.notes[0].contains("[1, 5, 5]"), "{}", m.notes[0]);
    assert!(
        m.notes.iter().any(|n| n.contains("a Flatten is inserted")),
        "{:?}",
        m.notes
    );
}

#[test]
fn flatten_then_activation_then_linear_still_permutes() {
    let mut r = Lcg(3);
    let layers = [
        Tb::Conv {
            k: [2, 2, 3, 2],
            s: [1, 1],
            w: r.vec(24),
            b: r.vec(2),
        },
        Tb::Flatten,
        Tb::Rect,
        Tb::Linear {
            m: 18,
            n: 3,
            w: r.vec(54),
            b: r.vec(3),
        },
    ];
    check_against_reference(&layers, [4, 4, 3], None);
}

#[test]
fn softmax_becomes_the_output_activation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("soft.txt");
    std::fs::write(&path, "Linear 2 2\n1 0 0 1\n0 0\nSoftMax\n").unwrap();
    let m = toolbox_txt::load(&path, None).unwrap();
    assert_eq!(m.model.output_activation(), OutputActivation::Softmax);
    assert_eq!(m.model.layers().len(), 1);
}

// ---------------------------------------------------------------------------------------------------------------
// Bad input: one clear error naming the file, the line and the problem.

fn load_error(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.txt");
    std::fs::write(&path, text).unwrap();
    let err = toolbox_txt::load(&path, None).unwrap_err();
    assert!(matches!(err, LoadError::Format { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("bad.txt"), "the error names the file: {message}");
    message
}

#[test]
fn bad_files_give_clear_errors() {
    let cases: [(&str, &str); 10] = [
        (
            "Linear 2 1\n1 2\n0\nDropout\n",
            "line 4: unknown layer keyword \"Dropout\"",
        ),
        (
            "Linear 2 2\n1 2 3\n0 0\n",
            "line 2: the weights of the Linear block of line 1 must be 4 numbers, found 3",
        ),
        ("Linear 2 1\n1 x\n0\n", "line 2, number 2: \"x\" is not a number"),
        (
            "Linear 2 1\n1 2\n",
            "line 3: the file ends inside the Linear block of line 1",
        ),
        ("Linear 2 1\n1 NaN\n0\n", "line 2, number 2: \"NaN\" is not finite"),
        ("Linear 2 1\n1 2\ninf\n", "line 3, number 1: \"inf\" is not finite"),
        ("Linear 2 -1\n", "line 1: expected `Linear inputs outputs`"),
        (
            "Linear 2 2\n1 0 0 1\n0 0\nSoftMax\nRect\n",
            "line 4: SoftMax is only supported as the last layer",
        ),
        (
            "Linear 2 3\n1 2 3 4 5 6\n0 0 0\nLinear 2 1\n1 1\n0\n",
            "line 4: Linear 2 1 expects 2 inputs, gets 3",
        ),
        ("\n\n", "no layers found"),
    ];
    for (text, expected) in cases {
        let message = load_error(text);
        assert!(message.contains(expected), "expected {expected:?} in {message:?}");
    }
}

#[test]
fn huge_header_fails_fast_without_allocating() {
    let start = std::time::Instant::now();
    let message = load_error("Linear 100000 100000\n1 2 3\n0\n");
    assert!(message.contains("must be 10000000000 numbers, found 3"), "{message}");
    assert!(start.elapsed().as_secs_f64() < 1.0);
    let message = load_error("Convolution 100000 100000 100000 100000 1 1\n1\n1\n");
    assert!(message.contains("too large"), "{message}");
}

#[test]
fn conv_models_that_cannot_be_sized_ask_for_the_input_shape() {
    // Two channels can never flatten to the 3 inputs of the Linear: no square size fits.
    let message = load_error("Convolution 2 2 1 2 1 1\n1 2 3 4 5 6 7 8\n0 0\nFlatten\nLinear 3 1\n1 1 1\n0\n");
    assert!(message.contains("give the input shape"), "{message}");
    let message = load_error("MaxPool 2 2 2 2\nFlatten\n");
    assert!(
        message.contains("line 1: the model starts with a pooling layer"),
        "{message}"
    );
}

#[test]
fn given_input_shape_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("conv.txt");
    std::fs::write(
        &path,
        "Convolution 2 2 1 2 1 1\n1 2 3 4 5 6 7 8\n0 0\nFlatten\nLinear 18 1\n".to_string()
            + &"1 ".repeat(18)
            + "\n0\n",
    )
    .unwrap();
    let m = toolbox_txt::load(&path, Some(&[4, 4])).unwrap();
    assert_eq!(m.model.input_shape(), [1, 4, 4]);
    let err = toolbox_txt::load(&path, Some(&[5, 5])).unwrap_err().to_string();
    assert!(err.contains("line 5: Linear 18 1 expects 18 inputs, gets 32"), "{err}");
}
