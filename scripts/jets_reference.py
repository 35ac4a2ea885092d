#!/usr/bin/env python3
"""Reference jets and N-subjettiness from FastJet 3 for `tests/jets_reference.rs`.

Run from the repository root (the environment is made by scripts/jets-env):

    "$(scripts/jets-env)/python" scripts/jets_reference.py

Writes `tests/fixtures/jets/reference.json`: physics-like events (massless particles from
pT, eta, phi in two hard sprays plus soft background, 20 to 700 particles, some sprays
across phi = 0) and edge cases (1 and 2 particles, a particle along the beam, equal-distance
grids, duplicated particles), each as px, py, pz, E rounded to 9 significant digits (what
FastJet is given, so the JSON stays small and the inputs are exact). For every event it stores what FastJet 3.5.2
(the scikit-hep wheel) gives:

- inclusive jets (px, py, pz, E, pT-ordered, pT >= 5 or all for the edge cases) for anti-kT
  R = 1.0 and 0.4, kT R = 0.6, Cambridge/Aachen R = 0.8;
- exclusive kT jets (R = 1.0) for n = 1..3 and for dcut = 100 and 1e4;
- for the two leading anti-kT R = 1.0 jets: their constituents (input indices), their two
  exclusive subjets from the anti-kT history, the kT exclusive axes of their constituents
  (kT with R = 1000, as fjcontrib's KT_Axes) for N = 1..3, and tau_1..tau_3 (beta = 1,
  unnormalised: sum_k pT_k min_j dR_kj, dR in rapidity-phi) with those axes and with
  Cambridge/Aachen exclusive axes (fjcontrib's CA_Axes), plus the normalisation
  sum_k pT_k (R0 = 1).

The wheel has no fjcontrib, so tau_N is computed here in NumPy from FastJet's exclusive axes
and FastJet's own rapidity and phi of every particle and axis.
"""

import json
import math
import os

import fastjet
import numpy as np

OUT = os.path.join("tests", "fixtures", "jets", "reference.json")


def massless(pt, eta, phi):
    """px, py, pz, E of massless particles."""
    return np.stack([pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), pt * np.cosh(eta)], axis=1)


def physics_event(rng, n, wrap):
    """Two hard sprays (pT ~ 1 TeV jets) and soft background: n particles."""
    n_soft = n // 3
    n_hard = n - n_soft
    n1 = n_hard // 2
    n2 = n_hard - n1
    phi1 = 0.05 if wrap else rng.uniform(0, 2 * np.pi)
    phi2 = phi1 + np.pi + rng.normal(0, 0.3)
    eta1, eta2 = rng.normal(0, 1.0, 2)
    parts = []
    for m, eta0, phi0, ptj in [(n1, eta1, phi1, 1200.0), (n2, eta2, phi2, 1000.0)]:
        # Two or three prongs per spray, as boosted decays give.
        prongs = rng.integers(1, 4)
        centres = [(eta0 + rng.normal(0, 0.25), phi0 + rng.normal(0, 0.25)) for _ in range(prongs)]
        which = rng.integers(0, prongs, m)
        eta = np.array([centres[w][0] for w in which]) + rng.normal(0, 0.12, m)
        phi = np.array([centres[w][1] for w in which]) + rng.normal(0, 0.12, m)
        pt = rng.exponential(1.0, m)
        pt *= ptj / pt.sum()
        parts.append((pt, eta, phi))
    pt = rng.exponential(1.5, n_soft)
    eta = rng.uniform(-4.0, 4.0, n_soft)
    phi = rng.uniform(0.0, 2 * np.pi, n_soft)
    parts.append((pt, eta, phi))
    pt, eta, phi = (np.concatenate(x) for x in zip(*parts))
    phi = np.mod(phi, 2 * np.pi)
    return massless(pt, eta, phi)


def edge_events():
    """Small hand-made cases: (name, four-momenta)."""
    out = []
    out.append(("one particle", massless(np.array([50.0]), np.array([0.5]), np.array([1.0]))))
    out.append(("two close", massless(np.array([50.0, 20.0]), np.array([0.0, 0.3]), np.array([0.1, 6.2]))))
    out.append(("two apart", massless(np.array([50.0, 20.0]), np.array([0.0, 0.3]), np.array([0.1, 3.0]))))
    # An equal-pT grid with spacing 0.5: many equal distances.
    g = np.arange(4) * 0.5
    eta, phi = np.meshgrid(g, g + 1.0)
    out.append(("grid", massless(np.full(16, 10.0), eta.ravel(), phi.ravel())))
    # The same particle twice (zero distance) next to another one.
    out.append(("duplicates", massless(np.array([30.0, 30.0, 5.0]), np.array([1.0, 1.0, 1.2]), np.array([2.0, 2.0, 2.1]))))
    # A particle along the beam (pT = 0) among ordinary ones.
    beam = np.array([[0.0, 0.0, 40.0, 40.0]])
    rest = massless(np.array([30.0, 12.0, 7.0]), np.array([2.0, 2.4, -1.0]), np.array([0.5, 0.7, 4.0]))
    out.append(("beam particle", np.concatenate([beam, rest])))
    return out


