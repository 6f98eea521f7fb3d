//! Hand-computed cases for every layer kind and loss, plus whole-spec runs.

use specc_lang::{CheckedModel, LayerKind};
use specc_reference::{
    Mode, Params, Targets, forward, forward_with_dropout, logits, loss, loss_with_dropout, numeric_gradients,
};
use std::collections::BTreeMap;

fn model(body: &str) -> CheckedModel {
    let text = format!("model T {{ {body} optimizer sgd(lr = 0.1); }}");
    match specc_lang::check_source(&text) {
        Ok(mut f) => f.models.remove(0),
        Err(e) => panic!("spec does not check: {e:?}\n{text}"),
    }
}

/// Names of the layers of one kind, in `all_layers` order.
fn names(m: &CheckedModel, kind: &str) -> Vec<String> {
    m.all_layers()
        .into_iter()
        .filter(|l| l.kind_name() == kind)
        .map(|l| l.name.clone())
        .collect()
}

fn set(p: &mut Params, name: &str, values: &[f64]) {
    let t = p.get_mut(name);
    assert_eq!(t.len(), values.len(), "length of {name}");
    t.copy_from_slice(values);
}

fn assert_close(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "got {got:?}, want {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!(
            (g - w).abs() <= 1e-9 * (1.0 + w.abs()),
            "got {got:?}, want {want:?}"
        );
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * (1.0 + b.abs())
}

#[test]
fn dense_with_bias_and_leaky_relu() {
    let m = model("input [2]; dense(2, activation = leaky_relu(alpha = 0.1)); loss mse;");
    let d = &names(&m, "dense")[0];
    let mut p = Params::zeros(&m);
    set(&mut p, &format!("{d}.weight"), &[1.0, 2.0, 3.0, 4.0]);
    set(&mut p, &format!("{d}.bias"), &[0.5, -1.0]);
    // sample 0: x = [1, -1] -> [1 - 2 + 0.5, 3 - 4 - 1] = [-0.5, -2] -> leaky
    // sample 1: x = [1, 1]  -> [3.5, 6]
    let y = forward(&m, &p, &[1.0, -1.0, 1.0, 1.0], 2, Mode::Inference);
    assert_close(&y, &[-0.05, -0.2, 3.5, 6.0]);
}

#[test]
fn dense_without_bias_relu_tanh_sigmoid() {
    let m = model("input [2]; dense(2, bias = false); relu; loss mse;");
    let d = &names(&m, "dense")[0];
    let mut p = Params::zeros(&m);
    assert!(!p.tensors.contains_key(&format!("{d}.bias")));
    set(&mut p, &format!("{d}.weight"), &[1.0, 0.0, 0.0, -1.0]);
    let y = forward(&m, &p, &[2.0, 3.0], 1, Mode::Inference);
    assert_close(&y, &[2.0, 0.0]);

    let m = model("input [3]; tanh; loss mse;");
    let p = Params::zeros(&m);
    let y = forward(&m, &p, &[0.0, 1.0, -2.0], 1, Mode::Inference);
    assert_close(&y, &[0.0, 1f64.tanh(), (-2f64).tanh()]);

    let m = model("input [3]; sigmoid; loss mse;");
    let y = forward(&m, &p, &[0.0, 2.0, -800.0], 1, Mode::Inference);
    assert_close(&y, &[0.5, 1.0 / (1.0 + (-2f64).exp()), 0.0]);
}

#[test]
fn softmax_layer() {
    let m = model("input [3]; softmax; loss mse;");
    let p = Params::zeros(&m);
    let y = forward(
        &m,
        &p,
        &[0.0, 0.0, 0.0, 1000.0, 1000.0, 1000.0 + 2f64.ln()],
        2,
        Mode::Inference,
    );
    assert_close(&y, &[1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0, 0.25, 0.25, 0.5]);
}

#[test]
fn conv_valid_known_weights() {
    let m = model("input [1, 3, 3]; conv2d(1, kernel = 2); loss mse;");
    let c = &names(&m, "conv2d")[0];
    assert_eq!(m.output.dims(), &[1, 2, 2]);
    let mut p = Params::zeros(&m);
    set(&mut p, &format!("{c}.weight"), &[1.0, 0.0, 0.0, -1.0]);
    set(&mut p, &format!("{c}.bias"), &[0.25]);
    let x: Vec<f64> = (1..=9).map(f64::from).collect();
    // in[y][x] - in[y+1][x+1] = -4 everywhere
    let y = forward(&m, &p, &x, 1, Mode::Inference);
    assert_close(&y, &[-3.75; 4]);
}

