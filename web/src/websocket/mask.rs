//! Payload masking (RFC 6455 §5.3): every byte XORed with one byte of a 4-byte key, in turn.
//! The same function masks and unmasks. Eight bytes at a time as one `u64`, the rest byte by
//! byte; `offset` lets a payload that arrives in pieces be unmasked piece by piece.

/// XORs `data` in place with `key`, starting at byte `offset` of the key's cycle (the number
/// of payload bytes of this frame already unmasked).
///
/// ```
/// use web::websocket::mask::apply_mask;
///
/// let key = [0x37, 0xfa, 0x21, 0x3d];
/// let mut data = *b"Hello";
/// apply_mask(&mut data[..2], key, 0);
/// apply_mask(&mut data[2..], key, 2);
/// assert_eq!(data, [0x7f, 0x9f, 0x4d, 0x51, 0x58]); // RFC 6455 §5.7
/// ```
pub fn apply_mask(data: &mut [u8], key: [u8; 4], offset: usize) {
    let key = rotate(key, offset);
    let key8 = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut words = data.chunks_exact_mut(8);
    for word in &mut words {
        let masked = u64::from_ne_bytes((&*word).try_into().expect("8 bytes")) ^ key8;
        word.copy_from_slice(&masked.to_ne_bytes());
    }
    for (i, byte) in words.into_remainder().iter_mut().enumerate() {
        *byte ^= key[i % 4];
    }
}

/// The key as seen from byte `offset` of the payload.
fn rotate(key: [u8; 4], offset: usize) -> [u8; 4] {
    let r = offset % 4;
    [key[r], key[(r + 1) % 4], key[(r + 2) % 4], key[(r + 3) % 4]]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytewise(data: &[u8], key: [u8; 4]) -> Vec<u8> {
        data.iter()
            .enumerate()
            .map(|(i, b)| b ^ key[i % 4])
            .collect()
    }

    #[test]
    fn matches_the_bytewise_definition_for_every_length_and_split() {
        let key = [0x12, 0x34, 0x56, 0x78];
        let plain: Vec<u8> = (0..40u8).collect();
        for len in 0..plain.len() {
            let expected = bytewise(&plain[..len], key);
            for split in 0..=len {
                let mut data = plain[..len].to_vec();
                apply_mask(&mut data[..split], key, 0);
                apply_mask(&mut data[split..], key, split);
                assert_eq!(data, expected, "len {len} split {split}");
            }
        }
    }

    #[test]
    fn masking_twice_restores_the_payload() {
        let key = [0xde, 0xad, 0xbe, 0xef];
        let mut data = b"a payload longer than one word".to_vec();
        apply_mask(&mut data, key, 3);
        assert_ne!(&data[..], b"a payload longer than one word");
        apply_mask(&mut data, key, 3);
        assert_eq!(&data[..], b"a payload longer than one word");
    }
}
