//! Every dataset reader on real and generated files, and every file of the bad-data corpus.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use lrp_explorer::data::{Dataset, idx, image::mnist_style, load_dataset, load_labels, summary};
use ndarray::{Array1, Array2, Array3, Array4};
use ndarray_npy::{NpzWriter, WriteNpyExt};

/// The LRP Toolbox test images 0..7, row-major, /255 (`[8, 784]`).
fn toolbox_rows() -> Array2<f32> {
    let a = common::read_f32(common::fixtures().join("inputs/images_flat.npy"));
    a.into_dimensionality().unwrap()
}

/// Labels of the toolbox images 0..7.
const TOOLBOX_LABELS: [u8; 8] = [7, 2, 1, 0, 4, 1, 4, 9];

fn shared_toolbox(name: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/lrp-toolbox")
        .join(name);
    if path.is_file() {
        Some(path)
    } else {
        println!("skipped: {} not present", path.display());
        None
    }
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// The toolbox digits quantised back to bytes (exact: they are k/255).
fn toolbox_bytes(n: usize) -> Vec<u8> {
    toolbox_rows()
        .iter()
        .take(n * 784)
        .map(|&v| (v * 255.0).round() as u8)
        .collect()
}

fn assert_toolbox_digits(ds: &Dataset, n: usize) {
    let rows = toolbox_rows();
    assert_eq!((ds.height, ds.width), (28, 28));
    for i in 0..n {
        let d = max_diff(ds.image(i), rows.row(i).as_slice().unwrap());
        assert!(d <= 1e-6, "image {i} differs from images_flat.npy row {i} by {d}");
    }
}

// ---------- MATLAB ----------

#[test]
fn toolbox_mat_is_upright_and_labelled() {
    let Some(images) = shared_toolbox("test_images.mat") else {
        return;
    };
    let ds = load_dataset(&images, None).unwrap();
    assert_eq!(ds.len(), 10_000);
    assert_toolbox_digits(&ds, 8);
    // The first test digit is a 7: its ink is in the upper half as a bar and a diagonal stroke down.
    let labels = ds.labels.as_ref().expect("labels from the sibling test_labels.mat");
    assert_eq!(&labels[..8], &TOOLBOX_LABELS);
    assert_eq!(
        ds.label_counts().unwrap(),
        vec![980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    );
    assert!(ds.source.contains("test_labels.mat"), "{}", ds.source);
    assert_eq!(
        summary(&ds),
        "samples: 10000\nshape: 28x28\nlabels: 0:980 1:1135 2:1032 3:1010 4:982 5:892 6:958 7:1028 8:974 9:1009\n"
    );
}

#[test]
fn toolbox_labels_mat_read_explicitly_and_refused_as_images() {
    let Some(labels) = shared_toolbox("test_labels.mat") else {
        return;
    };
    let l = load_labels(&labels).unwrap();
    assert_eq!(l.len(), 10_000);
    assert_eq!(&l[..8], &TOOLBOX_LABELS);
    let err = load_dataset(&labels, None).unwrap_err().to_string();
    assert!(err.contains("labels file"), "{err}");
}

#[test]
fn mat_hwn_stack_with_labels_inside() {
    let ds = load_dataset(&common::fixtures().join("data/stack_hwn.mat"), None).unwrap();
    assert_eq!(ds.len(), 3);
    assert_toolbox_digits(&ds, 3);
    assert_eq!(ds.labels.as_deref(), Some(&TOOLBOX_LABELS[..3]));
}

#[test]
fn mat_rows_uint8_with_one_hot_labels() {
    let ds = load_dataset(&common::fixtures().join("data/rows_onehot.mat"), None).unwrap();
    assert_eq!(ds.len(), 4);
    assert_toolbox_digits(&ds, 4);
    assert_eq!(ds.labels.as_deref(), Some(&TOOLBOX_LABELS[..4]));
}

#[test]
fn mat_per_digit_variables_give_labels() {
    let ds = load_dataset(&common::fixtures().join("data/mnist_all_tiny.mat"), None).unwrap();
    assert_eq!(ds.len(), 20, "test0..test9 with two rows each");
    assert_eq!(ds.label_counts().unwrap(), vec![2; 10]);
    for i in 0..ds.len() {
        let d = ds.label(i).unwrap() as usize;
        let lit: Vec<usize> = (0..784).filter(|&k| ds.image(i)[k] > 0.5).collect();
        assert_eq!(lit, vec![100 + d], "image {i}");
    }
}

// ---------- IDX ----------

#[test]
fn idx_round_trip_raw_and_gz_with_labels_found_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let pixels = toolbox_bytes(8);
    for suffix in ["", ".gz"] {
        let images = dir.path().join(format!("t10k-images-idx3-ubyte{suffix}"));
        let labels = dir.path().join(format!("t10k-labels-idx1-ubyte{suffix}"));
        idx::write_idx_images(&images, &pixels, 8, 28, 28).unwrap();
        idx::write_idx_labels(&labels, &TOOLBOX_LABELS).unwrap();
        assert_eq!(idx::find_labels(&images), Some(labels.clone()));
        let ds = load_dataset(&images, None).unwrap();
        assert_eq!(ds.len(), 8);
        assert_toolbox_digits(&ds, 8);
        assert_eq!(ds.labels.as_deref(), Some(&TOOLBOX_LABELS[..]));
        assert!(
            ds.source
                .starts_with(&format!("t10k-images-idx3-ubyte{suffix} (IDX, 8 images)"))
        );
        assert!(ds.class_names.is_none());
        std::fs::remove_file(&labels).unwrap();
        std::fs::remove_file(&images).unwrap();
    }
}

#[test]
fn idx_labels_given_explicitly_and_found_with_other_names() {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("my-images.idx3");
    idx::write_idx_images(&images, &toolbox_bytes(2), 2, 28, 28).unwrap();
    let labels = dir.path().join("other.idx1");
    idx::write_idx_labels(&labels, &[7, 2]).unwrap();
    let ds = load_dataset(&images, None).unwrap();
    assert!(ds.labels.is_none(), "no labels next to it");
    let ds = load_dataset(&images, Some(&labels)).unwrap();
    assert_eq!(ds.labels, Some(vec![7, 2]));
    idx::write_idx_labels(&dir.path().join("my-labels.idx1.gz"), &[1, 1]).unwrap();
    assert_eq!(load_dataset(&images, None).unwrap().labels, Some(vec![1, 1]));
}

#[test]
fn fashion_mnist_from_debian_package() {
    let path = Path::new("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz");
    if !path.is_file() {
        println!(
            "skipped: {} not installed (apt-get install dataset-fashion-mnist)",
            path.display()
        );
        return;
    }
    let ds = load_dataset(path, None).unwrap();
    assert_eq!((ds.len(), ds.height, ds.width), (10_000, 28, 28));
    assert_eq!(ds.label_counts().unwrap(), vec![1000; 10]);
    assert_eq!(ds.label(0), Some(9));
    assert_eq!(ds.class_name(9), "Ankle boot");
    assert_eq!(ds.class_names.as_ref().unwrap()[0], "T-shirt/top");
    // Known bytes of the first test image, row 14 columns 12..16 (Fashion-MNIST t10k[0]).
    let row14: Vec<u8> = ds.image(0)[14 * 28 + 12..14 * 28 + 16]
        .iter()
        .map(|v| (v * 255.0).round() as u8)
        .collect();
    assert_eq!(row14, vec![98, 136, 110, 109]);
    let train = Path::new("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz");
    let ds = load_dataset(train, None).unwrap();
    assert_eq!(ds.len(), 60_000);
    assert_eq!(ds.label_counts().unwrap(), vec![6000; 10]);
}

// ---------- CSV ----------

fn csv_rows(with_label: bool, scale: f32) -> String {
    let rows = toolbox_rows();
    let mut s = String::new();
    for (i, label) in TOOLBOX_LABELS.iter().take(3).enumerate() {
        let mut cells: Vec<String> = Vec::new();
        if with_label {
            cells.push(label.to_string());
        }
        cells.extend(rows.row(i).iter().map(|&v| {
            if scale > 1.0 {
                format!("{}", (v * scale).round())
            } else {
                format!("{v}")
            }
        }));
        s.push_str(&cells.join(","));
        s.push('\n');
    }
    s
}

#[test]
fn csv_kaggle_layout_with_header_0_255() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("train.csv");
    let header: Vec<String> = std::iter::once("label".to_string())
        .chain((0..784).map(|k| format!("pixel{k}")))
        .collect();
    std::fs::write(&path, format!("{}\n{}", header.join(","), csv_rows(true, 255.0))).unwrap();
    let ds = load_dataset(&path, None).unwrap();
    assert_eq!(ds.len(), 3);
    assert_toolbox_digits(&ds, 3);
    assert_eq!(ds.labels.as_deref(), Some(&TOOLBOX_LABELS[..3]));
    assert!(ds.source.contains("values 0-255"), "{}", ds.source);
}

