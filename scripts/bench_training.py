#!/usr/bin/env python3
"""Times PyTorch training the network of `benches/training.rs` on the CPU with 2 threads, or
on a GPU with `--device cuda` (as `BUMPLAB_DEVICE=cuda` times bumplab there).

The network: 6 inputs, hidden layers [64, 64, 64] with ReLU, one logit (four linear layers),
binary cross-entropy on logits, Adam (lr 1e-3), batch 512, reshuffled every epoch, no
validation; 500 000 synthetic events (standard-normal background, signal shifted by 0.5 in
the first three features), as the Rust benchmark draws them. Then 12 such networks trained one
after another for one epoch, for the ensemble comparison.

Run through `scripts/bench_training.sh`, which also runs the Rust benchmark and prints the
ratios. Prints `pytorch: single epoch=E seconds=S loss=L threads=T` per epoch and
`pytorch: sequential members=12 epoch=1 seconds=S`; on a GPU also `pytorch: together
members=12 epoch=1 seconds=S`, the members trained at once as stacked weights (batched matrix
products), as bumplab's ensembles train.
Usage: bench_training.py [--device cuda] [EVENTS] [EPOCHS] [MEMBERS]   (defaults 500000 3 12)
"""

import sys
import time

import numpy as np
import torch
from torch import nn


def synthetic(n, seed):
    rng = np.random.default_rng(seed)
    label = rng.random(n) < 0.5
    x = rng.standard_normal((n, 6)).astype(np.float32)
    x[label, :3] += 0.5
    return torch.from_numpy(x), torch.from_numpy(label.astype(np.float32))


def network():
    return nn.Sequential(
        nn.Linear(6, 64), nn.ReLU(),
        nn.Linear(64, 64), nn.ReLU(),
        nn.Linear(64, 64), nn.ReLU(),
        nn.Linear(64, 1),
    )


def epoch(model, optimizer, x, y, generator):
    """One pass in shuffled batches of 512: the loop every PyTorch tutorial writes (the loss
    summed on the device, so that a GPU is not stopped after every batch)."""
    loss_fn = nn.BCEWithLogitsLoss()
    order = torch.randperm(len(x), generator=generator, device=generator.device)
    total = torch.zeros((), device=x.device)
    for start in range(0, len(x), 512):
        idx = order[start:start + 512]
        optimizer.zero_grad()
        loss = loss_fn(model(x[idx]).squeeze(1), y[idx])
        loss.backward()
        optimizer.step()
        total += loss.detach() * len(idx)
    return total.item() / len(x)


def stacked(members, device):
    """`members` copies of the network as stacked weights [M, in, out], PyTorch's default
    initialisation for each."""
    params = []
    for fan_in, fan_out in [(6, 64), (64, 64), (64, 64), (64, 1)]:
        bound = 1.0 / fan_in ** 0.5
        w = (torch.rand(members, fan_in, fan_out, device=device) * 2 - 1) * bound
        b = (torch.rand(members, 1, fan_out, device=device) * 2 - 1) * bound
        params += [w.requires_grad_(), b.requires_grad_()]
    return params


def stacked_epoch(params, optimizer, x, y, generator):
    """One pass of every member at once, each in its own shuffled batches of 512."""
    members = params[0].shape[0]
    loss_fn = nn.BCEWithLogitsLoss()
    orders = torch.stack([torch.randperm(len(x), generator=generator, device=generator.device)
                          for _ in range(members)])
    for start in range(0, len(x), 512):
        idx = orders[:, start:start + 512]
        h = x[idx]
        for layer in range(4):
            h = torch.baddbmm(params[2 * layer + 1], h, params[2 * layer])
            if layer < 3:
                h = torch.relu(h)
        optimizer.zero_grad()
        # Summed over members, so that each member's gradient is its own mean loss's.
        loss = loss_fn(h.squeeze(2), y[idx]) * members
        loss.backward()
        optimizer.step()


def main():
    argv = sys.argv[1:]
    device = "cpu"
    if argv[:1] == ["--device"]:
        device, argv = argv[1], argv[2:]
    args = [int(a) for a in argv]
    events = args[0] if len(args) > 0 else 500_000
    epochs = args[1] if len(args) > 1 else 3
    members = args[2] if len(args) > 2 else 12
    gpu = device != "cpu"
    if not gpu:
        torch.set_num_threads(2)
    torch.manual_seed(2)
    x, y = synthetic(events, 1)
    x, y = x.to(device), y.to(device)
    generator = torch.Generator(device=device).manual_seed(3)
    sync = torch.cuda.synchronize if gpu else (lambda: None)

    model = network().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for e in range(epochs):
        sync()
        started = time.perf_counter()
        loss = epoch(model, optimizer, x, y, generator)
        sync()
        seconds = time.perf_counter() - started
        print(f"pytorch: single epoch={e + 1} seconds={seconds:.3f} loss={loss:.5f} "
              f"threads={torch.get_num_threads()} device={device}", flush=True)

    if members == 0:
        return
    sync()
    started = time.perf_counter()
    for _ in range(members):
        model = network().to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        epoch(model, optimizer, x, y, generator)
    sync()
    seconds = time.perf_counter() - started
    print(f"pytorch: sequential members={members} epoch=1 seconds={seconds:.3f}", flush=True)
    if gpu:
        params = stacked(members, device)
        optimizer = torch.optim.Adam(params, lr=1e-3)
        sync()
        started = time.perf_counter()
        stacked_epoch(params, optimizer, x, y, generator)
        sync()
        seconds = time.perf_counter() - started
        print(f"pytorch: together members={members} epoch=1 seconds={seconds:.3f}", flush=True)


if __name__ == "__main__":
    main()
