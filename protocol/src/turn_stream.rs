//! STUN and TURN messages over a byte stream, as TURN over TCP and TLS carries them
//! (RFC 8656 §3.1 and §12.5, RFC 6062): pure, no IO. The agent's TURN-over-TCP client and the
//! server's TLS listener both split streams with it.
//!
//! A stream has no datagram boundaries, so each message is found from its own header. The first
//! two bits tell the kinds apart (RFC 8656 §12.5, RFC 7983): `00` starts a STUN message (20-byte
//! header whose length field counts the attributes, RFC 8489 §5), `01` a ChannelData message
//! (4-byte header whose length field counts the application data, which is padded to a multiple
//! of four bytes over a stream, RFC 8656 §12.5). Anything else cannot be on a TURN stream, and a
//! stream that lost its framing cannot be resynchronised: the connection must end.
//!
//! * [`StreamDecoder`] splits a stream into messages, each as a datagram would carry it
//!   (ChannelData without its stream padding).
//! * [`frame_for_stream`] turns one datagram into its stream form.

use bytes::{Buf, BytesMut};

/// STUN message header length (RFC 8489 §5).
const STUN_HEADER_LEN: usize = 20;
/// ChannelData header length (RFC 8656 §12.4).
const CHANNEL_DATA_HEADER_LEN: usize = 4;
/// The magic cookie every STUN message carries in bytes 4..8 (RFC 8489 §5).
const MAGIC_COOKIE: [u8; 4] = [0x21, 0x12, 0xA4, 0x42];
/// Channel numbers a client may bind (RFC 8656 §12); 0x5000-0x7FFF are reserved.
const CHANNEL_NUMBERS: std::ops::RangeInclusive<u16> = 0x4000..=0x4FFF;

/// Longest message accepted in either direction, header and padding included. A relayed WebRTC
/// datagram is at most one path MTU (1500 bytes on common links); STUN control messages are
/// smaller still. The bound keeps a misbehaving server from making the agent buffer 64 KiB per
/// message.
pub const MAX_FRAME_LEN: usize = 8 * 1024;

/// Why bytes cannot be a message on a TURN stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The first two bits are neither STUN's `00` nor ChannelData's `01`.
    #[error("a message starts with byte {0:#04x}, which is neither STUN nor ChannelData")]
    UnknownKind(u8),
    /// A STUN header without the magic cookie.
    #[error("a STUN message lacks the magic cookie")]
    NoMagicCookie,
    /// A STUN length that is not a multiple of four (RFC 8489 §5).
    #[error("a STUN message length of {0} bytes is not a multiple of four")]
    UnalignedStunLength(usize),
    /// A ChannelData message on a channel no client can bind.
    #[error("a ChannelData message uses the reserved channel number {0:#06x}")]
    ReservedChannel(u16),
    /// A message longer than [`MAX_FRAME_LEN`].
    #[error("a message of {0} bytes is longer than the {MAX_FRAME_LEN} accepted")]
    TooLong(usize),
    /// A datagram whose length disagrees with its header.
    #[error("a datagram of {actual} bytes says it holds a message of {declared} bytes")]
    LengthMismatch { declared: usize, actual: usize },
}

/// What a message header says: its kind and lengths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Header {
    /// Length of the message itself: header and body, without stream padding.
    message_len: usize,
    /// Length it takes on a stream, with ChannelData padded to four bytes.
    stream_len: usize,
}

/// Reads the header at the start of `bytes`: `Ok(None)` until enough of it is there.
fn header(bytes: &[u8]) -> Result<Option<Header>, FrameError> {
    let Some(&[first, second, len_hi, len_lo]) = bytes.get(..4) else {
        return Ok(None);
    };
    let body_len = usize::from(u16::from_be_bytes([len_hi, len_lo]));
    let header = match first >> 6 {
        0b00 => {
            let Some(cookie) = bytes.get(4..8) else {
                return Ok(None);
            };
            if cookie != MAGIC_COOKIE {
                return Err(FrameError::NoMagicCookie);
            }
            if body_len % 4 != 0 {
                return Err(FrameError::UnalignedStunLength(body_len));
            }
            let len = STUN_HEADER_LEN + body_len;
            Header {
                message_len: len,
                stream_len: len,
            }
        }
        0b01 => {
            let channel = u16::from_be_bytes([first, second]);
            if !CHANNEL_NUMBERS.contains(&channel) {
                return Err(FrameError::ReservedChannel(channel));
            }
            let len = CHANNEL_DATA_HEADER_LEN + body_len;
            Header {
                message_len: len,
                stream_len: len.next_multiple_of(4),
            }
        }
        _ => return Err(FrameError::UnknownKind(first)),
    };
    if header.stream_len > MAX_FRAME_LEN {
        return Err(FrameError::TooLong(header.stream_len));
    }
    Ok(Some(header))
}