#[test]
fn csv_without_header_and_without_labels_0_1() {
    let dir = tempfile::tempdir().unwrap();
    let labelled = dir.path().join("mnist_test.csv");
    std::fs::write(&labelled, csv_rows(true, 255.0)).unwrap();
    let ds = load_dataset(&labelled, None).unwrap();
    assert_eq!(ds.labels.as_deref(), Some(&TOOLBOX_LABELS[..3]));
    assert_toolbox_digits(&ds, 3);

    let pixels_only = dir.path().join("pixels.csv");
    std::fs::write(&pixels_only, csv_rows(false, 1.0)).unwrap();
    let ds = load_dataset(&pixels_only, None).unwrap();
    assert!(ds.labels.is_none());
    assert_toolbox_digits(&ds, 3);
    assert!(ds.source.contains("values 0-1"), "{}", ds.source);

    // gzip, and a Fashion file name gives class names.
    let gz = dir.path().join("fashion-mnist_test.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, csv_rows(true, 255.0).as_bytes()).unwrap();
    enc.finish().unwrap();
    let ds = load_dataset(&gz, None).unwrap();
    assert_eq!(ds.len(), 3);
    assert_eq!(ds.class_name(7), "Sneaker");
}

// ---------- NPY / NPZ ----------

fn write_npy<A: WriteNpyExt>(path: &Path, a: &A) {
    a.write_npy(std::fs::File::create(path).unwrap()).unwrap();
}

#[test]
fn npy_every_image_shape_and_dtype() {
    let dir = tempfile::tempdir().unwrap();
    let rows = toolbox_rows();
    let bytes = Array2::from_shape_vec((8, 784), toolbox_bytes(8)).unwrap();
    type Writer<'a> = Box<dyn Fn(&Path) + 'a>;
    let cases: Vec<(&str, Writer)> = vec![
        ("u8_flat.npy", Box::new(|p| write_npy(p, &bytes))),
        (
            "u8_nhw.npy",
            Box::new(|p| write_npy(p, &bytes.clone().into_shape_with_order((8, 28, 28)).unwrap())),
        ),
        (
            "f32_nchw.npy",
            Box::new(|p| write_npy(p, &rows.clone().into_shape_with_order((8, 1, 28, 28)).unwrap())),
        ),
        (
            "f64_nhwc_255.npy",
            Box::new(|p| {
                let a: Array4<f64> = bytes.mapv(f64::from).into_shape_with_order((8, 28, 28, 1)).unwrap();
                write_npy(p, &a)
            }),
        ),
    ];
    for (name, write) in cases {
        let path = dir.path().join(name);
        write(&path);
        let ds = load_dataset(&path, None).unwrap();
        assert_eq!(ds.len(), 8, "{name}");
        assert_toolbox_digits(&ds, 8);
        assert_eq!(
            ds.source.contains("scaled"),
            name.ends_with("_255.npy"),
            "{}",
            ds.source
        );
    }
}

#[test]
fn npy_sibling_labels() {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("digits.npy");
    write_npy(&images, &toolbox_rows());
    write_npy(
        &dir.path().join("digits_labels.npy"),
        &Array1::from(TOOLBOX_LABELS.map(i64::from).to_vec()),
    );
    let ds = load_dataset(&images, None).unwrap();
    assert_eq!(ds.labels.as_deref(), Some(&TOOLBOX_LABELS[..]));
    // x_test.npy ↔ y_test.npy, labels one-hot float.
    let x = dir.path().join("x_test.npy");
    write_npy(&x, &toolbox_rows());
    let mut onehot = Array2::<f32>::zeros((8, 10));
    for (i, &l) in TOOLBOX_LABELS.iter().enumerate() {
        onehot[[i, l as usize]] = 1.0;
    }
    write_npy(&dir.path().join("y_test.npy"), &onehot);
    assert_eq!(
        load_dataset(&x, None).unwrap().labels.as_deref(),
        Some(&TOOLBOX_LABELS[..])
    );
}

#[test]
fn npz_keras_layout_picks_test_by_default_and_train_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mnist.npz");
    let digits: Array3<u8> = Array2::from_shape_vec((8, 784), toolbox_bytes(8))
        .unwrap()
        .into_shape_with_order((8, 28, 28))
        .unwrap();
    let mut npz = NpzWriter::new(std::fs::File::create(&path).unwrap());
    npz.add_array("x_train", &digits.slice(ndarray::s![..5, .., ..]).to_owned())
        .unwrap();
    npz.add_array("y_train", &Array1::from(TOOLBOX_LABELS[..5].to_vec()))
        .unwrap();
    npz.add_array("x_test", &digits.slice(ndarray::s![5.., .., ..]).to_owned())
        .unwrap();
    npz.add_array("y_test", &Array1::from(TOOLBOX_LABELS[5..].to_vec()))
        .unwrap();
    npz.finish().unwrap();

    let test = load_dataset(&path, None).unwrap();
    assert_eq!(test.len(), 3);
    assert_eq!(test.labels.as_deref(), Some(&TOOLBOX_LABELS[5..]));
    assert_eq!(max_diff(test.image(0), toolbox_rows().row(5).as_slice().unwrap()), 0.0);
    assert!(test.source.contains("x_test"), "{}", test.source);

    let train = load_dataset(Path::new(&format!("{}:train", path.display())), None).unwrap();
    assert_eq!(train.len(), 5);
    assert_eq!(train.labels.as_deref(), Some(&TOOLBOX_LABELS[..5]));
    assert_toolbox_digits(&train, 5);

    let by_key = load_dataset(Path::new(&format!("{}:x_train", path.display())), None).unwrap();
    assert_eq!(by_key.labels, train.labels);
    assert_eq!(
        load_labels(Path::new(&format!("{}:train", path.display())))
            .unwrap()
            .len(),
        5
    );
}