#[test]
fn conv_same_padding_stride_2() {
    let m = model("input [1, 3, 3]; conv2d(1, kernel = 3, stride = 2, padding = same); loss mse;");
    let layer = &m.layers[0];
    let LayerKind::Conv2d(conv) = &layer.kind else {
        panic!()
    };
    assert_eq!(conv.padding, [1, 1, 1, 1]);
    assert_eq!(m.output.dims(), &[1, 2, 2]);
    let mut p = Params::zeros(&m);
    let w: Vec<f64> = (1..=9).map(f64::from).collect();
    set(&mut p, &format!("{}.weight", layer.name), &w);
    set(&mut p, &format!("{}.bias", layer.name), &[0.5]);
    let x: Vec<f64> = (1..=9).map(f64::from).collect();
    // out[0][0] = 5*1 + 6*2 + 8*4 + 9*5 = 94
    // out[0][1] = 4*2 + 5*3 + 7*5 + 8*6 = 106
    // out[1][0] = 2*4 + 3*5 + 5*7 + 6*8 = 106
    // out[1][1] = 1*5 + 2*6 + 4*8 + 5*9 = 94
    let y = forward(&m, &p, &x, 1, Mode::Inference);
    assert_close(&y, &[94.5, 106.5, 106.5, 94.5]);
}

#[test]
fn conv_same_asymmetric_padding() {
    // 4 wide, kernel 3, stride 2: out 2, total padding 1, all of it after.
    let m = model("input [1, 4, 4]; conv2d(1, kernel = 3, stride = 2, padding = same); loss mse;");
    let layer = &m.layers[0];
    let LayerKind::Conv2d(conv) = &layer.kind else {
        panic!()
    };
    assert_eq!(conv.padding, [0, 1, 0, 1]);
    let mut p = Params::zeros(&m);
    set(&mut p, &format!("{}.weight", layer.name), &[1.0; 9]);
    let x: Vec<f64> = (1..=16).map(f64::from).collect();
    // windows: rows 0..3 / cols 0..3; rows 0..3 / cols 2..4 (+pad); ...
    let y = forward(&m, &p, &x, 1, Mode::Inference);
    let sum = |rows: &[usize], cols: &[usize]| -> f64 {
        let mut s = 0.0;
        for &r in rows {
            for &c in cols {
                s += x[r * 4 + c];
            }
        }
        s
    };
    assert_close(
        &y,
        &[
            sum(&[0, 1, 2], &[0, 1, 2]),
            sum(&[0, 1, 2], &[2, 3]),
            sum(&[2, 3], &[0, 1, 2]),
            sum(&[2, 3], &[2, 3]),
        ],
    );
}

#[test]
fn conv_multi_channel_and_filter() {
    let m = model("input [2, 1, 2]; conv2d(2, kernel = 1, bias = false); loss mse;");
    let c = &names(&m, "conv2d")[0];
    let mut p = Params::zeros(&m);
    // filter 0 = 2 a + 3 b, filter 1 = a - b
    set(&mut p, &format!("{c}.weight"), &[2.0, 3.0, 1.0, -1.0]);
    // a = [1, 2], b = [10, 20]
    let y = forward(&m, &p, &[1.0, 2.0, 10.0, 20.0], 1, Mode::Inference);
    assert_close(&y, &[32.0, 64.0, -9.0, -18.0]);
}

#[test]
fn pools() {
    let x: Vec<f64> = (1..=16).map(f64::from).collect();
    let m = model("input [1, 4, 4]; maxpool2d(2); loss mse;");
    let p = Params::zeros(&m);
    assert_close(&forward(&m, &p, &x, 1, Mode::Inference), &[6.0, 8.0, 14.0, 16.0]);

    let m = model("input [1, 4, 4]; avgpool2d(2); loss mse;");
    assert_close(&forward(&m, &p, &x, 1, Mode::Inference), &[3.5, 5.5, 11.5, 13.5]);

    let m = model("input [1, 3, 3]; maxpool2d(2, stride = 1); loss mse;");
    let x3: Vec<f64> = (1..=9).map(f64::from).collect();
    assert_close(&forward(&m, &p, &x3, 1, Mode::Inference), &[5.0, 6.0, 8.0, 9.0]);

    // 5x5 with pool 2: the last row and column are dropped.
    let m = model("input [1, 5, 5]; maxpool2d(2); loss mse;");
    let x5: Vec<f64> = (1..=25).map(f64::from).collect();
    assert_close(&forward(&m, &p, &x5, 1, Mode::Inference), &[7.0, 9.0, 17.0, 19.0]);

    // Negative values: max is not clamped at zero.
    let m = model("input [1, 2, 2]; maxpool2d(2); loss mse;");
    let neg = [-4.0, -3.0, -2.0, -5.0, 1.0, 1.0, 1.0, 1.0];
    assert_close(&forward(&m, &p, &neg, 2, Mode::Inference), &[-2.0, 1.0]);
}

