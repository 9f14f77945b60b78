//! The binary format of a chunk: the readings of one point, in the `data` column of the
//! `chunks` table.
//!
//! A chunk of `count` readings `(ts_ms, value)` is, reading after reading:
//!
//! - the timestamp as the difference from the previous reading's (the first reading's from
//!   the chunk's `first_ms` column), zig-zag mapped to an unsigned integer (0, -1, 1, -2, …
//!   become 0, 1, 2, 3, …) and written as a LEB128 varint (7 bits a byte, low bits first,
//!   the high bit set on every byte but the last; 1 byte for a difference within ±63 ms,
//!   2 within ±8191 ms, at most 10);
//! - the value's IEEE 754 bits, 8 bytes little-endian.
//!
//! Nothing else: no header, no padding; `count` and `first_ms` live in their own columns.
//! Differences are taken and added with wrapping arithmetic, so every `i64` timestamp and
//! every `f64` (±0, subnormals, infinities, any NaN payload) round-trips bit for bit. The
//! store writes readings sorted by time, so differences are never negative there, but
//! the format does not depend on it.
//!
//! ```
//! use ingest::store::chunk;
//!
//! let readings = [(1_000, 41.5), (1_020, -0.0), (1_020, f64::MIN_POSITIVE / 2.0)];
//! let mut data = Vec::new();
//! chunk::encode(1_000, &readings, &mut data);
//! assert_eq!(data.len(), 3 * 9); // each difference fits one byte
//! let back = chunk::decode(1_000, 3, &data).unwrap();
//! assert_eq!(back.len(), 3);
//! assert!(back.iter().zip(&readings).all(|(a, b)| a.0 == b.0 && a.1.to_bits() == b.1.to_bits()));
//! ```

/// Why a chunk's bytes do not decode (the store file is damaged, or was written by
/// something else).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Corrupt {
    /// The bytes end inside a reading.
    #[error("the data ends inside reading {index} of {count}")]
    Truncated {
        /// Index of the reading, from 0.
        index: usize,
        /// Readings the chunk should hold.
        count: usize,
    },
    /// A timestamp difference runs over the 10 bytes of a 64-bit varint.
    #[error("reading {index}: the timestamp difference is longer than 10 bytes")]
    Varint {
        /// Index of the reading, from 0.
        index: usize,
    },
    /// Bytes are left after the last reading.
    #[error("{extra} bytes are left after the last of {count} readings")]
    Trailing {
        /// Bytes left.
        extra: usize,
        /// Readings the chunk holds.
        count: usize,
    },
    /// The chunk's `count` column is negative or zero.
    #[error("its count is {0}, not a positive number")]
    Count(i64),
    /// A timestamp lies outside the chunk's `[first_ms, last_ms]` columns.
    #[error("reading {index} at {ts_ms} ms lies outside the chunk's range [{first_ms}, {last_ms}] ms")]
    OutOfRange {
        /// Index of the reading, from 0.
        index: usize,
        /// Its timestamp, epoch ms.
        ts_ms: i64,
        /// The chunk's `first_ms`.
        first_ms: i64,
        /// The chunk's `last_ms`.
        last_ms: i64,
    },
}

/// Appends the encoding of `readings` (`(ts_ms, value)`), the first timestamp taken as a
/// difference from `first_ms`, to `out`.
pub fn encode(first_ms: i64, readings: &[(i64, f64)], out: &mut Vec<u8>) {
    out.reserve(readings.len() * 10);
    let mut prev = first_ms;
    for &(ts_ms, value) in readings {
        let delta = ts_ms.wrapping_sub(prev);
        let mut zz = ((delta << 1) ^ (delta >> 63)) as u64;
        while zz >= 0x80 {
            out.push((zz as u8) | 0x80);
            zz >>= 7;
        }
        out.push(zz as u8);
        out.extend_from_slice(&value.to_bits().to_le_bytes());
        prev = ts_ms;
    }
}

