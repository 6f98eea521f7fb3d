//! ONNX export: a checked model and its trained tensors as a standard ONNX
//! model (opset 13, IR version 8) that any ONNX runtime loads.
//!
//! The graph takes `input` of shape `[batch, input...]` (`batch` symbolic)
//! and gives `output` of shape `[batch, output...]`, what `specc predict`
//! computes: the activation a loss fuses (softmax, sigmoid) is applied, and
//! layers that only act in training (dropout) are left out. Every node is
//! named after the spec's layer it comes from (`conv2d_1`, `conv2d_1.relu`)
//! and every weight is an initializer under its checkpoint name
//! (`conv2d_1.weight`).

mod proto;

use prost::Message;
use proto::{
    AttributeProto, Dimension, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, StringStringEntryProto,
    TensorProto, TensorShapeProto, TensorType, TypeProto, ValueInfoProto, attribute_type,
};
use specc_lang::{Activation, CheckedModel, Layer, LayerKind, UpsampleMode};

/// The operator set the export targets.
pub const OPSET: i64 = 13;
/// The IR version of opset 13's release line that runtimes accept widely.
const IR_VERSION: i64 = 8;

/// Why a model could not be exported.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum OnnxError {
    #[error("cannot export model `{model}` to ONNX: {reason}")]
    Weights { model: String, reason: String },
}

/// The ONNX file of `model` with `tensors`, its named tensors' values in
/// the order of `model.parameters()` (checked against their shapes).
pub fn export(model: &CheckedModel, spec_name: &str, tensors: &[Vec<f32>]) -> Result<Vec<u8>, OnnxError> {
    model.check_values(tensors).map_err(|reason| OnnxError::Weights {
        model: model.name.clone(),
        reason,
    })?;
    let initializer: Vec<TensorProto> = model
        .parameters()
        .iter()
        .zip(tensors)
        .map(|(t, values)| TensorProto {
            dims: t.shape.iter().map(|&d| d as i64).collect(),
            data_type: proto::FLOAT,
            name: t.name.clone(),
            raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        })
        .collect();
    let mut graph = Graph::default();
    // A final activation the loss fuses in training is the last layer's
    // own (or the last layer), so the layers alone give the predictions.
    let last = graph.sequence(&model.layers, "input".to_string());
    graph.node("Identity", "output", vec![last], "output".to_string(), Vec::new());
    let initializer = initializer.into_iter().chain(graph.constants.drain(..)).collect();

    let value = |name: &str, dims: &[usize]| ValueInfoProto {
        name: name.to_string(),
        r#type: Some(TypeProto {
            tensor_type: Some(TensorType {
                elem_type: proto::FLOAT,
                shape: Some(TensorShapeProto {
                    dim: std::iter::once(Dimension {
                        dim_value: None,
                        dim_param: Some("batch".to_string()),
                    })
                    .chain(dims.iter().map(|&d| Dimension {
                        dim_value: Some(d as i64),
                        dim_param: None,
                    }))
                    .collect(),
                }),
            }),
        }),
    };
    let file = ModelProto {
        ir_version: IR_VERSION,
        producer_name: "specc".to_string(),
        producer_version: specc_lang::VERSION.to_string(),
        doc_string: format!(
            "`{}` from `{spec_name}`: {} -> {}",
            model.name, model.input, model.output
        ),
        graph: Some(GraphProto {
            node: graph.nodes,
            name: model.name.clone(),
            initializer,
            doc_string: String::new(),
            input: vec![value("input", model.input.dims())],
            output: vec![value("output", model.output.dims())],
        }),
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: OPSET,
        }],
        metadata_props: vec![StringStringEntryProto {
            key: "spec".to_string(),
            value: spec_name.to_string(),
        }],
    };
    Ok(file.encode_to_vec())
}

/// The nodes so far, and the constants they read besides the weights.
#[derive(Default)]
struct Graph {
    nodes: Vec<NodeProto>,
    constants: Vec<TensorProto>,
}

fn ints(name: &str, values: impl IntoIterator<Item = usize>) -> AttributeProto {
    AttributeProto {
        name: name.to_string(),
        ints: values.into_iter().map(|v| v as i64).collect(),
        r#type: attribute_type::INTS,
        ..Default::default()
    }
}

fn string(name: &str, value: &str) -> AttributeProto {
    AttributeProto {
        name: name.to_string(),
        s: Some(value.as_bytes().to_vec()),
        r#type: attribute_type::STRING,
        ..Default::default()
    }
}

