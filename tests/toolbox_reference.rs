//! The LRP Toolbox's own relevances on the fixture MLP (`toolbox/mlp/`), with the logit as initial relevance.

mod common;

use common::*;
use lrp_explorer::lrp::{InitRelevance, Method, Target, explain};

#[test]
fn toolbox_rules_match_with_logit_init() {
    let model = npz_model("mlp");
    let x = inputs("mlp");
    let dir = fixtures().join("toolbox/mlp");
    // Toolbox rule → our spec. `simple` is ε = 1e-16; `alphabeta` uses a 1e-16 stabiliser; `ww` has no bias and no
    // stabiliser.
    let cases = [
        ("simple", "epsilon:1e-16"),
        ("epsilon_0.01", "epsilon:0.01"),
        ("alphabeta_2", "alphabeta:2,1@stab=1e-16"),
        ("alphabeta_1", "alphabeta:1,0@stab=1e-16"),
        ("ww", "wsquare@nobias@stab=0"),
        ("flat", "flat@stab=0"),
    ];
    let mut failures = vec![];
    for (rule, spec) in cases {
        let method: Method = spec.parse().unwrap();
        let e = explain(&model, &x, &method, &Target::Predicted, InitRelevance::Logit).unwrap();
        for (k, path) in stored_layers(&dir.join(rule)) {
            let err = max_norm_err(&e.relevance[k], &read_f32(&path));
            if err > 1e-4 {
                failures.push(format!("{rule} layer {k}: {err:.3e}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn initial_relevance_is_the_logit() {
    let model = npz_model("mlp");
    let e = explain(
        &model,
        &inputs("mlp"),
        &"lrp0".parse().unwrap(),
        &Target::Predicted,
        InitRelevance::Logit,
    )
    .unwrap();
    let rinit = read_f32(fixtures().join("toolbox/mlp/Rinit.npy"));
    let err = max_norm_err(&e.relevance[5], &rinit);
    assert!(err < 1e-5, "{err}");
}
