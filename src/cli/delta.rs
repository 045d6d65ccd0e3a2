//! `airlock delta` and `airlock apply`: their arguments, help, and what they print.

use super::quiet::{Brevity, QuietArgs};
use crate::delta::{self, apply};
use crate::error::Error;
use crate::exit::ExitStatus;
use crate::formats::output::OutputFormat;
use crate::report::human::{human_size, verdict_line};
use crate::report::json::Kind;
use clap::Args;
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

pub const DELTA_HELP: &str = "\
Examples:
  airlock delta app-v2.tar --have shipped-v1.lock --plan
  airlock delta app-v2.tar db-v5.oci.tar --have shipped-v1.lock --have shipped-v2.lock -o update.delta
  airlock lock app-v2.tar -o app-v2.lock        (carry it with the delta)
  airlock delta app-v2.tar --have shipped-v1.lock --thin-docker -o app-v2.thin.tar   (for docker load)

Verifies each NEW archive fully (one with errors is refused: exit 1, nothing written), then
writes a delta: every member of NEW except the layer blobs some image of the locks already
has (matched by blob digest, and by diffID for layers NEW stores uncompressed, as docker save
does), and airlock-delta.json, which records each member's sha256 and size and each blob
needed from the far side with the images that need it and the locked image that had it.
--plan prints, per image, the bytes to ship against the full archive, and writes nothing.
The same inputs give the same bytes; the output is written under a temporary name and
renamed when complete.