fn float(name: &str, value: f64) -> AttributeProto {
    AttributeProto {
        name: name.to_string(),
        f: Some(value as f32),
        r#type: attribute_type::FLOAT,
        ..Default::default()
    }
}

fn int(name: &str, value: i64) -> AttributeProto {
    AttributeProto {
        name: name.to_string(),
        i: Some(value),
        r#type: attribute_type::INT,
        ..Default::default()
    }
}

impl Graph {
    /// Adds a node named `name` writing the value `output`; returns it.
    fn node(
        &mut self,
        op: &str,
        name: &str,
        inputs: Vec<String>,
        output: String,
        attributes: Vec<AttributeProto>,
    ) -> String {
        self.nodes.push(NodeProto {
            input: inputs,
            output: vec![output.clone()],
            name: name.to_string(),
            op_type: op.to_string(),
            attribute: attributes,
            doc_string: String::new(),
        });
        output
    }

    /// `layers` in order, reading `x`; returns the last value.
    fn sequence(&mut self, layers: &[Layer], mut x: String) -> String {
        for layer in layers {
            x = self.layer(layer, x);
        }
        x
    }

    /// One layer reading `x`, named after it; returns its output value.
    fn layer(&mut self, layer: &Layer, x: String) -> String {
        let name = layer.name.as_str();
        let out = name.to_string();
        let tensor = |role: &str| format!("{name}.{role}");
        let with_bias = |bias: bool, mut inputs: Vec<String>| {
            if bias {
                inputs.push(tensor("bias"));
            }
            inputs
        };
        match &layer.kind {
            LayerKind::Dense(d) => {
                let y = self.node(
                    "Gemm",
                    name,
                    with_bias(d.bias, vec![x, tensor("weight")]),
                    out,
                    vec![int("transB", 1)],
                );
                self.then(d.activation, name, y)
            }
            LayerKind::Conv2d(c) => {
                let [top, bottom, left, right] = c.padding;
                let y = self.node(
                    "Conv",
                    name,
                    with_bias(c.bias, vec![x, tensor("weight")]),
                    out,
                    vec![
                        ints("kernel_shape", c.kernel),
                        ints("strides", c.stride),
                        ints("pads", [top, left, bottom, right]),
                    ],
                );
                self.then(c.activation, name, y)
            }
            LayerKind::DepthwiseConv2d(d) => {
                // A convolution with one group per input channel: its
                // weight `[C * multiplier, 1, kh, kw]` is ONNX's for `group = C`.
                let [top, bottom, left, right] = d.padding;
                let y = self.node(
                    "Conv",
                    name,
                    with_bias(d.bias, vec![x, tensor("weight")]),
                    out,
                    vec![
                        ints("kernel_shape", d.kernel),
                        ints("strides", d.stride),
                        ints("dilations", d.dilation),
                        ints("pads", [top, left, bottom, right]),
                        int("group", layer.input.dims()[0] as i64),
                    ],
                );
                self.then(d.activation, name, y)
            }
            LayerKind::MaxPool2d(p) | LayerKind::AvgPool2d(p) => {
                let op = if matches!(layer.kind, LayerKind::MaxPool2d(_)) {
                    "MaxPool"
                } else {
                    "AveragePool"
                };
                self.node(
                    op,
                    name,
                    vec![x],
                    out,
                    vec![ints("kernel_shape", p.size), ints("strides", p.stride)],
                )
            }
            LayerKind::GroupNorm(n) => {
                // Opset 13 has neither GroupNormalization nor
                // LayerNormalization: [N, groups, rest], its statistics over
                // the last axis, back to the input's shape, then gamma and
                // beta per channel.
                let dims = layer.input.dims();
                let affine: Vec<f64> = std::iter::once(dims[0] as f64)
                    .chain(dims[1..].iter().map(|_| 1.0))
                    .collect();
                let grouped_shape = self.vector(
                    &tensor("grouped_shape"),
                    &[0.0, n.groups as f64, -1.0],
                    proto::INT64,
                );
                let affine_shape = self.vector(&tensor("affine_shape"), &affine, proto::INT64);
                let eps = self.scalar(&tensor("eps"), n.eps as f32);
                let mean_of = |axes| vec![ints("axes", axes), int("keepdims", 1)];
                let grouped = self.part(
                    "Reshape",
                    name,
                    "grouped",
                    vec![x.clone(), grouped_shape],
                    Vec::new(),
                );
                let mean = self.part("ReduceMean", name, "mean", vec![grouped.clone()], mean_of([2]));
                let centred = self.part("Sub", name, "centred", vec![grouped, mean], Vec::new());
                let square = self.part(
                    "Mul",
                    name,
                    "square",
                    vec![centred.clone(), centred.clone()],
                    Vec::new(),
                );
                let var = self.part("ReduceMean", name, "var", vec![square], mean_of([2]));
                let var_eps = self.part("Add", name, "var_eps", vec![var, eps], Vec::new());
                let std = self.part("Sqrt", name, "std", vec![var_eps], Vec::new());
                let normed = self.part("Div", name, "normed", vec![centred, std], Vec::new());
                let shape = self.part("Shape", name, "shape", vec![x], Vec::new());
                let back = self.part("Reshape", name, "ungrouped", vec![normed, shape], Vec::new());
                let gamma = self.part(
                    "Reshape",
                    name,
                    "gamma_c",
                    vec![tensor("gamma"), affine_shape.clone()],
                    Vec::new(),
                );
                let beta = self.part(
                    "Reshape",
                    name,
                    "beta_c",
                    vec![tensor("beta"), affine_shape],
                    Vec::new(),
                );
                let scaled = self.part("Mul", name, "scaled", vec![back, gamma], Vec::new());
                self.node("Add", name, vec![scaled, beta], out, Vec::new())
            }
            LayerKind::ZeroPad2d { padding: [ph, pw] } => {
                // Begins then ends, over N, C, H, W.
                let pads = [0, 0, *ph, *pw, 0, 0, *ph, *pw].map(|p| p as f64);
                let pads = self.vector(&tensor("pads"), &pads, proto::INT64);
                self.node("Pad", name, vec![x, pads], out, Vec::new())
            }
            LayerKind::Crop2d { cropping: [ch, cw] } => {
                let (_, h, w) = layer.input.chw().expect("checker: crop2d input is [C, H, W]");
                let starts = self.vector(&tensor("starts"), &[*ch as f64, *cw as f64], proto::INT64);
                let ends = self.vector(&tensor("ends"), &[(h - ch) as f64, (w - cw) as f64], proto::INT64);
                let axes = self.vector(&tensor("axes"), &[2.0, 3.0], proto::INT64);
                self.node("Slice", name, vec![x, starts, ends, axes], out, Vec::new())
            }
            LayerKind::Upsample2d {
                factor: [fh, fw],
                mode,
            } => {
                let scales = self.vector(
                    &tensor("scales"),
                    &[1.0, 1.0, *fh as f64, *fw as f64],
                    proto::FLOAT,
                );
                let attributes = match mode {
                    UpsampleMode::Nearest => vec![
                        string("mode", "nearest"),
                        string("coordinate_transformation_mode", "asymmetric"),
                        string("nearest_mode", "floor"),
                    ],
                    UpsampleMode::Bilinear => vec![
                        string("mode", "linear"),
                        string("coordinate_transformation_mode", "half_pixel"),
                    ],
                };
                self.node("Resize", name, vec![x, String::new(), scales], out, attributes)
            }
            LayerKind::GlobalAvgPool | LayerKind::GlobalMaxPool => {
                // ONNX keeps the 1x1 plane; the spec's output is `[C]`.
                let op = match layer.kind {
                    LayerKind::GlobalMaxPool => "GlobalMaxPool",
                    _ => "GlobalAveragePool",
                };
                let pooled = self.node(op, name, vec![x], format!("{name}.pooled"), Vec::new());
                self.node(
                    "Flatten",
                    &format!("{name}.flatten"),
                    vec![pooled],
                    out,
                    vec![int("axis", 1)],
                )
            }
            LayerKind::Flatten => self.node("Flatten", name, vec![x], out, vec![int("axis", 1)]),
            LayerKind::Activation(a) => self.activation(*a, name, x),
            LayerKind::Dropout { .. } => self.node("Identity", name, vec![x], out, Vec::new()),
            LayerKind::BatchNorm(b) => self.node(
                "BatchNormalization",
                name,
                vec![
                    x,
                    tensor("gamma"),
                    tensor("beta"),
                    tensor("running_mean"),
                    tensor("running_var"),
                ],
                out,
                vec![float("epsilon", b.eps)],
            ),
            LayerKind::Normalize { mean, std } => {
                // Per channel: constants of shape [C, 1, 1] (images) or [N]
                // (vectors), broadcast over the batch.
                let dims: Vec<i64> = std::iter::once(mean.len() as i64)
                    .chain(layer.input.dims()[1..].iter().map(|_| 1))
                    .collect();
                for (role, values) in [("mean", mean), ("std", std)] {
                    self.constants.push(TensorProto {
                        dims: dims.clone(),
                        data_type: proto::FLOAT,
                        name: tensor(role),
                        raw_data: values.iter().flat_map(|&v| (v as f32).to_le_bytes()).collect(),
                    });
                }
                let centred = self.node(
                    "Sub",
                    name,
                    vec![x, tensor("mean")],
                    format!("{name}.centred"),
                    Vec::new(),
                );
                self.node(
                    "Div",
                    &format!("{name}.scaled"),
                    vec![centred, tensor("std")],
                    out,
                    Vec::new(),
                )
            }
            LayerKind::Residual { body, shortcut } => {
                let body_out = self.sequence(body, x.clone());
                let skip = match shortcut {
                    Some(s) => self.layer(s, x),
                    None => x,
                };
                self.node("Add", name, vec![body_out, skip], out, Vec::new())
            }
        }
    }

