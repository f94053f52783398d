//! The preprocessing spec: parsing, printing, the pixel map, padding, suggestions and the per-model sidecar.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lrp_explorer::data::{Dataset, Preprocess, read_sidecar, sidecar_path, write_sidecar};

fn close(a: f32, b: f32) -> bool {
    (a - b).abs() <= 1e-6
}

#[test]
fn defaults_and_any_subset_of_keys() {
    let d: Preprocess = "".parse().unwrap();
    assert_eq!(d, Preprocess::default());
    assert_eq!((d.range, d.normalize, d.pad), ((0.0, 1.0), None, 0));
    let p: Preprocess = " pad=2 ; normalize=0.1307,0.3081 ".parse().unwrap();
    assert_eq!(p.range, (0.0, 1.0));
    assert_eq!(p.normalize, Some((0.1307, 0.3081)));
    assert_eq!(p.pad, 2);
    let q: Preprocess = "range=-1,1".parse().unwrap();
    assert_eq!((q.range, q.normalize, q.pad), ((-1.0, 1.0), None, 0));
}

#[test]
fn display_round_trips() {
    for spec in [
        "range=0,1",
        "range=-1,1;pad=2",
        "range=0,255;normalize=33.3,78.5;pad=1",
        "normalize=0.5,0.5",
    ] {
        let p: Preprocess = spec.parse().unwrap();
        let again: Preprocess = p.to_string().parse().unwrap();
        assert_eq!(p, again, "{spec} → {p}");
    }
    let p: Preprocess = "pad=2;range=-1,1".parse().unwrap();
    assert_eq!(p.to_string(), "range=-1,1;pad=2");
    assert_eq!(Preprocess::default().to_string(), "range=0,1");
}

#[test]
fn bad_specs_are_errors_naming_the_problem() {
    let cases = [
        ("range=1", "not two comma-separated numbers"),
        ("range=0,x", "\"x\" is not a number"),
        ("range=1,1", "must differ"),
        ("normalize=0.1,0", "std must be positive"),
        ("normalize=0.1,-2", "std must be positive"),
        ("pad=-1", "not a whole number"),
        ("pad=1000", "more than 64"),
        ("scale=2", "unknown key \"scale\""),
        ("pad", "not key=value"),
        ("pad=1;pad=2", "given twice"),
        ("range=0,inf", "not finite"),
    ];
    for (spec, expected) in cases {
        let err = spec.parse::<Preprocess>().unwrap_err().to_string();
        assert!(err.contains(expected), "{spec}: {err:?} lacks {expected:?}");
        assert!(err.contains(spec), "{spec}: the message should quote the spec: {err}");
    }
}

#[test]
fn pixel_map_and_box_bounds() {
    let p: Preprocess = "range=-1,1;normalize=0.5,2".parse().unwrap();
    // p=0 → -1 → (-1-0.5)/2 = -0.75; p=1 → 1 → 0.25; p=0.25 → -0.5 → -0.5
    assert!(close(p.map(0.0), -0.75));
    assert!(close(p.map(1.0), 0.25));
    assert!(close(p.map(0.25), -0.5));
    assert_eq!(p.box_bounds(), (-0.75, 0.25));
    let mnist: Preprocess = "normalize=0.1307,0.3081".parse().unwrap();
    let (lo, hi) = mnist.box_bounds();
    assert!(close(lo, -0.424_213) && close(hi, 2.821_487), "{lo} {hi}");
    let inverted: Preprocess = "range=1,0".parse().unwrap();
    assert_eq!(inverted.box_bounds(), (0.0, 1.0), "ordered low, high");
    assert_eq!(Preprocess::default().box_bounds(), (0.0, 1.0));
}

#[test]
fn padding_uses_the_background_value() {
    let p: Preprocess = "range=-1,1;pad=1".parse().unwrap();
    assert_eq!(p.output_size(2, 3), (4, 5));
    let out = p.apply_one(&[0.0, 0.5, 1.0, 1.0, 0.5, 0.0], 2, 3);
    #[rustfmt::skip]
    let expected = [
        -1.0, -1.0, -1.0, -1.0, -1.0,
        -1.0, -1.0,  0.0,  1.0, -1.0,
        -1.0,  1.0,  0.0, -1.0, -1.0,
        -1.0, -1.0, -1.0, -1.0, -1.0,
    ];
    assert_eq!(out, expected);
}

#[test]
fn apply_batches_a_range_of_the_dataset() {
    let ds = Dataset {
        images: (0..4 * 4).map(|v| v as f32 / 15.0).collect(),
        height: 2,
        width: 2,
        labels: None,
        class_names: None,
        source: "t".into(),
    };
    let p: Preprocess = "pad=1".parse().unwrap();
    let batch = p.apply(&ds, 1..3);
    assert_eq!(batch.shape(), &[2, 16]);
    assert_eq!(batch.row(0).to_vec(), p.apply_one(ds.image(1), 2, 2));
    assert_eq!(batch.row(1).to_vec(), p.apply_one(ds.image(2), 2, 2));
    assert!(
        close(batch[[0, 5]], 4.0 / 15.0),
        "first pixel of image 1 after one row and one column of padding"
    );
    assert_eq!(p.apply(&ds, 3..10).shape(), &[1, 16], "clamped");
    let plain = Preprocess::default().apply(&ds, 0..4);
    assert_eq!(plain.as_slice().unwrap(), ds.images.as_slice());
}

#[test]
fn suggestions_from_the_model_input_size() {
    assert_eq!(Preprocess::suggest(784, 28, 28), Some(Preprocess::default()));
    assert_eq!(Preprocess::suggest(32 * 32, 28, 28).map(|p| p.pad), Some(2));
    assert_eq!(Preprocess::suggest(30 * 30, 28, 28).map(|p| p.pad), Some(1));
    assert_eq!(Preprocess::suggest(1000, 28, 28), None);
    assert_eq!(Preprocess::suggest(27 * 27, 28, 28), None);
}

#[test]
fn sidecar_next_to_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("lenet.onnx");
    assert_eq!(sidecar_path(&model), dir.path().join("lenet.onnx.preprocess"));
    assert_eq!(read_sidecar(&model).unwrap(), None, "no sidecar yet");
    let p: Preprocess = "range=-1,1;normalize=0.5,0.5;pad=2".parse().unwrap();
    write_sidecar(&model, &p).unwrap();
    assert_eq!(read_sidecar(&model).unwrap(), Some(p));
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["lenet.onnx.preprocess"], "no temporary file left behind");
    std::fs::write(sidecar_path(&model), "# made by hand\npad=oops\n").unwrap();
    let err = read_sidecar(&model).unwrap_err().to_string();
    assert!(err.contains("lenet.onnx.preprocess") && err.contains("pad"), "{err}");
}