--thin-docker writes, instead of a delta, a docker archive of one NEW without the layers
whose chain the locked images' layers make: `docker load` with a graph-driver store (docker
20.10-28 by default) skips a layer whose chain it holds, so it loads there over the locked
images, with the same image IDs; where a chain is missing it fails. Docker's containerd
image store (Docker 29's default), containerd and podman refuse it (measured).

Exit status: 0 written (or planned), 1 a NEW archive failed its checks (nothing written),
2 usage error, an input or lock that cannot be read, or an output that cannot be written.";

pub const APPLY_HELP: &str = "\
Examples:
  airlock apply update.delta --from app-v1.tar -o app-v2.tar
  airlock apply update.delta --from k3s-airgap-images-amd64.tar.zst --from app-v1-oci/ -o app-v2.tar
  airlock apply update.delta --from app-v1.tar --to oci -o app-v2-oci
  airlock verify app-v2.tar --lock app-v2.lock --deny warnings

Takes each blob the delta needs from the base inputs (archives, layouts, wrapped archives,
bundles), verifies it by digest while copying it, checks every member the delta carries
against the digest recorded for it, and writes NEW as it was: the same members under the
same names, so the same manifests and image IDs (a compressed NEW is written as its plain
tar; a delta of several archives writes a directory holding each by its name). --to writes
it in another format instead, as convert does. A blob missing from the bases or wrong in
them, or a delta that differs from its own record: exit 1, nothing written.

Exit status: 0 written, 1 a needed blob is missing or corrupt, or the delta is
(delta-base-missing, delta-base-corrupt, delta-corrupt), 2 usage error, an input that cannot
be opened or is not a delta, or an output that cannot be written.";

#[derive(Args)]
pub struct DeltaArgs {
    /// The new image archives (.tar, .tar.gz, .tar.zst, an OCI layout directory)
    #[arg(required = true, value_name = "NEW")]
    inputs: Vec<PathBuf>,
    /// A lock (`airlock lock`) of what the far side already holds; repeatable
    #[arg(long = "have", required = true, value_name = "LOCK")]
    have: Vec<PathBuf>,
    /// Write the delta here
    #[arg(short = 'o', long = "output", value_name = "DELTA", required_unless_present = "plan")]
    output: Option<PathBuf>,
    /// Print what would be shipped, per image, and write nothing
    #[arg(long, conflicts_with = "output")]
    plan: bool,
    /// Write a docker-save archive without the layers the far side's docker already holds
    /// (those of the locked images), for `docker load` there; graph-driver stores only
    #[arg(long = "thin-docker", conflicts_with = "plan", requires = "output")]
    thin_docker: bool,
    /// Replace an existing output
    #[arg(long)]
    force: bool,
    /// Print the plan or summary as JSON (schema in the README)
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    quiet: QuietArgs,
}

#[derive(Args)]
pub struct ApplyArgs {
    /// The delta written by `airlock delta`
    #[arg(value_name = "DELTA")]
    delta: PathBuf,
    /// An archive, layout or bundle the far side holds; repeatable
    #[arg(long = "from", required = true, value_name = "BASE")]
    from: Vec<PathBuf>,
    /// Output path: the archive (a directory for a layout, or for a delta of several archives)
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    output: PathBuf,
    /// Write another format instead of NEW's own, as convert does
    #[arg(long = "to", value_enum, value_name = "FORMAT")]
    to: Option<OutputFormat>,
    /// Replace an existing output
    #[arg(long)]
    force: bool,
    /// Print a summary as JSON (schema in the README)
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    quiet: QuietArgs,
}

pub fn run_delta(a: DeltaArgs) -> Result<ExitStatus, Error> {
    a.quiet.check_json(a.json)?;
    let (brevity, inputs) = (a.quiet.brevity(), a.inputs.clone());
    let opts = delta::Options {
        inputs: a.inputs,
        have: a.have,
        output: a.output,
        force: a.force,
        progress: a.quiet.progress(),
        thin_docker: a.thin_docker,
    };
    let mut stdout = std::io::stdout().lock();
    let result = match delta::run(&opts)? {
        // A refusal first: whatever -q says, its status is the refusal's.
        delta::Outcome::Refused(report) => {
            super::print_refused(&report, "delta (nothing written)", brevity);
            return Ok(report.exit_status());
        }
        delta::Outcome::Planned(s) | delta::Outcome::Written(s) if a.json => print_json(Kind::Delta, &s, &mut stdout),
        delta::Outcome::Thin(s) if a.json => print_json(Kind::Thin, &s, &mut stdout),
        // The plan is what --plan asks for: printed whatever -q says (--status prints nothing).
        delta::Outcome::Planned(s) if brevity != Brevity::Status => print_plan(&s, &mut stdout),
        delta::Outcome::Written(s) if brevity == Brevity::Full => print_plan(&s, &mut std::io::stderr().lock()),
        delta::Outcome::Thin(s) if brevity == Brevity::Full => print_thin(&s, &mut std::io::stderr().lock()),
        // `-q`: each NEW input passed its checks (the delta is written, or planned).
        _ if brevity == Brevity::Line => {
            let lines: Vec<String> =
                inputs.iter().map(|p| verdict_line(&p.display().to_string(), true, &[]) + "\n").collect();
            std::io::stderr().write_all(lines.concat().as_bytes())
        }
        _ => Ok(()),
    };
    let _ = result.and_then(|_| stdout.flush());
    Ok(ExitStatus::Ok)
}

/// What `--thin-docker` wrote, and where it loads.
fn print_thin(s: &delta::thin::ThinSummary, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "airlock: wrote {} ({}): {} image{}, {} of {} layer files left out ({}), held by the locked images",
        s.output,
        human_size(s.bytes),
        s.images,
        if s.images == 1 { "" } else { "s" },
        s.omitted_files,
        s.layer_files,
        human_size(s.omitted_bytes)
    )?;
    writeln!(
        out,
        "airlock: note: it loads with `docker load` only into a docker with a graph-driver store (not Docker 29's containerd store, containerd or podman) that holds those images' layers; elsewhere the load fails on the first missing layer file"
    )
}

fn print_json(kind: Kind, v: &impl Serialize, out: &mut dyn Write) -> std::io::Result<()> {
    crate::report::json::print_document(kind, v, out)
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 { "0%".into() } else { format!("{:.1}%", part as f64 * 100.0 / whole as f64) }
}