#[test]
fn global_avgpool_and_flatten() {
    let m = model("input [2, 2, 2]; global_avgpool; loss mse;");
    let p = Params::zeros(&m);
    let x: Vec<f64> = (1..=8).map(f64::from).collect();
    assert_close(&forward(&m, &p, &x, 1, Mode::Inference), &[2.5, 6.5]);

    let m = model("input [2, 1, 2]; flatten; loss mse;");
    assert_eq!(m.output.dims(), &[4]);
    assert_close(
        &forward(&m, &p, &[1.0, 2.0, 3.0, 4.0], 1, Mode::Inference),
        &[1.0, 2.0, 3.0, 4.0],
    );
}

#[test]
fn dropout_identity_and_masks() {
    let m = model("input [2]; dropout(0.5); loss mse;");
    let p = Params::zeros(&m);
    let x = [1.0, 2.0, 3.0, 4.0];
    assert_close(&forward(&m, &p, &x, 2, Mode::Inference), &x);
    assert_close(&forward(&m, &p, &x, 2, Mode::Training), &x);
    let name = names(&m, "dropout")[0].clone();
    let masks = BTreeMap::from([(name, vec![1.0, 0.0, 0.0, 1.0])]);
    assert_close(
        &forward_with_dropout(&m, &p, &x, 2, &masks),
        &[2.0, 0.0, 0.0, 8.0],
    );
    // mse against zero targets: (4 + 64) / 4
    let l = loss_with_dropout(&m, &p, &x, 2, Targets::Values(&[0.0; 4]), &masks);
    assert!(close(l, 17.0));
}

#[test]
fn batchnorm_vector_inference_and_training() {
    let m = model("input [2]; batchnorm; loss mse;");
    let b = &names(&m, "batchnorm")[0];
    let eps = 1e-3;
    let mut p = Params::zeros(&m);
    set(&mut p, &format!("{b}.gamma"), &[2.0, 1.0]);
    set(&mut p, &format!("{b}.beta"), &[0.5, 0.0]);
    set(&mut p, &format!("{b}.running_mean"), &[1.0, 2.0]);
    set(&mut p, &format!("{b}.running_var"), &[4.0, 0.25]);
    let x = [1.0, 2.0, 3.0, 6.0];

    let y = forward(&m, &p, &x, 2, Mode::Inference);
    let s0 = (4.0f64 + eps).sqrt();
    let s1 = (0.25f64 + eps).sqrt();
    assert_close(
        &y,
        &[0.0 / s0 * 2.0 + 0.5, 0.0 / s1, 2.0 / s0 * 2.0 + 0.5, 4.0 / s1],
    );

    // Batch statistics: feature 0 mean 2, biased var 1; feature 1 mean 4, var 4.
    let y = forward(&m, &p, &x, 2, Mode::Training);
    let s0 = (1.0f64 + eps).sqrt();
    let s1 = (4.0f64 + eps).sqrt();
    assert_close(
        &y,
        &[-1.0 / s0 * 2.0 + 0.5, -2.0 / s1, 1.0 / s0 * 2.0 + 0.5, 2.0 / s1],
    );
}

#[test]
fn batchnorm_image_training_pools_over_batch_and_space() {
    let m = model("input [2, 1, 2]; batchnorm(eps = 0.01); loss mse;");
    let b = &names(&m, "batchnorm")[0];
    let mut p = Params::zeros(&m);
    set(&mut p, &format!("{b}.gamma"), &[1.0, 3.0]);
    set(&mut p, &format!("{b}.beta"), &[0.0, 1.0]);
    // channel 0: values 0, 2 (sample 0) and 4, 6 (sample 1): mean 3, var 5
    // channel 1: 1, 1, 1, 1: mean 1, var 0
    let x = [0.0, 2.0, 1.0, 1.0, 4.0, 6.0, 1.0, 1.0];
    let y = forward(&m, &p, &x, 2, Mode::Training);
    let s = (5.0f64 + 0.01).sqrt();
    assert_close(&y, &[-3.0 / s, -1.0 / s, 1.0, 1.0, 1.0 / s, 3.0 / s, 1.0, 1.0]);
}

