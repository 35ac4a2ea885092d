//! The dijet background fit (being written).
