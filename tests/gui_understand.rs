//! Selecting a unit by clicking its bar in the layer stepper, and exporting the faithfulness curves as PNG,
//! driven through egui_kittest with inline jobs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use egui_kittest::kittest::Queryable;
use lrp_explorer::app::Command;
use lrp_explorer::heatmap::plot::{BASELINE_COLOR, PALETTE, PLOT_SIZE};
use lrp_explorer::lrp::{InitRelevance, Method, Target, explain, layer_relevance};
use lrp_explorer::model::Model;
use lrp_explorer::ui::layer_panel::bar_at;
use ndarray::{ArrayD, Axis, IxDyn};

#[path = "common/app_fixture.rs"]
mod app_fixture;

use app_fixture::{Fixture, result};

fn open_fixture(model: &str) -> Fixture {
    app_fixture::open_fixture_with(model, 2, [1400.0, 1200.0])
}

fn sample(model: &str, i: usize) -> ArrayD<f32> {
    let x = common::inputs(model);
    let mut shape = x.shape().to_vec();
    shape[0] = 1;
    ArrayD::from_shape_vec(IxDyn(&shape), x.index_axis(Axis(0), i).iter().copied().collect()).unwrap()
}

/// Input relevance flowing through neuron `unit` at flat position `position`, computed directly with epsilon_plus.
fn conditional_reference(m: &Model, x: &ArrayD<f32>, position: usize, unit: usize) -> Vec<f32> {
    let Method::Lrp(c) = "epsilon_plus".parse::<Method>().unwrap() else {
        unreachable!()
    };
    let plan = c.resolve(m).unwrap();
    let e = explain(m, x, &Method::Lrp(c), &Target::Predicted, InitRelevance::Logit).unwrap();
    let mut r = e.relevance[position].clone();
    for (j, v) in r.iter_mut().enumerate() {
        if j != unit {
            *v = 0.0;
        }
    }
    for k in (0..position).rev() {
        r = layer_relevance(m, k, &e.activations[k], &e.activations[k + 1], &r, &plan[k]).unwrap();
    }
    r.iter().copied().collect()
}

#[test]
fn bar_at_picks_the_nearest_bar() {
    assert_eq!(bar_at(0.0, 10), Some(0));
    assert_eq!(bar_at(-0.49, 10), Some(0));
    assert_eq!(bar_at(3.4, 10), Some(3));
    assert_eq!(bar_at(3.6, 10), Some(4));
    assert_eq!(bar_at(9.5, 10), None);
    assert_eq!(bar_at(-0.7, 10), None);
    assert_eq!(bar_at(12.0, 10), None);
}

/// Clicks slot `slot` of the `bars`-bar chart labelled `label` (the bars fill the plot from edge to edge).
fn click_bar(f: &mut Fixture, label: &str, slot: usize, bars: usize) {
    let at = |f: &Fixture| {
        let rect = f.harness.get_by_label(label).rect();
        egui::pos2(
            rect.left() + (slot as f32 + 0.5) / bars as f32 * rect.width(),
            rect.center().y,
        )
    };
    // Hovering may change the axis width a little: aim again once the layout has settled.
    f.harness.hover_at(at(f));
    f.harness.run();
    let pos = at(f);
    f.harness.hover_at(pos);
    f.harness.run();
    for pressed in [true, false] {
        f.harness.event(egui::Event::PointerButton {
            pos,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: egui::Modifiers::NONE,
        });
    }
    f.harness.run();
}

#[test]
fn clicking_a_neuron_bar_shows_its_conditional_heatmap() {
    let mut f = open_fixture("mlp");
    let m = common::npz_model("mlp");
    // The input of the last Dense layer: the neurons of the second hidden layer.
    let position = m.layers().len() - 1;
    let bars = m.shape_at(position)[0];
    f.harness.state_mut().settings.sort_neurons = false;
    f.harness.state_mut().run_command(Command::SelectLayer(position));
    f.harness.run();
    let slot = bars / 3;
    click_bar(&mut f, "relevance bars", slot, bars);
    assert_eq!(f.harness.state().session.unit.chosen, Some((position, slot)));
    let c = f
        .harness
        .state()
        .session
        .unit
        .conditional
        .clone()
        .expect("conditional heatmap");
    assert_eq!((c.position, c.unit), (position, slot));
    let expected = conditional_reference(&m, &sample("mlp", 0), position, slot);
    let diff = c
        .relevance
        .iter()
        .zip(&expected)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(diff < 1e-5, "max diff {diff}");
    let r = result(&f.harness);
    assert!((c.unit_total - r.relevance[position][slot]).abs() < 1e-5);
    f.harness.get_by_label(&format!("Through unit {slot}"));
    // Sorted by relevance: the first bar is the most relevant neuron.
    f.harness.state_mut().settings.sort_neurons = true;
    f.harness.run();
    click_bar(&mut f, "relevance bars", 0, bars);
    let best = (0..bars)
        .max_by(|&a, &b| r.relevance[position][a].total_cmp(&r.relevance[position][b]))
        .unwrap();
    assert_eq!(f.harness.state().session.unit.chosen, Some((position, best)));
    let c = f.harness.state().session.unit.conditional.clone().unwrap();
    let expected = conditional_reference(&m, &sample("mlp", 0), position, best);
    let diff = c
        .relevance
        .iter()
        .zip(&expected)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(diff < 1e-5, "max diff {diff}");
}

