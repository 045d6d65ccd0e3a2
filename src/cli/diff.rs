//! `airlock diff`: its arguments, its output, and its exit status (as `diff`'s).

use super::quiet::{Brevity, QuietArgs};
use crate::diff::{self, Outcome, print};
use crate::error::Error;
use crate::exit::ExitStatus;
use crate::model::Platform;
use crate::model::select::Selection;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

pub const HELP: &str = "\
Examples:
  airlock diff app-1.0.tar app-1.1.tar
  airlock diff release-1.lock release-2.tar.zst        (a lock: what was carried before)
  airlock diff old-oci/ new-oci/ --platform linux/arm64 --files
  airlock diff v1.tar v2.tar --image app:2 --json | jq '.images[].layers.added_bytes'

Images are paired by tag and platform, then by image ID (retagged), then by repository
(app:1 and app:2, where each side has one), else added or removed. Per pair: the layers
shared, added and removed, matched by diffID, with their bytes (a shared layer in another
blob is counted: a delta ships it again); the config fields that differ (user, working
dir, entrypoint, cmd, env, labels, exposed ports, volumes). The last line counts B's layer
blobs that A holds: what `airlock delta` would not ship.

Nothing is hashed: the values are the ones the inputs declare (run airlock verify to check
them). With --files, each changed pair's two filesystems are made as `airlock export` makes
them (layers verified as they are read, whiteouts applied) and compared path by path:
added, removed, modified (type, content by sha256, mode, owner, link target). A lock file
records layers but no config and no files.

Exit status: 0 the inputs hold the same images (IDs, manifests, blobs, tags), 1 they differ,
2 usage error or an input that cannot be opened (as diff(1)).";

#[derive(Args)]
pub struct DiffArgs {
    /// The old side: an image archive, OCI layout, bundle, or an airlock lock file
    #[arg(value_name = "A")]
    a: PathBuf,
    /// The new side: the same kinds
    #[arg(value_name = "B")]
    b: PathBuf,
    /// Compare only these images (on both sides): tag, image or manifest digest, or @N
    #[arg(long = "image", value_name = "REF|@N")]
    images: Vec<String>,
    /// Compare only images of this platform (on both sides)
    #[arg(long, value_name = "OS/ARCH[/VARIANT]", value_parser = super::parse_platform)]
    platform: Option<Platform>,
    /// Also compare the final filesystems of each changed image, path by path
    #[arg(long)]
    files: bool,
    /// Print the comparison as JSON (schema in the README)
    #[arg(long)]
    json: bool,
    /// `-q`: one line, `A and B differ` or `A and B are the same` (as `diff -q`, which prints
    /// the first); `--status`: nothing, the exit status says it
    #[command(flatten)]
    quiet: QuietArgs,
}

pub fn run(a: DiffArgs) -> Result<ExitStatus, Error> {
    a.quiet.check_json(a.json)?;
    let brevity = a.quiet.brevity();
    let names = (a.a.display().to_string(), a.b.display().to_string());
    let opts = diff::Options {
        a: a.a,
        b: a.b,
        selection: Selection { images: a.images, platform: a.platform },
        files: a.files,
        progress: a.quiet.progress(),
    };
    let d = match diff::run(&opts)? {
        Outcome::Compared(d) => d,
        Outcome::Refused { side, refused } => {
            let why = match refused {
                crate::export::Refused::Findings(input) => {
                    super::print_refused(&crate::report::Report::refused(vec![input]), "diff --files", brevity);
                    return Ok(ExitStatus::Usage);
                }
                crate::export::Refused::Entry(s) | crate::export::Refused::Changed(s) => s.to_string(),
            };
            return Err(Error::Usage(format!("diff --files: the filesystem of {side} cannot be made: {why}")));
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = match brevity {
        _ if a.json => print::json(&d, &mut out),
        Brevity::Full => print::human(&d, &mut out),
        Brevity::Line if d.equal => writeln!(out, "{} and {} are the same", names.0, names.1),
        Brevity::Line => writeln!(out, "{} and {} differ", names.0, names.1),
        Brevity::Status => Ok(()),
    };
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::output("cannot write the output", e)),
        _ => Ok(ExitStatus::passed(d.equal)),
    }
}
