//! The compare-and-understand views driven through egui_kittest with inline jobs: the rule grid, the ledger,
//! contrastive targets, faithfulness curves, conditional heatmaps and drawing a digit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use egui_kittest::kittest::Queryable;
use lrp_explorer::app::Command;
use lrp_explorer::app::state::{CANVAS_SIDE, CentralTab};
use lrp_explorer::data::image::mnist_style;
use lrp_explorer::error::EvalError;
use lrp_explorer::eval::{FaithRequest, Progress, run_faithfulness};
use lrp_explorer::eval::{FlipOrder, FlipSettings, aopc, conservation_ledger, perturbation_curves};
use lrp_explorer::lrp::{InitRelevance, Method, RuleChoice, Target, explain, grid_entries, layer_relevance};
use lrp_explorer::model::Model;
use ndarray::{ArrayD, Axis, IxDyn};

#[path = "common/app_fixture.rs"]
mod app_fixture;

use app_fixture::{Fixture, result};

fn open_fixture(model: &str) -> Fixture {
    app_fixture::open_fixture_with(model, 2, [1400.0, 1200.0])
}

/// Fixture sample `i` as a `[1, ...]` batch for `model`.
fn sample(model: &str, i: usize) -> ArrayD<f32> {
    let x = common::inputs(model);
    let mut shape = x.shape().to_vec();
    shape[0] = 1;
    ArrayD::from_shape_vec(IxDyn(&shape), x.index_axis(Axis(0), i).iter().copied().collect()).unwrap()
}

