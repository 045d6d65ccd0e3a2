use super::*;

fn build(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

fn names(bytes: &[u8]) -> Result<Vec<(String, u64)>, TarError> {
    let mut r = TarReader::new(Stream(bytes));
    let mut out = Vec::new();
    while let Some(e) = r.next_entry()? {
        out.push((e.path, e.size));
    }
    Ok(out)
}

#[test]
fn reads_entries_and_long_names() {
    let long = "d/".repeat(120) + "file";
    let bytes = build(&[("a.txt", b"hello"), (&long, b"x")]);
    let got = names(&bytes).unwrap();
    assert_eq!(got, vec![("a.txt".to_string(), 5), (long, 1)]);
}

#[test]
fn reads_pax_path() {
    let mut b = tar::Builder::new(Vec::new());
    b.append_pax_extensions([("path", b"pax/name/is/here".as_slice())]).unwrap();
    let mut h = tar::Header::new_ustar();
    h.set_size(3);
    h.set_path("short").unwrap();
    h.set_cksum();
    b.append(&h, &b"abc"[..]).unwrap();
    let bytes = b.into_inner().unwrap();
    assert_eq!(names(&bytes).unwrap(), vec![("pax/name/is/here".to_string(), 3)]);
}

#[test]
fn data_is_readable_and_end_is_marked() {
    let bytes = build(&[("a", b"12345"), ("b", b"")]);
    let mut r = TarReader::new(Stream(&bytes[..]));
    r.next_entry().unwrap().unwrap();
    let mut s = String::new();
    r.data().read_to_string(&mut s).unwrap();
    assert_eq!(s, "12345");
    assert_eq!(r.next_entry().unwrap().unwrap().path, "b");
    assert!(r.next_entry().unwrap().is_none());
    assert_eq!(r.end(), Some(End::Marker));
}

#[test]
fn truncation_inside_data_is_an_error() {
    let bytes = build(&[("a", &[7u8; 3000]), ("b", b"x")]);
    let cut = &bytes[..512 + 1000];
    assert!(matches!(names(cut), Err(TarError::Truncated { .. })));
}

#[test]
fn garbage_is_a_checksum_error() {
    let garbage = vec![0x41u8; 1024];
    assert!(matches!(names(&garbage), Err(TarError::Header { error: HeaderError::Checksum, .. })));
}

#[test]
fn oversized_long_name_is_refused_without_allocating() {
    // A GNU long-name header claiming 8 GiB of name.
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::GNULongName);
    h.set_size(8 << 30);
    h.set_path("././@LongLink").unwrap();
    h.set_cksum();
    let bytes = h.as_bytes().to_vec();
    assert!(matches!(names(&bytes), Err(TarError::Header { error: HeaderError::MetaTooLarge(_), .. })));
}

#[test]
fn clean_eof_without_marker_is_accepted() {
    let mut bytes = build(&[("a", b"1")]);
    bytes.truncate(1024); // header + one data block, no end blocks
    let mut r = TarReader::new(Stream(&bytes[..]));
    assert!(r.next_entry().unwrap().is_some());
    assert!(r.next_entry().unwrap().is_none());
    assert_eq!(r.end(), Some(End::CleanEof));
}

#[test]
fn names_are_kept_byte_for_byte() {
    use header::name_string;
    assert_eq!(name_string(b"manifest.json"), "manifest.json");
    assert_ne!(name_string(b"a\xff"), name_string(b"a\xfe"), "no lossy collision");
    // The escaped form of an invalid name never equals a valid name's text.
    let escaped = name_string(b"a\xff");
    assert_ne!(name_string(escaped.as_bytes()), escaped);
    assert_ne!(name_string("\u{FFFD}a\\xff".as_bytes()), name_string(b"a\xff"));
}

#[test]
fn old_gnu_sparse_extension_blocks_precede_the_data() {
    // An 'S' header flagged extended, one extension block, 5 bytes of data, then a file.
    let mut h = tar::Header::new_gnu();
    h.set_path("sparse").unwrap();
    h.set_size(5);
    h.set_entry_type(tar::EntryType::GNUSparse);
    let raw = h.as_mut_bytes();
    raw[482] = 1;
    h.set_cksum();
    let mut bytes = h.as_bytes().to_vec();
    bytes.extend([0u8; 512]); // the extension block: no more entries, not extended
    let mut data = b"abcde".to_vec();
    data.resize(512, 0);
    bytes.extend(data);
    bytes.extend(build(&[("after", b"x")]));
    let got = names(&bytes).unwrap();
    assert_eq!(got, vec![("sparse".to_string(), 5), ("after".to_string(), 1)]);
}

