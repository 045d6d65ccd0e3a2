//! The one table of media types airlock reads, writes and checks: OCI and docker manifests,
//! indexes, configs, layers by compression, and the artifact payloads it knows.

use crate::scan::Compression;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
/// Every OCI layer type starts so (tar, gzip, zstd, non-distributable, `+encrypted`).
pub const OCI_LAYER_PREFIX: &str = "application/vnd.oci.image.layer.";

pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar";
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
pub const DOCKER_LAYER_ZSTD: &str = "application/vnd.docker.image.rootfs.diff.tar.zstd";
pub const DOCKER_FOREIGN_LAYER: &str = "application/vnd.docker.image.rootfs.foreign.diff.tar";
pub const DOCKER_FOREIGN_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
/// containerd 2.2's EROFS layer.
pub const EROFS_LAYER: &str = "application/vnd.erofs.layer.v1";

/// The types of an index (a list of manifests).
pub const INDEX_TYPES: &[&str] = &[OCI_INDEX, DOCKER_MANIFEST_LIST];

/// cosign's simple-signing signature payload.
pub const COSIGN_SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// Every sigstore bundle type starts so (and ends in `+json`).
pub const SIGSTORE_BUNDLE_PREFIX: &str = "application/vnd.dev.sigstore.bundle.";
pub const SIGSTORE_BUNDLE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
pub const DSSE_ENVELOPE: &str = "application/vnd.dsse.envelope.v1+json";
pub const IN_TOTO: &str = "application/vnd.in-toto+json";

/// Whether a media type is an index's.
pub fn is_index(mt: &str) -> bool {
    INDEX_TYPES.contains(&mt)
}

/// A filesystem layer's media type, as containerd's `images.IsLayerType` reads it (core/images
/// mediatypes.go): any `application/vnd.oci.image.layer.` type (tar, gzip, zstd,
/// non-distributable, `+encrypted`), docker's layer types with any `+` suffix, and the EROFS
/// layer of containerd 2.2.
pub fn is_layer(mt: &str) -> bool {
    if mt.starts_with(OCI_LAYER_PREFIX) {
        return true;
    }
    let base = mt.split('+').next().unwrap_or(mt);
    [DOCKER_LAYER, DOCKER_LAYER_GZIP, DOCKER_LAYER_ZSTD, DOCKER_FOREIGN_LAYER, DOCKER_FOREIGN_LAYER_GZIP, EROFS_LAYER]
        .contains(&base)
}

/// A sigstore bundle's media type (any version).
pub fn is_sigstore_bundle(mt: &str) -> bool {
    mt.starts_with(SIGSTORE_BUNDLE_PREFIX) && mt.ends_with("+json")
}

/// The OCI media type of a layer with this compression.
pub fn oci_layer(c: Compression) -> &'static str {
    match c {
        Compression::Gzip => OCI_LAYER_GZIP,
        Compression::Zstd => OCI_LAYER_ZSTD,
        _ => OCI_LAYER,
    }
}

/// What a layer media type claims of its compression, if it says anything about it.
pub fn compression_of(mt: &str) -> Option<Compression> {
    let layer_like = mt.contains(".layer.") || mt.contains(".rootfs.") || mt.contains("diff.tar");
    if !layer_like {
        return None;
    }
    Some(if mt.ends_with("+gzip") || mt.ends_with(".tar.gzip") || mt.ends_with("tar.gzip") {
        Compression::Gzip
    } else if mt.ends_with("+zstd") || mt.ends_with(".tar.zstd") {
        Compression::Zstd
    } else if mt.ends_with(".tar") || mt.ends_with("diff.tar") {
        Compression::None
    } else {
        return None;
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Compression::{Gzip, Zstd};

    #[test]
    fn compressions() {
        for (mt, want) in [
            (OCI_LAYER, Some(Compression::None)),
            (OCI_LAYER_GZIP, Some(Gzip)),
            (OCI_LAYER_ZSTD, Some(Zstd)),
            (DOCKER_LAYER_GZIP, Some(Gzip)),
            (DOCKER_FOREIGN_LAYER_GZIP, Some(Gzip)),
            ("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", Some(Gzip)),
            (OCI_CONFIG, Option::None),
        ] {
            assert_eq!(compression_of(mt), want, "{mt}");
        }
        for c in [Compression::None, Gzip, Zstd] {
            assert_eq!(compression_of(oci_layer(c)), Some(c));
        }
    }

    #[test]
    fn layers_and_indexes() {
        assert!(is_layer("application/vnd.oci.image.layer.v1.tar+gzip+encrypted"));
        assert!(is_layer("application/vnd.docker.image.rootfs.diff.tar.gzip+encrypted"));
        assert!(is_layer(EROFS_LAYER));
        assert!(!is_layer(OCI_CONFIG));
        assert!(!is_layer(COSIGN_SIMPLE_SIGNING));
        assert!(is_index(DOCKER_MANIFEST_LIST) && is_index(OCI_INDEX) && !is_index(OCI_MANIFEST));
        assert!(is_sigstore_bundle(SIGSTORE_BUNDLE_V03) && !is_sigstore_bundle(IN_TOTO));
    }
}
