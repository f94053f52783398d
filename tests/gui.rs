//! The window driven through egui_kittest (no display): jobs run inline so every step is deterministic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;

use egui_kittest::kittest::Queryable;
use lrp_explorer::app::jobs::JobResult;
use lrp_explorer::app::state::ExplainResult;
use lrp_explorer::app::{Command, JobRunner, LrpApp, Settings};
use lrp_explorer::lrp::{InitRelevance, LayerRule, Method, Rule, Target, explain};
use ndarray::{ArrayD, IxDyn};

#[path = "common/app_fixture.rs"]
mod app_fixture;

use app_fixture::{Fixture, result};

fn open_fixture(model: &str) -> Fixture {
    app_fixture::open_fixture_with(model, 4, [1400.0, 1000.0])
}

/// The engine's own answer for fixture sample `i`, to compare with what the window shows.
fn reference(model: &str, i: usize, spec: &str, target: Target) -> Vec<f32> {
    let m = common::npz_model(model);
    let x = common::inputs(model);
    let mut shape = x.shape().to_vec();
    shape[0] = 1;
    let xi = ArrayD::from_shape_vec(
        IxDyn(&shape),
        x.index_axis(ndarray::Axis(0), i).iter().copied().collect(),
    )
    .unwrap();
    let method: Method = spec.parse().unwrap();
    let e = explain(&m, &xi, &method, &target, InitRelevance::Logit).unwrap();
    e.input_relevance().iter().copied().collect()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn opens_model_and_samples_and_shows_the_explanation() {
    let f = open_fixture("cnn");
    let h = &f.harness;
    let r = result(h);
    assert_eq!((r.sample, r.target, r.predicted()), (0, 7, 7));
    // The default rules are the epsilon_plus preset; the window's relevance is the engine's.
    let expected = reference("cnn", 0, "epsilon_plus", Target::Predicted);
    assert!(max_diff(&r.relevance[0], &expected) < 1e-5);
    assert!((r.probabilities.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    let p = h.state().session.predictions.clone().unwrap();
    assert_eq!(p.classes, vec![7, 2, 1, 0, 4, 1, 4, 9]);
    assert_eq!(p.accuracy, Some(1.0));
    h.get_by_label("Relevance for class 7");
    h.get_by_label("Input #0 (label 7)");
    h.get_by_label("accuracy 100.00 %");
    h.get_by_label("model cnn");
    h.get_by_label("input [1, 28, 28]");
    h.get_by_label_contains("explained #0 in");
    h.get_by_label("sample 7");
}

#[test]
fn a_failed_load_shows_the_error_and_keeps_the_model() {
    let mut f = open_fixture("cnn");
    let bad = f.dir.path().join("broken.onnx");
    std::fs::write(&bad, b"not a model").unwrap();
    f.harness.state_mut().run_command(Command::OpenModel(bad));
    f.harness.state_mut().run_command(Command::OpenData {
        path: f.dir.path().join("missing-images"),
        labels: None,
    });
    f.harness.run();
    let h = &f.harness;
    h.get_by_label_contains("could not open the samples");
    assert!(
        h.state()
            .session
            .messages
            .iter()
            .any(|m| m.is_error && m.text.contains("broken.onnx"))
    );
    assert_eq!(h.state().session.model.as_ref().unwrap().name(), "cnn");
    assert_eq!(h.state().session.sample_count(), 8);
    assert_eq!(result(h).target, 7);
    h.get_by_label("Dismiss").click();
    f.harness.run();
    assert!(f.harness.state().session.last_error().is_none());
}

#[test]
fn switching_the_rule_by_its_label_recomputes() {
    let mut f = open_fixture("cnn");
    let before = result(&f.harness);
    f.harness.get_by_label("zplus").click();
    f.harness.run();
    let h = &f.harness;
    assert_eq!(h.state().settings.rule_choice.to_string(), "zplus");
    let plan = &h.state().session.plan;
    assert_eq!(plan[0].rule, Rule::ZPlus);
    assert_eq!(plan[9].rule, Rule::ZPlus);
    assert_eq!(plan[2].rule, Rule::WinnerTakeAll);
    let after = result(h);
    assert!(after.generation > before.generation);
    let expected = reference("cnn", 0, "zplus", Target::Predicted);
    assert!(max_diff(&after.relevance[0], &expected) < 1e-5);
    assert!(max_diff(&after.relevance[0], &before.relevance[0]) > 1e-3);
    h.get_by_label("rule of layer 0");
}

#[test]
fn a_parameter_slider_recomputes_and_bad_alpha_beta_is_explained() {
    let mut f = open_fixture("mlp");
    f.harness.get_by_label("alphabeta").click();
    f.harness.run();
    // Move β of the first layer to 0.5 through its slider: α − β = 1.5 is explained, not clamped.
    f.harness.get_by_label("β of layer 0").set_value_accesskit(0.5);
    f.harness.run();
    let s = &f.harness.state().session;
    assert_eq!(s.plan[0].rule, Rule::AlphaBeta { alpha: 2.0, beta: 0.5 });
    assert!(s.rule_error.as_deref().unwrap().contains("α − β must be 1"));
    // Explained twice: in the table row and as the reason nothing is recomputed.
    f.harness
        .get_by_label_contains("Problem: layer 0 (Dense): α − β must be 1");
    assert_eq!(
        f.harness
            .get_all_by_label_contains("α − β must be 1 for relevance")
            .count(),
        2
    );
    // α = 1.5 makes it valid again and the heatmap follows.
    f.harness.get_by_label("α of layer 0").set_value_accesskit(1.5);
    f.harness.run();
    let s = &f.harness.state().session;
    assert!(s.rule_error.is_none());
    let expected = reference(
        "mlp",
        0,
        "0=alphabeta:1.5,0.5;2=alphabeta:2,1;4=alphabeta:2,1",
        Target::Predicted,
    );
    assert!(max_diff(&result(&f.harness).relevance[0], &expected) < 1e-5);
    assert_eq!(
        f.harness
            .state()
            .settings
            .layer_rules
            .as_ref()
            .map(|c| c.to_string())
            .as_deref(),
        Some("0=alphabeta:1.5,0.5;2=alphabeta:2,1;4=alphabeta:2,1")
    );
}

#[test]
fn selecting_another_class_explains_it() {
    let mut f = open_fixture("cnn");
    f.harness.get_by_label("explain class 3").click();
    f.harness.run();
    let h = &f.harness;
    let r = result(h);
    assert_eq!(r.target, 3);
    assert_eq!(h.state().session.target, Some(3));
    let expected = reference("cnn", 0, "epsilon_plus", Target::Class(3));
    assert!(max_diff(&r.relevance[0], &expected) < 1e-5);
    // Initial relevance: the logit of class 3.
    assert!((r.totals.last().unwrap() - r.logits[3]).abs() < 1e-5);
    h.get_by_label("Relevance for class 3");
    f.harness.get_by_label("one-hot").click();
    f.harness.run();
    assert!((result(&f.harness).totals.last().unwrap() - 1.0).abs() < 1e-6);
    f.harness.get_by_label("predicted").click();
    f.harness.run();
    assert_eq!(result(&f.harness).target, 7);
}

#[test]
fn stepping_through_layers_and_samples() {
    let mut f = open_fixture("cnn");
    assert_eq!(f.harness.state().session.layer, 10);
    f.harness.key_press(egui::Key::ArrowDown);
    f.harness.run();
    assert_eq!(f.harness.state().session.layer, 9);
    f.harness.get_by_label_contains("8 ReLU · 64: Σ relevance");
    f.harness.get_by_label("layer position 3").scroll_to_me();
    f.harness.run();
    f.harness.get_by_label("layer position 3").click();
    f.harness.run();
    assert_eq!(f.harness.state().session.layer, 3);
    // A convolutional position: one relevance map per channel (8 channels after layer 2).
    f.harness.get_by_label_contains("ch 7 Σ");
    let r = result(&f.harness);
    for c in 0..8 {
        f.harness.get_by_label_contains(&format!("ch {c} Σ"));
    }
    assert!(f.harness.query_by_label_contains("ch 8 Σ").is_none());
    assert_eq!(r.relevance[3].len(), 8 * 12 * 12);
    f.harness.key_press(egui::Key::ArrowRight);
    f.harness.run();
    let r = result(&f.harness);
    assert_eq!((r.sample, r.target), (1, 2));
    f.harness.get_by_label("sample 5").click();
    f.harness.run();
    assert_eq!(result(&f.harness).sample, 5);
}

#[test]
fn misclassified_filter_and_stepping_respect_the_filter() {
    let mut f = open_fixture("cnn");
    f.harness.get_by_label("misclassified only").click();
    f.harness.run();
    // Every fixture digit is classified right, so no thumbnail is left.
    assert!(f.harness.query_by_label("sample 0").is_none());
    f.harness.get_by_label("0 shown");
    f.harness.get_by_label("misclassified only").click();
    f.harness.state_mut().settings.class_filter = Some(4);
    f.harness.run();
    assert!(f.harness.query_by_label("sample 0").is_none());
    f.harness.get_by_label("sample 4");
    f.harness.get_by_label("sample 6");
    f.harness.key_press(egui::Key::ArrowRight);
    f.harness.run();
    assert_eq!(result(&f.harness).sample, 4);
    f.harness.key_press(egui::Key::ArrowRight);
    f.harness.run();
    assert_eq!(result(&f.harness).sample, 6);
}

#[test]
fn exporting_a_png_never_overwrites() {
    let mut f = open_fixture("cnn");
    f.harness.get_by_label("Export to files").click();
    f.harness.run();
    f.harness.get_by_label("Save Heatmap PNG").click();
    f.harness.run();
    f.harness.get_by_label("Save Heatmap PNG").click();
    f.harness.run();
    f.harness.get_by_label("Save Relevance .npy").scroll_to_me();
    f.harness.run();
    f.harness.get_by_label("Save Relevance .npy").click();
    f.harness.run();
    let name = "cnn_s0_c7_epsilon_plus_heatmap";
    let first = f.dir.path().join(format!("{name}.png"));
    let second = f.dir.path().join(format!("{name} (2).png"));
    let img = image::open(&first).unwrap().to_rgba8();
    assert_eq!(img.dimensions(), (28 * 4, 28 * 4));
    assert_eq!(image::open(&second).unwrap().to_rgba8(), img);
    // The most relevant pixel is pure red (blue-white-red, per-image scale); a 4×4 block per input pixel.
    let r = result(&f.harness);
    let (imax, _) = r.relevance[0]
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
        .unwrap();
    let (x, y) = ((imax % 28) as u32 * 4 + 3, (imax / 28) as u32 * 4);
    let sign = r.relevance[0][imax].signum();
    let expected = if sign > 0.0 { [255, 0, 0, 255] } else { [0, 0, 255, 255] };
    assert_eq!(img.get_pixel(x, y).0, expected);
    let npy = common::read_f32(f.dir.path().join("cnn_s0_c7_epsilon_plus_relevance.npy"));
    assert_eq!(npy.shape(), &[28, 28]);
    assert!(max_diff(npy.as_slice().unwrap(), &r.relevance[0]) == 0.0);
    f.harness.get_by_label_contains("saved ");
}

#[test]
fn stale_results_are_dropped_and_textures_rebuilt_only_on_change() {
    let mut f = open_fixture("cnn");
    let builds = f.harness.state().view.texture_builds;
    f.harness.run_steps(5);
    assert_eq!(
        f.harness.state().view.texture_builds,
        builds,
        "repaints must reuse the textures"
    );
    let current = result(&f.harness);
    let stale = ExplainResult {
        generation: current.generation - 1,
        sample: 3,
        target: 0,
        ..current.clone()
    };
    f.harness.state_mut().handle_result(JobResult::Explained {
        generation: stale.generation,
        result: Ok(stale),
    });
    f.harness.run();
    assert_eq!(result(&f.harness), current);
    assert_eq!(f.harness.state().view.texture_builds, builds);
    f.harness.state_mut().settings.colormap = lrp_explorer::heatmap::Colormap::PuOr;
    f.harness.run();
    assert_eq!(f.harness.state().view.texture_builds, builds + 1);
}

#[test]
fn settings_survive_a_restart() {
    let mut f = open_fixture("mlp");
    f.harness.get_by_label("gamma").click();
    f.harness.run();
    let rule = LayerRule::new(Rule::Gamma { gamma: 0.5 });
    f.harness
        .state_mut()
        .run_command(Command::SetLayerRule { layer: 2, rule });
    let saved = serde_json::to_string(&f.harness.state().settings).unwrap();
    let restored: Settings = serde_json::from_str(&saved).unwrap();
    assert_eq!(restored, f.harness.state().settings);
    assert_eq!(
        restored.layer_rules.as_ref().map(|c| c.to_string()).as_deref(),
        Some("0=gamma:0.25;2=gamma:0.5;4=gamma:0.25")
    );
    assert_eq!(restored.recent_models, vec![PathBuf::from("mlp.npz")]);
    // A new app with these settings and the same model uses the edited table.
    let mut app = LrpApp::with_runner(restored, JobRunner::inline());
    app.set_model(common::npz_model("mlp"), PathBuf::from("mlp.npz"));
    assert_eq!(app.session.plan[2], rule);
}

#[test]
fn the_worker_thread_answers_over_the_channel() {
    let dir = tempfile::tempdir().unwrap();
    let (images, labels) = common::write_idx(dir.path());
    let mut runner = JobRunner::threaded(egui::Context::default()).unwrap();
    assert!(runner.submit(lrp_explorer::app::Job::LoadData {
        path: images,
        labels: Some(labels),
    }));
    let start = std::time::Instant::now();
    let result = loop {
        if let Some(r) = runner.poll().pop() {
            break r;
        }
        assert!(start.elapsed().as_secs() < 10, "no answer from the worker");
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    match result {
        JobResult::DataLoaded { result: Ok(d), .. } => assert_eq!((d.len(), d.label(7)), (8, Some(9))),
        other => panic!("unexpected {other:?}"),
    }
}