#[test]
fn one_zero_block_then_a_header_is_an_error() {
    let mut bytes = build(&[("a", b"1")]);
    bytes.truncate(1024);
    bytes.extend([0u8; 512]);
    bytes.extend(&build(&[("b", b"2")])[..1024]);
    assert!(matches!(names(&bytes), Err(TarError::Header { error: HeaderError::Refused(_), .. })));
    // One zero block and then the end of the stream: Go accepts it.
    let mut bytes = build(&[("a", b"1")]);
    bytes.truncate(1024 + 512);
    assert_eq!(names(&bytes).unwrap().len(), 1);
}

#[test]
fn an_empty_pax_value_keeps_the_header_field() {
    let mut b = tar::Builder::new(Vec::new());
    b.append_pax_extensions([("path", b"".as_slice())]).unwrap();
    let mut h = tar::Header::new_ustar();
    h.set_size(1);
    h.set_path("kept").unwrap();
    h.set_cksum();
    b.append(&h, &b"x"[..]).unwrap();
    assert_eq!(names(&b.into_inner().unwrap()).unwrap(), vec![("kept".to_string(), 1)]);
}

#[test]
fn a_global_header_drops_a_pending_long_name() {
    // L "evil", then a global 'g' header, then a file "safe": Go returns the global header as
    // an entry of its own, so the long name never reaches "safe".
    let mut bytes = Vec::new();
    let mut long = tar::Header::new_gnu();
    long.set_entry_type(tar::EntryType::GNULongName);
    long.set_path("././@LongLink").unwrap();
    long.set_size(5);
    long.set_cksum();
    bytes.extend_from_slice(long.as_bytes());
    let mut data = b"evil\0".to_vec();
    data.resize(512, 0);
    bytes.extend(data);
    let mut g = tar::Builder::new(Vec::new());
    let mut gh = tar::Header::new_ustar();
    gh.set_entry_type(tar::EntryType::XGlobalHeader);
    gh.set_path("pax_global_header").unwrap();
    let rec = b"20 comment=whatever\n";
    gh.set_size(rec.len() as u64);
    gh.set_cksum();
    g.append(&gh, &rec[..]).unwrap();
    let mut gb = g.into_inner().unwrap();
    gb.truncate(1024);
    bytes.extend(gb);
    bytes.extend(build(&[("safe", b"s")]));
    assert_eq!(names(&bytes).unwrap(), vec![("safe".to_string(), 1)]);
}

