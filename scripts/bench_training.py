#!/usr/bin/env python3
"""Times PyTorch training the network of `benches/training.rs` on the CPU with 2 threads.

The network: 6 inputs, hidden layers [64, 64, 64] with ReLU, one logit (four linear layers),
binary cross-entropy on logits, Adam (lr 1e-3), batch 512, reshuffled every epoch, no
validation; 500 000 synthetic events (standard-normal background, signal shifted by 0.5 in
the first three features), as the Rust benchmark draws them. Then 12 such networks trained one
after another for one epoch, for the ensemble comparison.

Run through `scripts/bench_training.sh`, which also runs the Rust benchmark and prints the
ratios. Prints `pytorch: single epoch=E seconds=S loss=L threads=T` per epoch and
`pytorch: sequential members=12 epoch=1 seconds=S`.
Usage: bench_training.py [EVENTS] [EPOCHS] [MEMBERS]   (defaults 500000 3 12)
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
    """One pass in shuffled batches of 512: the loop every PyTorch tutorial writes."""
    loss_fn = nn.BCEWithLogitsLoss()
    order = torch.randperm(len(x), generator=generator)
    total = 0.0
    for start in range(0, len(x), 512):
        idx = order[start:start + 512]
        optimizer.zero_grad()
        loss = loss_fn(model(x[idx]).squeeze(1), y[idx])
        loss.backward()
        optimizer.step()
        total += loss.item() * len(idx)
    return total / len(x)


def main():
    args = [int(a) for a in sys.argv[1:]]
    events = args[0] if len(args) > 0 else 500_000
    epochs = args[1] if len(args) > 1 else 3
    members = args[2] if len(args) > 2 else 12
    torch.set_num_threads(2)
    torch.manual_seed(2)
    x, y = synthetic(events, 1)
    generator = torch.Generator().manual_seed(3)

    model = network()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for e in range(epochs):
        started = time.perf_counter()
        loss = epoch(model, optimizer, x, y, generator)
        seconds = time.perf_counter() - started
        print(f"pytorch: single epoch={e + 1} seconds={seconds:.3f} loss={loss:.5f} "
              f"threads={torch.get_num_threads()}", flush=True)

    if members == 0:
        return
    started = time.perf_counter()
    for _ in range(members):
        model = network()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        epoch(model, optimizer, x, y, generator)
    seconds = time.perf_counter() - started
    print(f"pytorch: sequential members={members} epoch=1 seconds={seconds:.3f}", flush=True)


if __name__ == "__main__":
    main()