    /// `y`, then the layer's own activation if it has one.
    fn then(&mut self, activation: Option<Activation>, layer: &str, y: String) -> String {
        match activation {
            Some(a) => self.activation(a, &format!("{layer}.{}", a.name()), y),
            None => y,
        }
    }

    /// A constant tensor named `name` of shape `[values.len()]`: int64 or
    /// f32 values; returns its name.
    fn vector(&mut self, name: &str, values: &[f64], data_type: i32) -> String {
        let raw_data = match data_type {
            proto::INT64 => values.iter().flat_map(|&v| (v as i64).to_le_bytes()).collect(),
            _ => values.iter().flat_map(|&v| (v as f32).to_le_bytes()).collect(),
        };
        self.constants.push(TensorProto {
            dims: vec![values.len() as i64],
            data_type,
            name: name.to_string(),
            raw_data,
        });
        name.to_string()
    }

    /// A node `name.part` writing the value of the same name; returns it.
    fn part(
        &mut self,
        op: &str,
        name: &str,
        part: &str,
        inputs: Vec<String>,
        attributes: Vec<AttributeProto>,
    ) -> String {
        let n = format!("{name}.{part}");
        self.node(op, &n, inputs, n.clone(), attributes)
    }

    /// A scalar f32 constant named `name`; returns its name.
    fn scalar(&mut self, name: &str, value: f32) -> String {
        self.constants.push(TensorProto {
            dims: Vec::new(),
            data_type: proto::FLOAT,
            name: name.to_string(),
            raw_data: value.to_le_bytes().to_vec(),
        });
        name.to_string()
    }