def rounded(p4):
    """Four-momenta rounded to 9 significant digits (the JSON stays small, and the inputs
    are exactly what FastJet clustered)."""
    return np.array([[float(f"{v:.9g}") for v in row] for row in p4])


def pseudojets(p4):
    out = []
    for i, (px, py, pz, e) in enumerate(p4):
        pj = fastjet.PseudoJet(float(px), float(py), float(pz), float(e))
        pj.set_user_index(i)
        out.append(pj)
    return out


def four(j):
    """A jet's px, py, pz, E to 13 significant digits (far below the tests' tolerances)."""
    return [float(f"{v:.13g}") for v in (j.px(), j.py(), j.pz(), j.E())]


def taus(constituents, axes_def):
    """tau_1..3 (beta = 1, unnormalised) and the axes, with exclusive axes of axes_def."""
    pt = np.array([c.perp() for c in constituents])
    rap = np.array([c.rap() for c in constituents])
    phi = np.array([c.phi() for c in constituents])
    cs = fastjet.ClusterSequence(list(constituents), axes_def)
    out, axes_out = [], []
    for n in (1, 2, 3):
        if len(constituents) <= n:
            out.append(0.0)
            axes_out.append(None)
            continue
        axes = cs.exclusive_jets(n)
        arap = np.array([a.rap() for a in axes])
        aphi = np.array([a.phi() for a in axes])
        dphi = np.pi - np.abs(np.pi - np.abs(phi[:, None] - aphi[None, :]))
        dr = np.sqrt((rap[:, None] - arap[None, :]) ** 2 + dphi**2)
        out.append(float(np.sum(pt * dr.min(axis=1))))
        axes_out.append(sorted((four(a) for a in axes), key=lambda v: -(v[0] ** 2 + v[1] ** 2)))
    return out, axes_out


def event_record(name, p4):
    p4 = rounded(p4)
    parts = pseudojets(p4)
    rec = {"name": name, "particles": p4.tolist(), "inclusive": [], "exclusive": [], "jets": []}
    ptmin = 0.0 if name != "physics" else 5.0
    for alg, algname, r in [
        (fastjet.antikt_algorithm, "antikt", 1.0),
        (fastjet.antikt_algorithm, "antikt", 0.4),
        (fastjet.kt_algorithm, "kt", 0.6),
        (fastjet.cambridge_algorithm, "ca", 0.8),
    ]:
        cs = fastjet.ClusterSequence(parts, fastjet.JetDefinition(alg, r))
        jets = fastjet.sorted_by_pt(cs.inclusive_jets(ptmin))
        rec["inclusive"].append({"algorithm": algname, "r": r, "ptmin": ptmin, "jets": [four(j) for j in jets]})
    cs = fastjet.ClusterSequence(parts, fastjet.JetDefinition(fastjet.kt_algorithm, 1.0))
    for n in (1, 2, 3):
        if n <= len(parts):
            jets = fastjet.sorted_by_pt(cs.exclusive_jets(int(n)))
            rec["exclusive"].append({"n": n, "jets": [four(j) for j in jets]})
    for dcut in (100.0, 1e4):
        jets = fastjet.sorted_by_pt(cs.exclusive_jets(float(dcut)))
        rec["exclusive"].append({"dcut": dcut, "jets": [four(j) for j in jets]})
    cs = fastjet.ClusterSequence(parts, fastjet.JetDefinition(fastjet.antikt_algorithm, 1.0))
    kt_axes = fastjet.JetDefinition(fastjet.kt_algorithm, 1000.0)
    ca_axes = fastjet.JetDefinition(fastjet.cambridge_algorithm, 1000.0)
    for jet in fastjet.sorted_by_pt(cs.inclusive_jets(0.0))[:2]:
        consts = jet.constituents()
        tau_kt, axes_kt = taus(consts, kt_axes)
        tau_ca, _ = taus(consts, ca_axes)
        sub = fastjet.sorted_by_pt(cs.exclusive_subjets(jet, 2)) if len(consts) >= 2 else []
        rec["jets"].append({
            "p4": four(jet),
            "mass": jet.m(),
            "constituents": sorted(c.user_index() for c in consts),
            "subjets2": [four(s) for s in sub],
            "kt_axes": axes_kt,
            "tau_kt": tau_kt,
            "tau_ca": tau_ca,
            "pt_sum": float(sum(c.perp() for c in consts)),
        })
    return rec


def main():
    rng = np.random.default_rng(20261119)
    events = [event_record(name, p4) for name, p4 in edge_events()]
    sizes = [20, 50, 100, 200] * 30 + [400] * 8 + [700] * 8
    for i, n in enumerate(sizes):
        events.append(event_record("physics", physics_event(rng, n, wrap=(i % 5 == 0))))
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump({"fastjet": fastjet.__version__, "events": events}, f, separators=(",", ":"))
    print(f"wrote {OUT}: {len(events)} events")


if __name__ == "__main__":
    main()
