//! A per-layer parameter slider dragged with the pointer, as a user does (press, many moves, release), at 1024×768:
//! the drag is continuous from its first movement, every step recomputes the heatmap with the value under the
//! pointer, the table does not move when the preset becomes "with edits", and the status bar names the rules in
//! force.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use egui::{Pos2, pos2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use lrp_explorer::app::LrpApp;
use lrp_explorer::lrp::Rule;

#[path = "common/app_fixture.rs"]
#[allow(dead_code)]
mod app_fixture;

/// The ε of layer `k` in the rules the window explains with.
fn epsilon_in_force(h: &Harness<'_, LrpApp>, k: usize) -> f32 {
    match h.state().session.plan[k].rule {
        Rule::Epsilon { epsilon } => epsilon,
        other => panic!("layer {k} has {other:?}"),
    }
}

/// Presses at `from`, moves right in `steps` steps of `dx` points (one frame each), releases; returns the ε of
/// layer `k` after every move and the slider's rectangle after every move.
fn drag(h: &mut Harness<'_, LrpApp>, label: &str, k: usize, from: Pos2, dx: f32, steps: usize) -> (Vec<f32>, Vec<f32>) {
    h.hover_at(from);
    h.step();
    h.drag_at(from);
    h.step();
    let mut values = Vec::new();
    let mut tops = Vec::new();
    for i in 1..=steps {
        h.hover_at(pos2(from.x + dx * i as f32, from.y));
        h.run();
        values.push(epsilon_in_force(h, k));
        tops.push(h.get_by_label(label).rect().top());
    }
    h.drop_at(pos2(from.x + dx * steps as f32, from.y));
    h.run();
    (values, tops)
}

#[test]
fn dragging_an_epsilon_slider_recomputes_at_every_step_from_the_first() {
    let mut f = app_fixture::open_fixture_with("cnn", 2, [1024.0, 768.0]);
    // The cnn fixture: 7 is its hidden Dense layer, ε = 1e-6 under epsilon_plus.
    let label = "ε of layer 7";
    f.harness.get_by_label(label).scroll_to_me();
    f.harness.run();
    let rail = f.harness.get_by_label(label).rect();
    let start = epsilon_in_force(&f.harness, 7);
    assert!((start - 1e-6).abs() < 1e-9, "{start}");
    let explained_before = f.harness.state().session.result.as_ref().unwrap().generation;
    // Start on the handle (ε at the bottom of its range: the left end of the rail).
    let from = pos2(rail.left() + 4.0, rail.center().y);
    let (values, tops) = drag(&mut f.harness, label, 7, from, (rail.width() - 8.0) / 8.0, 8);
    assert!(
        values.windows(2).all(|w| w[1] > w[0]),
        "ε grows at every step of the drag: {values:?}"
    );
    assert!(values[0] > start, "the first movement already changes ε: {values:?}");
    assert!(
        tops.iter().all(|&t| (t - tops[0]).abs() < 0.5) && (tops[0] - rail.top()).abs() < 0.5,
        "the slider stays where it was grabbed: started at {}, then {tops:?}",
        rail.top()
    );
    let state = f.harness.state();
    let result = state.session.result.as_ref().unwrap();
    assert!(result.generation >= explained_before + 8, "one explanation per step");
    assert_eq!(
        epsilon_in_force(&f.harness, 7),
        *values.last().unwrap(),
        "released where it was"
    );
    assert!(state.settings.layer_rules.is_some(), "the table's edits are in force");
    f.harness.get_by_label("In force: epsilon_plus with edits in the table");
    f.harness.get_by_label("rules: epsilon_plus with edits");
}
