//! Decoding stored numbers: the compound record fields and the integer, float and bool types
//! read as `f64`, and values as pandas column labels.

use hdf5_pure::{Datatype, DatatypeByteOrder, FloatingPointLayout};

/// One value member of a record: `width` scalars from byte `offset`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Field {
    pub(super) offset: usize,
    pub(super) scalar: Scalar,
    pub(super) width: usize,
}

/// Appends the values of one record to `columns` (one column per value of each field).
pub(super) fn decode_record(bytes: &[u8], fields: &[Field], columns: &mut [Vec<f64>]) {
    let mut column = 0;
    for field in fields {
        let size = field.scalar.size;
        let values = &bytes[field.offset..field.offset + field.width * size];
        for value in values.chunks_exact(size) {
            columns[column].push(field.scalar.decode(value));
            column += 1;
        }
    }
}

/// How a stored number is represented.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Kind {
    Float,
    Signed,
    Unsigned,
}

/// A numeric HDF5 type this reader decodes: IEEE floats of 4 or 8 bytes, integers of 1 to
/// 8 bytes, and bools (a 1-byte bit field or enumeration), in either byte order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Scalar {
    pub(super) kind: Kind,
    pub(super) size: usize,
    pub(super) big_endian: bool,
}

impl Scalar {
    /// The decoder for `datatype`, if it is a supported number type.
    pub(super) fn of(datatype: &Datatype) -> Option<Scalar> {
        let (kind, size, order) = match datatype {
            Datatype::FloatingPoint {
                size,
                byte_order,
                layout,
            } => {
                let ieee = matches!(
                    (size, layout),
                    (4, &FloatingPointLayout::IEEE754_BINARY32)
                        | (8, &FloatingPointLayout::IEEE754_BINARY64)
                );
                (ieee.then_some(Kind::Float)?, *size, byte_order)
            }
            Datatype::FixedPoint {
                size,
                byte_order,
                layout,
            } => {
                let full = layout.bit_offset == 0
                    && u64::from(layout.bit_precision) == u64::from(*size) * 8;
                let kind = if layout.signed {
                    Kind::Signed
                } else {
                    Kind::Unsigned
                };
                (full.then_some(kind)?, *size, byte_order)
            }
            Datatype::BitField {
                size: 1,
                byte_order,
                bit_offset: 0,
                ..
            } => (Kind::Unsigned, 1, byte_order),
            Datatype::Enumeration { base_type, .. } => return Scalar::of(base_type),
            _ => return None,
        };
        let big_endian = match order {
            DatatypeByteOrder::LittleEndian => false,
            DatatypeByteOrder::BigEndian => true,
            DatatypeByteOrder::Vax => return None,
        };
        matches!(size, 1 | 2 | 4 | 8).then_some(Scalar {
            kind,
            size: size as usize,
            big_endian,
        })
    }

    /// The value's bits, little-endian in the low `size` bytes of a `u64`.
    pub(super) fn bits(&self, bytes: &[u8]) -> u64 {
        let mut buffer = [0u8; 8];
        buffer[..self.size].copy_from_slice(&bytes[..self.size]);
        if self.big_endian {
            buffer[..self.size].reverse();
        }
        u64::from_le_bytes(buffer)
    }

    /// Decodes one value (`bytes` holds at least `size` bytes) as `f64`.
    pub(super) fn decode(&self, bytes: &[u8]) -> f64 {
        let bits = self.bits(bytes);
        match (self.kind, self.size) {
            (Kind::Float, 4) => f64::from(f32::from_bits(bits as u32)),
            (Kind::Float, _) => f64::from_bits(bits),
            (Kind::Signed, _) => self.signed(bits) as f64,
            (Kind::Unsigned, _) => bits as f64,
        }
    }

    /// Sign-extends the low `size` bytes of `bits`.
    pub(super) fn signed(&self, bits: u64) -> i64 {
        let shift = 64 - 8 * self.size as u32;
        ((bits << shift) as i64) >> shift
    }

    /// One value as a pandas column label: integers exactly, floats as Python prints them.
    pub(super) fn label(&self, bytes: &[u8]) -> String {
        let bits = self.bits(bytes);
        match self.kind {
            Kind::Signed => self.signed(bits).to_string(),
            Kind::Unsigned => bits.to_string(),
            Kind::Float => float_label(self.decode(bytes)),
        }
    }
}

/// A float column label as Python's `str` writes it for ordinary values (`1.0`, `0.5`).
pub(super) fn float_label(value: f64) -> String {
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 1e16 {
        format!("{value:.1}")
    } else {
        format!("{value}")
    }
}
