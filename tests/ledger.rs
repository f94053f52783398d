//! The conservation ledger explains every bit of relevance lost under the ε rule.

mod common;

use common::*;
use lrp_explorer::eval::conservation_ledger;
use lrp_explorer::lrp::{InitRelevance, Method, Target, explain};

#[test]
fn epsilon_leak_is_bias_plus_stabilizer_in_every_layer() {
    for name in ["mlp", "cnn"] {
        let model = npz_model(name);
        let method: Method = "epsilon:0.25".parse().unwrap();
        let Method::Lrp(composite) = &method else {
            unreachable!()
        };
        let plan = composite.resolve(&model).unwrap();
        let e = explain(&model, &inputs(name), &method, &Target::Predicted, InitRelevance::Logit).unwrap();
        for i in 0..8 {
            let rows = conservation_ledger(&model, &e, &plan, i);
            assert_eq!(rows.len(), model.layers().len());
            assert_eq!(rows[0].layer, model.layers().len() - 1, "rows run from the output");
            let mut leaked = 0.0;
            for row in &rows {
                assert!(row.warnings.is_empty(), "{name} {row:?}");
                match (row.bias, row.stabilizer) {
                    (Some(b), Some(s)) => {
                        let explained = b + s;
                        assert!(
                            (row.leak() - explained).abs() <= 1e-4 * row.relevance_out.abs().max(1.0),
                            "{name} sample {i} layer {}: leak {} vs bias {b} + stabilizer {s}",
                            row.layer,
                            row.leak()
                        );
                        assert!(s.abs() > 0.0, "ε = 0.25 must absorb something");
                    }
                    _ => assert!(
                        row.leak().abs() < 1e-4,
                        "{name} layer {} should pass everything",
                        row.layer
                    ),
                }
                leaked += row.leak();
            }
            // Output total − input total = the sum of the per-layer leaks.
            let top = rows[0].relevance_out;
            let bottom = rows.last().unwrap().relevance_in;
            assert!((top - bottom - leaked).abs() < 1e-3, "{name} {top} {bottom} {leaked}");
        }
    }
}
