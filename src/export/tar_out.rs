//! The rootfs tar: USTAR headers, with a PAX `x` header before an entry only where USTAR
//! cannot say it (a long name or link, a number too large, an mtime with a fraction,
//! `SCHILY.xattr.*`), as Go's `archive/tar` does. No user or group names (a tar extracted as
//! root would map them through the host's /etc/passwd: the ids are what the image means),
//! no atime or ctime. The same tree gives the same bytes.

use super::tree::{Inode, Kind};
use std::io::{self, Read, Write};

/// An entry's type in the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    File,
    Dir,
    Symlink,
    Hardlink,
    Char,
    Block,
    Fifo,
}

impl Type {
    pub fn of(kind: Kind) -> Type {
        match kind {
            Kind::Dir => Type::Dir,
            Kind::File => Type::File,
            Kind::Symlink => Type::Symlink,
            Kind::Char => Type::Char,
            Kind::Block => Type::Block,
            Kind::Fifo => Type::Fifo,
        }
    }

    fn flag(self) -> u8 {
        match self {
            Type::File => b'0',
            Type::Hardlink => b'1',
            Type::Symlink => b'2',
            Type::Char => b'3',
            Type::Block => b'4',
            Type::Dir => b'5',
            Type::Fifo => b'6',
        }
    }
}

pub struct TarOut<W: Write> {
    w: W,
    written: u64,
}

/// Largest values of the octal fields (7 and 11 digits).
const OCTAL7: u64 = 0o7777777;
const OCTAL11: u64 = 0o77777777777;

impl<W: Write> TarOut<W> {
    pub fn new(w: W) -> Self {
        TarOut { w, written: 0 }
    }

    /// Writes one entry's header(s). `name` is the path (a directory's without its `/`, the
    /// root's empty); `link` the symlink target or the hard link's first path; `size` the
    /// bytes that follow (a file's, else 0).
    pub fn header(&mut self, name: &[u8], ty: Type, inode: &Inode, link: &[u8], size: u64) -> io::Result<()> {
        let name = match (ty, name.is_empty()) {
            (Type::Dir, true) => b"./".to_vec(),
            (Type::Dir, false) => [name, b"/"].concat(),
            _ => name.to_vec(),
        };
        let mut pax: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        let mut h = [0u8; 512];
        if !split_name(&name, &mut h) {
            pax.push((b"path".to_vec(), name.clone()));
            let cut = name.len().min(100);
            h[..cut].copy_from_slice(&name[..cut]);
        }
        if link.len() > 100 {
            pax.push((b"linkpath".to_vec(), link.to_vec()));
        } else {
            h[157..157 + link.len()].copy_from_slice(link);
        }
        number(&mut h[100..108], inode.mode as u64, &mut pax, None);
        number(&mut h[108..116], inode.uid as u64, &mut pax, Some("uid"));
        number(&mut h[116..124], inode.gid as u64, &mut pax, Some("gid"));
        number(&mut h[124..136], size, &mut pax, Some("size"));
        let t = inode.mtime;
        if t.nanos != 0 || t.secs < 0 || t.secs as u64 > OCTAL11 {
            pax.push((b"mtime".to_vec(), pax_time(t).into_bytes()));
        }
        octal(&mut h[136..148], t.secs.clamp(0, OCTAL11 as i64) as u64);
        h[156] = ty.flag();
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        if matches!(ty, Type::Char | Type::Block) {
            number(&mut h[329..337], inode.dev.0 as u64, &mut pax, None);
            number(&mut h[337..345], inode.dev.1 as u64, &mut pax, None);
        }
        if ty != Type::Hardlink {
            for (k, v) in inode.xattrs() {
                pax.push(([b"SCHILY.xattr.", &k[..]].concat(), v.clone()));
            }
        }
        if !pax.is_empty() {
            self.pax(&pax)?;
        }
        checksum(&mut h);
        self.put(&h)
    }

    /// Copies an entry's `size` bytes of data and pads them to a block.
    pub fn data(&mut self, r: &mut dyn Read, size: u64) -> io::Result<u64> {
        let n = io::copy(&mut r.take(size), &mut self.w)?;
        self.written += n;
        if n == size {
            self.pad(size)?;
        }
        Ok(n)
    }

    /// The end-of-archive marker; returns the bytes written.
    pub fn finish(mut self) -> io::Result<(W, u64)> {
        self.put(&[0u8; 1024])?;
        self.w.flush()?;
        Ok((self.w, self.written))
    }