#[test]
fn residual_identity_shortcut() {
    let m = model("input [2]; residual { dense(2, activation = relu); } loss mse;");
    let d = &names(&m, "dense")[0];
    let mut p = Params::zeros(&m);
    set(&mut p, &format!("{d}.weight"), &[2.0, 0.0, 0.0, 2.0]);
    set(&mut p, &format!("{d}.bias"), &[0.0, 1.0]);
    // relu(2x + b) + x; no activation after the add
    let y = forward(&m, &p, &[1.0, -3.0], 1, Mode::Inference);
    assert_close(&y, &[3.0, -3.0]);
}

#[test]
fn residual_conv_shortcut() {
    let m = model(
        "input [1, 2, 2]; residual(shortcut = conv2d(1, kernel = 1)) { conv2d(1, kernel = 1); } loss mse;",
    );
    let LayerKind::Residual { body, shortcut } = &m.layers[0].kind else {
        panic!()
    };
    let body_name = body[0].name.clone();
    let short_name = shortcut.as_ref().unwrap().name.clone();
    assert_ne!(body_name, short_name);
    let mut p = Params::zeros(&m);
    set(&mut p, &format!("{body_name}.weight"), &[2.0]);
    set(&mut p, &format!("{body_name}.bias"), &[1.0]);
    set(&mut p, &format!("{short_name}.weight"), &[3.0]);
    set(&mut p, &format!("{short_name}.bias"), &[-0.5]);
    let y = forward(&m, &p, &[1.0, 2.0, 3.0, 4.0], 1, Mode::Inference);
    // 5x + 0.5
    assert_close(&y, &[5.5, 10.5, 15.5, 20.5]);
}

#[test]
fn residual_strided_conv_shortcut() {
    let m = model(
        "input [1, 2, 2]; residual(shortcut = conv2d(1, kernel = 1, stride = 2)) { conv2d(1, kernel = 2); } loss mse;",
    );
    assert_eq!(m.output.dims(), &[1, 1, 1]);
    let LayerKind::Residual { body, shortcut } = &m.layers[0].kind else {
        panic!()
    };
    let mut p = Params::zeros(&m);
    set(&mut p, &format!("{}.weight", body[0].name), &[1.0, 1.0, 1.0, 1.0]);
    set(
        &mut p,
        &format!("{}.weight", shortcut.as_ref().unwrap().name),
        &[10.0],
    );
    // body: 1 + 2 + 3 + 4 = 10; shortcut: 10 * x[0][0] = 10
    let y = forward(&m, &p, &[1.0, 2.0, 3.0, 4.0], 1, Mode::Inference);
    assert_close(&y, &[20.0]);
}

/// A model whose logits are its input: `dense(2)` with the identity weight.
fn identity_model(head: &str, loss_text: &str) -> (CheckedModel, Params) {
    let m = model(&format!("input [2]; dense(2{head}); loss {loss_text};"));
    let d = &names(&m, "dense")[0];
    let mut p = Params::zeros(&m);
    set(&mut p, &format!("{d}.weight"), &[1.0, 0.0, 0.0, 1.0]);
    (m, p)
}

#[test]
fn regression_losses() {
    let x = [0.5, -3.0, 1.0, 2.0];
    let t = [0.0, 0.0, 1.0, 0.0];
    // d = [0.5, -3, 0, 2]
    let (m, p) = identity_model("", "mse");
    let l = loss(&m, &p, &x, 2, Targets::Values(&t), Mode::Inference);
    assert!(close(l, (0.25 + 9.0 + 0.0 + 4.0) / 4.0), "{l}");

    let (m, p) = identity_model("", "mae");
    let l = loss(&m, &p, &x, 2, Targets::Values(&t), Mode::Inference);
    assert!(close(l, (0.5 + 3.0 + 0.0 + 2.0) / 4.0), "{l}");

    let (m, p) = identity_model("", "huber(delta = 1.0)");
    let l = loss(&m, &p, &x, 2, Targets::Values(&t), Mode::Inference);
    assert!(close(l, (0.125 + 2.5 + 0.0 + 1.5) / 4.0), "{l}");

    let (m, p) = identity_model("", "huber(delta = 2.5)");
    let l = loss(&m, &p, &x, 2, Targets::Values(&t), Mode::Inference);
    assert!(close(l, (0.125 + 2.5 * 0.5 * 3.5 + 0.0 + 2.0) / 4.0), "{l}");

    // mse on a model ending in sigmoid: the sigmoid is not fused.
    let (m, p) = identity_model(", activation = sigmoid", "mse");
    assert_eq!(m.loss.fused_activation, None);
    let l = loss(
        &m,
        &p,
        &[0.0, 0.0],
        1,
        Targets::Values(&[0.0, 1.0]),
        Mode::Inference,
    );
    assert!(close(l, 0.25), "{l}");
}

