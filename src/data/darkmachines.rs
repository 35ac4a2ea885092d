//! Reader for the Dark Machines challenge CSV files (being written).
