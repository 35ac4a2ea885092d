//! Decoder of Blosc 1 frames, the payload of HDF5 filter 32001 that PyTables (and so pandas
//! `to_hdf(complib="blosc:...")`) writes.
//!
//! A frame is a 16-byte header (format version, codec version, flags, type size, `nbytes`,
//! block size, `cbytes`, integers little endian), then either the `nbytes` bytes stored as
//! they are (flag 0x02) or a table of the blocks' start offsets (from the frame's start)
//! followed by the blocks. A block is one compressed stream, or, when the frame does not say
//! otherwise (flag 0x10) and the type size is at most 16 with at least 128 elements per block
//! and the block is not the short last one, `typesize` streams of `blocksize / typesize`
//! bytes each. Every stream is preceded by its compressed length; a length equal to the
//! stream's size means stored raw. After decompression a block is byte-unshuffled (flag 0x01)
//! or bit-unshuffled (flag 0x04), see [`shuffle`]. The codec is named by the flags' top three
//! bits: blosclz (0, [`blosclz`]), lz4 and lz4hc (1), zlib (3) and zstd (4); snappy (2) is
//! not decoded (PyTables does not offer it).
//!
//! Every length and offset is checked against the frame and the size the caller expects
//! before anything is allocated; a damaged frame is a [`BloscError`], never a panic.

mod blosclz;
mod codec;
pub mod shuffle;

use thiserror::Error;

/// Header length of a Blosc 1 frame.
const HEADER: usize = 16;
/// Frame flag: the block was byte-shuffled.
const BYTE_SHUFFLE: u8 = 0x01;
/// Frame flag: the data are stored without compression after the header.
const MEMCPYED: u8 = 0x02;
/// Frame flag: the block was bit-shuffled.
const BIT_SHUFFLE: u8 = 0x04;
/// Frame flag reserved by the format; set only by a damaged frame.
const RESERVED: u8 = 0x08;
/// Frame flag: blocks are never split into one stream per byte of the type.
const DONT_SPLIT: u8 = 0x10;
/// Largest type size whose blocks are split into one stream per byte.
const MAX_SPLITS: usize = 16;
/// Fewest elements per block for the block to be split.
const MIN_SPLIT_ELEMENTS: usize = 128;

/// What is wrong with a Blosc frame.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BloscError {
    /// The frame is shorter than its header or than its `cbytes` field says.
    #[error("blosc frame of {len} bytes is truncated: {what}")]
    Truncated {
        /// The frame's length in bytes.
        len: usize,
        /// What did not fit.
        what: String,
    },
    /// A header field has a value the format does not allow.
    #[error("blosc header is damaged: {0}")]
    Header(String),
    /// The frame decodes to a size other than the one the dataset's chunk has.
    #[error("blosc frame holds {found} bytes, but the chunk has {expected}")]
    Size {
        /// The frame's `nbytes`.
        found: usize,
        /// The chunk's size in bytes.
        expected: usize,
    },
    /// The frame uses a codec this decoder does not have.
    #[error("blosc codec {0} is not supported (blosclz, lz4, lz4hc, zlib and zstd are)")]
    Codec(String),
    /// A block's stream is damaged.
    #[error("blosc block {block}: {what}")]
    Block {
        /// The block's index in the frame.
        block: usize,
        /// What is wrong.
        what: String,
    },
}

