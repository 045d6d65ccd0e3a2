//! Image reference grammar (distribution/reference): `[domain[:port]/]path[:tag][@digest]`.

/// Whether `s` is a valid image reference. `tag_only` accepts a bare tag as well, which is
/// what `org.opencontainers.image.ref.name` may hold.
pub fn is_valid(s: &str, tag_only: bool) -> bool {
    if tag_only && is_tag(s) {
        return true;
    }
    if s.is_empty() || s.len() > 255 + 128 + 72 {
        return false;
    }
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (s, None),
    };
    if let Some(d) = digest
        && crate::digest::Digest::parse(d).is_none()
    {
        return false;
    }
    // The tag is after the last ':' that follows the last '/'.
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(t) = tag
        && !is_tag(t)
    {
        return false;
    }
    if name.len() > 255 {
        return false;
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    if parts.len() > 1 && is_domain(parts[0]) {
        parts.remove(0);
    }
    !parts.is_empty() && parts.iter().all(|p| is_path_component(p))
}

/// Whether a valid reference names a repository (`app:1`, `team/app`), rather than being a
/// bare OCI ref name (`1`, `app-1`, `latest`) that only tags something inside a layout.
pub fn names_repository(r: &str) -> bool {
    r.contains('/') || r.contains(':') || r.contains('@')
}

fn is_tag(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn is_path_component(p: &str) -> bool {
    let b = p.as_bytes();
    if b.is_empty() || !is_alnum(b[0]) || !is_alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if is_alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !is_alnum(b[i]) {
            i += 1;
        }
        let sep = &p[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|c| c == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn is_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

fn is_domain(d: &str) -> bool {
    let (host, port) = match d.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (d, None),
    };
    if let Some(p) = port
        && (p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit()))
    {
        return false;
    }
    let looks_like_domain =
        d.contains('.') || port.is_some() || host == "localhost" || host.bytes().any(|c| c.is_ascii_uppercase());
    looks_like_domain
        && !host.is_empty()
        && host.split('.').all(|l| {
            !l.is_empty()
                && l.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

/// `nginx` → `docker.io/library/nginx:latest`, as docker resolves short names.
pub fn normalize(r: &str) -> String {
    let (name, suffix) = match r.split_once('@') {
        Some((n, d)) => (n, format!("@{d}")),
        None => (r, String::new()),
    };
    let last = name.rsplit('/').next().unwrap_or(name);
    let (name, tag) = if last.contains(':') {
        let i = name.rfind(':').unwrap_or(name.len());
        (&name[..i], name[i..].to_string())
    } else if suffix.is_empty() {
        (name, ":latest".to_string())
    } else {
        (name, String::new())
    };
    let first = name.split('/').next().unwrap_or("");
    let has_domain = name.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    let full = if has_domain {
        name.to_string()
    } else if name.contains('/') {
        format!("docker.io/{name}")
    } else {
        format!("docker.io/library/{name}")
    };
    format!("{full}{tag}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::{is_valid, names_repository, normalize};

    #[test]
    fn references() {
        for ok in [
            "nginx",
            "nginx:1.25",
            "docker.io/library/nginx:latest",
            "localhost:5000/a/b:c",
            "registry.example.com/team/app_x__y:v1.2-3",
            "rancher/mirrored-pause:3.6",
        ] {
            assert!(is_valid(ok, false), "{ok}");
        }
        for bad in ["", "Nginx:latest", "nginx:", "nginx:-x", "a//b", "../x", "nginx:la test"] {
            assert!(!is_valid(bad, false), "{bad}");
        }
        assert!(is_valid("app-1", true));
        assert_eq!(normalize("nginx"), "docker.io/library/nginx:latest");
        assert_eq!(normalize("local/app:1"), "docker.io/local/app:1");
        assert_eq!(normalize("localhost:5000/app"), "localhost:5000/app:latest");
        assert_eq!(normalize("docker.io/library/nginx:1.25"), "docker.io/library/nginx:1.25");
        assert!(!is_valid("app 1", true));
    }

    #[test]
    fn digests_in_references() {
        let d = format!("sha256:{}", "a".repeat(64));
        assert!(is_valid(&format!("app@{d}"), false));
        assert!(is_valid(&format!("registry.example.com:5000/app:1@{d}"), false));
        assert!(!is_valid("app@sha256:abc", false), "a short digest");
        assert!(!is_valid(&format!("app@{}", "a".repeat(64)), false), "no algorithm");
        // A digest reference keeps its digest and gets no `:latest`.
        assert_eq!(normalize(&format!("app@{d}")), format!("docker.io/library/app@{d}"));
        assert_eq!(normalize(&format!("team/app:2@{d}")), format!("docker.io/team/app:2@{d}"));
    }

    #[test]
    fn domains_ports_and_lengths() {
        assert!(is_valid("Registry.Example.com/app", false), "a domain may have upper case");
        assert!(!is_valid("registry.example.com:/app", false), "an empty port");
        assert!(!is_valid("registry.example.com:x/app", false), "a port that is not a number");
        assert!(!is_valid("-bad.example.com/app", false));
        assert!(is_valid(&format!("app:{}", "t".repeat(128)), false));
        assert!(!is_valid(&format!("app:{}", "t".repeat(129)), false));
        // `localhost` alone is a repository, not a domain (nothing follows it).
        assert_eq!(normalize("localhost"), "docker.io/library/localhost:latest");
        assert_eq!(normalize("localhost/app"), "localhost/app:latest");
        assert_eq!(normalize("example.com:5000/app"), "example.com:5000/app:latest");
    }

    #[test]
    fn bare_ref_names_are_not_repositories() {
        for bare in ["1", "app-1", "latest"] {
            assert!(is_valid(bare, true) && !names_repository(bare), "{bare}");
        }
        for repo in ["app:1", "team/app", "app@sha256:x"] {
            assert!(names_repository(repo), "{repo}");
        }
        assert!(!is_valid(".hidden", true));
    }
}