    /// The activation `a` of `x` as a node named `name` (and, for those
    /// opset 13 composes, nodes named `name.<part>` before it).
    fn activation(&mut self, a: Activation, name: &str, x: String) -> String {
        let (op, attributes) = match a {
            Activation::Relu => ("Relu", Vec::new()),
            Activation::LeakyRelu { alpha } => ("LeakyRelu", vec![float("alpha", alpha)]),
            Activation::Elu { alpha } => ("Elu", vec![float("alpha", alpha)]),
            Activation::Sigmoid => ("Sigmoid", Vec::new()),
            Activation::Tanh => ("Tanh", Vec::new()),
            Activation::Softmax => ("Softmax", vec![int("axis", -1)]),
            Activation::HardSigmoid => ("HardSigmoid", vec![float("alpha", 1.0 / 6.0), float("beta", 0.5)]),
            Activation::Softplus => ("Softplus", Vec::new()),
            Activation::Relu6 => {
                // Clip takes its bounds as inputs (opset 11 on).
                let inputs = vec![
                    x,
                    self.scalar(&format!("{name}.min"), 0.0),
                    self.scalar(&format!("{name}.max"), 6.0),
                ];
                return self.node("Clip", name, inputs, name.to_string(), Vec::new());
            }
            // Opset 13 has no SiLU, HardSwish or Gelu: x times a gate.
            Activation::Silu | Activation::HardSwish => {
                let gate = match a {
                    Activation::Silu => {
                        self.activation(Activation::Sigmoid, &format!("{name}.gate"), x.clone())
                    }
                    _ => self.activation(Activation::HardSigmoid, &format!("{name}.gate"), x.clone()),
                };
                return self.node("Mul", name, vec![x, gate], name.to_string(), Vec::new());
            }
            Activation::Gelu { tanh } => {
                // x (1 + erf(x / sqrt 2)) / 2, or x (1 + tanh(k (x + c x^3))) / 2.
                let inner = if tanh {
                    let c = self.scalar(&format!("{name}.c"), 0.044_715);
                    let k = self.scalar(&format!("{name}.k"), (2.0 / std::f32::consts::PI).sqrt());
                    let square = self.part("Mul", name, "square", vec![x.clone(), x.clone()], Vec::new());
                    let cube = self.part("Mul", name, "cube", vec![square, x.clone()], Vec::new());
                    let scaled = self.part("Mul", name, "c_cube", vec![cube, c], Vec::new());
                    let sum = self.part("Add", name, "cubic", vec![x.clone(), scaled], Vec::new());
                    let arg = self.part("Mul", name, "k_cubic", vec![sum, k], Vec::new());
                    self.part("Tanh", name, "tanh", vec![arg], Vec::new())
                } else {
                    let r = self.scalar(&format!("{name}.r"), std::f32::consts::FRAC_1_SQRT_2);
                    let arg = self.part("Mul", name, "scaled", vec![x.clone(), r], Vec::new());
                    self.part("Erf", name, "erf", vec![arg], Vec::new())
                };
                let one = self.scalar(&format!("{name}.one"), 1.0);
                let half = self.scalar(&format!("{name}.half"), 0.5);
                let gate = self.part("Add", name, "one_plus", vec![inner, one], Vec::new());
                let half_x = self.part("Mul", name, "half_x", vec![x, half], Vec::new());
                return self.node("Mul", name, vec![half_x, gate], name.to_string(), Vec::new());
            }
        };
        self.node(op, name, vec![x], name.to_string(), attributes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(source: &str) -> CheckedModel {
        specc_lang::check_source(source).expect("checks").models.remove(0)
    }

    fn values(m: &CheckedModel) -> Vec<Vec<f32>> {
        m.parameters()
            .iter()
            .map(|t| vec![0.5; t.shape.iter().product()])
            .collect()
    }

    #[test]
    fn a_residual_cnn_lowers_to_named_nodes_and_initializers() {
        let m = model(
            "model R { input [1, 8, 8]; conv2d(4, kernel = 3, padding = same); batchnorm; relu; \
             residual { conv2d(4, kernel = 3, padding = same, activation = relu); } \
             maxpool2d(2); global_avgpool; dropout(0.5); dense(3, activation = softmax); \
             loss cross_entropy; optimizer sgd; }",
        );
        let bytes = export(&m, "r.spec", &values(&m)).expect("exports");
        let file = ModelProto::decode(bytes.as_slice()).expect("decodes");
        assert_eq!(file.opset_import[0].version, OPSET);
        let graph = file.graph.expect("graph");
        let ops: Vec<(&str, &str)> = graph
            .node
            .iter()
            .map(|n| (n.name.as_str(), n.op_type.as_str()))
            .collect();
        assert_eq!(
            ops,
            [
                ("conv2d_1", "Conv"),
                ("batchnorm_1", "BatchNormalization"),
                ("relu_1", "Relu"),
                ("conv2d_2", "Conv"),
                ("conv2d_2.relu", "Relu"),
                ("residual_1", "Add"),
                ("maxpool2d_1", "MaxPool"),
                ("global_avgpool_1", "GlobalAveragePool"),
                ("global_avgpool_1.flatten", "Flatten"),
                ("dropout_1", "Identity"),
                ("dense_1", "Gemm"),
                ("dense_1.softmax", "Softmax"),
                ("output", "Identity"),
            ]
        );
        // `same` padding of a 3x3 kernel: one on each side, ONNX's order.
        let pads = &graph.node[0]
            .attribute
            .iter()
            .find(|a| a.name == "pads")
            .expect("pads")
            .ints;
        assert_eq!(pads, &[1, 1, 1, 1]);
        let names: Vec<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
        let expected: Vec<String> = m.parameters().into_iter().map(|t| t.name).collect();
        assert_eq!(names, expected);
        assert!(
            graph
                .initializer
                .iter()
                .all(|t| t.raw_data.len() == 4 * t.dims.iter().product::<i64>() as usize)
        );
    }

    #[test]
    fn wrong_weights_are_refused_with_the_tensor() {
        let m = model("model M { input [4]; dense(2); loss mse; optimizer sgd; }");
        let mut v = values(&m);
        v[1].push(0.0);
        let err = export(&m, "m.spec", &v).expect_err("refused").to_string();
        assert!(err.contains("tensor `dense_1.bias` has 3 values"), "{err}");
    }
}
