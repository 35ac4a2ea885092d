#!/usr/bin/env python3
"""Reference numbers from PyTorch for `tests/torch_reference.rs`: MLP weights passing between
PyTorch and bumplab in both directions.

Run from the repository root (the environment is made by scripts/torch-env):

    cargo test --release --test torch_reference -- --ignored write_bumplab_checkpoint
    "$(scripts/torch-env)/python" scripts/torch_reference.py

The first command (re)writes `tests/fixtures/torch/bumplab_mlp.safetensors`, a small MLP
trained by bumplab; this script then writes, in `tests/fixtures/torch/`:

- `sequential.safetensors`: the `state_dict` of `nn.Sequential(Linear(3, 8), ReLU(),
  Linear(8, 8), ReLU(), Linear(8, 1))` (keys `0.weight`, `0.bias`, `2.weight`, `2.bias`,
  `4.weight`, `4.bias`), trained briefly with a fixed seed as a classifier on logits
  (`BCEWithLogitsLoss`);
- `regressor.safetensors`: the `state_dict` of a module whose attribute `net` is
  `nn.Sequential(Linear(3, 6), Tanh(), Dropout(0.1), Linear(6, 6), Tanh(), Dropout(0.1),
  Linear(6, 2))` (keys `net.0.*`, `net.3.*`, `net.6.*`), trained briefly as a two-output
  regression (`MSELoss`);
- `reference.json`: fixed inputs (float32 values) and, for each of the three networks, what
  PyTorch predicts for them in evaluation mode: sigmoid of the logits for the classifiers,
  the outputs themselves for the regression. The bumplab checkpoint is read with
  `safetensors.torch.load_file`; its `layer{j}.weight` / `layer{j}.bias` become the j-th
  `nn.Linear` of a Sequential with the activation its description (the file's metadata)
  names between layers.

Versions: torch 2.5.1 (run on the CPU, one thread), safetensors 0.4.5, numpy 2.1.3
(scripts/torch-env). The committed fixtures were made with PyPI's default torch 2.5.1 wheel
(the CPU wheel index was not reachable).
"""

import json
import os

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

OUT = os.path.join("tests", "fixtures", "torch")

ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.01),
    "elu": nn.ELU,
    "selu": nn.SELU,
    "tanh": nn.Tanh,
}


def toy_data(n, seed):
    """n events of 3 features, a circle label and two smooth regression targets."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    label = (np.sum(x[:, :2] ** 2, axis=1) < 1.4).astype(np.float32)
    targets = np.stack([np.sin(x[:, 0]) + 0.5 * x[:, 2], x[:, 1] * x[:, 2]], axis=1)
    return (torch.from_numpy(x), torch.from_numpy(label).unsqueeze(1),
            torch.from_numpy(targets.astype(np.float32)))


def train(model, x, y, loss_fn, steps, lr):
    """Full-batch Adam for `steps` steps."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    model.eval()


class Regressor(nn.Module):
    """A Sequential held as the attribute `net`, with dropout between layers."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(3, 6), nn.Tanh(), nn.Dropout(0.1),
            nn.Linear(6, 6), nn.Tanh(), nn.Dropout(0.1),
            nn.Linear(6, 2))

    def forward(self, x):
        return self.net(x)


def bumplab_in_torch(path):
    """The bumplab MLP checkpoint at `path` as an nn.Sequential, and its output kind."""
    with safe_open(path, "pt") as f:
        description = json.loads(f.metadata()["bumplab.description"])
    config = description["architecture"]["config"]
    assert description["architecture"]["kind"] == "mlp", description
    widths = [config["inputs"], *config["hidden"], config["outputs"]]
    modules = []
    for j in range(len(widths) - 1):
        if j > 0:
            modules.append(ACTIVATIONS[config["activation"]]())
        modules.append(nn.Linear(widths[j], widths[j + 1]))
    model = nn.Sequential(*modules)
    weights = load_file(path)
    # layer{j} of bumplab is the j-th Linear: index 2j of the Sequential.
    state = {}
    for j in range(len(widths) - 1):
        for p in ("weight", "bias"):
            state[f"{2 * j}.{p}"] = weights[f"layer{j}.{p}"]
    model.load_state_dict(state, strict=True)
    model.eval()
    return model, config["output"]


def rows(t):
    """A tensor as nested lists of Python floats (exact float32 values)."""
    return [[float(v) for v in row] for row in t.detach().numpy().astype(np.float64)]


def main():
    torch.manual_seed(20261206)
    torch.set_num_threads(1)
    x, label, targets = toy_data(256, 20261206)
    inputs = torch.from_numpy(np.random.default_rng(7).normal(size=(16, 3)).astype(np.float32))

    classifier = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(),
                               nn.Linear(8, 1))
    train(classifier, x, label, nn.BCEWithLogitsLoss(), steps=40, lr=1e-2)
    save_file({k: v.contiguous() for k, v in classifier.state_dict().items()},
              os.path.join(OUT, "sequential.safetensors"))

    regressor = Regressor()
    train(regressor, x, targets, nn.MSELoss(), steps=100, lr=1e-2)
    save_file({k: v.contiguous() for k, v in regressor.state_dict().items()},
              os.path.join(OUT, "regressor.safetensors"))

    ours, output = bumplab_in_torch(os.path.join(OUT, "bumplab_mlp.safetensors"))
    with torch.no_grad():
        reference = {
            "inputs": rows(inputs),
            "sequential": {"activation": "relu", "output": "sigmoid",
                           "predictions": rows(torch.sigmoid(classifier(inputs)))},
            "regressor": {"activation": "tanh", "output": "linear",
                          "predictions": rows(regressor(inputs))},
            "bumplab_mlp": {
                "output": output,
                "predictions": rows(torch.sigmoid(ours(inputs)) if output == "sigmoid"
                                    else ours(inputs)),
            },
        }
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump(reference, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
