use serde::Deserialize;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    #[serde(default)]
    pub variant: Option<String>,
}

impl Platform {
    /// Parses `os/arch[/variant]` as given to `--platform`.
    pub fn parse(s: &str) -> Option<Platform> {
        let mut it = s.split('/');
        let os = it.next().filter(|p| !p.is_empty())?.to_string();
        let architecture = it.next().filter(|p| !p.is_empty())?.to_string();
        let variant = it.next().map(str::to_string);
        if it.next().is_some() {
            return None;
        }
        Some(Platform { os, architecture, variant })
    }

    /// Whether this platform satisfies a `--platform` request, both normalised as
    /// containerd's platforms package does (`normalized`): `linux/arm64/v8` is
    /// `linux/arm64`, `x86_64` is `amd64`, `linux/arm` is `linux/arm/v7`. A request that
    /// names no variant matches any variant (`linux/arm` picks arm/v6 too); one that names a
    /// variant, or implies one (`armhf`), matches that variant only.
    pub fn matches(&self, want: &Platform) -> bool {
        let (have, wanted) = (self.normalized(), want.normalized());
        let any_variant =
            want.variant.is_none() && !matches!(want.architecture.to_ascii_lowercase().as_str(), "armhf" | "armel");
        have.os == wanted.os
            && have.architecture == wanted.architecture
            && (any_variant || have.variant == wanted.variant)
    }

    /// containerd's `platforms.Normalize`: lower case; `macos` is `darwin`; `i386` is `386`,
    /// `x86_64` and `x86-64` are `amd64` (variant `v1` is its default, so none), `aarch64` is
    /// `arm64` (`8`, `v8`, `v8.0` its default; `9`, `9.0`, `v9.0` are `v9`), `armhf` is
    /// `arm/v7`, `armel` `arm/v6`, and `arm` without a variant `arm/v7` (`5`, `6`, `7`, `8`
    /// gain their `v`).
    pub fn normalized(&self) -> Platform {
        let os = match self.os.to_ascii_lowercase().as_str() {
            "macos" => "darwin".to_string(),
            o => o.to_string(),
        };
        let arch = self.architecture.to_ascii_lowercase();
        let variant = self.variant.as_deref().unwrap_or("").to_ascii_lowercase();
        let (architecture, variant) = match (arch.as_str(), variant.as_str()) {
            ("i386", _) => ("386", String::new()),
            ("x86_64" | "x86-64" | "amd64", "v1") => ("amd64", String::new()),
            ("x86_64" | "x86-64" | "amd64", _) => ("amd64", variant),
            ("aarch64" | "arm64", "8" | "v8" | "v8.0") => ("arm64", String::new()),
            ("aarch64" | "arm64", "9" | "9.0" | "v9.0") => ("arm64", "v9".to_string()),
            ("aarch64" | "arm64", _) => ("arm64", variant),
            ("armhf", _) => ("arm", "v7".to_string()),
            ("armel", _) => ("arm", "v6".to_string()),
            ("arm", "" | "7") => ("arm", "v7".to_string()),
            ("arm", "5" | "6" | "8") => ("arm", format!("v{variant}")),
            (a, _) => (a, variant),
        };
        let variant = (!variant.is_empty()).then_some(variant);
        Platform { os, architecture: architecture.to_string(), variant }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Platform;

    fn p(s: &str) -> Platform {
        Platform::parse(s).unwrap()
    }

    #[test]
    fn normalised_as_containerd_does() {
        for (given, norm) in [
            ("linux/arm64/v8", "linux/arm64"),
            ("linux/aarch64", "linux/arm64"),
            ("linux/arm64/v8.0", "linux/arm64"),
            ("linux/arm64/9", "linux/arm64/v9"),
            ("linux/x86_64", "linux/amd64"),
            ("linux/x86-64/v1", "linux/amd64"),
            ("linux/amd64/v3", "linux/amd64/v3"),
            ("linux/i386", "linux/386"),
            ("linux/armhf", "linux/arm/v7"),
            ("linux/armel", "linux/arm/v6"),
            ("linux/arm", "linux/arm/v7"),
            ("linux/arm/6", "linux/arm/v6"),
            ("Linux/AMD64", "linux/amd64"),
            ("macos/arm64", "darwin/arm64"),
            ("linux/s390x", "linux/s390x"),
        ] {
            assert_eq!(p(given).normalized().to_string(), norm, "{given}");
        }
    }

    #[test]
    fn requests_match_normalised() {
        let yes = [
            ("linux/arm64", "linux/arm64/v8"),
            ("linux/arm64/v8", "linux/arm64"),
            ("linux/aarch64", "linux/arm64/v8"),
            ("linux/amd64", "linux/amd64/v1"),
            ("linux/amd64/v1", "linux/amd64"),
            ("linux/arm", "linux/arm/v7"),
            ("linux/arm/v7", "linux/arm"),
            ("linux/armhf", "linux/arm/v7"),
            ("linux/amd64/v3", "linux/amd64"),
        ];
        for (image, want) in yes {
            assert!(p(image).matches(&p(want)), "{image} is {want}");
        }
        let no = [
            ("linux/arm64/v9", "linux/arm64/v8"),
            ("linux/amd64/v3", "linux/amd64/v1"),
            ("linux/amd64", "linux/amd64/v3"),
            ("linux/arm/v6", "linux/arm/v7"),
            ("linux/arm/v6", "linux/armhf"),
            ("linux/arm", "linux/arm64"),
            ("windows/amd64", "linux/amd64"),
        ];
        for (image, want) in no {
            assert!(!p(image).matches(&p(want)), "{image} is not {want}");
        }
        // No variant asked: any (arm/v6 is linux/arm too).
        assert!(p("linux/arm/v6").matches(&p("linux/arm")));
    }
}