#[test]
fn cross_entropy_fused_softmax_and_stability() {
    let (m, p) = identity_model(", activation = softmax", "cross_entropy");
    assert!(m.loss.fused_activation.is_some());
    let x = [0.0, 3f64.ln(), 1000.0, 0.0];
    // logits are the input; forward applies softmax
    assert_close(&logits(&m, &p, &x, 2, Mode::Inference), &x);
    let y = forward(&m, &p, &x, 2, Mode::Inference);
    assert_close(&y[..2], &[0.25, 0.75]);
    assert!(close(y[2], 1.0) && y[3] >= 0.0 && y[3] < 1e-300);
    // sample 0, class 1: -ln(3/4); sample 1, class 0: ~0
    let l = loss(&m, &p, &x, 2, Targets::Classes(&[1, 0]), Mode::Inference);
    assert!(close(l, -(0.75f64).ln() / 2.0), "{l}");
    // class 1 on sample 1: 1000 (finite, no overflow)
    let l = loss(&m, &p, &x, 2, Targets::Classes(&[1, 1]), Mode::Inference);
    assert!(close(l, (-(0.75f64).ln() + 1000.0) / 2.0), "{l}");

    // Without a final softmax the same numbers come from the plain output.
    let (m2, p2) = identity_model("", "cross_entropy");
    assert_eq!(m2.loss.fused_activation, None);
    let l2 = loss(&m2, &p2, &x, 2, Targets::Classes(&[1, 0]), Mode::Inference);
    assert!(close(l2, -(0.75f64).ln() / 2.0));

    // A standalone softmax layer is fused too.
    let m3 = model("input [2]; softmax; loss cross_entropy;");
    assert!(m3.loss.fused_activation.is_some());
    let p3 = Params::zeros(&m3);
    assert_close(&logits(&m3, &p3, &x, 2, Mode::Inference), &x);
    let l3 = loss(&m3, &p3, &x, 2, Targets::Classes(&[1, 0]), Mode::Inference);
    assert!(close(l3, -(0.75f64).ln() / 2.0));
}

#[test]
fn binary_cross_entropy_fused_sigmoid() {
    let (m, p) = identity_model(", activation = sigmoid", "binary_cross_entropy");
    assert!(m.loss.fused_activation.is_some());
    let x = [0.0, 2.0, -800.0, 800.0];
    let t = [1.0, 0.0, 0.0, 1.0];
    let y = forward(&m, &p, &x, 2, Mode::Inference);
    assert_close(&y[..2], &[0.5, 1.0 / (1.0 + (-2f64).exp())]);
    assert_close(&logits(&m, &p, &x, 2, Mode::Inference), &x);
    let want = (2f64.ln() + 2.0 + (1.0 + (-2f64).exp()).ln() + 0.0 + 0.0) / 4.0;
    let l = loss(&m, &p, &x, 2, Targets::Values(&t), Mode::Inference);
    assert!(close(l, want), "{l} vs {want}");
}

#[test]
fn numeric_gradients_match_a_hand_derivative() {
    // L = mean((w x + b - t)^2): dL/dw = mean(2 (w x + b - t) x), dL/db = mean(2 (w x + b - t))
    let m = model("input [1]; dense(1); loss mse;");
    let d = &names(&m, "dense")[0];
    let mut p = Params::zeros(&m);
    set(&mut p, &format!("{d}.weight"), &[0.5]);
    set(&mut p, &format!("{d}.bias"), &[0.25]);
    let x = [1.0, 2.0];
    let t = [3.0, -1.0];
    let r: Vec<f64> = x.iter().zip(&t).map(|(x, t)| 0.5 * x + 0.25 - t).collect();
    let gw = (2.0 * r[0] * x[0] + 2.0 * r[1] * x[1]) / 2.0;
    let gb = (2.0 * r[0] + 2.0 * r[1]) / 2.0;
    let g = numeric_gradients(&m, &p, &x, 2, Targets::Values(&t), Mode::Training, 1e-5);
    assert!((g.get(&format!("{d}.weight"))[0] - gw).abs() < 1e-6);
    assert!((g.get(&format!("{d}.bias"))[0] - gb).abs() < 1e-6);
}

