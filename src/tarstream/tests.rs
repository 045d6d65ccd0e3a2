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
