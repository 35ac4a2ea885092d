//! Figures (PNG and SVG, fonts embedded in the binary) in one house style.