#[test]
fn numeric_gradients_are_finite_and_cover_trainable_tensors() {
    let m = model(
        "input [1, 4, 4]; conv2d(2, kernel = 3, padding = same); batchnorm; relu; \
         residual { conv2d(2, kernel = 3, padding = same); } maxpool2d(2); flatten; \
         dropout(0.5); dense(3, activation = softmax); loss cross_entropy;",
    );
    let p = Params::random(&m, 42);
    let mut rng = specc_reference::SplitMix64::new(5);
    let x: Vec<f64> = (0..2 * 16).map(|_| rng.next_f64() * 2.0 - 1.0).collect();
    let targets = Targets::Classes(&[0, 2]);
    for mode in [Mode::Inference, Mode::Training] {
        let l = loss(&m, &p, &x, 2, targets, mode);
        assert!(l.is_finite() && l > 0.0);
        let g = numeric_gradients(&m, &p, &x, 2, targets, mode, 1e-5);
        for t in m.parameters() {
            if t.role.trainable() {
                let gt = g.get(&t.name);
                assert_eq!(gt.len(), p.get(&t.name).len());
                assert!(gt.iter().all(|v| v.is_finite()), "{}", t.name);
            } else {
                assert!(!g.tensors.contains_key(&t.name));
            }
        }
        // Something actually depends on the weights.
        let last = names(&m, "dense")[0].clone();
        assert!(g.get(&format!("{last}.weight")).iter().any(|v| v.abs() > 1e-8));
    }
}

#[test]
fn params_random_is_deterministic_and_sane() {
    let m = model("input [3]; dense(4); batchnorm; loss mse;");
    let a = Params::random(&m, 1);
    let b = Params::random(&m, 1);
    let c = Params::random(&m, 2);
    assert_eq!(a, b);
    assert_ne!(a, c);
    let names: Vec<String> = m.parameters().into_iter().map(|t| t.name).collect();
    assert_eq!(
        a.tensors
            .keys()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>(),
        names.iter().cloned().collect()
    );
    for t in m.parameters() {
        let v = a.get(&t.name);
        assert!(v.iter().all(|x| x.is_finite() && x.abs() <= 1.5));
        if t.role == specc_lang::TensorRole::RunningVar {
            assert!(v.iter().all(|x| *x > 0.0));
        }
    }
}

fn spec_models() -> Vec<(String, CheckedModel)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs");
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("specs directory")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "spec"))
        .collect();
    entries.sort();
    assert!(!entries.is_empty());
    for path in entries {
        let text = std::fs::read_to_string(&path).unwrap();
        let file = specc_lang::check_source(&text)
            .unwrap_or_else(|e| panic!("{} does not check: {e:?}", path.display()));
        for m in file.models {
            out.push((path.display().to_string(), m));
        }
    }
    out
}

#[test]
fn every_spec_runs_with_finite_outputs() {
    for (path, m) in spec_models() {
        let batch = 2;
        let p = Params::random(&m, 7);
        let mut rng = specc_reference::SplitMix64::new(11);
        let x: Vec<f64> = (0..batch * m.input.numel()).map(|_| rng.next_f64()).collect();
        let k = m.output.numel();
        for mode in [Mode::Inference, Mode::Training] {
            let y = forward(&m, &p, &x, batch, mode);
            assert_eq!(y.len(), batch * k, "{path}");
            assert!(y.iter().all(|v| v.is_finite()), "{path}");
            let z = logits(&m, &p, &x, batch, mode);
            assert_eq!(z.len(), batch * k, "{path}");
            assert!(z.iter().all(|v| v.is_finite()), "{path}");
            if m.loss.fused_activation == Some(specc_lang::Activation::Softmax) {
                for row in y.chunks(k) {
                    let s: f64 = row.iter().sum();
                    assert!((s - 1.0).abs() < 1e-12, "{path}: softmax row sums to {s}");
                    assert!(row.iter().all(|v| *v >= 0.0));
                }
            }
            let classes = vec![0usize; batch];
            let values = vec![0.5f64; batch * k];
            let targets = if m.loss.kind.has_class_targets() {
                Targets::Classes(&classes)
            } else {
                Targets::Values(&values)
            };
            let l = loss(&m, &p, &x, batch, targets, mode);
            assert!(l.is_finite() && l >= 0.0, "{path}: loss {l}");
        }
    }
}
