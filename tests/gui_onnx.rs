//! Exporter-made ONNX models in the window (egui_kittest, inline jobs): an IDX digit feeds an NHWC, `[N,28,28]`
//! or flat model without reshaping, the heatmap is upright (its strongest pixel is the engine's), and the model
//! line says the producer, the input layout and the explained output.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use lrp_explorer::app::render::InputMaps;
use lrp_explorer::app::state::ExplainResult;
use lrp_explorer::app::{Command, JobRunner, LrpApp, Settings};
use lrp_explorer::data::labels_next_to;
use lrp_explorer::lrp::{InitRelevance, Method, Target, explain};
use ndarray::IxDyn;

/// The explanation the window currently shows.
fn result(h: &Harness<'_, LrpApp>) -> ExplainResult {
    (**h.state().session.result.as_ref().expect("an explanation is shown")).clone()
}

fn exporter_model(name: &str) -> PathBuf {
    common::fixtures().join("onnx_exporters").join(format!("{name}.onnx"))
}

fn digits() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/test-images-idx3-ubyte.gz")
}

/// The window on exporter model `name` and the bundled test digits, opened through the menu's commands.
fn open(name: &str) -> Harness<'static, LrpApp> {
    let mut app = LrpApp::with_runner(Settings::default(), JobRunner::inline());
    app.run_command(Command::OpenModel(exporter_model(name)));
    let images = digits();
    let labels = labels_next_to(&images);
    app.run_command(Command::OpenData { path: images, labels });
    let mut harness = Harness::builder()
        .with_size([1400.0, 1000.0])
        .build_ui_state(|ui, app: &mut LrpApp| app.frame_ui(ui), app);
    harness.run();
    harness
}

fn argmax(values: impl IntoIterator<Item = f32>) -> usize {
    let mut best = (0, f32::NEG_INFINITY);
    for (i, v) in values.into_iter().enumerate() {
        if v > best.1 {
            best = (i, v);
        }
    }
    best.0
}

/// Opens `name` on the test digits and checks the shown heatmap of sample 0 against the engine run on the same
/// digit, reshaped by hand to the model's own input shape; returns the window's model line.
fn check_upright(name: &str) -> String {
    let h = open(name);
    let app = h.state();
    let session = &app.session;
    let model = session.model.as_ref().expect("model open");
    assert_eq!(model.name(), name);
    let r = result(&h);
    assert_eq!(r.sample, 0);
    assert_eq!(r.image, (28, 28));

    // The engine on the same digit: the dataset's pixels under the window's preprocessing, shaped as the file wants.
    let dataset = session.dataset.as_ref().unwrap();
    let flat = session.preprocess.apply(dataset, 0..1);
    let mut shape = vec![1];
    shape.extend_from_slice(model.input_shape());
    let x = flat.into_dyn().into_shape_with_order(IxDyn(&shape)).unwrap();
    let method: Method = "epsilon_plus".parse().unwrap();
    let e = explain(model, &x, &method, &Target::Predicted, InitRelevance::Logit).unwrap();
    assert_eq!(e.targets, [r.target], "{name}: explained class");
    let engine = e.input_relevance();
    assert_eq!(engine.shape(), &shape[..], "{name}: relevance in the model's layout");
    let diff = engine
        .iter()
        .zip(r.relevance[0].iter())
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(diff <= 1e-5, "{name}: window and engine differ by {diff}");

    // What the view draws: one value per pixel, row-major, upright.
    let maps = InputMaps::of(&app.settings, session, &r).expect("maps fit the picture");
    assert_eq!((maps.width, maps.height), (28, 28));
    let shown = argmax(maps.relevance.iter().copied());
    // Channel-last or no channel axis: the engine's flat index is the pixel's (one channel).
    let expected = argmax(engine.iter().copied());
    assert_eq!(
        (shown / 28, shown % 28),
        (expected / 28, expected % 28),
        "{name}: the heatmap's strongest pixel (row, column)"
    );
    let heat = maps.heat(&app.settings);
    let (row, col) = (expected / 28, expected % 28);
    let v = engine.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let rgb = app.settings.colormap.rgb(v / maps.scale);
    assert_eq!(
        &heat.get_pixel(col as u32, row as u32).0[..3],
        &rgb[..],
        "{name}: colour at the strongest pixel"
    );
    // The digit is upright too: the picture is the dataset's raw pixels in order.
    let raw = &dataset.images[..784];
    assert_eq!(
        argmax(maps.input.iter().copied()),
        argmax(raw.iter().copied()),
        "{name}: digit"
    );

    let line = session.model_line().unwrap();
    h.get_by_label(&line);
    h.get_by_label(&format!("model {name}"));
    line
}

#[test]
fn keras_nhwc_model_and_an_idx_digit_show_an_upright_heatmap_and_the_layout() {
    let line = check_upright("keras_nhwc");
    assert!(line.contains("input NHWC [N,28,28,1]"), "{line}");
    assert!(line.contains("pytorch"), "the producer: {line}");
    // The explained output is the graph's only one (its Softmax is dropped).
    assert!(line.ends_with("output 68"), "{line}");
}

#[test]
fn keras_image_and_flat_models_read_the_same_digit_upright() {
    let line = check_upright("keras_image");
    assert!(line.contains("input image [N,28,28]"), "{line}");
    let line = check_upright("keras_flat");
    assert!(line.contains("input flat [N,784]"), "{line}");
    let line = check_upright("torch_classic");
    assert!(line.contains("input NCHW [N,1,28,28]"), "{line}");
}

#[test]
fn another_output_chosen_in_the_window_shows_on_the_model_line() {
    let mut h = open("sklearn_nozipmap");
    let line = h.state().session.model_line().unwrap();
    assert!(
        line.contains("skl2onnx") && line.ends_with("output probabilities"),
        "{line}"
    );
    let before = result(&h);
    h.state_mut().run_command(Command::ChooseOutput("add_result1".into()));
    h.run();
    let line = h.state().session.model_line().unwrap();
    assert!(line.ends_with("output add_result1"), "{line}");
    h.get_by_label(&line);
    // The scores the Softmax read: the same logits, the same explanation.
    let after = result(&h);
    assert!(after.generation > before.generation);
    let diff = before
        .logits
        .iter()
        .zip(&after.logits)
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(diff <= 1e-6, "{diff}");
    assert_eq!(before.target, after.target);

    // A name the graph lacks: the error is shown and the model stays as it was.
    h.state_mut().run_command(Command::ChooseOutput("nope".into()));
    h.run();
    let s = &h.state().session;
    let err = s.last_error().expect("an error is shown");
    assert!(err.contains("\"nope\"") && err.contains("\"probabilities\""), "{err}");
    assert!(s.model_line().unwrap().ends_with("output add_result1"));
}

#[test]
fn a_graph_with_several_score_outputs_offers_them_on_the_model_line() {
    let mut h = open("sklearn_nozipmap");
    assert!(
        h.query_by_label("explained output").is_none(),
        "one score output: nothing to choose"
    );
    // As if the file had a second float output: the pre-Softmax scores.
    let report = h.state_mut().session.model_import.as_mut().unwrap();
    report.outputs.push("add_result1".into());
    h.run();
    h.get_by_label("explained output").click();
    h.run();
    h.get_by_label("add_result1").click();
    h.run();
    let line = h.state().session.model_line().unwrap();
    assert!(line.ends_with("output add_result1"), "{line}");
    assert_eq!(h.state().session.model_import.as_ref().unwrap().output, "add_result1");
}