#[test]
fn clicking_a_channel_map_shows_its_conditional_heatmap() {
    let mut f = open_fixture("cnn");
    let m = common::npz_model("cnn");
    // The second convolution's input: the pooled channels of the first.
    let position = 3;
    assert_eq!(m.shape_at(position).len(), 3);
    f.harness.state_mut().run_command(Command::SelectLayer(position));
    f.harness.run();
    f.harness.get_by_label("channel 2 relevance").click();
    f.harness.run();
    assert_eq!(f.harness.state().session.unit.chosen, Some((position, 2)));
    let c = f
        .harness
        .state()
        .session
        .unit
        .conditional
        .clone()
        .expect("conditional heatmap");
    // Reference: keep channel 2 of the [1, C, H, W] relevance and propagate it down.
    let Method::Lrp(comp) = "epsilon_plus".parse::<Method>().unwrap() else {
        unreachable!()
    };
    let plan = comp.resolve(&m).unwrap();
    let x = sample("cnn", 0);
    let e = explain(&m, &x, &Method::Lrp(comp), &Target::Predicted, InitRelevance::Logit).unwrap();
    let mut r = e.relevance[position].clone();
    for (ch, mut v) in r.axis_iter_mut(Axis(1)).enumerate() {
        if ch != 2 {
            v.fill(0.0);
        }
    }
    let unit_total: f32 = r.sum();
    for k in (0..position).rev() {
        r = layer_relevance(&m, k, &e.activations[k], &e.activations[k + 1], &r, &plan[k]).unwrap();
    }
    let diff = c
        .relevance
        .iter()
        .zip(r.iter())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(diff < 1e-5, "max diff {diff}");
    assert!((c.unit_total - unit_total).abs() < 1e-5);
    assert!(unit_total.abs() > 1e-4, "the channel carries relevance");
}

#[test]
fn the_faithfulness_curves_export_as_png() {
    let mut f = open_fixture("mlp");
    f.harness.state_mut().settings.tab = lrp_explorer::app::state::CentralTab::Faithfulness;
    f.harness.state_mut().settings.faith_samples = 4;
    f.harness.state_mut().settings.faith_steps = 10;
    f.harness.run();
    // Before a run the button is disabled: clicking it writes nothing.
    f.harness.get_by_label("Export PNG").click();
    f.harness.run();
    f.harness.get_by_label("Run").click();
    f.harness.run();
    let faith = f.harness.state().session.faith.result.clone().expect("curves computed");
    let pngs = |f: &Fixture| -> Vec<std::path::PathBuf> {
        let mut v: Vec<_> = std::fs::read_dir(f.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().ends_with(".png"))
            .collect();
        v.sort();
        v
    };
    assert!(pngs(&f).is_empty());
    f.harness.get_by_label("Export PNG").click();
    f.harness.run();
    let files = pngs(&f);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].to_string_lossy().ends_with("_faithfulness.png"));
    let img = image::open(&files[0]).unwrap().to_rgba8();
    assert_eq!(img.dimensions(), PLOT_SIZE);
    let count = |c: [u8; 3]| img.pixels().filter(|p| p.0 == [c[0], c[1], c[2], 255]).count();
    // The current rule, the second rule and the dashed random baseline are all drawn.
    assert!(count(PALETTE[0]) > 100 && count(PALETTE[1]) > 100 && count(BASELINE_COLOR) > 50);
    // The plot is the session's curves.
    let plot = faith.line_plot("mlp");
    assert!(
        plot.title.contains("mlp") && plot.title.contains("4 samples"),
        "{}",
        plot.title
    );
    assert_eq!(
        plot.curves[0].label,
        format!("epsilon_plus (AOPC {:.4})", faith.curves[0].aopc)
    );
    assert!(plot.curves[2].dashed);
    // A second export does not overwrite the first: it gets a new name.
    f.harness.get_by_label("Export PNG").click();
    f.harness.run();
    let files = pngs(&f);
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(
        files
            .iter()
            .any(|p| p.to_string_lossy().ends_with("_faithfulness (2).png"))
    );
}
