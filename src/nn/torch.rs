//! PyTorch `state_dict`s of plain MLPs, saved as safetensors
//! (`safetensors.torch.save_file(model.state_dict(), "model.safetensors")`), read as the
//! weights of an [`Mlp`](super::mlp::Mlp).
//!
//! **Key mapping.** Every tensor must be the weight or the bias of a linear layer, named
//! `{prefix}{index}.weight` ([outputs, inputs], as `nn.Linear` stores it) and
//! `{prefix}{index}.bias` ([outputs]), where `index` is a decimal number and `prefix` is the
//! same for every key. So these all load:
//! - an `nn.Sequential(Linear, ReLU, Linear, ReLU, Linear)`: `0.weight`, `0.bias`, `2.weight`,
//!   `2.bias`, `4.weight`, `4.bias` (activations and dropout have no parameters, hence the
//!   gaps);
//! - such a Sequential as the attribute `net` of a module: `net.0.weight`, …;
//! - an `nn.ModuleList` called `layers`: `layers.0.weight`, …; attributes `fc1`, `fc2`, …;
//! - bumplab's own names, `layer0.weight`, `layer0.bias`, `layer1.weight`, ….
//!
//! The layers are taken in increasing index order; their shapes give the architecture
//! (inputs, hidden widths, outputs), and each layer must take the previous one's outputs.
//! The activation between layers and the meaning of the outputs are not in a `state_dict`:
//! they come from [`StateDictOptions`] (ReLU and a sigmoid output by default; the sigmoid is
//! applied by bumplab to the last layer's outputs, so a PyTorch model that ends with
//! `nn.Sigmoid()` and one trained on logits with `BCEWithLogitsLoss` both load with it).
//! Anything else — a layer without bias, batch normalisation (`running_mean`,
//! `num_batches_tracked`), convolutions, names of another form — is an error naming the file
//! and the key.
//!
//! The other way round, a bumplab MLP checkpoint loads in PyTorch with
//! `safetensors.torch.load_file`: its `layer{j}.weight` and `layer{j}.bias` are the weight
//! and bias of the j-th `nn.Linear`, already [outputs, inputs] (`scripts/torch_reference.py`
//! does it).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use candle_core::Tensor;

use super::layers::Activation;
use super::mlp::{MlpConfig, Output};
use crate::error::{Error, Result};

/// What a `state_dict` does not say about an MLP.
#[derive(Clone, Debug, PartialEq)]
pub struct StateDictOptions {
    /// The activation between layers (ReLU).
    pub activation: Activation,
    /// What the last layer's outputs mean (sigmoid: they are logits of probabilities).
    pub output: Output,
    /// The event-set columns the network reads, in input order (none).
    pub features: Option<Vec<String>>,
}

impl Default for StateDictOptions {
    fn default() -> Self {
        Self {
            activation: Activation::Relu,
            output: Output::Sigmoid,
            features: None,
        }
    }
}

/// One linear layer's tensors, by key.
#[derive(Default)]
struct Layer {
    weight: Option<(String, Tensor)>,
    bias: Option<(String, Tensor)>,
}

/// The key `key` split into its prefix, layer index and parameter ("weight" or "bias"), or
/// `None` when it has another form.
fn split_key(key: &str) -> Option<(&str, usize, &str)> {
    let (head, parameter) = key.rsplit_once('.')?;
    if parameter != "weight" && parameter != "bias" {
        return None;
    }
    let prefix = head.trim_end_matches(|c: char| c.is_ascii_digit());
    let index = head[prefix.len()..].parse().ok()?;
    Some((prefix, index, parameter))
}

/// The MLP whose weights are the `state_dict` `tensors` read from `path` (named in errors):
/// its shape and its tensors under bumplab's names (`layer{j}.weight`, `layer{j}.bias`).
pub fn mlp_from_state_dict(
    path: &Path,
    tensors: HashMap<String, Tensor>,
    options: &StateDictOptions,
) -> Result<(MlpConfig, HashMap<String, Tensor>)> {
    let error = |key: &str, problem: String| Error::format(path, format!("key '{key}'"), problem);
    let mut keys: Vec<String> = tensors.keys().cloned().collect();
    keys.sort();
    let mut prefix: Option<(String, String)> = None;
    let mut layers: BTreeMap<usize, Layer> = BTreeMap::new();
    for key in keys {
        let Some((p, index, parameter)) = split_key(&key) else {
            return Err(error(
                &key,
                format!(
                    "not the weight or bias of a linear layer ('{{prefix}}{{index}}.weight' or \
                     '.bias'): the file is neither a bumplab checkpoint (no description in \
                     its metadata, no '{}' beside it) nor a PyTorch state_dict of a plain MLP \
                     (nn.Linear layers with activations between)",
                    super::checkpoint::description_path(path).display()
                ),
            ));
        };
        match &prefix {
            None => prefix = Some((p.to_string(), key.clone())),
            Some((first, first_key)) if first != p => {
                return Err(error(
                    &key,
                    format!(
                        "its layer prefix '{p}' differs from '{first}' of '{first_key}': \
                         only one stack of linear layers loads"
                    ),
                ));
            }
            Some(_) => {}
        }
        let tensor = tensors[&key].clone();
        let layer = layers.entry(index).or_default();
        if parameter == "weight" {
            layer.weight = Some((key, tensor));
        } else {
            layer.bias = Some((key, tensor));
        }
    }
    let Some((prefix, _)) = prefix else {
        return Err(Error::format(
            path,
            "safetensors",
            "no tensors and no bumplab description: not a model",
        ));
    };
    let mut widths = Vec::new();
    let mut renamed = HashMap::new();
    for (j, (index, layer)) in layers.into_iter().enumerate() {
        let (weight_key, weight) = layer.weight.ok_or_else(|| {
            let key = format!("{prefix}{index}.bias");
            error(
                &key,
                format!("a bias without the weight '{prefix}{index}.weight'"),
            )
        })?;
        let (bias_key, bias) = layer.bias.ok_or_else(|| {
            error(
                &weight_key,
                format!(
                    "a weight without the bias '{prefix}{index}.bias': layers without bias \
                     (bias=False) are not an MLP bumplab loads"
                ),
            )
        })?;
        let &[outputs, inputs] = weight.dims() else {
            return Err(error(
                &weight_key,
                format!(
                    "shape {:?}; a linear layer's weight is [outputs, inputs]",
                    weight.dims()
                ),
            ));
        };
        if bias.dims() != [outputs] {
            return Err(error(
                &bias_key,
                format!(
                    "shape {:?}; the layer's weight '{weight_key}' has {outputs} outputs",
                    bias.dims()
                ),
            ));
        }
        match widths.last() {
            None => widths.push(inputs),
            Some(&previous) if previous != inputs => {
                return Err(error(
                    &weight_key,
                    format!(
                        "takes {inputs} inputs, but the layer before it gives {previous} outputs"
                    ),
                ));
            }
            Some(_) => {}
        }
        widths.push(outputs);
        renamed.insert(format!("layer{j}.weight"), weight);
        renamed.insert(format!("layer{j}.bias"), bias);
    }
    let (inputs, outputs) = (widths[0], widths[widths.len() - 1]);
    let config = MlpConfig {
        inputs,
        hidden: widths[1..widths.len() - 1].to_vec(),
        activation: options.activation,
        dropout: 0.0,
        outputs,
        output: options.output,
    };
    Ok((config, renamed))
}