#[test]
fn npz_compressed_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("packed.npz");
    let mut npz = NpzWriter::new_with_options(
        std::fs::File::create(&path).unwrap(),
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated),
    );
    npz.add_array("images", &toolbox_rows()).unwrap();
    npz.add_array("labels", &Array1::from(TOOLBOX_LABELS.to_vec())).unwrap();
    npz.finish().unwrap();
    let ds = load_dataset(&path, None).unwrap();
    assert_toolbox_digits(&ds, 8);
    assert_eq!(ds.labels.as_deref(), Some(&TOOLBOX_LABELS[..]));
}

// ---------- pictures ----------

/// A dark "1"-like bar on a light 60×100 background (RGB), off-centre.
fn bar_picture() -> ::image::RgbImage {
    ::image::RgbImage::from_fn(60, 100, |x, y| {
        if (10..20).contains(&x) && (20..80).contains(&y) {
            ::image::Rgb([10, 10, 10])
        } else {
            ::image::Rgb([240, 240, 240])
        }
    })
}

fn centre_of_mass(img: &[f32]) -> (f32, f32) {
    let (mut m, mut cx, mut cy) = (0.0, 0.0, 0.0);
    for (k, &v) in img.iter().enumerate() {
        m += v;
        cx += v * (k % 28) as f32;
        cy += v * (k / 28) as f32;
    }
    (cx / m, cy / m)
}

