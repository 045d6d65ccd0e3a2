//! GNU sparse files, recognised and checked as Go's archive/tar does (reader.go
//! `handleSparseFile`, `readOldGNUSparseMap`, `readGNUSparsePAXHeaders`,
//! `readGNUSparseMap1x0`, `readGNUSparseMap0x1`; common.go `validateSparseEntries`).
//!
//! Go expands a sparse file when it is read: its size is the expanded size and holes read
//! as zeros. airlock does not expand them; it reads the map exactly where Go does, fails
//! where Go fails (so the entries that follow are the entries Go sees), and tells the
//! caller the expanded size and whether Go's read of the data would succeed.

use super::header::{self, HeaderError, PaxRecords};
use super::{MAX_META, Source, Sparse, TarError, TarReader};

/// (offset, length) of each data fragment.
type Map = Vec<(i64, i64)>;

impl<R: Source> TarReader<R> {
    /// An old GNU 'S' header: its expanded size, and the map held in the header (4 entries
    /// at 386) and in the extension blocks after it (21 each), read from the stream before
    /// the data.
    pub(super) fn old_gnu_sparse(&mut self, raw: &[u8; 512], at: u64) -> Result<(i64, Map), TarError> {
        let err = |error| TarError::Header { offset: at, error };
        let size = header::numeric(&raw[483..495]).ok_or(err(HeaderError::Number("sparse real size")))?;
        let mut map = Map::new();
        let mut block = *raw;
        let (mut start, mut count, mut flag) = (386, 4, 482);
        let mut extension_bytes = 0u64;
        loop {
            for i in 0..count {
                let e = &block[start + i * 24..start + (i + 1) * 24];
                if e[0] == 0 {
                    break;
                }
                let offset = header::numeric(&e[..12]);
                let length = header::numeric(&e[12..]);
                match (offset, length) {
                    (Some(o), Some(l)) => map.push((o, l)),
                    _ => return Err(err(HeaderError::Number("sparse map"))),
                }
            }
            if block[flag] == 0 {
                return Ok((size, map));
            }
            // Go reads extension blocks without a bound (each costs the archive 512 bytes);
            // airlock holds them to the cap of any other metadata.
            extension_bytes += 512;
            if extension_bytes > MAX_META {
                return Err(err(HeaderError::MetaTooLarge(extension_bytes)));
            }
            if !self.read_block(&mut block)? {
                return Err(TarError::Truncated { offset: self.offset });
            }
            (start, count, flag) = (0, 21, 504);
        }
    }

    /// A PAX-format sparse file (GNU 0.0, 0.1 or 1.0 records on a non-'S' header), if the
    /// records make one: its expanded size and map. `name` becomes `GNU.sparse.name`.
    pub(super) fn pax_sparse(
        &mut self,
        pax: &PaxRecords,
        size: i64,
        name: &mut Vec<u8>,
        at: u64,
    ) -> Result<Option<(i64, Map)>, TarError> {
        let err = |error| TarError::Header { offset: at, error };
        let (major, minor) = (pax.get("GNU.sparse.major"), pax.get("GNU.sparse.minor"));
        let v1 = match (major, minor) {
            (b"0", b"0" | b"1") => false,
            (b"1", b"0") => true,
            // An unknown version: Go reads the entry as a plain file.
            _ if !major.is_empty() || !minor.is_empty() => return Ok(None),
            _ if !pax.get("GNU.sparse.map").is_empty() => false,
            _ => return Ok(None),
        };
        if !pax.get("GNU.sparse.name").is_empty() {
            *name = pax.get("GNU.sparse.name").to_vec();
        }
        let mut real = pax.get("GNU.sparse.size");
        if real.is_empty() {
            real = pax.get("GNU.sparse.realsize");
        }
        let size = match real {
            [] => size,
            v => header::go_int(v).ok_or(err(HeaderError::Pax("bad GNU.sparse.size")))?,
        };
        let map =
            if v1 { self.map_1x0(at)? } else { map_0x1(pax).ok_or(err(HeaderError::Pax("bad GNU sparse map")))? };
        Ok(Some((size, map)))
    }

