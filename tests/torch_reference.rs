//! MLP weights between PyTorch and bumplab, both ways (issue 21 item 5).
//!
//! The fixtures in `tests/fixtures/torch/` were written by `scripts/torch_reference.py` (which
//! says how to run it): two PyTorch `state_dict`s saved as safetensors (an `nn.Sequential`
//! classifier with keys `0.weight`, `2.weight`, … and a regression whose Sequential is the
//! attribute `net`, with dropout between layers), a bumplab checkpoint written by
//! [`write_bumplab_checkpoint`] below, and `reference.json` with fixed inputs and PyTorch's
//! predictions of all three. Loading goes through `Network::load_with`, the path of the
//! scripting built-in `load_model`; predictions must agree to 1e-5 (relative to 1 + |value|).

use std::path::{Path, PathBuf};

use bumplab::nn::layers::Activation;
use bumplab::nn::mlp::{MlpConfig, Output};
use bumplab::nn::network::{Architecture, Network};
use bumplab::nn::torch::StateDictOptions;
use bumplab::nn::train::{Dataset, TrainOptions, fit};
use candle_core::{Device, Tensor};
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/torch")
        .join(name)
}

fn reference() -> Value {
    let path = fixture("reference.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn matrix(v: &Value) -> Vec<Vec<f32>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|row| {
            row.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect()
        })
        .collect()
}

fn inputs() -> Tensor {
    let rows = matrix(&reference()["inputs"]);
    Tensor::new(rows, &Device::Cpu).unwrap()
}

/// The network's predictions for the reference inputs, one row per event.
fn predictions(net: &Network) -> Vec<Vec<f32>> {
    let p = net.predict(&inputs()).unwrap();
    if p.rank() == 1 {
        p.to_vec1::<f32>()
            .unwrap()
            .into_iter()
            .map(|v| vec![v])
            .collect()
    } else {
        p.to_vec2::<f32>().unwrap()
    }
}

fn assert_close(ours: &[Vec<f32>], theirs: &[Vec<f32>], what: &str) {
    assert_eq!(ours.len(), theirs.len(), "{what}");
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        assert_eq!(a.len(), b.len(), "{what}, event {i}");
        for (x, y) in a.iter().zip(b) {
            assert!(
                (x - y).abs() <= 1e-5 * (1.0 + y.abs()),
                "{what}, event {i}: bumplab {a:?}, PyTorch {b:?}"
            );
        }
    }
}

#[test]
fn a_pytorch_sequential_state_dict_loads_and_predicts_what_pytorch_does() {
    let r = reference();
    // The defaults (ReLU, sigmoid output) are this classifier's.
    let net = Network::load(&fixture("sequential.safetensors"), &Device::Cpu).unwrap();
    let Architecture::Mlp { config } = net.architecture() else {
        panic!("not an MLP: {net}")
    };
    assert_eq!(
        config,
        MlpConfig {
            hidden: vec![8, 8],
            ..MlpConfig::new(3)
        }
    );
    assert_close(
        &predictions(&net),
        &matrix(&r["sequential"]["predictions"]),
        "sequential",
    );
}

#[test]
fn a_pytorch_module_with_a_prefix_and_dropout_gaps_loads_with_its_options() {
    let r = reference();
    let options = StateDictOptions {
        activation: Activation::Tanh,
        output: Output::Linear,
        features: Some(vec!["a".into(), "b".into(), "c".into()]),
    };
    let net = Network::load_with(
        &fixture("regressor.safetensors"),
        &Device::Cpu,
        Some(&options),
    )
    .unwrap();
    assert!(
        net.to_string()
            .starts_with("MLP 3 -> [6, 6] -> 2 (Linear output), Tanh"),
        "{net}"
    );
    assert_eq!(net.features, options.features);
    assert_close(
        &predictions(&net),
        &matrix(&r["regressor"]["predictions"]),
        "regressor",
    );
    // The wrong activation gives other numbers: the option is used.
    let relu = StateDictOptions {
        activation: Activation::Relu,
        ..options
    };
    let wrong =
        Network::load_with(&fixture("regressor.safetensors"), &Device::Cpu, Some(&relu)).unwrap();
    assert_ne!(predictions(&wrong), predictions(&net));
}

#[test]
fn a_bumplab_checkpoint_predicts_in_pytorch_what_it_predicts_in_bumplab() {
    let r = reference();
    let net = Network::load(&fixture("bumplab_mlp.safetensors"), &Device::Cpu).unwrap();
    assert_eq!(r["bumplab_mlp"]["output"], "sigmoid");
    assert_close(
        &predictions(&net),
        &matrix(&r["bumplab_mlp"]["predictions"]),
        "bumplab checkpoint in PyTorch",
    );
    // A bumplab checkpoint describes itself: state_dict options are refused.
    let err = Network::load_with(
        &fixture("bumplab_mlp.safetensors"),
        &Device::Cpu,
        Some(&StateDictOptions::default()),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("bumplab checkpoint"), "{err}");
}

