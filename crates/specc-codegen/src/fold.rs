//! Batchnorm folded into the dense or conv2d layer before it, for export.
//!
//! At inference batchnorm is the affine map `y = scale * x + shift` per
//! channel, `scale = gamma / sqrt(running_var + eps)` and
//! `shift = beta - running_mean * scale`. When it directly follows a dense
//! or conv2d layer that applies no activation of its own, it is exactly
//! (in real arithmetic) that layer with its weights' rows scaled and its
//! bias `scale * bias + shift`: one pass over the output fewer, and no
//! running statistics to store. The folded values are computed in f64 and
//! rounded once; the outputs differ from the unfolded model's only by
//! rounding.

use specc_lang::{CheckedModel, Layer, LayerKind, TensorRole};
use std::collections::HashMap;

/// The batchnorm layers that fold, each with the layer it folds into.
pub fn foldable(model: &CheckedModel) -> Vec<(String, String)> {
    fn walk(layers: &[Layer], out: &mut Vec<(String, String)>) {
        for (i, layer) in layers.iter().enumerate() {
            if let Some(next) = layers.get(i + 1)
                && folds_into(layer, next)
            {
                out.push((next.name.clone(), layer.name.clone()));
            }
            if let LayerKind::Residual { body, .. } = &layer.kind {
                walk(body, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(&model.layers, &mut out);
    out
}

/// "`batchnorm_1` into `conv2d_1`, ...": the pairs of [`foldable`] as
/// docs and reports name them.
pub fn describe(pairs: &[(String, String)]) -> String {
    let pairs: Vec<String> = pairs
        .iter()
        .map(|(bn, into)| format!("`{bn}` into `{into}`"))
        .collect();
    pairs.join(", ")
}

/// Whether `next` is a batchnorm that folds into `layer`.
fn folds_into(layer: &Layer, next: &Layer) -> bool {
    let linear = match &layer.kind {
        LayerKind::Dense(d) => d.activation.is_none(),
        LayerKind::Conv2d(c) => c.activation.is_none(),
        _ => false,
    };
    linear && matches!(next.kind, LayerKind::BatchNorm(_))
}

/// `model` with every [`foldable`] batchnorm folded, and its tensors'
/// values (in the order of its `parameters()`) from `tensors` (in the
/// order of the original's).
pub fn fold(model: &CheckedModel, tensors: &[Vec<f32>]) -> (CheckedModel, Vec<Vec<f32>>) {
    let mut values: HashMap<String, Vec<f32>> = model
        .parameters()
        .into_iter()
        .map(|t| t.name)
        .zip(tensors.iter().cloned())
        .collect();
    let mut folded = model.clone();
    folded.layers = fold_layers(&model.layers, &mut values);
    let out = folded
        .parameters()
        .iter()
        .map(|t| values.remove(&t.name).expect("every folded tensor has values"))
        .collect();
    (folded, out)
}

fn fold_layers(layers: &[Layer], values: &mut HashMap<String, Vec<f32>>) -> Vec<Layer> {
    let mut out: Vec<Layer> = Vec::with_capacity(layers.len());
    let mut i = 0;
    while i < layers.len() {
        let mut layer = layers[i].clone();
        if let LayerKind::Residual { body, .. } = &mut layer.kind {
            *body = fold_layers(body, values);
        }
        match layers.get(i + 1) {
            Some(next) if folds_into(&layer, next) => {
                let LayerKind::BatchNorm(bn) = &next.kind else {
                    unreachable!("folds_into checked the kind")
                };
                fold_pair(&mut layer, &next.name, bn.eps, values);
                layer.output = next.output.clone();
                out.push(layer);
                i += 2;
            }
            _ => {
                out.push(layer);
                i += 1;
            }
        }
    }
    out
}

/// Folds the batchnorm `bn` (with `eps`) into `layer`, giving it a bias.
fn fold_pair(layer: &mut Layer, bn: &str, eps: f64, values: &mut HashMap<String, Vec<f32>>) {
    let mut take = |role: TensorRole| {
        values
            .remove(&format!("{bn}.{}", role.suffix()))
            .expect("batchnorm tensors")
    };
    let (gamma, beta, mean, var) = (
        take(TensorRole::Gamma),
        take(TensorRole::Beta),
        take(TensorRole::RunningMean),
        take(TensorRole::RunningVar),
    );
    let channels = gamma.len();
    let name = layer.name.clone();
    let had_bias = match &mut layer.kind {
        LayerKind::Dense(d) => std::mem::replace(&mut d.bias, true),
        LayerKind::Conv2d(c) => std::mem::replace(&mut c.bias, true),
        _ => unreachable!("folds_into checked the kind"),
    };
    if !had_bias {
        layer.params.trainable += channels;
    }
    let bias_name = format!("{name}.bias");
    let bias = values.remove(&bias_name).unwrap_or_else(|| vec![0.0; channels]);
    let weight = values.get_mut(&format!("{name}.weight")).expect("weight");
    let per_channel = weight.len() / channels;
    let mut folded_bias = Vec::with_capacity(channels);
    for c in 0..channels {
        let scale = f64::from(gamma[c]) / (f64::from(var[c]) + eps).sqrt();
        for w in &mut weight[c * per_channel..(c + 1) * per_channel] {
            *w = (f64::from(*w) * scale) as f32;
        }
        folded_bias.push(((f64::from(bias[c]) - f64::from(mean[c])) * scale + f64::from(beta[c])) as f32);
    }
    values.insert(bias_name, folded_bias);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conv_then_batchnorm_folds_and_an_activation_between_does_not() {
        let file = specc_lang::check_source(
            "model M { input [2, 5, 5]; conv2d(3, kernel = 3, bias = false); batchnorm(eps = 0.5); \
             conv2d(2, kernel = 3, activation = relu); batchnorm; flatten; dense(2); \
             loss mse; optimizer sgd; }",
        )
        .expect("checks");
        let model = &file.models[0];
        assert_eq!(
            foldable(model),
            [("batchnorm_1".to_string(), "conv2d_1".to_string())]
        );
        let tensors: Vec<Vec<f32>> = model
            .parameters()
            .iter()
            .map(|t| match t.role {
                TensorRole::Gamma => vec![2.0; 3],
                TensorRole::Beta => vec![1.0; 3],
                TensorRole::RunningMean => vec![0.25; 3],
                TensorRole::RunningVar => vec![3.5; 3],
                _ => vec![0.5; t.shape.iter().product()],
            })
            .collect();
        let (folded, values) = fold(model, &tensors);
        let names: Vec<String> = folded.parameters().into_iter().map(|t| t.name).collect();
        assert_eq!(names[..2], ["conv2d_1.weight", "conv2d_1.bias"]);
        assert!(names.contains(&"batchnorm_2.gamma".to_string()));
        assert!(!names.iter().any(|n| n.starts_with("batchnorm_1")));
        // scale = 2 / sqrt(3.5 + 0.5) = 1; bias = (0 - 0.25) * 1 + 1.
        assert!(values[0].iter().all(|&w| w == 0.5));
        assert_eq!(values[1], [0.75; 3]);
        assert_eq!(folded.parameters().len(), values.len());
        assert_eq!(folded.layers.len(), model.layers.len() - 1);
    }
}
