//! Dark-Machines-like object-level generator (being written).