fn ink_box(img: &[f32]) -> (usize, usize) {
    let on: Vec<usize> = (0..784).filter(|&k| img[k] > 0.1).collect();
    let xs = on.iter().map(|k| k % 28);
    let ys = on.iter().map(|k| k / 28);
    (
        xs.clone().max().unwrap() - xs.min().unwrap() + 1,
        ys.clone().max().unwrap() - ys.min().unwrap() + 1,
    )
}

#[test]
fn picture_is_inverted_fitted_and_centred() {
    let dir = tempfile::tempdir().unwrap();
    for ext in ["png", "bmp", "jpg"] {
        let path = dir.path().join(format!("1_bar.{ext}"));
        bar_picture().save(&path).unwrap();
        let ds = load_dataset(&path, None).unwrap();
        assert_eq!((ds.len(), ds.height, ds.width), (1, 28, 28));
        assert_eq!(ds.label(0), Some(1), "label from the file name");
        let img = ds.image(0);
        assert_eq!(img[0], 0.0, "{ext}: background becomes 0");
        let peak = img.iter().copied().fold(0.0, f32::max);
        assert!(peak > 0.95, "{ext}: ink becomes ~1, got {peak}");
        let (w, h) = ink_box(img);
        assert_eq!(h, 20, "{ext}: the 60-pixel-tall bar is fitted to 20 rows");
        assert!((3..=5).contains(&w), "{ext}: 10 wide → ~3.3 columns, got {w}");
        let (cx, cy) = centre_of_mass(img);
        assert!(
            (cx - 14.0).abs() <= 0.5 && (cy - 14.0).abs() <= 0.5,
            "{ext}: centre of mass {cx},{cy}"
        );
    }
}

