//! Event encodings for the object-level models (being written).
