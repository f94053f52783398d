//! Speed of everything around the engine: reading the digit files and encoding heatmap PNGs.
//!
//! `cargo bench --bench io`. The 10,000-digit MATLAB file is the LRP Toolbox's test set, read from
//! `../shared/lrp-toolbox/` when it is there (it is not part of this repository); the IDX files are the
//! bundled ones (2,000 + 8,000 digits).

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lrp_explorer::data::load_dataset;
use lrp_explorer::heatmap::{Colormap, export::png_bytes, relevance_image, side_by_side, upscale_nearest};

/// The same allocator as the `lrp-explorer` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn reading(c: &mut Criterion) {
    let mut group = c.benchmark_group("read");
    group.sample_size(10);
    for (name, path) in [
        ("idx_test_2000", root().join("assets/test-images-idx3-ubyte.gz")),
        ("idx_train_8000", root().join("assets/train-images-idx3-ubyte.gz")),
        (
            "mat_toolbox_10000",
            root().join("../shared/lrp-toolbox/test_images.mat"),
        ),
    ] {
        if !path.exists() {
            eprintln!("read/{name}: {} not found, skipped", path.display());
            continue;
        }
        let n = load_dataset(&path, None).map(|d| d.len()).unwrap_or(0);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(name, |b| {
            b.iter(|| black_box(load_dataset(Path::new(&path), None).unwrap()))
        });
    }
    group.finish();
}

fn png(c: &mut Criterion) {
    // A digit-like relevance map: positive strokes, negative background speckles.
    let values: Vec<f32> = (0..784)
        .map(|i| {
            let (y, x) = ((i / 28) as f32 - 14.0, (i % 28) as f32 - 14.0);
            (-(y * y + x * x) / 40.0).exp() - 0.2 * ((i * 7919) % 13) as f32 / 13.0
        })
        .collect();
    let mut group = c.benchmark_group("png");
    for scale in [1u32, 10] {
        let heat = upscale_nearest(&relevance_image(&values, 28, 28, 1.0, Colormap::Bwr), scale);
        group.bench_function(format!("heatmap_x{scale}"), |b| {
            b.iter(|| black_box(png_bytes(Path::new("bench.png"), &heat).unwrap()))
        });
    }
    group.bench_function("render_and_encode_side_by_side_x10", |b| {
        b.iter(|| {
            let img = upscale_nearest(&relevance_image(&values, 28, 28, 1.0, Colormap::Bwr), 10);
            black_box(png_bytes(Path::new("bench.png"), &side_by_side(&[&img, &img], 4)).unwrap())
        })
    });
    group.finish();
}

criterion_group!(benches, reading, png);
criterion_main!(benches);
