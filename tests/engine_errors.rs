//! The kernels, layers and rules report arrays that do not fit them as typed errors — never a panic, never a map
//! of zeros — and accept views that are not laid out row-major (transposed or sliced) with the same numbers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use lrp_explorer::error::{LrpError, ModelError};
use lrp_explorer::lrp::{LayerRule, Rule, layer_gradient, layer_relevance};
use lrp_explorer::ops::{Affine, ConvGeometry, max_pool_backward, max_pool_forward};
use ndarray::{Array2, ArrayD, Axis, IxDyn, s};

fn close(a: &ArrayD<f32>, b: &ArrayD<f32>) -> bool {
    a.shape() == b.shape() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 1e-5 * (1.0 + y.abs()))
}

/// A transposed weight matrix and a sliced batch give the numbers of their row-major copies, on the
/// matrix–vector path (≤ 4 samples) and the matrix–matrix path (more).
#[test]
fn non_contiguous_views_give_the_numbers_of_their_copies() {
    let stored = Array2::from_shape_fn((6, 3), |(i, j)| (i as f32 - 2.5) * 0.3 + j as f32 * 0.7); // [K, out]
    let w = stored.t(); // [out, K], column-major
    assert!(w.as_slice().is_none());
    let w_copy = w.as_standard_layout().into_owned();
    for n in [2, 9] {
        let wide = ArrayD::from_shape_fn(IxDyn(&[n, 12]), |d| ((d[0] * 12 + d[1]) % 7) as f32 - 3.0);
        let x = wide.slice(s![.., 3..9]).to_owned().into_dyn(); // a copy, as the reference input
        // Columns 3..9 of each row, still in the wide buffer: not row-major.
        let view = wide.clone().slice_move(s![.., 3..9]).into_dyn();
        assert!(view.as_slice().is_none());
        let got = Affine::Dense.forward(&view, w, None).unwrap();
        let want = Affine::Dense.forward(&x, w_copy.view(), None).unwrap();
        assert!(close(&got, &want), "{n} samples: forward");
        let r = ArrayD::from_shape_fn(IxDyn(&[n, 3]), |d| d[0] as f32 - d[1] as f32);
        let got = Affine::Dense.transpose(&r, w, &[n, 6]).unwrap();
        let want = Affine::Dense.transpose(&r, w_copy.view(), &[n, 6]).unwrap();
        assert!(close(&got, &want), "{n} samples: transpose");
        // The definition, by hand, for one value.
        let z = Affine::Dense.forward(&x, w, None).unwrap();
        let by_hand: f32 = (0..6).map(|p| x[[1, p]] * stored[[p, 2]]).sum();
        assert!((z[[1, 2]] - by_hand).abs() < 1e-4, "{} vs {by_hand}", z[[1, 2]]);
    }
}

#[test]
fn a_batch_that_does_not_fit_a_dense_layer_is_a_shape_error() {
    let w = Array2::<f32>::ones((2, 4));
    let x = ArrayD::<f32>::ones(IxDyn(&[3, 7]));
    let e = Affine::Dense.forward(&x, w.view(), None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "dense forward: expected an array shaped [N, 4], got [3, 7]"
    );
    let scalar = ArrayD::<f32>::ones(IxDyn(&[]));
    assert!(Affine::Dense.forward(&scalar, w.view(), None).is_err());
    let bias = ndarray::Array1::<f32>::ones(3);
    let e = Affine::Dense
        .forward(&ArrayD::ones(IxDyn(&[1, 4])), w.view(), Some(&bias))
        .unwrap_err();
    assert!(e.to_string().contains("a bias of [2]"), "{e}");
    let e = Affine::Dense.transpose(&x, w.view(), &[3, 4]).unwrap_err();
    assert!(e.to_string().starts_with("dense transpose"), "{e}");
}

#[test]
fn convolutions_and_pooling_refuse_arrays_of_another_geometry() {
    let g = ConvGeometry::new(2, 6, 6, [3, 3], [1, 1], [0; 4]).unwrap();
    let w = Array2::<f32>::ones((4, g.patch_len()));
    let one_channel = ArrayD::<f32>::ones(IxDyn(&[1, 1, 6, 6]));
    let e = Affine::Conv(g).forward(&one_channel, w.view(), None).unwrap_err();
    assert!(e.to_string().contains("[N, 2, 6, 6]"), "{e}");
    let narrow = Array2::<f32>::ones((4, 5));
    let e = Affine::Conv(g)
        .forward(&ArrayD::ones(IxDyn(&[1, 2, 6, 6])), narrow.view(), None)
        .unwrap_err();
    assert!(e.to_string().contains("weights [O, 18]"), "{e}");
    let pool = ConvGeometry::new(1, 4, 4, [2, 2], [2, 2], [0; 4]).unwrap();
    let x = ArrayD::<f32>::ones(IxDyn(&[2, 3, 4, 4]));
    assert_eq!(max_pool_forward(&x, &pool).unwrap().shape(), &[2, 3, 2, 2]);
    assert!(max_pool_forward(&ArrayD::ones(IxDyn(&[2, 3, 5, 4])), &pool).is_err());
    let wrong_r = ArrayD::<f32>::ones(IxDyn(&[2, 2, 2, 2]));
    let e = max_pool_backward(&x, &wrong_r, &pool, lrp_explorer::ops::PoolTies::First).unwrap_err();
    assert!(e.to_string().contains("[2, 3, 2, 2]"), "{e}");
}

/// Through the layers of a real model: a relevance or a gradient shaped for another layer is an error naming
/// the layer, where it used to become a map of zeros.
#[test]
fn a_relevance_of_the_wrong_shape_names_the_layer() {
    let model = common::npz_model("cnn");
    let x = common::inputs("cnn").slice_axis(Axis(0), (0..2).into()).to_owned();
    let acts = model.forward(&x).unwrap();
    let last = model.layers().len() - 1;
    let rule = LayerRule::new(Rule::Epsilon { epsilon: 0.25 });
    let good = layer_relevance(&model, last, &acts[last], &acts[last + 1], &acts[last + 1], &rule).unwrap();
    assert_eq!(good.shape(), acts[last].shape());
    let wrong = ArrayD::<f32>::ones(IxDyn(&[2, 3]));
    for result in [
        layer_relevance(&model, last, &acts[last], &acts[last + 1], &wrong, &rule),
        layer_gradient(&model, last, &acts[last], &wrong),
    ] {
        match result {
            Err(LrpError::Model(ModelError::Shape { index, source })) => {
                assert_eq!(index, last);
                assert!(source.got.contains(&3), "{source}");
            }
            other => panic!("expected a shape error of layer {last}, got {other:?}"),
        }
    }
    // Every kind of layer of the CNN (convolution, pooling, flatten, ReLU) refuses an input of the wrong size.
    for k in 0..model.layers().len() {
        let odd = ArrayD::<f32>::ones(IxDyn(&[1, 5]));
        match model.layer_forward(k, &odd) {
            Err(ModelError::Shape { index, .. }) => assert_eq!(index, k),
            Ok(out) if matches!(model.layers()[k], lrp_explorer::model::Layer::Relu) => {
                assert_eq!(out.shape(), &[1, 5]);
            }
            other => panic!("layer {k}: {other:?}"),
        }
    }
}
