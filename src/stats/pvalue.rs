//! Local p-values of counting experiments (being written).
