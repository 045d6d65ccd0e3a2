//! `airlock export`: its arguments, and turning its outcome into messages and an exit status.

use super::quiet::{Brevity, QuietArgs};
use crate::error::Error;
use crate::exit::ExitStatus;
use crate::export::{self, Outcome, Output, Refused};
use crate::model::Platform;
use crate::model::select::Selection;
use crate::report::human::verdict_line;
use crate::report::{Report, human::human_size};
use clap::Args;
use std::path::PathBuf;

pub const HELP: &str = "\
Examples:
  airlock export nginx.tar -o nginx-rootfs.tar
  airlock export site-oci/ --platform linux/arm64 -o rootfs.tar --provenance rootfs.jsonl
  airlock export app.tar.zst --image app:1 -o - | tar -t
  airlock export app.tar -o rootfs/          (a directory; owners and devices need root)

The layers are applied in order as docker applies them: whiteouts (.wh.NAME) delete,
opaque markers (.wh..wh..opq) empty a directory of what lower layers put there, a path's
last writer wins, hard links keep the content their target had (a file whose other name a
later layer deleted is in the output). Modes, owners, mtimes, device nodes, FIFOs and
SCHILY.xattr records are kept; user and group names are not (extracting as root maps ids,
not names). What the runtime adds to a container (/.dockerenv, /etc/hosts, /dev, ...) is
not there: this is the image's filesystem.

The input is verified as it is read (blob digests, diffIDs and every check of verify); an
input with errors, or a layer entry whose effect the runtimes do not agree on (a path
through a symlink, an escape from the root), is refused: exit 1, nothing written.

Exit status: 0 written, 1 refused (nothing written), 2 usage error, an input that cannot
be opened, or an output that cannot be written.";

#[derive(Args)]
pub struct ExportArgs {
    /// Image archive (.tar, .tar.gz, .tar.zst, an OCI layout directory), or a bundle
    #[arg(value_name = "INPUT")]
    input: PathBuf,
    /// The root filesystem as a tar, as a directory (a path ending in /), or - for stdout
    #[arg(short = 'o', long = "output", value_name = "ROOTFS.tar|DIR/")]
    output: PathBuf,
    /// The image to export, by tag, image or manifest digest, or position (@0 is the first)
    #[arg(long = "image", value_name = "REF|@N")]
    image: Option<String>,
    /// The platform to export, for a multi-platform image
    #[arg(long, value_name = "OS/ARCH[/VARIANT]", value_parser = super::parse_platform)]
    platform: Option<Platform>,
    /// Also write one JSON line per path: the layer (index and diffID) that last wrote it
    #[arg(long, value_name = "FILE")]
    provenance: Option<PathBuf>,
    /// Replace an existing output (and provenance file)
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    quiet: QuietArgs,
}

pub fn run(a: ExportArgs) -> Result<ExitStatus, Error> {
    let to_stdout = a.output.as_os_str() == "-";
    let opts = export::Options {
        input: a.input.clone(),
        output: if to_stdout {
            Output::Stdout
        } else if a.output.as_os_str().as_encoded_bytes().ends_with(b"/") {
            Output::Dir(a.output.clone())
        } else {
            Output::Tar(a.output.clone())
        },
        selection: Selection { images: a.image.into_iter().collect(), platform: a.platform },
        provenance: a.provenance,
        force: a.force,
        progress: a.quiet.progress(),
    };
    let brevity = a.quiet.brevity();
    let input = a.input.display().to_string();
    Ok(match export::run(&opts)? {
        Outcome::Written(s) => {
            if brevity == Brevity::Line {
                eprintln!("{}", verdict_line(&input, true, &s.findings));
            }
            if brevity == Brevity::Full {
                let to = if to_stdout { "stdout".to_string() } else { a.output.display().to_string() };
                eprintln!(
                    "airlock: exported image {} of {} to {to}: {} layer{} ({} read twice), {} paths, {} files, {}",
                    s.image,
                    a.input.display(),
                    s.layers,
                    if s.layers == 1 { "" } else { "s" },
                    s.layers_reread,
                    s.paths,
                    s.files,
                    human_size(s.output_bytes)
                );
            }
            if brevity != Brevity::Full {
                return Ok(ExitStatus::Ok);
            }
            let _ = crate::report::human::print_notes(&s.notes, &mut std::io::stderr().lock());
            for f in &s.findings {
                eprintln!("airlock: warning[{}]: {}", f.code, f.message);
            }
            ExitStatus::Ok
        }
        Outcome::Refused(Refused::Findings(input)) => {
            super::print_refused(&Report::refused(vec![input]), "export (nothing written)", brevity);
            ExitStatus::Failed
        }
        Outcome::Refused(Refused::Entry(stop) | Refused::Changed(stop)) => {
            match brevity {
                Brevity::Full => eprintln!("airlock: export refused (nothing written): {stop}"),
                Brevity::Line => eprintln!("{}", verdict_line(&input, false, &[])),
                Brevity::Status => {}
            }
            ExitStatus::Failed
        }
    })
}