    fn pax(&mut self, records: &[(Vec<u8>, Vec<u8>)]) -> io::Result<()> {
        let mut body = Vec::new();
        for (k, v) in records {
            let rest = k.len() + v.len() + 3; // ' ', '=', '\n'
            let mut n = rest + 1;
            while n.to_string().len() + rest != n {
                n += 1;
            }
            body.extend_from_slice(n.to_string().as_bytes());
            body.push(b' ');
            body.extend_from_slice(k);
            body.push(b'=');
            body.extend_from_slice(v);
            body.push(b'\n');
        }
        let mut h = [0u8; 512];
        h[..9].copy_from_slice(b"PaxHeader");
        octal(&mut h[100..108], 0o644);
        octal(&mut h[108..116], 0);
        octal(&mut h[116..124], 0);
        octal(&mut h[124..136], body.len() as u64);
        octal(&mut h[136..148], 0);
        h[156] = b'x';
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        checksum(&mut h);
        self.put(&h)?;
        self.put(&body)?;
        self.pad(body.len() as u64)
    }

    fn pad(&mut self, size: u64) -> io::Result<()> {
        let pad = ((512 - size % 512) % 512) as usize;
        self.put(&[0u8; 512][..pad])
    }

    fn put(&mut self, b: &[u8]) -> io::Result<()> {
        self.w.write_all(b)?;
        self.written += b.len() as u64;
        Ok(())
    }
}

/// Puts a name in USTAR's name (100 bytes) and prefix (155) fields, split at a `/`; `false`
/// when it does not fit.
fn split_name(name: &[u8], h: &mut [u8; 512]) -> bool {
    if name.len() <= 100 {
        h[..name.len()].copy_from_slice(name);
        return true;
    }
    // The prefix takes as much as it can: the last '/' that leaves at most 100 bytes after it.
    let start = name.len().saturating_sub(101);
    let Some(i) = name[start..].iter().position(|&c| c == b'/').map(|i| start + i) else {
        return false;
    };
    if i > 155 || i == 0 || name.len() - i - 1 == 0 {
        return false;
    }
    h[345..345 + i].copy_from_slice(&name[..i]);
    h[..name.len() - i - 1].copy_from_slice(&name[i + 1..]);
    true
}

/// A numeric field: octal when it fits, else base-256 (which Go and GNU tar read), and for
/// the fields PAX has, a PAX record too.
fn number(field: &mut [u8], v: u64, pax: &mut Vec<(Vec<u8>, Vec<u8>)>, key: Option<&str>) {
    let max = if field.len() == 12 { OCTAL11 } else { OCTAL7 };
    if v <= max {
        octal(field, v);
        return;
    }
    field.fill(0);
    field[0] = 0x80;
    for (i, b) in v.to_be_bytes().iter().rev().enumerate() {
        let at = field.len() - 1 - i;
        if at == 0 {
            break;
        }
        field[at] = *b;
    }
    if let Some(k) = key {
        pax.push((k.as_bytes().to_vec(), v.to_string().into_bytes()));
    }
}

/// `[-]secs[.nanos]`, as Go's `formatPAXTime` writes it.
fn pax_time(t: crate::tarstream::Mtime) -> String {
    match (t.secs < 0, t.nanos) {
        (_, 0) => t.secs.to_string(),
        (false, n) => format!("{}.{n:09}", t.secs),
        (true, n) => format!("-{}.{:09}", -(t.secs + 1), 1_000_000_000 - n),
    }
}

/// Zero-padded octal and a NUL.
fn octal(field: &mut [u8], v: u64) {
    let n = field.len() - 1;
    let s = format!("{v:0n$o}");
    field[..n].copy_from_slice(s.as_bytes());
    field[n] = 0;
}

