//! Every Zennit fixture configuration, input and per-layer relevance, through the library API.

mod common;

use common::*;
use lrp_explorer::lrp::{InitRelevance, Method, Target, explain};

const TOLERANCE: f64 = 1e-4;

fn check_model(name: &str) {
    let model = npz_model(name);
    let x = inputs(name);
    let dir = fixtures().join("zennit").join(name);
    let logits_ref = read_f32(dir.join("logits.npy"));
    let mut failures = vec![];
    let mut checked = 0;
    for config in zennit_configs(name) {
        let spec = spec_for_config(&config);
        let method: Method = spec.parse().unwrap_or_else(|e| panic!("{spec}: {e}"));
        let e = explain(&model, &x, &method, &Target::Predicted, InitRelevance::OneHot).unwrap();
        let logit_err = (&e.logits - &logits_ref.view().into_dimensionality::<ndarray::Ix2>().unwrap())
            .iter()
            .fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(logit_err <= 1e-4, "{name} logits differ by {logit_err}");
        for (k, path) in stored_layers(&dir.join(&config)) {
            let expected = read_f32(&path);
            let err = max_norm_err(&e.relevance[k], &expected);
            checked += 1;
            if err > TOLERANCE {
                failures.push(format!("{name}/{config} layer {k}: {err:.3e}"));
            }
        }
    }
    assert!(checked > 40, "only {checked} arrays checked");
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn mlp_matches_zennit_every_config_and_layer() {
    check_model("mlp");
}

#[test]
fn cnn_matches_zennit_every_config_and_layer() {
    check_model("cnn");
}

#[test]
fn predictions_match_fixture() {
    for name in ["mlp", "cnn"] {
        let model = npz_model(name);
        let e = explain(
            &model,
            &inputs(name),
            &"lrp0".parse().unwrap(),
            &Target::Predicted,
            InitRelevance::Logit,
        )
        .unwrap();
        let pred = read_i64(fixtures().join("zennit").join(name).join("pred.npy"));
        let pred: Vec<usize> = pred.iter().map(|&p| p as usize).collect();
        assert_eq!(e.targets, pred, "{name}");
    }
}