/// Decodes the `count` readings of `data` (first timestamp relative to `first_ms`),
/// appending them to `out`. On an error, `out` may hold the readings decoded before it.
pub fn decode_into(
    first_ms: i64,
    count: usize,
    data: &[u8],
    out: &mut Vec<(i64, f64)>,
) -> Result<(), Corrupt> {
    // A reading takes at least 9 bytes: a damaged count allocates no more than the data.
    out.reserve(count.min(data.len() / 9));
    let mut prev = first_ms;
    let mut at = 0usize;
    for index in 0..count {
        let mut zz = 0u64;
        let mut shift = 0u32;
        loop {
            let Some(&byte) = data.get(at) else {
                return Err(Corrupt::Truncated { index, count });
            };
            at += 1;
            if shift == 63 && byte > 1 {
                return Err(Corrupt::Varint { index });
            }
            zz |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        let delta = ((zz >> 1) as i64) ^ -((zz & 1) as i64);
        let Some(bytes) = data.get(at..at + 8) else {
            return Err(Corrupt::Truncated { index, count });
        };
        at += 8;
        let mut bits = [0u8; 8];
        bits.copy_from_slice(bytes);
        prev = prev.wrapping_add(delta);
        out.push((prev, f64::from_bits(u64::from_le_bytes(bits))));
    }
    if at != data.len() {
        return Err(Corrupt::Trailing {
            extra: data.len() - at,
            count,
        });
    }
    Ok(())
}

/// Decodes the `count` readings of `data` (first timestamp relative to `first_ms`).
pub fn decode(first_ms: i64, count: usize, data: &[u8]) -> Result<Vec<(i64, f64)>, Corrupt> {
    let mut out = Vec::with_capacity(count);
    decode_into(first_ms, count, data, &mut out)?;
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Any f64 by its bits (NaNs, subnormals, ±0, infinities included), with the special
    /// values weighted up so that every run meets them.
    fn any_value() -> impl Strategy<Value = f64> {
        prop_oneof![
            any::<u64>().prop_map(f64::from_bits),
            (0u64..(1 << 52)).prop_map(f64::from_bits), // positive subnormals (and +0)
            (0u64..(1 << 52)).prop_map(|m| f64::from_bits(m | (1 << 63))), // negative ones
            prop::sample::select(vec![
                0.0,
                -0.0,
                f64::MIN,
                f64::MAX,
                f64::MIN_POSITIVE,
                -f64::MIN_POSITIVE,
                f64::EPSILON,
                f64::INFINITY,
                f64::NEG_INFINITY,
                1.0,
            ]),
        ]
    }

    /// Timestamps that walk up and down (negative, zero and large differences) from a start
    /// anywhere in i64, extremes included.
    fn any_series() -> impl Strategy<Value = (i64, Vec<(i64, f64)>)> {
        let start = prop_oneof![any::<i64>(), Just(i64::MIN), Just(i64::MAX), -10_000i64..10_000];
        let step = prop_oneof![-100i64..100, Just(0i64), -10_000_000i64..10_000_000, any::<i64>(),];
        (
            start,
            any::<i64>(),
            prop::collection::vec((step, any_value()), 0..200),
        )
            .prop_map(|(start, first_ms, steps)| {
                // Half the time the first timestamp is first_ms itself, as the store writes.
                let first_ms = if first_ms % 2 == 0 { start } else { first_ms };
                let mut ts = start;
                let readings = steps
                    .into_iter()
                    .map(|(step, value)| {
                        let r = (ts, value);
                        ts = ts.wrapping_add(step);
                        r
                    })
                    .collect();
                (first_ms, readings)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn readings_round_trip_bit_for_bit((first_ms, readings) in any_series()) {
            let mut data = vec![0xAA]; // encode appends
            encode(first_ms, &readings, &mut data);
            let back = decode(first_ms, readings.len(), &data[1..]).unwrap();
            prop_assert_eq!(back.len(), readings.len());
            for (got, want) in back.iter().zip(&readings) {
                prop_assert_eq!(got.0, want.0);
                prop_assert_eq!(got.1.to_bits(), want.1.to_bits());
            }
            // Every strict prefix of the bytes is refused, never misread.
            if !data[1..].is_empty() {
                let cut = &data[1..data.len() - 1];
                let refused = matches!(
                    decode(first_ms, readings.len(), cut),
                    Err(Corrupt::Truncated { .. })
                );
                prop_assert!(refused);
            }
        }
    }

    #[test]
    fn the_layout_is_the_documented_one() {
        let mut data = Vec::new();
        // +0 ms, then -1 ms (zig-zag 1), then +64 ms (zig-zag 128: two bytes 0x80 0x01).
        encode(100, &[(100, 1.0), (99, -2.0), (163, 0.5)], &mut data);
        let mut want = vec![0x00];
        want.extend_from_slice(&1.0f64.to_bits().to_le_bytes());
        want.push(0x01);
        want.extend_from_slice(&(-2.0f64).to_bits().to_le_bytes());
        want.extend_from_slice(&[0x80, 0x01]);
        want.extend_from_slice(&0.5f64.to_bits().to_le_bytes());
        assert_eq!(data, want);
    }

    #[test]
    fn damaged_bytes_are_refused_with_their_reason() {
        let mut data = Vec::new();
        encode(0, &[(5, 1.0), (6, 2.0)], &mut data);
        assert_eq!(
            decode(0, 3, &data),
            Err(Corrupt::Truncated { index: 2, count: 3 })
        );
        assert_eq!(decode(0, 1, &data), Err(Corrupt::Trailing { extra: 9, count: 1 }));
        let eleven = [0xFFu8; 11];
        assert_eq!(decode(0, 1, &eleven), Err(Corrupt::Varint { index: 0 }));
        // The tenth byte of a varint may only carry the 64th bit.
        let mut over = vec![0xFFu8; 9];
        over.push(0x02);
        over.extend_from_slice(&[0; 8]);
        assert_eq!(decode(0, 1, &over), Err(Corrupt::Varint { index: 0 }));
    }
}