/// Splits the bytes sent over a TURN stream into messages.
///
/// Feed it whatever each read returned with [`StreamDecoder::handle_bytes`], then take messages
/// with [`StreamDecoder::poll_frame`] until it returns `Ok(None)`. After an error the stream is
/// unusable.
#[derive(Debug, Default)]
pub struct StreamDecoder {
    buffer: BytesMut,
}

impl StreamDecoder {
    /// Appends bytes read from the stream.
    pub fn handle_bytes(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next complete message as a datagram (ChannelData without its stream padding), or
    /// `None` until more bytes arrive.
    pub fn poll_frame(&mut self) -> Result<Option<BytesMut>, FrameError> {
        let Some(header) = header(&self.buffer)? else {
            return Ok(None);
        };
        if self.buffer.len() < header.stream_len {
            // Room for the rest of this message at once.
            self.buffer.reserve(header.stream_len - self.buffer.len());
            return Ok(None);
        }
        let message = self.buffer.split_to(header.message_len);
        self.buffer.advance(header.stream_len - header.message_len);
        Ok(Some(message))
    }
}

/// One datagram from the local WebRTC stack as it goes on the stream: checked to be one whole
/// STUN or ChannelData message, ChannelData padded to four bytes (any padding the datagram
/// already carried is replaced).
pub fn frame_for_stream(datagram: &[u8]) -> Result<Vec<u8>, FrameError> {
    if datagram.len() > MAX_FRAME_LEN {
        return Err(FrameError::TooLong(datagram.len()));
    }
    let header = header(datagram)?.ok_or(FrameError::LengthMismatch {
        declared: CHANNEL_DATA_HEADER_LEN,
        actual: datagram.len(),
    })?;
    // Over UDP a ChannelData message may or may not be padded (RFC 8656 §12.5); a STUN message
    // is exactly its length.
    let fits = if header.stream_len == header.message_len {
        datagram.len() == header.message_len
    } else {
        (header.message_len..=header.stream_len).contains(&datagram.len())
    };
    if !fits {
        return Err(FrameError::LengthMismatch {
            declared: header.message_len,
            actual: datagram.len(),
        });
    }
    let mut frame = Vec::with_capacity(header.stream_len);
    frame.extend_from_slice(&datagram[..header.message_len]);
    frame.resize(header.stream_len, 0);
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A STUN Binding request with `attributes` bytes of (meaningless) attributes.
    fn stun(attributes: usize, fill: u8) -> Vec<u8> {
        let mut message = vec![0x00, 0x01];
        message.extend_from_slice(&(attributes as u16).to_be_bytes());
        message.extend_from_slice(&MAGIC_COOKIE);
        message.extend_from_slice(&[7; 12]);
        message.extend(std::iter::repeat_n(fill, attributes));
        message
    }

    /// A ChannelData message on channel 0x4001 with `data` and no padding.
    fn channel_data(data: &[u8]) -> Vec<u8> {
        let mut message = vec![0x40, 0x01];
        message.extend_from_slice(&(data.len() as u16).to_be_bytes());
        message.extend_from_slice(data);
        message
    }

    fn padded(mut message: Vec<u8>) -> Vec<u8> {
        message.resize(message.len().next_multiple_of(4), 0);
        message
    }

    fn drain(decoder: &mut StreamDecoder) -> Result<Vec<Vec<u8>>, FrameError> {
        let mut out = Vec::new();
        while let Some(frame) = decoder.poll_frame()? {
            out.push(frame.to_vec());
        }
        Ok(out)
    }

    #[test]
    fn messages_split_across_reads_come_out_whole() {
        let message = stun(8, 0xaa);
        let mut decoder = StreamDecoder::default();
        for byte in &message[..message.len() - 1] {
            decoder.handle_bytes(std::slice::from_ref(byte));
            assert_eq!(drain(&mut decoder), Ok(vec![]));
        }
        decoder.handle_bytes(&message[message.len() - 1..]);
        assert_eq!(drain(&mut decoder), Ok(vec![message]));
    }

    #[test]
    fn several_messages_in_one_read_come_out_in_order() {
        let first = stun(4, 1);
        let second = channel_data(b"hello");
        let third = channel_data(b"four");
        let mut bytes = first.clone();
        bytes.extend(padded(second.clone()));
        bytes.extend(padded(third.clone()));
        let fourth = stun(0, 0);
        bytes.extend_from_slice(&fourth[..10]);

        let mut decoder = StreamDecoder::default();
        decoder.handle_bytes(&bytes);
        assert_eq!(drain(&mut decoder), Ok(vec![first, second, third]));
        decoder.handle_bytes(&fourth[10..]);
        assert_eq!(drain(&mut decoder), Ok(vec![fourth]));
    }

    #[test]
    fn channel_data_padding_is_awaited_then_dropped() {
        let message = channel_data(b"abcde");
        let on_stream = padded(message.clone());
        assert_eq!(on_stream.len(), 12);
        let mut decoder = StreamDecoder::default();
        // The message is complete but its padding is not: nothing yet, so that the padding is
        // not taken for the next header.
        decoder.handle_bytes(&on_stream[..9]);
        assert_eq!(drain(&mut decoder), Ok(vec![]));
        decoder.handle_bytes(&on_stream[9..]);
        decoder.handle_bytes(&stun(0, 0));
        assert_eq!(drain(&mut decoder), Ok(vec![message, stun(0, 0)]));
    }

    #[test]
    fn an_oversized_length_ends_the_stream_before_it_is_buffered() {
        let mut decoder = StreamDecoder::default();
        decoder.handle_bytes(&[0x40, 0x00, 0xff, 0xff]);
        assert_eq!(
            decoder.poll_frame(),
            Err(FrameError::TooLong((4 + 0xffff_usize).next_multiple_of(4)))
        );
        let mut decoder = StreamDecoder::default();
        decoder.handle_bytes(&stun(MAX_FRAME_LEN - STUN_HEADER_LEN + 4, 0)[..8]);
        assert!(matches!(decoder.poll_frame(), Err(FrameError::TooLong(_))));
        // The largest allowed one passes.
        let largest = stun(MAX_FRAME_LEN - STUN_HEADER_LEN, 3);
        let mut decoder = StreamDecoder::default();
        decoder.handle_bytes(&largest);
        assert_eq!(drain(&mut decoder), Ok(vec![largest]));
    }

    #[test]
    fn bytes_that_are_no_turn_message_end_the_stream() {
        let refused = |bytes: &[u8]| {
            let mut decoder = StreamDecoder::default();
            decoder.handle_bytes(bytes);
            decoder.poll_frame().err()
        };
        // A TLS record where a TURN message should be (a client that spoke TLS to TCP).
        assert_eq!(
            refused(&[0x16, 0x03, 0x01, 0x00, 0x10, 0, 0, 0]),
            Some(FrameError::NoMagicCookie)
        );
        assert_eq!(
            refused(&[0x80, 0, 0, 0]),
            Some(FrameError::UnknownKind(0x80))
        );
        assert_eq!(
            refused(&[0x50, 0x00, 0, 4]),
            Some(FrameError::ReservedChannel(0x5000))
        );
        let mut unaligned = stun(0, 0);
        unaligned[3] = 2;
        assert_eq!(
            refused(&unaligned),
            Some(FrameError::UnalignedStunLength(2))
        );
    }

    #[test]
    fn datagrams_go_on_the_stream_padded() {
        assert_eq!(frame_for_stream(&stun(8, 9)), Ok(stun(8, 9)));
        let message = channel_data(b"abcde");
        assert_eq!(frame_for_stream(&message), Ok(padded(message.clone())));
        // Already padded by the sender: the same bytes.
        assert_eq!(
            frame_for_stream(&padded(message.clone())),
            Ok(padded(message.clone()))
        );
        // Aligned data needs no padding.
        let aligned = channel_data(b"abcd");
        assert_eq!(frame_for_stream(&aligned), Ok(aligned));
    }

    #[test]
    fn datagrams_that_are_not_one_whole_message_stay_off_the_stream() {
        let message = stun(8, 0);
        assert!(matches!(
            frame_for_stream(&message[..message.len() - 4]),
            Err(FrameError::LengthMismatch { .. })
        ));
        let mut two = message.clone();
        two.extend_from_slice(&message);
        assert!(matches!(
            frame_for_stream(&two),
            Err(FrameError::LengthMismatch { .. })
        ));
        assert!(matches!(
            frame_for_stream(&[0x40, 0x01]),
            Err(FrameError::LengthMismatch { .. })
        ));
        assert_eq!(
            frame_for_stream(&vec![0x40; MAX_FRAME_LEN + 1]),
            Err(FrameError::TooLong(MAX_FRAME_LEN + 1))
        );
        // An RTP packet (first bits 10) sent to the relay by mistake.
        assert_eq!(
            frame_for_stream(&[0x80, 0x60, 0, 1, 0, 0, 0, 0]),
            Err(FrameError::UnknownKind(0x80))
        );
    }

    #[test]
    fn decoding_what_was_framed_gives_the_datagrams_back() {
        let datagrams = [
            stun(12, 5),
            channel_data(b"x"),
            channel_data(b""),
            channel_data(&[1; 1200]),
        ];
        let mut stream = Vec::new();
        for datagram in &datagrams {
            stream.extend(frame_for_stream(datagram).expect("a valid datagram"));
        }
        let mut decoder = StreamDecoder::default();
        for chunk in stream.chunks(7) {
            decoder.handle_bytes(chunk);
        }
        assert_eq!(drain(&mut decoder), Ok(datagrams.to_vec()));
    }
}
