//! Shared by the decoder fuzz targets: feed bytes in chunks, check the codec's promises.

use bytes::BytesMut;
use redkit_resp::{RespCodec, RespVersion, encode_value};
use tokio_util::codec::Decoder;

/// The first byte picks a chunk size; the rest is the input. Every decoded value must re-encode and decode to
/// itself, and the decoder must never panic, loop, or grow its buffer without bound.
pub fn check(data: &[u8], version: RespVersion) {
    let Some((&chunk, input)) = data.split_first() else { return };
    let chunk = usize::from(chunk).max(1);
    let mut codec = RespCodec::new(version);
    let mut buf = BytesMut::new();
    for piece in input.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            let before = buf.len();
            match codec.decode(&mut buf) {
                Ok(Some(value)) => {
                    assert!(buf.len() < before);
                    let mut wire = BytesMut::new();
                    encode_value(&value, version, &mut wire);
                    let again = RespCodec::new(version).decode(&mut wire).ok().flatten();
                    // NaN is the one value not equal to itself.
                    if !format!("{value:?}").contains("NaN") {
                        assert_eq!(again.as_ref(), Some(&value));
                    }
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
        assert!(buf.capacity() <= 8 * 1024 * 1024);
    }
}