    /// The 1.0 map, at the start of the entry's data: decimal numbers, one a line (the
    /// count, then offset and length of each fragment), read in whole blocks. Capped at
    /// 1 MiB as newer Go caps it (`errSparseTooLong`).
    fn map_1x0(&mut self, at: u64) -> Result<Map, TarError> {
        let err = |why| TarError::Header { offset: at, error: HeaderError::Pax(why) };
        let mut text: Vec<u8> = Vec::new();
        let mut lines: Vec<(usize, usize)> = Vec::new(); // token spans, in order
        let mut line_start = 0;
        let mut used = 0;
        let mut next = |me: &mut Self| -> Result<i64, TarError> {
            while lines.len() <= used {
                if text.len() as u64 + 512 > MAX_META {
                    return Err(TarError::Header { offset: at, error: HeaderError::MetaTooLarge(MAX_META + 1) });
                }
                // Read through the entry's data: a map longer than the data fails.
                if me.pending_data < 512 {
                    return Err(err("the GNU sparse map runs past the entry's data"));
                }
                let mut block = [0u8; 512];
                if !me.read_block(&mut block)? {
                    return Err(TarError::Truncated { offset: me.offset });
                }
                me.pending_data -= 512;
                let base = text.len();
                text.extend_from_slice(&block);
                for (i, &c) in block.iter().enumerate() {
                    if c == b'\n' {
                        lines.push((line_start, base + i));
                        line_start = base + i + 1;
                    }
                }
            }
            let (s, e) = lines[used];
            used += 1;
            header::go_int(&text[s..e]).ok_or(err("bad number in the GNU sparse map"))
        };
        let n = next(self)?;
        if n < 0 || n.checked_mul(2).is_none() {
            return Err(err("bad GNU sparse map count"));
        }
        let mut map = Map::new();
        for _ in 0..n {
            let offset = next(self)?;
            map.push((offset, next(self)?));
        }
        Ok(map)
    }

    /// Go's checks once the map is read: a header-only type cannot be sparse, and the map
    /// must be valid for the size. Then whether the stored data is what the map needs.
    pub(super) fn check_sparse(&self, map: &Map, size: i64, typeflag: u8, at: u64) -> Result<Sparse, TarError> {
        if header::header_only(typeflag) || !valid(map, size) {
            return Err(TarError::Header { offset: at, error: HeaderError::Refused("an invalid GNU sparse map") });
        }
        // Valid fragments are ordered, disjoint and inside `size`: the sum cannot overflow.
        let stored: i64 = map.iter().map(|&(_, l)| l).sum();
        Ok(Sparse { size: size as u64, data_matches: stored as u64 == self.pending_data })
    }
}

/// The 0.0/0.1 map, from the PAX records: `GNU.sparse.numblocks` pairs in `GNU.sparse.map`.
fn map_0x1(pax: &PaxRecords) -> Option<Map> {
    let n = header::go_int(pax.get("GNU.sparse.numblocks"))?;
    if n < 0 || n.checked_mul(2).is_none() {
        return None;
    }
    let text = pax.get("GNU.sparse.map");
    let fields: Vec<&[u8]> = if text.is_empty() { Vec::new() } else { text.split(|&c| c == b',').collect() };
    if fields.len() as i64 != 2 * n {
        return None;
    }
    fields.chunks(2).map(|p| Some((header::go_int(p[0])?, header::go_int(p[1])?))).collect()
}

/// Go's `validateSparseEntries`.
fn valid(map: &Map, size: i64) -> bool {
    if size < 0 {
        return false;
    }
    let mut pre_end = 0i64;
    for &(offset, length) in map {
        if offset < 0 || length < 0 || offset > i64::MAX - length {
            return false;
        }
        let end = offset + length;
        if end > size || pre_end > offset {
            return false;
        }
        pre_end = end;
    }
    true
}
