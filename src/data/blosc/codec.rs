//! The codecs inside a Blosc frame, named by the top three bits of its flags.
//!
//! lz4/lz4hc (raw LZ4 blocks), zlib (RFC 1950 streams) and zstd (frames) use the `lz4`,
//! `flate2` and `zstd` crates polars already builds (from C sources through Cargo for lz4
//! and zstd, miniz_oxide for zlib), so they add nothing to the build.

use super::{BloscError, blosclz};

/// The codec of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// BloscLZ (code 0).
    BloscLz,
    /// LZ4 raw blocks, written by lz4 and lz4hc alike (code 1).
    Lz4,
    /// zlib streams (code 3).
    Zlib,
    /// Zstandard frames (code 4).
    Zstd,
}

/// Decompressor state kept across the streams of a frame.
#[derive(Default)]
pub struct State {
    zstd: Option<zstd::bulk::Decompressor<'static>>,
}

impl Codec {
    /// The codec named by `flags`; `versionlz` is the codec's format version in the header.
    pub fn from_flags(flags: u8, versionlz: u8) -> Result<Codec, BloscError> {
        let codec = match flags >> 5 {
            0 => Codec::BloscLz,
            1 => Codec::Lz4,
            2 => return Err(BloscError::Codec("2 (snappy)".to_string())),
            3 => Codec::Zlib,
            4 => Codec::Zstd,
            other => return Err(BloscError::Codec(format!("{other} (unknown)"))),
        };
        if versionlz != 1 {
            return Err(BloscError::Header(format!(
                "{codec:?} format version {versionlz} (Blosc 1 writes 1)"
            )));
        }
        Ok(codec)
    }

    /// Decompresses `input` into `out`, returning the number of bytes written.
    pub fn decompress(
        self,
        input: &[u8],
        out: &mut [u8],
        state: &mut State,
    ) -> Result<usize, String> {
        match self {
            Codec::BloscLz => blosclz::decompress(input, out),
            Codec::Lz4 => {
                let size = i32::try_from(out.len()).map_err(|_| "block too large".to_string())?;
                lz4::block::decompress_to_buffer(input, Some(size), out)
                    .map_err(|e| format!("lz4: {e}"))
            }
            Codec::Zlib => {
                let mut inflate = flate2::Decompress::new(true);
                match inflate.decompress(input, out, flate2::FlushDecompress::Finish) {
                    Ok(flate2::Status::StreamEnd) => Ok(inflate.total_out() as usize),
                    Ok(_) => Err("zlib: the stream does not end where the block does".to_string()),
                    Err(e) => Err(format!("zlib: {e}")),
                }
            }
            Codec::Zstd => {
                let decompressor = match &mut state.zstd {
                    Some(d) => d,
                    slot => slot
                        .insert(zstd::bulk::Decompressor::new().map_err(|e| format!("zstd: {e}"))?),
                };
                decompressor
                    .decompress_to_buffer(input, out)
                    .map_err(|e| format!("zstd: {e}"))
            }
        }
    }
}