fn checksum(h: &mut [u8; 512]) {
    h[148..156].fill(b' ');
    let sum: u64 = h.iter().map(|&b| b as u64).sum();
    let s = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::tree::{Extra, Pos};
    use crate::tarstream::{Mtime, Stream, TarReader};

    fn inode(kind: Kind) -> Inode {
        Inode {
            kind,
            mode: 0o4755,
            uid: 1000,
            gid: 3_000_000,
            mtime: Mtime { secs: 1_700_000_000, nanos: 5 },
            size: 3,
            dev: (8, 1),
            at: Pos { layer: 0, entry: 0 },
            refs: 1,
            extra: Some(Box::new(Extra {
                target: Vec::new(),
                xattrs: vec![(b"security.capability".to_vec(), vec![1, 0, 0, 2])],
            })),
        }
    }

    /// What airlock's own Go-equivalent reader reads back.
    #[test]
    fn go_reads_back_what_was_written() {
        let long = [&b"d/"[..]; 120].concat();
        let mut out = TarOut::new(Vec::new());
        out.header(b"usr/bin/x", Type::File, &inode(Kind::File), b"", 3).unwrap();
        out.data(&mut &b"abc"[..], 3).unwrap();
        out.header(&long, Type::Dir, &inode(Kind::Dir), b"", 0).unwrap();
        out.header(b"dev/sda", Type::Block, &inode(Kind::Block), b"", 0).unwrap();
        out.header(b"l", Type::Hardlink, &inode(Kind::File), b"usr/bin/x", 0).unwrap();
        let (bytes, n) = out.finish().unwrap();
        assert_eq!(n as usize, bytes.len());
        let mut r = TarReader::new(Stream(&bytes[..]));
        let e = r.next_entry().unwrap().unwrap();
        assert_eq!((e.path.as_str(), e.size, e.typeflag), ("usr/bin/x", 3, b'0'));
        let m = r.meta();
        assert_eq!((m.mode, m.uid, m.gid), (0o4755, 1000, 3_000_000));
        assert_eq!(m.mtime, Mtime { secs: 1_700_000_000, nanos: 5 });
        assert_eq!(m.xattrs, vec![(b"security.capability".to_vec(), vec![1, 0, 0, 2])]);
        let e = r.next_entry().unwrap().unwrap();
        assert_eq!(e.path.as_bytes(), [&long[..], b"/"].concat());
        let e = r.next_entry().unwrap().unwrap();
        assert_eq!((e.path.as_str(), e.typeflag, r.meta().devmajor, r.meta().devminor), ("dev/sda", b'4', 8, 1));
        let e = r.next_entry().unwrap().unwrap();
        assert_eq!((e.path.as_str(), e.link.as_deref(), e.typeflag), ("l", Some("usr/bin/x"), b'1'));
        assert!(r.meta().xattrs.is_empty());
        assert!(r.next_entry().unwrap().is_none());
    }

    #[test]
    fn mtimes_round_trip_through_pax() {
        for t in [Mtime { secs: 5, nanos: 0 }, Mtime { secs: 5, nanos: 7 }, Mtime { secs: -2, nanos: 750_000_000 }] {
            let mut i = inode(Kind::Dir);
            i.mtime = t;
            let mut out = TarOut::new(Vec::new());
            out.header(b"d", Type::Dir, &i, b"", 0).unwrap();
            let (bytes, _) = out.finish().unwrap();
            let mut r = TarReader::new(Stream(&bytes[..]));
            r.next_entry().unwrap().unwrap();
            assert_eq!(r.meta().mtime, t, "{}", pax_time(t));
        }
    }

    #[test]
    fn names_split_into_prefix_and_name_like_ustar() {
        let mut h = [0u8; 512];
        let name = [vec![b'p'; 150], b"/".to_vec(), vec![b'n'; 100]].concat();
        assert!(split_name(&name, &mut h));
        assert_eq!(&h[345..495], &vec![b'p'; 150][..]);
        assert_eq!(&h[..100], &vec![b'n'; 100][..]);
        let mut h = [0u8; 512];
        assert!(!split_name(&[b'n'; 101], &mut h), "no slash: PAX");
    }

    #[test]
    fn tar_crate_agrees_on_the_checksum_and_base256() {
        let mut out = TarOut::new(Vec::new());
        let mut big = inode(Kind::File);
        big.uid = 4_000_000_000;
        big.extra = None;
        big.mtime = Mtime { secs: 7, nanos: 0 };
        out.header(b"a", Type::File, &big, b"", 0).unwrap();
        let (bytes, _) = out.finish().unwrap();
        let mut ar = tar::Archive::new(&bytes[..]);
        let mut entries = ar.entries().unwrap();
        let e = entries.next().unwrap().unwrap();
        assert_eq!(e.header().uid().unwrap(), 4_000_000_000);
        assert_eq!(e.header().mtime().unwrap(), 7);
        assert_eq!(e.path().unwrap().to_str(), Some("a"));
    }
}