#[cfg(test)]
mod tests {
    use candle_core::{DType, Device};

    use super::*;

    fn zeros(shape: &[usize]) -> Tensor {
        Tensor::zeros(shape, DType::F32, &Device::Cpu).unwrap()
    }

    /// Keys with the shapes of their tensors.
    type Entries<'a> = &'a [(&'a str, &'a [usize])];

    fn read(entries: Entries) -> Result<(MlpConfig, HashMap<String, Tensor>)> {
        let tensors = entries
            .iter()
            .map(|(k, s)| (k.to_string(), zeros(s)))
            .collect();
        mlp_from_state_dict(
            Path::new("m.safetensors"),
            tensors,
            &StateDictOptions::default(),
        )
    }

    #[test]
    fn the_architecture_comes_from_the_shapes_under_any_one_prefix() {
        for prefix in ["", "net.", "layers.", "fc", "layer"] {
            let k = |i: usize, p: &str| format!("{prefix}{i}.{p}");
            let keys = [
                k(0, "weight"),
                k(0, "bias"),
                k(2, "weight"),
                k(2, "bias"),
                k(10, "weight"),
                k(10, "bias"),
            ];
            let shapes: [&[usize]; 6] = [&[8, 3], &[8], &[5, 8], &[5], &[1, 5], &[1]];
            let entries: Vec<(&str, &[usize])> =
                keys.iter().map(String::as_str).zip(shapes).collect();
            let (config, renamed) = read(&entries).unwrap();
            assert_eq!((config.inputs, config.outputs), (3, 1), "{prefix}");
            // Index 10 comes after 2 (numeric order, not the keys' text order).
            assert_eq!(config.hidden, [8, 5], "{prefix}");
            assert_eq!(renamed["layer1.weight"].dims(), [5, 8]);
            assert_eq!(renamed["layer2.bias"].dims(), [1]);
            assert_eq!(
                (config.activation, config.output),
                (Activation::Relu, Output::Sigmoid)
            );
        }
    }

    #[test]
    fn what_is_not_a_plain_mlp_is_an_error_naming_the_file_and_key() {
        let err = |entries: Entries| read(entries).unwrap_err().to_string();
        let cases: [(Entries, &str); 7] = [
            (
                &[
                    ("0.weight", &[4, 2]),
                    ("0.bias", &[4]),
                    ("1.running_mean", &[4]),
                ],
                "'1.running_mean': not the weight or bias",
            ),
            (
                &[("0.weight", &[4, 2])],
                "'0.weight': a weight without the bias",
            ),
            (&[("0.bias", &[4])], "'0.bias': a bias without the weight"),
            (
                &[
                    ("0.weight", &[4, 2]),
                    ("0.bias", &[4]),
                    ("x.2.weight", &[1, 4]),
                    ("x.2.bias", &[1]),
                ],
                "prefix 'x.' differs",
            ),
            (
                &[("0.weight", &[4, 2, 3]), ("0.bias", &[4])],
                "'0.weight': shape [4, 2, 3]",
            ),
            (
                &[("0.weight", &[4, 2]), ("0.bias", &[3])],
                "'0.bias': shape [3]",
            ),
            (
                &[
                    ("0.weight", &[4, 2]),
                    ("0.bias", &[4]),
                    ("2.weight", &[1, 5]),
                    ("2.bias", &[1]),
                ],
                "'2.weight': takes 5 inputs, but the layer before it gives 4",
            ),
        ];
        for (entries, want) in cases {
            let e = err(entries);
            assert!(e.contains("m.safetensors") && e.contains(want), "{e}");
        }
        assert!(err(&[]).contains("no tensors"));
    }
}