fn print_plan(s: &delta::Summary, out: &mut dyn Write) -> std::io::Result<()> {
    for a in &s.archives {
        writeln!(
            out,
            "{}: {}, {} image{}; ship {} of {} ({})",
            a.name,
            a.format,
            a.images.len(),
            if a.images.len() == 1 { "" } else { "s" },
            human_size(a.shipped_bytes),
            human_size(a.full_bytes),
            percent(a.shipped_bytes, a.full_bytes)
        )?;
        for i in &a.images {
            let name = i.tags.first().map_or("<untagged>", String::as_str);
            let platform = i.platform.as_deref().unwrap_or("unknown platform");
            writeln!(
                out,
                "  {name} {} {platform}: ship {} of {} layers, {} of {}",
                i.image_id.short(),
                i.shipped_layers,
                i.layers,
                human_size(i.shipped_layer_bytes),
                human_size(i.layer_bytes)
            )?;
        }
        writeln!(out, "  from the far side: {} blobs, {}", a.needed_blobs, human_size(a.needed_bytes))?;
    }
    let locks: Vec<&str> = s.have.iter().map(|h| h.name.as_str()).collect();
    write!(
        out,
        "delta against {}: ship {} of {} ({})",
        locks.join(", "),
        human_size(s.shipped_bytes),
        human_size(s.full_bytes),
        percent(s.shipped_bytes, s.full_bytes)
    )?;
    match (&s.output, s.delta_bytes) {
        (Some(o), Some(n)) => writeln!(out, "; wrote {o} ({})", human_size(n)),
        _ => writeln!(out, "; nothing written (--plan)"),
    }
}

pub fn run_apply(a: ApplyArgs) -> Result<ExitStatus, Error> {
    let opts = apply::Options {
        delta: a.delta,
        bases: a.from,
        output: a.output,
        to: a.to,
        force: a.force,
        progress: a.quiet.progress(),
    };
    a.quiet.check_json(a.json)?;
    let (brevity, delta_path) = (a.quiet.brevity(), opts.delta.display().to_string());
    let mut stdout = std::io::stdout().lock();
    match apply::run(&opts)? {
        apply::Outcome::Written(s) => {
            if a.json {
                let _ = print_json(
                    Kind::Apply,
                    &apply::ApplyReport { ok: true, applied: Some(&s), findings: &[] },
                    &mut stdout,
                );
            } else if brevity == Brevity::Line {
                eprintln!("{}", verdict_line(&delta_path, true, &[]));
            } else if brevity == Brevity::Full {
                let images: usize = s.archives.iter().map(|x| x.images.len()).sum();
                let fetched: Vec<&apply::FetchedBlob> = s.archives.iter().flat_map(|x| &x.fetched).collect();
                let shipped: u64 = s.archives.iter().map(|x| x.shipped_bytes).sum();
                eprintln!(
                    "airlock: wrote {} ({}): {} image{}; {} blob{} ({}) from the base inputs, {} from the delta, every one verified",
                    s.output,
                    human_size(s.bytes),
                    images,
                    if images == 1 { "" } else { "s" },
                    fetched.len(),
                    if fetched.len() == 1 { "" } else { "s" },
                    human_size(fetched.iter().map(|f| f.size).sum()),
                    human_size(shipped)
                );
            }
            for n in s.notes.iter().filter(|_| brevity == Brevity::Full) {
                eprintln!("airlock: note: {n}");
            }
            Ok(ExitStatus::Ok)
        }
        apply::Outcome::Failed(findings) => {
            if a.json {
                let _ = print_json(
                    Kind::Apply,
                    &apply::ApplyReport { ok: false, applied: None, findings: &findings },
                    &mut stdout,
                );
            }
            match brevity {
                Brevity::Full => {
                    for f in &findings {
                        let sev = if f.is_error() { "error" } else { "warning" };
                        eprintln!("airlock: {sev}[{}]: {}", f.code, f.message);
                    }
                    eprintln!("airlock: apply failed: nothing written");
                }
                Brevity::Line => eprintln!("{}", verdict_line(&delta_path, false, &findings)),
                Brevity::Status => {}
            }
            Ok(ExitStatus::Failed)
        }
    }
}
