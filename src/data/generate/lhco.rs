//! LHC-Olympics-like dijet generator (being written).