fn method(spec: &str) -> Method {
    spec.parse::<RuleChoice>().unwrap().method(Some((0.0, 1.0))).unwrap()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

fn flat(a: &ArrayD<f32>) -> Vec<f32> {
    a.iter().copied().collect()
}

#[test]
fn the_grid_shows_every_rule_as_the_engine_computes_it() {
    let mut f = open_fixture("cnn");
    f.harness.get_by_label("Compare tab").click();
    f.harness.run();
    assert_eq!(f.harness.state().settings.tab, CentralTab::Compare);
    let grid = f
        .harness
        .state()
        .session
        .compare
        .result
        .clone()
        .expect("the grid is computed on opening the tab");
    assert!(grid.cells.len() >= 12);
    let grid_specs: Vec<&str> = grid_entries().map(|e| e.spec).collect();
    assert_eq!(grid.cells.len(), grid_specs.len());
    let m = common::npz_model("cnn");
    let x = sample("cnn", 0);
    let mut differ = 0;
    for (cell, spec) in grid.cells.iter().zip(grid_specs) {
        assert_eq!(cell.label, spec);
        f.harness.get_by_label(&format!("compare cell {spec}"));
        let got = cell.relevance.as_ref().unwrap_or_else(|e| panic!("{spec}: {e}"));
        let e = explain(&m, &x, &method(spec), &Target::Predicted, InitRelevance::Logit).unwrap();
        let expected = flat(e.input_relevance());
        assert!(max_diff(got, &expected) < 1e-5, "{spec}");
        if max_diff(got, grid.cells[0].relevance.as_ref().unwrap()) > 1e-3 {
            differ += 1;
        }
    }
    assert!(
        differ >= 10,
        "the rules give different maps ({differ} differ from lrp0)"
    );
    // Two cells selected: their difference is shown.
    f.harness.get_by_label("compare cell lrp0").click();
    f.harness.run();
    f.harness.get_by_label("compare cell zplus").click();
    f.harness.run();
    assert_eq!(f.harness.state().view.compare.selected, vec![0, 4]);
    f.harness.get_by_label("Difference: lrp0 − zplus");
    // The grid as one PNG laid out like the window (its row length), each tile of 28·2 pixels where the layout
    // puts it, with the cell's own heatmap.
    let columns = f.harness.state().settings.compare_columns;
    assert!(columns >= 2, "{columns}");
    f.harness.state_mut().run_command(Command::ExportCompare);
    f.harness.run();
    let png = std::fs::read_dir(f.dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("_compare.png"))
        .expect("grid exported");
    let img = image::open(&png).unwrap().to_rgba8();
    let grid = f.harness.state().session.compare.result.clone().unwrap();
    let layout = lrp_explorer::heatmap::grid::layout(grid.cells.len(), columns, (56, 56));
    assert_eq!((img.width(), img.height()), (layout.width, layout.height));
    let tiles = lrp_explorer::app::compare::cell_images(&grid, 28, 28, false, Default::default());
    for (k, (tile, &(x, y))) in tiles.iter().zip(&layout.tiles).enumerate() {
        let tile = tile.as_ref().expect("every cell computed");
        for (tx, ty) in [(3, 3), (14, 14), (20, 9)] {
            assert_eq!(
                img.get_pixel(x + 2 * tx, y + 2 * ty),
                tile.get_pixel(tx, ty),
                "cell {k} at ({tx}, {ty})"
            );
        }
    }
}

#[test]
fn one_rule_across_samples_and_the_shared_scale() {
    let mut f = open_fixture("mlp");
    f.harness.state_mut().settings.tab = CentralTab::Compare;
    f.harness.state_mut().settings.compare_across_samples = true;
    f.harness.state_mut().settings.compare_count = 3;
    f.harness.state_mut().run_command(Command::SelectSample(2));
    f.harness.run();
    let grid = f.harness.state().session.compare.result.clone().unwrap();
    let samples: Vec<usize> = grid.cells.iter().map(|c| c.sample).collect();
    assert_eq!(samples, vec![2, 3, 4]);
    assert_eq!(grid.cells[1].label, "#3 epsilon_plus");
    let m = common::npz_model("mlp");
    for c in &grid.cells {
        let e = explain(
            &m,
            &sample("mlp", c.sample),
            &method("epsilon_plus"),
            &Target::Predicted,
            InitRelevance::Logit,
        )
        .unwrap();
        assert!(max_diff(c.relevance.as_ref().unwrap(), &flat(e.input_relevance())) < 1e-5);
    }
    let builds = f.harness.state().view.texture_builds;
    f.harness.get_by_label("shared colour scale").click();
    f.harness.run();
    assert!(f.harness.state().settings.compare_shared);
    assert!(
        f.harness.state().view.texture_builds > builds,
        "the toggle rebuilds the cells"
    );
}

#[test]
fn the_ledger_is_the_engines() {
    let mut f = open_fixture("cnn");
    f.harness.get_by_label("Ledger tab").click();
    f.harness.run();
    let r = result(&f.harness);
    let m = common::npz_model("cnn");
    let Method::Lrp(c) = method("epsilon_plus") else {
        unreachable!()
    };
    let plan = c.resolve(&m).unwrap();
    let e = explain(
        &m,
        &sample("cnn", 0),
        &Method::Lrp(c),
        &Target::Predicted,
        InitRelevance::Logit,
    )
    .unwrap();
    let expected = conservation_ledger(&m, &e, &plan, 0);
    assert_eq!(r.ledger.len(), m.layers().len());
    for (a, b) in r.ledger.iter().zip(&expected) {
        assert_eq!(a.layer, b.layer);
        assert!((a.relevance_in - b.relevance_in).abs() < 1e-4 && (a.relevance_out - b.relevance_out).abs() < 1e-4);
    }
    assert_eq!(r.ledger[0].layer, m.layers().len() - 1, "output layer first");
    f.harness.get_by_label("stabiliser");
    let shown = |v: f64| lrp_explorer::ui::fmt_num(v as f32);
    assert!(f.harness.get_all_by_label(&shown(expected[0].relevance_out)).count() >= 1);
    assert!(f.harness.get_all_by_label(&shown(expected[9].relevance_in)).count() >= 1);
}

#[test]
fn a_contrast_explains_why_the_class_rather_than_another() {
    let mut f = open_fixture("cnn");
    f.harness.state_mut().run_command(Command::SetContrast(Some(3)));
    f.harness.run();
    let r = result(&f.harness);
    assert_eq!((r.target, r.contrast), (7, Some(3)));
    let m = common::npz_model("cnn");
    let x = sample("cnn", 0);
    let contrast = Target::Contrast { class: 7, against: 3 };
    let e = explain(&m, &x, &method("epsilon_plus"), &contrast, InitRelevance::Logit).unwrap();
    assert!(max_diff(&r.relevance[0], &flat(e.input_relevance())) < 1e-5);
    let plain = explain(
        &m,
        &x,
        &method("epsilon_plus"),
        &Target::Predicted,
        InitRelevance::Logit,
    )
    .unwrap();
    assert!(max_diff(&r.relevance[0], &flat(plain.input_relevance())) > 1e-3);
    // The output relevance is logit 7 − logit 3.
    let start = r.totals.last().copied().unwrap();
    assert!((start - (r.logits[7] - r.logits[3])).abs() < 1e-4);
    f.harness.get_by_label("Relevance for class 7 rather than 3");
    f.harness.state_mut().run_command(Command::SetContrast(None));
    f.harness.run();
    f.harness.get_by_label("Relevance for class 7");
}

#[test]
fn faithfulness_curves_report_the_aopc_of_the_current_rule() {
    let mut f = open_fixture("mlp");
    f.harness.state_mut().settings.tab = CentralTab::Faithfulness;
    f.harness.state_mut().settings.faith_samples = 4;
    f.harness.state_mut().settings.faith_steps = 10;
    f.harness.run();
    f.harness.get_by_label("Run").click();
    f.harness.run();
    let faith = f.harness.state().session.faith.result.clone().expect("curves computed");
    assert_eq!(faith.samples, 4);
    let labels: Vec<&str> = faith.curves.iter().map(|c| c.label.as_str()).collect();
    assert_eq!(labels, ["epsilon_plus", "gradient", "random"]);
    assert_eq!(faith.removed.len(), 11);
    // Direct computation of the current rule's mean curve.
    let m = common::npz_model("mlp");
    let x = common::inputs("mlp").slice_axis(Axis(0), (0..4).into()).to_owned();
    let e = explain(
        &m,
        &x,
        &method("epsilon_plus"),
        &Target::Predicted,
        InitRelevance::Logit,
    )
    .unwrap();
    let settings = FlipSettings {
        steps: 10,
        fraction: 0.2,
        fill: 0.0,
    };
    let curves = perturbation_curves(
        &m,
        &x,
        e.input_relevance(),
        &e.targets,
        FlipOrder::MostRelevantFirst,
        &settings,
    )
    .unwrap();
    let mean: Vec<f32> = (0..11)
        .map(|k| curves.iter().map(|c| c.values[k]).sum::<f32>() / 4.0)
        .collect();
    assert!(max_diff(&faith.curves[0].values, &mean) < 1e-3);
    assert!((faith.curves[0].aopc - aopc(&mean)).abs() < 1e-3);
    for c in faith.curves.iter() {
        eprintln!("AOPC {} = {:.4}", c.label, c.aopc);
    }
    // A relevance order removes evidence faster than a random one.
    assert!(faith.curves[0].aopc > faith.curves[2].aopc);
    f.harness.get_by_label(&format!(
        "epsilon_plus {}",
        lrp_explorer::ui::fmt_num(faith.curves[0].aopc)
    ));
    f.harness.state_mut().run_command(Command::ExportFaithfulness);
    let csv_path = std::fs::read_dir(f.dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("_faithfulness.csv"))
        .unwrap();
    let csv = std::fs::read_to_string(csv_path).unwrap();
    assert!(csv.starts_with("removed,epsilon_plus,gradient,random\n0,"));
    assert_eq!(csv.lines().count(), 12);
}

#[test]
fn a_cancelled_faithfulness_run_stops() {
    let m = Arc::new(common::npz_model("mlp"));
    let x = common::inputs("mlp");
    let progress = Arc::new(Progress::default());
    progress.request_cancel();
    let req = FaithRequest {
        model: m,
        inputs: x.axis_iter(Axis(0)).map(|r| r.iter().copied().collect()).collect(),
        methods: vec![("lrp0".into(), method("lrp0"))],
        target: Target::Predicted,
        init: InitRelevance::Logit,
        settings: FlipSettings::default(),
        seed: 1,
        progress: progress.clone(),
    };
    assert!(matches!(run_faithfulness(&req), Err(EvalError::Cancelled)));
    assert_eq!(progress.counts(), (0, 8));
}

/// Relevance at the input flowing through `unit` at `position`, computed directly.
fn conditional_reference(m: &Model, x: &ArrayD<f32>, spec: &str, position: usize, unit: usize) -> Vec<f32> {
    let Method::Lrp(c) = method(spec) else { unreachable!() };
    let plan = c.resolve(m).unwrap();
    let e = explain(m, x, &Method::Lrp(c), &Target::Predicted, InitRelevance::Logit).unwrap();
    let mut r = e.relevance[position].clone();
    for (ch, mut v) in r.axis_iter_mut(Axis(1)).enumerate() {
        if ch != unit {
            v.fill(0.0);
        }
    }
    for k in (0..position).rev() {
        r = layer_relevance(m, k, &e.activations[k], &e.activations[k + 1], &r, &plan[k]).unwrap();
    }
    flat(&r)
}

#[test]
fn a_conditional_heatmap_equals_the_direct_computation() {
    let mut f = open_fixture("cnn");
    let m = common::npz_model("cnn");
    // The first conv's output after its ReLU: channels of [C, 28, 28] or smaller.
    let position = (1..m.layers().len()).find(|&k| m.shape_at(k).len() == 3).unwrap();
    let channels = m.shape_at(position)[0];
    f.harness
        .state_mut()
        .run_command(Command::SelectUnit { position, unit: 1 });
    f.harness.run();
    let c = f
        .harness
        .state()
        .session
        .unit
        .conditional
        .clone()
        .expect("conditional heatmap");
    let x = sample("cnn", 0);
    let expected = conditional_reference(&m, &x, "epsilon_plus", position, 1);
    assert!(max_diff(&c.relevance, &expected) < 1e-5);
    f.harness.get_by_label("Through unit 1");
    // The conditional maps of all channels add up to the full heatmap.
    let mut sum = vec![0.0f32; expected.len()];
    for u in 0..channels {
        let part = conditional_reference(&m, &x, "epsilon_plus", position, u);
        sum.iter_mut().zip(&part).for_each(|(s, p)| *s += p);
    }
    assert!(max_diff(&sum, &result(&f.harness).relevance[0]) < 1e-4);
    // The gallery: 8 samples, most relevance first, and the unit totals are the engine's.
    let g = f.harness.state().session.unit.gallery.clone().expect("gallery");
    assert_eq!(g.top.len(), 8);
    assert!(g.top.windows(2).all(|w| w[0].1 >= w[1].1));
    let (best, total) = g.top[0];
    let e = explain(
        &m,
        &sample("cnn", best),
        &method("epsilon_plus"),
        &Target::Predicted,
        InitRelevance::Logit,
    )
    .unwrap();
    let direct: f32 = e.relevance[position]
        .index_axis(Axis(0), 0)
        .index_axis(Axis(0), 1)
        .sum();
    assert!((direct - total).abs() < 1e-4);
    f.harness.get_by_label(&format!("gallery sample {best}"));
}

/// A straight stroke between two canvas points.
type Segment = ((f32, f32), (f32, f32));

/// A canvas with these strokes (canvas pixels).
fn drawn(strokes: &[Segment]) -> Vec<f32> {
    let mut c = vec![0.0; CANVAS_SIDE * CANVAS_SIDE];
    for &(a, b) in strokes {
        lrp_explorer::ui::draw_panel::stroke(&mut c, a, b, 1.5, false);
    }
    c
}

#[test]
fn drawing_strokes_changes_the_prediction() {
    let mut f = open_fixture("cnn");
    f.harness.get_by_label("Draw tab").click();
    f.harness.run();
    // A vertical bar, then a ring.
    let one = drawn(&[((14.0, 4.0), (14.0, 24.0))]);
    f.harness.state_mut().run_command(Command::Draw(one.clone()));
    f.harness.run();
    let r1 = result(&f.harness);
    let m = common::npz_model("cnn");
    let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, 28, 28]), mnist_style(&one, 28, 28)).unwrap();
    let e = explain(
        &m,
        &x,
        &method("epsilon_plus"),
        &Target::Predicted,
        InitRelevance::Logit,
    )
    .unwrap();
    assert_eq!(r1.predicted(), e.targets[0]);
    assert!(max_diff(&r1.relevance[0], &flat(e.input_relevance())) < 1e-5);
    let mut ring = Vec::new();
    for k in 0..24 {
        let (a, b) = (
            k as f32 / 24.0 * std::f32::consts::TAU,
            (k + 1) as f32 / 24.0 * std::f32::consts::TAU,
        );
        ring.push((
            (14.0 + 6.0 * a.cos(), 14.0 + 9.0 * a.sin()),
            (14.0 + 6.0 * b.cos(), 14.0 + 9.0 * b.sin()),
        ));
    }
    f.harness.state_mut().run_command(Command::Draw(drawn(&ring)));
    f.harness.run();
    let r2 = result(&f.harness);
    assert_ne!(
        r1.predicted(),
        r2.predicted(),
        "bar {} vs ring {}",
        r1.predicted(),
        r2.predicted()
    );
    assert_eq!(r2.predicted(), 0, "a ring reads as 0");
    f.harness
        .get_by_label_contains(&format!("predicted {}", r2.predicted()));
    // Dragging on the canvas draws too.
    f.harness.get_by_label("Clear").click();
    f.harness.run();
    assert!(
        f.harness
            .state()
            .session
            .canvas
            .as_ref()
            .unwrap()
            .iter()
            .all(|&v| v == 0.0)
    );
    f.harness.state_mut().run_command(Command::StopDrawing);
    f.harness.run();
    assert_eq!(result(&f.harness).sample, 0);
    assert!(f.harness.state().session.canvas.is_none());
}
