//! The inverse of Blosc's byte shuffle and bit shuffle of one block.
//!
//! Byte shuffle stores, for a block of `n = len / typesize` elements, byte 0 of every
//! element, then byte 1 of every element, and so on; the `len % typesize` trailing bytes are
//! left in place.
//!
//! Bit shuffle (the bitshuffle algorithm as c-blosc 1 applies it) stores `8 * typesize` rows
//! of `n` bits: row `8 * j + b` holds bit `b` of byte `j` of every element, element `i` at bit
//! `i % 8` of the row's byte `i / 8`. c-blosc bit-shuffles only the first `n` elements when
//! `n` is a multiple of 8, the trailing `len % typesize` bytes staying in place; a block
//! whose element count is not a multiple of 8 is stored as it is.

/// Undoes the byte shuffle of a block: `src` shuffled, `dest` the same length.
pub fn unshuffle(typesize: usize, src: &[u8], dest: &mut [u8]) {
    let elements = src.len() / typesize;
    let body = elements * typesize;
    if typesize <= 1 || elements == 0 {
        dest.copy_from_slice(src);
        return;
    }
    for (byte, plane) in src[..body].chunks_exact(elements).enumerate() {
        for (element, &value) in plane.iter().enumerate() {
            dest[element * typesize + byte] = value;
        }
    }
    dest[body..].copy_from_slice(&src[body..]);
}

/// Undoes the bit shuffle of a block: `src` shuffled, `dest` the same length.
pub fn bit_unshuffle(typesize: usize, src: &[u8], dest: &mut [u8]) {
    let elements = src.len() / typesize;
    if typesize == 0 || !elements.is_multiple_of(8) {
        dest.copy_from_slice(src);
        return;
    }
    let body = elements * typesize;
    let row = elements / 8;
    for byte in 0..typesize {
        for group in 0..row {
            // Eight rows (bits 0..8 of `byte`), one byte each: the bits of 8 elements.
            let mut word = 0u64;
            for bit in 0..8 {
                word |= u64::from(src[(8 * byte + bit) * row + group]) << (8 * bit);
            }
            let word = transpose_8x8(word);
            for element in 0..8 {
                dest[(8 * group + element) * typesize + byte] = (word >> (8 * element)) as u8;
            }
        }
    }
    dest[body..].copy_from_slice(&src[body..]);
}

/// Transposes the 8x8 bit matrix held in `x` (row `r` = byte `r`, column `c` = bit `c`):
/// bit `c` of byte `r` becomes bit `r` of byte `c`.
fn transpose_8x8(mut x: u64) -> u64 {
    // Swap the off-diagonal 1x1, then 2x2, then 4x4 sub-blocks.
    let t = (x ^ (x >> 7)) & 0x00AA_00AA_00AA_00AA;
    x ^= t ^ (t << 7);
    let t = (x ^ (x >> 14)) & 0x0000_CCCC_0000_CCCC;
    x ^= t ^ (t << 14);
    let t = (x ^ (x >> 28)) & 0x0000_0000_F0F0_F0F0;
    x ^ t ^ (t << 28)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Byte shuffle written from its definition, to check the inverse against.
    fn shuffle(typesize: usize, src: &[u8]) -> Vec<u8> {
        let n = src.len() / typesize;
        let mut out = src.to_vec();
        for i in 0..n {
            for j in 0..typesize {
                out[j * n + i] = src[i * typesize + j];
            }
        }
        out
    }

    /// Bit shuffle written bit by bit from its definition.
    fn bit_shuffle(typesize: usize, src: &[u8]) -> Vec<u8> {
        let n = src.len() / typesize;
        let mut out = src.to_vec();
        if !n.is_multiple_of(8) {
            return out;
        }
        out[..n * typesize].fill(0);
        for i in 0..n {
            for j in 0..typesize {
                for b in 0..8 {
                    let bit = (src[i * typesize + j] >> b) & 1;
                    let row = 8 * j + b;
                    out[row * (n / 8) + i / 8] |= bit << (i % 8);
                }
            }
        }
        out
    }

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 37 + i / 7 * 11) as u8).collect()
    }

    #[test]
    fn unshuffle_inverts_the_byte_shuffle_with_a_remainder() {
        for (typesize, len) in [(1, 9), (2, 17), (8, 64), (8, 67), (15, 128), (128, 1000)] {
            let original = data(len);
            let mut back = vec![0; len];
            unshuffle(typesize, &shuffle(typesize, &original), &mut back);
            assert_eq!(back, original, "typesize {typesize}, {len} bytes");
        }
    }

    #[test]
    fn bit_unshuffle_inverts_the_bit_shuffle() {
        for (typesize, len) in [(1, 64), (4, 32), (8, 128), (8, 133), (3, 49), (128, 2048)] {
            let original = data(len);
            let mut back = vec![0; len];
            bit_unshuffle(typesize, &bit_shuffle(typesize, &original), &mut back);
            assert_eq!(back, original, "typesize {typesize}, {len} bytes");
        }
    }

    #[test]
    fn a_block_of_a_count_not_a_multiple_of_eight_is_left_as_stored() {
        let stored = data(8 * 7 + 3);
        let mut back = vec![0; stored.len()];
        bit_unshuffle(8, &stored, &mut back);
        assert_eq!(back, stored);
    }

    #[test]
    fn transpose_moves_bit_c_of_byte_r_to_bit_r_of_byte_c() {
        for r in 0..8 {
            for c in 0..8 {
                let x = 1u64 << (8 * r + c);
                assert_eq!(transpose_8x8(x), 1u64 << (8 * c + r), "r {r} c {c}");
            }
        }
    }
}
