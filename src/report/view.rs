//! Parts of the human report for `inspect`: what an image runs with, its size, the compact
//! one-line-per-image table, and text from the archive made safe for a terminal; sizes as
//! the human report writes them (`human_size`).

use super::ImageReport;
use crate::formats::runtime::RunConfig;
use std::io::{self, Write};

/// Text from an archive, shown whole on one line: control characters (a newline in a
/// `RUN` heredoc, an escape sequence that would drive the terminal) are written escaped
/// (`\n`, `\u{1b}`), nothing is cut.
pub fn shown(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
}

/// The sum of the layer blob sizes, as stored; `None` if one is unknown.
pub fn layers_size(image: &ImageReport) -> Option<u64> {
    image.layers.iter().map(|l| l.size).sum()
}

/// The image's run configuration and creation time, under its digests.
pub fn print_run(image: &ImageReport, run: &RunConfig, out: &mut dyn Write) -> io::Result<()> {
    let opt = |s: &Option<String>| s.as_deref().map_or("-".to_string(), shown);
    let list = |v: &Option<Vec<String>>| match v {
        // As docker inspect shows them: a JSON array (control characters escaped by JSON).
        Some(v) => serde_json::to_string(v).unwrap_or_default(),
        None => "-".to_string(),
    };
    let size = layers_size(image).map_or("-".to_string(), human_size);
    let n = image.layers.len();
    writeln!(out, "    created:   {}", opt(&run.created))?;
    writeln!(out, "    size:      {size} in {n} layer{} (as stored)", if n == 1 { "" } else { "s" })?;
    writeln!(out, "    user:      {}", opt(&run.user))?;
    writeln!(out, "    workdir:   {}", opt(&run.working_dir))?;
    writeln!(out, "    entrypoint: {}", list(&run.entrypoint))?;
    writeln!(out, "    cmd:       {}", list(&run.cmd))?;
    let ports = if run.exposed_ports.is_empty() { "-".to_string() } else { shown(&run.exposed_ports.join(" ")) };
    writeln!(out, "    ports:     {ports}")?;
    lines(out, "env", run.env.iter().map(|e| shown(e)))?;
    lines(out, "labels", run.labels.iter().map(|(k, v)| format!("{}={}", shown(k), shown(v))))
}

/// `    NAME:` and one item a line, or `-`.
fn lines(out: &mut dyn Write, name: &str, items: impl Iterator<Item = String>) -> io::Result<()> {
    let mut first = true;
    for item in items {
        let label = if first { format!("{name}:") } else { String::new() };
        writeln!(out, "    {label:<10} {item}")?;
        first = false;
    }
    if first {
        writeln!(out, "    {:<10} -", format!("{name}:"))?;
    }
    Ok(())
}

/// `inspect --compact`: one line per image.
pub fn print_compact(images: &[ImageReport], out: &mut dyn Write) -> io::Result<()> {
    if images.is_empty() {
        return Ok(());
    }
    writeln!(out, "  {:>4}  {:<14}  {:<12}  {:>6}  {:>10}  tags", "#", "platform", "image ID", "layers", "size")?;
    for im in images {
        let tags = if im.tags.is_empty() { "<untagged>".to_string() } else { shown(&im.tags.join(", ")) };
        writeln!(
            out,
            "  {:>4}  {:<14}  {:<12}  {:>6}  {:>10}  {tags}",
            format!("@{}", im.index),
            im.platform.as_deref().map_or("-".to_string(), shown),
            im.image_id.map_or("-".to_string(), |d| d.short()),
            im.layers.len(),
            layers_size(im).map_or("-".to_string(), human_size),
        )?;
    }
    Ok(())
}

/// A size in B, KiB, MiB, GiB or TiB (one decimal past bytes).
pub fn human_size(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 { format!("{n} B") } else { format!("{v:.1} {}", UNITS[u]) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_exactly() {
        let run = RunConfig {
            created: Some("2026-11-23T17:51:54Z".into()),
            user: Some("app:app".into()),
            working_dir: Some("/srv".into()),
            entrypoint: Some(vec!["/bin/sh".into(), "-c".into()]),
            cmd: Some(vec!["echo \"hi\"\n\u{1b}[2J".into()]),
            env: vec!["A=1".into(), "B=two\nlines".into()],
            labels: [("org.x".to_string(), "y".to_string()), ("z".to_string(), "\u{1b}]0;t\u{7}".to_string())].into(),
            exposed_ports: vec!["443/tcp".into(), "80/tcp".into()],
            volumes: Vec::new(),
        };
        let image = ImageReport {
            index: 0,
            tags: vec![],
            platform: None,
            image_id: None,
            config_digest: None,
            manifest_digest: None,
            config_member: String::new(),
            layers: vec![],
            history: None,
            signatures: None,
            signatures_not_checked: None,
            config: None,
        };
        let mut out = Vec::new();
        print_run(&image, &run, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"    created:   2026-11-23T17:51:54Z
    size:      0 B in 0 layers (as stored)
    user:      app:app
    workdir:   /srv
    entrypoint: ["/bin/sh","-c"]
    cmd:       ["echo \"hi\"\n\u001b[2J"]
    ports:     443/tcp 80/tcp
    env:       A=1
               B=two\nlines
    labels:    org.x=y
               z=\u{1b}]0;t\u{7}
"#
        );
        let mut out = Vec::new();
        print_run(&image, &RunConfig::default(), &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "    created:   -\n    size:      0 B in 0 layers (as stored)\n    user:      -\n    workdir:   -\n    entrypoint: -\n    cmd:       -\n    ports:     -\n    env:       -\n    labels:    -\n"
        );
    }

    #[test]
    fn control_characters_escaped_nothing_cut() {
        assert_eq!(shown("RUN a && b"), "RUN a && b");
        assert_eq!(shown("a\nb\t\u{1b}[31m"), "a\\nb\\t\\u{1b}[31m");
        let long = "x".repeat(500);
        assert_eq!(shown(&long), long);
    }
}
