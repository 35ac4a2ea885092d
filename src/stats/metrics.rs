//! Performance metrics of a selection (being written).