#[test]
fn mnist_style_keeps_an_mnist_digit_nearly_unchanged() {
    let rows = toolbox_rows();
    for i in 0..8 {
        let digit = rows.row(i);
        // As a picture: white background, dark ink, 4× larger (nearest-neighbour).
        let big: Vec<f32> = (0..112 * 112)
            .map(|k| 1.0 - digit[(k / 112 / 4) * 28 + (k % 112) / 4])
            .collect();
        let out = mnist_style(&big, 112, 112);
        let (dot, na, nb) = out
            .iter()
            .zip(digit.iter())
            .fold((0.0, 0.0, 0.0), |(d, a, b), (&x, &y)| (d + x * y, a + x * x, b + y * y));
        let cosine = dot / (na * nb).sqrt();
        println!("digit {i}: cosine similarity {cosine}");
        assert!(cosine > 0.999, "digit {i}: cosine similarity {cosine}");
        let (cx, cy) = centre_of_mass(&out);
        assert!(
            (cx - 14.0).abs() <= 0.5 && (cy - 14.0).abs() <= 0.5,
            "digit {i}: {cx},{cy}"
        );
    }
    assert_eq!(mnist_style(&[1.0; 100], 10, 10), vec![0.0; 784], "blank picture");
    assert_eq!(mnist_style(&[0.0; 3], 10, 10), vec![0.0; 784], "size mismatch");
}

#[test]
fn picture_folder_sorted_with_folder_labels() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("3")).unwrap();
    bar_picture().save(dir.path().join("3/zz.png")).unwrap();
    bar_picture().save(dir.path().join("7_a.png")).unwrap();
    bar_picture().save(dir.path().join("2_b.bmp")).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
    let ds = load_dataset(dir.path(), None).unwrap();
    assert_eq!(ds.len(), 3);
    // Sorted by path: 2_b.bmp, 3/zz.png, 7_a.png.
    assert_eq!(ds.labels, Some(vec![2, 3, 7]));
    bar_picture().save(dir.path().join("nolabel.png")).unwrap();
    let ds = load_dataset(dir.path(), None).unwrap();
    assert_eq!(ds.len(), 4);
    assert!(ds.labels.is_none(), "one picture without a label: no labels");
}

// ---------- dataset helpers ----------

#[test]
fn subset_and_counts() {
    let ds = Dataset {
        images: (0..5 * 4).map(|v| v as f32 / 20.0).collect(),
        height: 2,
        width: 2,
        labels: Some(vec![3, 1, 3, 0, 3]),
        class_names: None,
        source: "t".into(),
    };
    assert_eq!(ds.label_counts(), Some(vec![1, 1, 0, 3]));
    let sub = ds.subset(1..3);
    assert_eq!(sub.len(), 2);
    assert_eq!(sub.image(0), &[0.2, 0.25, 0.3, 0.35]);
    assert_eq!(sub.labels, Some(vec![1, 3]));
    assert_eq!(ds.subset(4..99).len(), 1, "clamped");
    assert_eq!(ds.subset(9..12).len(), 0);
    assert_eq!(summary(&sub), "samples: 2\nshape: 2x2\nlabels: 0:0 1:1 2:0 3:1\n");
    let unlabelled = Dataset { labels: None, ..sub };
    assert_eq!(summary(&unlabelled), "samples: 2\nshape: 2x2\nlabels: none\n");
}

// ---------- bad files ----------