#[test]
fn load_model_reads_state_dicts_with_options_and_names_bad_keys() {
    use std::sync::Arc;

    use bumplab::script::Session;
    let mut s = Session::with_output(Arc::new(|_: &str| {}));
    let dir = tempfile::tempdir().unwrap();
    let regressor = fixture("regressor.safetensors");
    let code = format!(
        "let m = load_model(\"{}\", #{{ activation: \"tanh\", output: \"linear\", features: [\"a\", \"b\", \"c\"] }}); \
         m.features.len() * 100 + m.predict([[0.5, -0.25, 1.0]]).len()",
        regressor.display()
    );
    assert_eq!(s.eval("<test>", &code).unwrap().as_int().unwrap(), 301);
    let err = s
        .eval(
            "<test>",
            &format!(
                "load_model(\"{}\", #{{ act: \"tanh\" }})",
                regressor.display()
            ),
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("act") && err.contains("activation"), "{err}");
    // A bumplab checkpoint takes an empty map, but not options it would ignore.
    let ours = fixture("bumplab_mlp.safetensors");
    let code = format!("load_model(\"{}\", #{{}}).features.len()", ours.display());
    assert_eq!(s.eval("<test>", &code).unwrap().as_int().unwrap(), 3);
    let code = format!(
        "load_model(\"{}\", #{{ output: \"linear\" }})",
        ours.display()
    );
    let err = s.eval("<test>", &code).unwrap_err().to_string();
    assert!(err.contains("bumplab checkpoint"), "{err}");
    // A state_dict with batch normalisation is not a plain MLP.
    let bad = dir.path().join("bn.safetensors");
    let tensors = [
        (
            "0.weight",
            Tensor::zeros((4, 2), candle_core::DType::F32, &Device::Cpu).unwrap(),
        ),
        (
            "0.bias",
            Tensor::zeros(4, candle_core::DType::F32, &Device::Cpu).unwrap(),
        ),
        (
            "1.running_mean",
            Tensor::zeros(4, candle_core::DType::F32, &Device::Cpu).unwrap(),
        ),
    ];
    candle_core::safetensors::save(
        &tensors
            .iter()
            .map(|(k, t)| (k.to_string(), t.clone()))
            .collect(),
        &bad,
    )
    .unwrap();
    let err = s
        .eval("<test>", &format!("load_model(\"{}\")", bad.display()))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("bn.safetensors")
            && err.contains("'1.running_mean'")
            && err.contains("bn.json"),
        "{err}"
    );
}

/// Writes `tests/fixtures/torch/bumplab_mlp.safetensors` (and its .json): a small
/// leaky-ReLU MLP trained for a few epochs with fixed seeds (briefly: its predictions stay
/// away from 0 and 1, where a sigmoid would hide differences). Run by hand before
/// `scripts/torch_reference.py`, which reads it.
#[test]
#[ignore = "writes a committed fixture; run by hand before scripts/torch_reference.py"]
fn write_bumplab_checkpoint() {
    let config = MlpConfig {
        hidden: vec![8, 8],
        activation: Activation::LeakyRelu,
        ..MlpConfig::new(3)
    };
    let mut net = Network::new(&Architecture::Mlp { config }, &Device::Cpu, 11).unwrap();
    // 128 deterministic events on a spiral of three features, labelled by a plane.
    let rows: Vec<Vec<f32>> = (0..128)
        .map(|i| {
            let t = i as f32 * 0.37;
            vec![t.sin() * 1.5, (1.3 * t).cos(), (0.7 * t).sin() - 0.2]
        })
        .collect();
    let labels: Vec<f32> = rows
        .iter()
        .map(|r| f32::from(r[0] + 0.5 * r[1] - r[2] > 0.0))
        .collect();
    let data = Dataset {
        x: Tensor::new(rows, &Device::Cpu).unwrap(),
        y: Some(Tensor::new(labels, &Device::Cpu).unwrap()),
        weights: None,
        context: None,
    };
    let opts = TrainOptions {
        epochs: 3,
        batch_size: 32,
        lr: 3e-3,
        seed: 12,
        ..Default::default()
    };
    fit(net.trainable(), &data, &opts, None).unwrap();
    net.features = Some(vec!["x".into(), "y".into(), "z".into()]);
    net.save(&fixture("bumplab_mlp.safetensors")).unwrap();
}
