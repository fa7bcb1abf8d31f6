//! The canonical bytes of one stored event and their decoding. A record is
//! what the hash chain covers; it is not the NDJSON line (see `ndjson`).
//!
//! Layout (integers big-endian): format `1` u8, position u64, stream (u32 len +
//! UTF-8), stream version u64, event id 16 bytes, type name (u16 len + UTF-8),
//! type version u32, recorded-at microseconds i64, command id (u8 flag, then
//! u16 len + UTF-8 when present), payload (u32 len + JSON bytes). The stored
//! value is the record followed by its 32-byte chain hash.

use super::{EventRef, Position, Version};

pub(crate) const FORMAT: u8 = 1;
pub(crate) const HASH_LEN: usize = 32;
/// Bytes of a stored value besides its payload, at most: the fixed fields,
/// the longest stream id (200), type name (100) and command id (200), and
/// the hash.
pub(crate) const MAX_OVERHEAD: usize =
    1 + 8 + 4 + 200 + 8 + 16 + 2 + 100 + 4 + 8 + 1 + 2 + 200 + 4 + HASH_LEN;

/// Appends the record bytes of `e` (without hash) to `out`.
pub(crate) fn encode(e: &EventRef<'_>, out: &mut Vec<u8>) {
    out.reserve(64 + e.stream.len() + e.type_name.len() + e.payload.len());
    out.push(FORMAT);
    out.extend_from_slice(&e.position.0.to_be_bytes());
    put_str32(out, e.stream);
    out.extend_from_slice(&e.version.0.to_be_bytes());
    out.extend_from_slice(&e.event_id);
    put_str16(out, e.type_name);
    out.extend_from_slice(&e.type_version.to_be_bytes());
    out.extend_from_slice(&e.recorded_at_micros.to_be_bytes());
    match e.command_id {
        Some(c) => {
            out.push(1);
            put_str16(out, c);
        }
        None => out.push(0),
    }
    out.extend_from_slice(&(e.payload.len() as u32).to_be_bytes());
    out.extend_from_slice(e.payload);
}

/// Decodes a stored value (record + hash). Returns the event and the record
/// bytes the hash covers, or why the bytes are not a well-formed record.
pub(crate) fn decode(value: &[u8]) -> Result<(EventRef<'_>, &[u8]), String> {
    if value.len() < HASH_LEN + 1 {
        return Err(format!("value is {} bytes, shorter than any record", value.len()));
    }
    let (body, hash) = value.split_at(value.len() - HASH_LEN);
    let mut r = Reader { bytes: body, at: 0 };
    let format = r.u8("format")?;
    if format != FORMAT {
        return Err(format!("unknown record format {format}"));
    }
    let position = Position(r.u64("position")?);
    let stream = r.str32("stream")?;
    let version = Version(r.u64("version")?);
    let event_id: [u8; 16] = r.take(16, "event_id")?.try_into().expect("took 16 bytes");
    let type_name = r.str16("type")?;
    let type_version = r.u32("type_version")?;
    let recorded_at_micros = r.u64("recorded_at")? as i64;
    let command_id = match r.u8("command_id flag")? {
        0 => None,
        1 => Some(r.str16("command_id")?),
        f => return Err(format!("command_id flag is {f}, not 0 or 1")),
    };
    let len = r.u32("payload length")? as usize;
    let payload = r.take(len, "payload")?;
    if r.at != body.len() {
        return Err(format!("{} trailing bytes after the payload", body.len() - r.at));
    }
    let hash: &[u8; HASH_LEN] = hash.try_into().expect("split at HASH_LEN from the end");
    let e = EventRef {
        position,
        stream,
        version,
        event_id,
        type_name,
        type_version,
        recorded_at_micros,
        command_id,
        payload,
        hash,
    };
    Ok((e, body))
}

fn put_str32(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_str16(out: &mut Vec<u8>, s: &str) {
    // Validation caps these strings far below u16::MAX bytes.
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, field: &str) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len()).ok_or_else(|| {
            format!(
                "{field}: needs {n} bytes at offset {}, record has {}",
                self.at,
                self.bytes.len()
            )
        })?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn u8(&mut self, field: &str) -> Result<u8, String> {
        Ok(self.take(1, field)?[0])
    }

    fn u32(&mut self, field: &str) -> Result<u32, String> {
        Ok(u32::from_be_bytes(self.take(4, field)?.try_into().expect("took 4 bytes")))
    }

    fn u64(&mut self, field: &str) -> Result<u64, String> {
        Ok(u64::from_be_bytes(self.take(8, field)?.try_into().expect("took 8 bytes")))
    }

    fn str16(&mut self, field: &str) -> Result<&'a str, String> {
        let len = u16::from_be_bytes(self.take(2, field)?.try_into().expect("took 2 bytes"));
        self.utf8(usize::from(len), field)
    }

    fn str32(&mut self, field: &str) -> Result<&'a str, String> {
        let len = self.u32(field)? as usize;
        self.utf8(len, field)
    }

    fn utf8(&mut self, len: usize, field: &str) -> Result<&'a str, String> {
        let b = self.take(len, field)?;
        std::str::from_utf8(b).map_err(|e| format!("{field}: not UTF-8: {e}"))
    }
}