/// Decodes the Blosc frame `frame`, which must hold exactly `expected` bytes of data.
///
/// # Errors
/// [`BloscError`] when the frame is truncated or damaged, holds another size than
/// `expected`, or uses a codec other than blosclz, lz4/lz4hc, zlib or zstd.
pub fn decompress(frame: &[u8], expected: usize) -> Result<Vec<u8>, BloscError> {
    let header = Header::parse(frame)?;
    if header.nbytes != expected {
        return Err(BloscError::Size {
            found: header.nbytes,
            expected,
        });
    }
    let frame = &frame[..header.cbytes];
    if header.flags & MEMCPYED != 0 {
        return frame
            .get(HEADER..HEADER + expected)
            .filter(|_| header.cbytes == HEADER + expected)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| {
                BloscError::Header(format!(
                    "a stored (memcpyed) frame of {expected} bytes has cbytes {}",
                    header.cbytes
                ))
            });
    }
    let codec = codec::Codec::from_flags(header.flags, header.versionlz)?;
    let mut out = vec![0u8; expected];
    if expected == 0 {
        return Ok(out);
    }
    let blocks = expected.div_ceil(header.blocksize);
    let starts_end = blocks
        .checked_mul(4)
        .and_then(|n| n.checked_add(HEADER))
        .filter(|&end| end <= frame.len())
        .ok_or_else(|| BloscError::Truncated {
            len: frame.len(),
            what: format!("its table of {blocks} block starts does not fit"),
        })?;
    let mut scratch = vec![0u8; header.blocksize.min(expected)];
    let mut state = codec::State::default();
    for (block, out) in out.chunks_mut(header.blocksize).enumerate() {
        let at = HEADER + 4 * block;
        let start = read_u32(frame, at) as usize;
        if start < starts_end || start >= frame.len() {
            return Err(BloscError::Block {
                block,
                what: format!(
                    "its start {start} lies outside the frame's data ({starts_end}..{})",
                    frame.len()
                ),
            });
        }
        let shuffled = (header.flags & BYTE_SHUFFLE != 0 && header.typesize > 1)
            || header.flags & BIT_SHUFFLE != 0;
        let target = if shuffled {
            &mut scratch[..out.len()]
        } else {
            &mut *out
        };
        header
            .decode_block(frame, start, target, codec, &mut state)
            .map_err(|what| BloscError::Block { block, what })?;
        if header.flags & BYTE_SHUFFLE != 0 && header.typesize > 1 {
            shuffle::unshuffle(header.typesize, &scratch[..out.len()], out);
        } else if header.flags & BIT_SHUFFLE != 0 {
            shuffle::bit_unshuffle(header.typesize, &scratch[..out.len()], out);
        }
    }
    Ok(out)
}

/// The fields of a frame's header.
#[derive(Debug, Clone, Copy)]
struct Header {
    versionlz: u8,
    flags: u8,
    typesize: usize,
    nbytes: usize,
    blocksize: usize,
    cbytes: usize,
}

impl Header {
    /// Reads and checks the header of `frame`.
    fn parse(frame: &[u8]) -> Result<Header, BloscError> {
        if frame.len() < HEADER {
            return Err(BloscError::Truncated {
                len: frame.len(),
                what: "shorter than the 16-byte header".to_string(),
            });
        }
        let header = Header {
            versionlz: frame[1],
            flags: frame[2],
            typesize: frame[3].into(),
            nbytes: read_u32(frame, 4) as usize,
            blocksize: read_u32(frame, 8) as usize,
            cbytes: read_u32(frame, 12) as usize,
        };
        let version = frame[0];
        if !(1..=2).contains(&version) {
            return Err(BloscError::Header(format!(
                "format version {version} (Blosc 1 writes 1 or 2)"
            )));
        }
        if header.flags & RESERVED != 0 {
            return Err(BloscError::Header(format!(
                "flags {:#04x} set the reserved bit 0x08",
                header.flags
            )));
        }
        if header.typesize == 0 {
            return Err(BloscError::Header("type size 0".to_string()));
        }
        if header.nbytes > 0 && header.blocksize == 0 {
            return Err(BloscError::Header("block size 0".to_string()));
        }
        if header.cbytes < HEADER || header.cbytes > frame.len() {
            return Err(BloscError::Truncated {
                len: frame.len(),
                what: format!("its header says {} bytes (cbytes)", header.cbytes),
            });
        }
        Ok(header)
    }

    /// Decodes the block whose streams start at `start` of `frame` into `out` (the block's
    /// size), as one stream or as one stream per byte of the type.
    fn decode_block(
        &self,
        frame: &[u8],
        mut start: usize,
        out: &mut [u8],
        codec: codec::Codec,
        state: &mut codec::State,
    ) -> Result<(), String> {
        let last_short = out.len() < self.blocksize;
        let split = self.flags & DONT_SPLIT == 0
            && self.typesize <= MAX_SPLITS
            && out.len() / self.typesize >= MIN_SPLIT_ELEMENTS
            && !last_short;
        let streams = if split { self.typesize } else { 1 };
        if !out.len().is_multiple_of(streams) {
            return Err(format!(
                "{} bytes do not split into {streams} streams (the type size)",
                out.len()
            ));
        }
        let size = out.len() / streams;
        for (index, part) in out.chunks_exact_mut(size).enumerate() {
            let length = frame
                .get(start..start + 4)
                .map(|_| read_u32(frame, start) as usize)
                .ok_or_else(|| format!("stream {index}: its length lies past the frame's end"))?;
            start += 4;
            let data = start
                .checked_add(length)
                .and_then(|end| frame.get(start..end))
                .ok_or_else(|| {
                    format!(
                        "stream {index}: its {length} bytes run past the frame's end ({})",
                        frame.len()
                    )
                })?;
            start += length;
            if length == size {
                part.copy_from_slice(data);
                continue;
            }
            let found = codec
                .decompress(data, part, state)
                .map_err(|e| format!("stream {index}: {e}"))?;
            if found != size {
                return Err(format!(
                    "stream {index} decodes to {found} bytes instead of {size}"
                ));
            }
        }
        Ok(())
    }
}