/// A raw header block: `name`, type flag, size, GNU or USTAR magic; `edit` changes bytes
/// before the checksum is set.
fn raw(name: &[u8], typeflag: u8, size: u64, gnu: bool, edit: impl FnOnce(&mut [u8; 512])) -> Vec<u8> {
    let mut b = [0u8; 512];
    b[..name.len()].copy_from_slice(name);
    b[100..108].copy_from_slice(b"0000644\0");
    b[108..116].copy_from_slice(b"0000000\0");
    b[116..124].copy_from_slice(b"0000000\0");
    b[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
    b[136..148].copy_from_slice(b"00000000000\0");
    b[156] = typeflag;
    if gnu {
        b[257..265].copy_from_slice(b"ustar  \0");
    } else {
        b[257..265].copy_from_slice(b"ustar\x0000");
    }
    edit(&mut b);
    b[148..156].fill(b' ');
    let sum: u32 = b.iter().map(|&c| c as u32).sum();
    b[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    b.to_vec()
}

fn with_data(header: Vec<u8>, data: &[u8]) -> Vec<u8> {
    let mut v = header;
    v.extend_from_slice(data);
    v.resize(v.len().div_ceil(512) * 512, 0);
    v
}

fn long(kind: u8, payload: &[u8]) -> Vec<u8> {
    with_data(raw(b"././@LongLink", kind, payload.len() as u64, true, |_| {}), payload)
}

fn pax_header(records: &[u8]) -> Vec<u8> {
    with_data(raw(b"PaxHeaders/x", b'x', records.len() as u64, false, |_| {}), records)
}

fn record(key: &str, value: &[u8]) -> Vec<u8> {
    let body = [b" ", key.as_bytes(), b"=", value, b"\n"].concat();
    let mut n = body.len() + 1;
    while n.to_string().len() + body.len() != n {
        n += 1;
    }
    [n.to_string().as_bytes(), &body].concat()
}

fn end2() -> Vec<u8> {
    vec![0u8; 1024]
}

fn entries(bytes: &[u8]) -> Result<Vec<(String, Option<String>, u64)>, TarError> {
    let mut r = TarReader::new(Stream(bytes));
    let mut out = Vec::new();
    while let Some(e) = r.next_entry()? {
        out.push((e.path, e.link, e.size));
    }
    Ok(out)
}

#[test]
fn an_empty_gnu_long_name_is_not_used() {
    // Go keeps "" as the pending long name and then uses the header's own name: the member
    // is read, not dropped (issue 14, HIGH-1).
    let bytes = [long(b'L', b""), with_data(raw(b"manifest.json", b'0', 2, false, |_| {}), b"[]"), end2()].concat();
    assert_eq!(entries(&bytes).unwrap(), vec![("manifest.json".to_string(), None, 2)]);
    // A later empty one replaces an earlier long name: the header's name again.
    let bytes =
        [long(b'L', b"evil\0"), long(b'L', b"\0"), with_data(raw(b"short", b'0', 1, false, |_| {}), b"x"), end2()]
            .concat();
    assert_eq!(entries(&bytes).unwrap(), vec![("short".to_string(), None, 1)]);
    // The same for a long link name, and an empty long name does not hide a PAX path.
    let sym = raw(b"s", b'2', 0, false, |b| b[157..161].copy_from_slice(b"tgt1"));
    let bytes = [long(b'K', b""), sym, end2()].concat();
    assert_eq!(entries(&bytes).unwrap(), vec![("s".to_string(), Some("tgt1".to_string()), 0)]);
    let bytes =
        [pax_header(&record("path", b"from-pax")), long(b'L', b""), raw(b"h", b'5', 0, false, |_| {}), end2()].concat();
    assert_eq!(entries(&bytes).unwrap(), vec![("from-pax".to_string(), None, 0)]);
}

#[test]
fn a_later_empty_pax_record_replaces_an_earlier_one() {
    let records = [record("path", b"evil"), record("path", b"")].concat();
    let bytes = [pax_header(&records), raw(b"kept", b'5', 0, false, |_| {}), end2()].concat();
    assert_eq!(entries(&bytes).unwrap(), vec![("kept".to_string(), None, 0)]);
}

#[test]
fn pax_records_are_held_to_go_rules() {
    let file = || raw(b"f", b'5', 0, false, |_| {});
    let refused = |records: Vec<u8>| {
        let bytes = [pax_header(&records), file(), end2()].concat();
        matches!(entries(&bytes), Err(TarError::Header { .. }))
    };
    assert!(refused(record("fo\0o", b"1")), "NUL in a key");
    assert!(refused(record("GNU.sparse.numbytes", b"1")), "numbytes before offset");
    assert!(refused(record("GNU.sparse.offset", b"1,2")), "a comma in a 0.0 sparse value");
    assert!(refused(record("mtime", b"99999999999999999999")), "seconds out of range");
    assert!(!refused(record("size", b"-1")), "a negative size on a directory is ignored");
    assert!(!refused(record("mtime", b"-5.")), "Go reads -5. as a time");
    // A bad value is only an error for the header that uses it.
    let bytes = [pax_header(&record("mtime", b"x")), pax_header(&record("path", b"p")), file(), end2()].concat();
    assert_eq!(entries(&bytes).unwrap(), vec![("p".to_string(), None, 0)]);
    let bytes = [pax_header(&record("mtime", b"x")), end2()].concat();
    assert_eq!(entries(&bytes).unwrap(), vec![]);
}

#[test]
fn negative_sizes_as_go_reads_them() {
    let negative = |b: &mut [u8; 512]| b[124..136].copy_from_slice(&[0xff; 12]);
    // A symlink has no data whatever its size says.
    let bytes = [raw(b"l", b'2', 0, false, negative), end2()].concat();
    assert_eq!(entries(&bytes).unwrap().len(), 1);
    let bytes = [raw(b"f", b'0', 0, false, negative), end2()].concat();
    assert!(matches!(entries(&bytes), Err(TarError::Header { .. })));
    // A negative PAX size on a regular file fails; on a directory it is ignored.
    let bytes = [pax_header(&record("size", b"-1")), raw(b"f", b'0', 0, false, |_| {}), end2()].concat();
    assert!(matches!(entries(&bytes), Err(TarError::Header { .. })));
    let bytes = [pax_header(&record("size", b"-1")), raw(b"d/", 0, 0, false, |_| {}), end2()].concat();
    assert_eq!(entries(&bytes).unwrap().len(), 1);
}

#[test]
fn star_times_must_parse() {
    let star = |b: &mut [u8; 512]| {
        b[508..512].copy_from_slice(b"tar\0");
        b[476..488].copy_from_slice(b"00000000000\0");
        b[488..500].copy_from_slice(b"0000000000x\0");
    };
    let bytes = [raw(b"f", b'5', 0, false, star), end2()].concat();
    assert!(matches!(entries(&bytes), Err(TarError::Header { error: HeaderError::Number("ctime"), .. })));
}

#[test]
fn the_stream_may_end_inside_padding() {
    // Go reads padding with tryReadFull: an end there is the end of the archive.
    let mut bytes = with_data(raw(b"a", b'0', 3, false, |_| {}), b"abc");
    bytes.truncate(512 + 3 + 100);
    let mut r = TarReader::new(Stream(&bytes[..]));
    assert_eq!(r.next_entry().unwrap().unwrap().size, 3);
    assert!(r.next_entry().unwrap().is_none());
    assert_eq!(r.end(), Some(End::CleanEof));
    // Inside the data it is an error.
    assert!(matches!(entries(&bytes[..512 + 2]), Err(TarError::Truncated { .. })));
}

#[test]
fn prefix_and_name_are_escaped_as_one_name() {
    // USTAR prefix "p" and name "\xff": one name, "p/\xff", escaped as a whole.
    let bytes = [raw(b"\xff", b'5', 0, false, |b| b[345] = b'p'), end2()].concat();
    let got = entries(&bytes).unwrap();
    assert_eq!(got[0].0, header::name_string(b"p/\xff"));
    assert_ne!(got[0].0, header::name_string("p/\u{FFFD}\\xff".as_bytes()));
}

#[test]
fn pax_sparse_files_are_read_as_go_reads_them() {
    // 0.1: two fragments of 2 bytes in a 10-byte file; the data holds 4 bytes.
    let records = [
        record("GNU.sparse.major", b"0"),
        record("GNU.sparse.minor", b"1"),
        record("GNU.sparse.name", b"real-name"),
        record("GNU.sparse.realsize", b"10"),
        record("GNU.sparse.numblocks", b"2"),
        record("GNU.sparse.map", b"0,2,8,2"),
    ]
    .concat();
    let h = |n: u64| raw(b"GNUSparseFile.0/x", b'0', n, false, |_| {});
    let read = |data: &[u8]| {
        let bytes = [pax_header(&records), with_data(h(data.len() as u64), data), end2()].concat();
        let mut r = TarReader::new(Stream(&bytes[..]));
        r.next_entry().map(|e| e.map(|e| (e.path, e.sparse)))
    };
    let e = read(b"abcd").unwrap().unwrap();
    assert_eq!(e, ("real-name".to_string(), Some(Sparse { size: 10, data_matches: true })));
    assert!(!read(b"abc").unwrap().unwrap().1.unwrap().data_matches);
    // A fragment past the size: Go fails the header.
    let bad = [record("GNU.sparse.map", b"0,2,9,2"), record("GNU.sparse.numblocks", b"2")].concat();
    let bytes = [pax_header(&bad), with_data(h(4), b"abcd"), end2()].concat();
    assert!(matches!(entries(&bytes), Err(TarError::Header { .. })));
}
