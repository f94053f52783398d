//! The Check tab and the rule arithmetic view, driven through egui_kittest with inline jobs: a relevance file
//! computed in the test by a loop-based, MATLAB-style script with a known mistake is opened, the ranked table's top
//! row names the mistake, the four maps are drawn, and a new sample is checked again.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::needless_range_loop)]

mod common;

use egui_kittest::kittest::Queryable;
use lrp_explorer::app::Command;
use lrp_explorer::app::check::CheckCommand;
use lrp_explorer::app::state::CentralTab;
use lrp_explorer::diagnose::{Init, Verdict};
use lrp_explorer::model::{Layer, Model};

#[path = "common/app_fixture.rs"]
mod app_fixture;

/// The fixture digits as the window reads them from IDX bytes: `[8][784]` in [0, 1].
fn digits() -> Vec<Vec<f32>> {
    let x = common::read_f32(common::fixtures().join("inputs/images_flat.npy"));
    x.outer_iter()
        .map(|row| row.iter().map(|&v| (v * 255.0).round() / 255.0).collect())
        .collect()
}

/// A hand-written z⁺ everywhere in f64 loops, starting from every logit (`R = output`), as a beginner writes it.
fn zplus_from_all_logits(model: &Model, image: &[f32]) -> Vec<f32> {
    let dense: Vec<(Vec<Vec<f64>>, Vec<f64>)> = model
        .layers()
        .iter()
        .filter_map(|l| match l {
            Layer::Dense(d) => Some((
                d.weight
                    .outer_iter()
                    .map(|r| r.iter().map(|&v| v as f64).collect())
                    .collect(),
                d.bias.as_ref().unwrap().iter().map(|&v| v as f64).collect(),
            )),
            _ => None,
        })
        .collect();
    let mut acts = vec![image.iter().map(|&v| v as f64).collect::<Vec<f64>>()];
    for (l, (w, b)) in dense.iter().enumerate() {
        let a = acts.last().unwrap();
        let mut z = vec![0.0; w.len()];
        for j in 0..w.len() {
            z[j] = b[j];
            for i in 0..a.len() {
                z[j] += w[j][i] * a[i];
            }
            if l + 1 < dense.len() {
                z[j] = z[j].max(0.0);
            }
        }
        acts.push(z);
    }
    let mut r = acts.last().unwrap().clone();
    for l in (0..dense.len()).rev() {
        let (w, b) = &dense[l];
        let a = &acts[l];
        let mut below = vec![0.0; a.len()];
        for j in 0..w.len() {
            let mut d = b[j].max(0.0) + 1e-6;
            for i in 0..a.len() {
                d += a[i] * w[j][i].max(0.0);
            }
            for i in 0..a.len() {
                below[i] += a[i] * w[j][i].max(0.0) / d * r[j];
            }
        }
        r = below;
    }
    r.iter().map(|&v| v as f32).collect()
}