/// The little-endian `u32` at `at` of `bytes` (the caller checked the range).
fn read_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame with the given flags (codec in the top bits), type size, sizes and body
    /// (block starts and streams); `cbytes` is the frame's length.
    fn frame(flags: u8, typesize: u8, nbytes: u32, blocksize: u32, body: &[u8]) -> Vec<u8> {
        let cbytes = (HEADER + body.len()) as u32;
        let mut out = vec![2, 1, flags, typesize];
        for field in [nbytes, blocksize, cbytes] {
            out.extend(field.to_le_bytes());
        }
        out.extend(body);
        out
    }

    fn le(values: &[u32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    #[test]
    fn a_stored_frame_is_its_bytes() {
        let f = frame(MEMCPYED, 1, 3, 3, b"xyz");
        assert_eq!(decompress(&f, 3).unwrap(), b"xyz");
    }

    #[test]
    fn blocks_short_last_block_and_byte_shuffle() {
        // Two elements of 2 bytes per block, then a short block of one element; every
        // stream stored raw (its length equals its size), byte-shuffled.
        let mut body = le(&[24, 32]);
        body.extend(le(&[4]));
        body.extend([1, 3, 2, 4]);
        body.extend(le(&[2]));
        body.extend([5, 6]);
        let f = frame(BYTE_SHUFFLE, 2, 6, 4, &body);
        assert_eq!(decompress(&f, 6).unwrap(), [1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn a_block_of_128_elements_is_split_into_one_stream_per_byte() {
        // 128 elements of 2 bytes, byte-shuffled: two streams, the low bytes then the high
        // bytes. The first in blosclz: a literal 9, a run of 9 + 117 more, a literal 9 (128
        // bytes of 9); the second stored raw.
        let mut body = le(&[20, 7]);
        body.extend([0x00, 9, 0xE0, 117, 0, 0x00, 9]);
        body.extend(le(&[128]));
        body.extend(0..128u8);
        let f = frame(BYTE_SHUFFLE, 2, 256, 256, &body);
        let want: Vec<u8> = (0..128u8).flat_map(|i| [9, i]).collect();
        assert_eq!(decompress(&f, 256).unwrap(), want);
    }

    #[test]
    fn damaged_frames_are_errors() {
        let good = frame(MEMCPYED, 1, 3, 3, b"xyz");
        assert!(matches!(
            decompress(&good[..10], 3),
            Err(BloscError::Truncated { .. })
        ));
        assert!(matches!(
            decompress(&good, 4),
            Err(BloscError::Size {
                found: 3,
                expected: 4
            })
        ));
        let mut cbytes_long = good.clone();
        cbytes_long[12] = 40;
        assert!(matches!(
            decompress(&cbytes_long, 3),
            Err(BloscError::Truncated { .. })
        ));
        let mut reserved = good.clone();
        reserved[2] |= RESERVED;
        assert!(matches!(
            decompress(&reserved, 3),
            Err(BloscError::Header(_))
        ));
        for code in [2u8, 5, 7] {
            let f = frame(code << 5, 1, 4, 4, &le(&[20, 4]));
            assert!(
                matches!(decompress(&f, 4), Err(BloscError::Codec(_))),
                "code {code}"
            );
        }
        // A block start outside the frame, a stream running past it, a stream of 3 bytes
        // for a block of 4.
        let f = frame(0, 1, 4, 4, &le(&[99, 4]));
        assert!(matches!(
            decompress(&f, 4),
            Err(BloscError::Block { block: 0, .. })
        ));
        let f = frame(0, 1, 4, 4, &[le(&[20, 9]), vec![1, 2]].concat());
        assert!(matches!(
            decompress(&f, 4),
            Err(BloscError::Block { block: 0, .. })
        ));
        let f = frame(0, 1, 4, 4, &[le(&[20, 3]), vec![0x01, 1, 2]].concat());
        assert!(matches!(
            decompress(&f, 4),
            Err(BloscError::Block { block: 0, .. })
        ));
        // Too many blocks for the frame to hold their starts.
        let f = frame(0, 1, 4000, 1, &le(&[20]));
        assert!(matches!(
            decompress(&f, 4000),
            Err(BloscError::Truncated { .. })
        ));
    }
}
