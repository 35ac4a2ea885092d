//! Decoder of BloscLZ, Blosc's own LZ77 codec (a FastLZ variant).
//!
//! A stream is a sequence of instructions, each starting with a control byte (the first
//! control byte keeps only its low five bits):
//! - below 32: a literal run of `ctrl + 1` bytes copied from the input;
//! - otherwise a match: length code `ctrl >> 5` (7 means "more": add following bytes while
//!   they are 255, and the first one that is not), high distance bits `ctrl & 31`, then one
//!   low distance byte. The match copies `length code + 2` bytes (long form: `9 + sum`) from
//!   `(high << 8) + low + 1` bytes back; when the low byte is 255 and the high bits are all
//!   set, two more bytes (big endian) give a far distance of `value + 8192`.
//!
//! Matches may overlap the bytes they produce (a run repeats its last bytes).

/// The distance the short form cannot reach; far matches count from it.
const MAX_DISTANCE: usize = 8191;

/// Decodes `input` into `out`, returning the number of bytes written.
///
/// # Errors
/// A description when the stream runs past its input, writes past `out`, or refers to
/// bytes before the start of the output.
pub fn decompress(input: &[u8], out: &mut [u8]) -> Result<usize, String> {
    let Some(&first) = input.first() else {
        return Ok(0);
    };
    let mut ctrl = usize::from(first & 31);
    let mut ip = 1;
    let mut op = 0;
    loop {
        if ctrl < 32 {
            let run = ctrl + 1;
            let source = input
                .get(ip..ip + run)
                .ok_or("a literal run reaches past the end of the stream")?;
            out.get_mut(op..op + run)
                .ok_or("a literal run writes past the end of the block")?
                .copy_from_slice(source);
            ip += run;
            op += run;
        } else {
            let byte = |ip: usize| {
                input
                    .get(ip)
                    .copied()
                    .map(usize::from)
                    .ok_or("a match reaches past the end of the stream")
            };
            let mut len = (ctrl >> 5) - 1;
            let high = (ctrl & 31) << 8;
            if len == 6 {
                loop {
                    let code = byte(ip)?;
                    ip += 1;
                    len += code;
                    if code != 255 {
                        break;
                    }
                }
            }
            let low = byte(ip)?;
            ip += 1;
            len += 3;
            let mut distance = high + low + 1;
            if low == 255 && high == 31 << 8 {
                distance = (byte(ip)? << 8) + byte(ip + 1)? + MAX_DISTANCE + 1;
                ip += 2;
            }
            if distance > op {
                return Err(format!(
                    "a match refers {distance} bytes back from byte {op} of the block"
                ));
            }
            if op + len > out.len() {
                return Err("a match writes past the end of the block".to_string());
            }
            copy_match(out, op, distance, len);
            op += len;
        }
        let Some(&next) = input.get(ip) else {
            return Ok(op);
        };
        ctrl = usize::from(next);
        ip += 1;
    }
}

/// Copies `len` bytes from `distance` bytes back to `op` in `out`, byte by byte where the
/// source overlaps the destination (the caller checked both ranges).
fn copy_match(out: &mut [u8], op: usize, distance: usize, len: usize) {
    let from = op - distance;
    if distance == 1 {
        let value = out[from];
        out[op..op + len].fill(value);
    } else if distance >= len {
        out.copy_within(from..from + len, op);
    } else {
        // The overlap repeats the last `distance` bytes: copy in pieces that do not overlap.
        let mut done = 0;
        while done < len {
            let step = distance.min(len - done);
            out.copy_within(from + done..from + done + step, op + done);
            done += step;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(input: &[u8], size: usize) -> Result<Vec<u8>, String> {
        let mut out = vec![0; size];
        let n = decompress(input, &mut out)?;
        out.truncate(n);
        Ok(out)
    }

    #[test]
    fn literals_then_a_short_match_then_a_run() {
        // "abc" literal (ctrl 2, first byte keeps its low bits only: 0x22 -> 2), then a
        // match of length 3 (code 1) 3 bytes back (low byte 2), then a run: length 4 (code 2),
        // distance 1, then one literal "z".
        let input = [0x22, b'a', b'b', b'c', 0x20, 2, 0x40, 0, 0, b'z'];
        assert_eq!(decode(&input, 64).unwrap(), b"abcabcccccz");
    }

    #[test]
    fn a_long_match_adds_its_length_bytes() {
        // One literal, then a run of 9 + 255 + 1 = 265 bytes of it.
        let input = [0x00, b'x', 0xE0, 255, 1, 0, 0, b'y'];
        let out = decode(&input, 300).unwrap();
        assert_eq!(out.len(), 1 + 265 + 1);
        assert!(out[..266].iter().all(|&b| b == b'x') && out[266] == b'y');
    }

    #[test]
    fn a_far_match_counts_from_8192() {
        // 8200 literal bytes in runs of 32, then a match of 3 bytes from 8192 + 5 back.
        let mut input = Vec::new();
        let mut expected = Vec::new();
        for run in 0..257 {
            input.push(31);
            let bytes: Vec<u8> = (0..32).map(|i| (run * 7 + i) as u8).collect();
            input.extend(&bytes);
            expected.extend(&bytes);
        }
        input[0] &= 31;
        input.extend([0x3F, 255, 0, 5, 0, b'.']);
        let from = expected.len() - (8192 + 5);
        expected.extend_from_within(from..from + 3);
        expected.push(b'.');
        assert_eq!(decode(&input, expected.len()).unwrap(), expected);
    }

    #[test]
    fn damaged_streams_are_errors() {
        // A match before any output, a literal past the input, output past the block.
        assert!(decode(&[0x00, b'a', 0x20, 5, 0, b'b'], 64).is_err());
        assert!(decode(&[0x05, b'a'], 64).is_err());
        assert!(decode(&[0x03, 1, 2, 3, 4], 2).is_err());
        assert!(decode(&[0x00, b'a', 0xE0, 255], 64).is_err());
    }
}
