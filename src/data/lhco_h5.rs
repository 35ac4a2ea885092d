//! Reader for the LHC Olympics HDF5 files written by pandas (being written).