/// Each bad file, the labels file to pass (if any), and a piece of the expected message.
const BAD: [(&str, Option<&str>, &str); 27] = [
    ("wrong_magic-images-idx3-ubyte", None, "wrong magic number"),
    ("huge-images-idx3-ubyte", None, "more than this reader accepts"),
    ("short-images-idx3-ubyte", None, "truncated"),
    ("trunc-images-idx3-ubyte.gz", None, "truncated"),
    ("bomb-images-idx3-ubyte.gz", None, "more data than the header"),
    ("count-images-idx3-ubyte", None, "2 labels for 3 images"),
    ("garbage-images-idx3-ubyte.gz", None, "corrupt"),
    ("text.csv", None, "line 3, column 4: \"abc\" is not a number"),
    ("ragged.csv", None, "line 2: 4 columns, expected 5"),
    ("range.csv", None, "line 1, column 3: pixel value 300 is outside 0-255"),
    ("columns.csv", None, "3 columns"),
    ("truncated.npy", None, "truncated"),
    ("huge.npy", None, "larger than accepted"),
    ("complex.npy", None, "unsupported element type"),
    ("notimages.npy", None, "is not images"),
    ("normalised.npy", None, "normalised"),
    ("count_images.npy", None, "2 labels for 3 images"),
    ("onehot_images.npy", None, "not one-hot"),
    ("corrupt.npz", None, "not a valid .npz"),
    ("nosplit.npz:val", None, "no array \"x_val\""),
    ("truncated.mat", None, "truncated"),
    ("notmat.mat", None, "not a MATLAB"),
    ("v73.mat", None, "v7.3"),
    ("corrupt.png", None, "cannot decode"),
    (
        "count-images-idx3-ubyte",
        Some("count_labels.npy"),
        "2 labels for 3 images",
    ),
    ("count_images.npy", Some("text.csv"), "not a label"),
    ("missing.npy", None, "No such file"),
];

#[test]
fn every_bad_file_gives_one_clear_error() {
    let dir = common::fixtures().join("bad_data");
    for (name, labels, expected) in BAD {
        let path = dir.join(name);
        let labels = labels.map(|l| dir.join(l));
        let err = match load_dataset(&path, labels.as_deref()) {
            Ok(ds) => panic!("{name}: loaded {} images instead of failing", ds.len()),
            Err(e) => e.to_string(),
        };
        assert!(err.contains(expected), "{name}: {err:?} lacks {expected:?}");
        let file = name.split(':').next().unwrap();
        let labels_name = labels
            .as_ref()
            .map(|l| l.file_name().unwrap().to_string_lossy().into_owned());
        let named = err.contains(file)
            || labels_name.is_some_and(|l| err.contains(&l))
            || err.contains("_labels.npy")
            || err.contains("-labels-idx1-ubyte");
        assert!(named, "{name}: the message does not name the file: {err}");
    }
}

#[test]
fn every_bad_file_in_the_corpus_is_listed() {
    let listed: Vec<&str> = BAD
        .iter()
        .flat_map(|(n, l, _)| [n.split(':').next().unwrap()].into_iter().chain(*l))
        .collect();
    for entry in std::fs::read_dir(common::fixtures().join("bad_data")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let used = listed.contains(&name.as_str()) || name.ends_with("labels-idx1-ubyte") || name.contains("_labels");
        assert!(used, "{name} has no test");
    }
}

/// The bundled splits are mixed (finding: the first 200 test samples used to be all zeros): every run of ten
/// samples holds every digit, with the labels still aligned (200 per class in test) and the images unchanged as a
/// set.
#[test]
fn the_bundled_samples_show_every_digit_from_the_first_screen() {
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    for (split, n, per_class) in [("test", 2000, Some(200)), ("train", 8000, None)] {
        let ds = load_dataset(&assets.join(format!("{split}-images-idx3-ubyte.gz")), None).unwrap();
        let labels = ds.labels.clone().expect("labels found next to the images");
        assert_eq!((ds.len(), labels.len()), (n, n), "{split}");
        for (start, round) in labels.chunks(10).enumerate().take(150) {
            let mut seen = round.to_vec();
            seen.sort_unstable();
            assert_eq!(
                seen,
                (0..10).collect::<Vec<u8>>(),
                "{split}: samples {}..{}",
                start * 10,
                start * 10 + 10
            );
        }
        if let Some(per_class) = per_class {
            for c in 0..10u8 {
                assert_eq!(
                    labels.iter().filter(|&&l| l == c).count(),
                    per_class,
                    "{split}: class {c}"
                );
            }
        }
    }
}