fn write_npy(path: &std::path::Path, rows: &[Vec<f32>]) {
    let values: Vec<f32> = rows.concat();
    let mut bytes = vec![];
    lrp_explorer::heatmap::export::write_npy_f32(&mut bytes, &values, &[rows.len(), rows[0].len()]).unwrap();
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn the_check_tab_names_the_mistake_of_a_hand_written_lrp() {
    let mut f = app_fixture::open_fixture_with("mlp", 2, [1400.0, 1100.0]);
    let model = common::npz_model("mlp");
    let digits = digits();
    assert_eq!(
        app_fixture::result(&f.harness).activations[0].values(),
        digits[0].as_slice(),
        "the script sees the window's input"
    );
    let maps: Vec<Vec<f32>> = digits.iter().map(|d| zplus_from_all_logits(&model, d)).collect();
    let path = f.dir.path().join("my_relevance.npy");
    write_npy(&path, &maps);
    f.harness.get_by_label("Check tab").click();
    f.harness.run();
    assert_eq!(f.harness.state().settings.tab, CentralTab::Check);
    // Typed into the path field and checked.
    f.harness.get_by_label("relevance file path").focus();
    f.harness.run();
    f.harness
        .get_by_label("relevance file path")
        .type_text(path.to_str().unwrap());
    f.harness.run();
    f.harness.get_by_label("Check").click();
    f.harness.run();
    let check = f.harness.state().session.check.result.clone().expect("a diagnosis");
    assert_eq!(check.sample, 0);
    let d = &check.diagnosis;
    let best = d.best().unwrap();
    assert_eq!(d.verdict, Verdict::Identical);
    assert_eq!(d.configs[best.config].label, "z+ everywhere");
    assert_eq!(best.init, Init::AllLogits);
    // The table's top row, the maps and the explanation on screen.
    assert_eq!(check.rows[0].0, "z+ everywhere from all logits");
    f.harness.get_by_label("z+ everywhere from all logits");
    f.harness.get_by_label("read as npy [8, 784]: 8 maps, one per row");
    for title in ["Your map", "Best match: z+ everywhere from all logits"] {
        f.harness.get_by_label(&format!("check map {title}"));
    }
    // The user's rules without the mistake: the same rule from the class logit.
    f.harness
        .get_by_label("check map Recommended: z+ everywhere from the class logit");
    f.harness.get_by_label_contains("check map Difference");
    f.harness
        .get_by_label_contains("Start from the chosen class's logit and zeros elsewhere");
    // The maps are the user's and the engine's: the best match is the file's map, the difference is not zero.
    let err = check.maps[0]
        .values
        .iter()
        .zip(&check.maps[1].values)
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(err <= 1e-4 * lrp_explorer::heatmap::max_abs(&check.maps[0].values));
    assert!(lrp_explorer::heatmap::max_abs(&check.maps[3].values) > 0.05);
    assert_eq!((check.width, check.height), (28, 28));

    // Another sample: checked again with its own map.
    f.harness.state_mut().run_command(Command::SelectSample(3));
    f.harness.run();
    let again = f.harness.state().session.check.result.clone().unwrap();
    assert_eq!(again.sample, 3);
    assert_eq!(again.rows[0].0, "z+ everywhere from all logits");
    assert!(again.generation > check.generation);
}

/// A file dropped on the window, as the windowing integration hands it to egui.
#[derive(Debug)]
struct Dropped(std::path::PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &std::path::Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

#[test]
fn a_random_map_is_no_close_match_and_a_dropped_file_is_checked() {
    let mut f = app_fixture::open_fixture_with("mlp", 2, [1400.0, 1100.0]);
    f.harness.state_mut().settings.tab = CentralTab::Check;
    // A map of noise, one 784-vector as CSV, dropped on the window.
    let mut state = 12345u64;
    let noise: Vec<f32> = (0..784)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        })
        .collect();
    let path = f.dir.path().join("noise.csv");
    let text: Vec<String> = noise.iter().map(|v| v.to_string()).collect();
    std::fs::write(&path, text.join(",")).unwrap();
    f.harness
        .input_mut()
        .dropped_files
        .push(std::sync::Arc::new(Dropped(path.clone())));
    f.harness.run();
    let check = f
        .harness
        .state()
        .session
        .check
        .result
        .clone()
        .expect("the dropped file is checked");
    assert_eq!(f.harness.state().session.check.path.as_ref(), Some(&path));
    assert_eq!(check.diagnosis.verdict, Verdict::NoCloseMatch);
    assert!(check.rows[0].1 < 0.5, "correlation {}", check.rows[0].1);
    f.harness.get_by_label_contains("no close match");
    // One map is compared with whatever sample is shown.
    f.harness.state_mut().run_command(Command::SelectSample(5));
    f.harness.run();
    assert_eq!(f.harness.state().session.check.result.as_ref().unwrap().sample, 5);
    // A file that is not a relevance map: the reason is shown, nothing panics.
    let bad = f.harness.state().session.data_path.clone().unwrap();
    f.harness
        .state_mut()
        .run_command(Command::Check(CheckCommand::Open(bad.with_extension("npy"))));
    f.harness.run();
    assert!(f.harness.state().session.check.result.is_none());
    assert!(f.harness.state().session.check.problem.is_some());
}

#[test]
fn the_arithmetic_view_writes_the_rule_with_the_samples_numbers() {
    let mut f = app_fixture::open_fixture_with("mlp", 2, [1400.0, 2000.0]);
    let layers = common::npz_model("mlp").layers().len();
    let r = app_fixture::result(&f.harness);
    f.harness.state_mut().run_command(Command::SelectUnit {
        position: layers,
        unit: r.target,
    });
    f.harness.run();
    f.harness
        .get_by_label_contains(&format!("The arithmetic of unit {} at output", r.target));
    // epsilon_plus (ε at every Dense layer): the output unit's R_j is the class logit.
    let logit = r.logits[r.target];
    f.harness.get_by_label_contains(&format!("R_j = {logit:.4}"));
    f.harness.get_by_label_contains("denominator = Σ_i c_ij");
    f.harness.get_by_label_contains("Σ_i R_i←j =");
    // The seed preset: z⁺ at the hidden Dense layer (after ReLU 3 → position 4), w² at the first (position 2).
    f.harness
        .state_mut()
        .run_command(Command::ChooseRule("seed".parse().expect("a registry spec")));
    f.harness
        .state_mut()
        .run_command(Command::SelectUnit { position: 4, unit: 3 });
    f.harness.run();
    f.harness.get_by_label_contains("Layer 2, unit j = 3, rule z⁺");
    f.harness
        .get_by_label_contains("largest terms c_ij = a_i⁺·w_ij⁺ + a_i⁻·w_ij⁻");
    f.harness
        .state_mut()
        .run_command(Command::SelectUnit { position: 2, unit: 7 });
    f.harness.run();
    f.harness.get_by_label_contains("Layer 0, unit j = 7, rule w²");
    f.harness
        .get_by_label_contains("largest terms c_ij = w_ij² (of 784 inputs)");
}
