//! `airlock flatten`: its arguments, and turning its outcome into messages and an exit status.

use super::quiet::{Brevity, QuietArgs};
use crate::error::Error;
use crate::exit::ExitStatus;
use crate::export::Refused;
use crate::flatten::{self, Outcome};
use crate::formats::output::{CompressionChoice, OutputFormat};
use crate::model::Platform;
use crate::model::select::Selection;
use crate::output::Destination;
use crate::report::{Report, human::human_size, human::verdict_line};
use clap::Args;
use std::path::PathBuf;

pub const HELP: &str = "\
Examples:
  airlock flatten app.tar --to docker -o app-flat.tar
  airlock flatten site-oci/ --platform linux/arm64 --to oci -o flat-oci
  airlock flatten app.tar.zst --image app:1 --to oci-archive --compression zstd -o app-flat.oci.tar
  airlock flatten app.tar --to docker -o - | docker load

The image's root filesystem, exactly as `airlock export` makes it (whiteouts and opaque
directories applied, hard links resolved, modes, owners and xattrs kept), written as an
image of one layer. The config is kept, except rootfs.diff_ids (the new layer's diffID)
and history (one entry saying the image was flattened); the tags are kept. The image ID and
manifest digest are new. The same input and options give the same bytes.

The input is verified as it is read; an input with errors, or a layer entry the runtimes
do not agree on (a path through a symlink, an escape from the root), is refused: exit 1,
nothing written. The output is written as convert writes it: under a temporary name next
to it, renamed when complete; an existing output is refused unless --force.

Exit status: 0 written, 1 refused (nothing written), 2 usage error, an input that cannot
be opened, or an output that cannot be written.";

#[derive(Args)]
pub struct FlattenArgs {
    /// Image archive (.tar, .tar.gz, .tar.zst, an OCI layout directory), or a bundle
    #[arg(value_name = "INPUT")]
    input: PathBuf,
    /// Output format
    #[arg(long = "to", value_enum, value_name = "FORMAT")]
    to: OutputFormat,
    /// Output path (a directory for `oci`), or - for stdout (tar formats)
    #[arg(short = 'o', long = "output", value_name = "OUTPUT")]
    output: PathBuf,
    /// The image to flatten, by tag, image or manifest digest, or position (@0 is the first)
    #[arg(long = "image", value_name = "REF|@N")]
    image: Option<String>,
    /// The platform to flatten, for a multi-platform image
    #[arg(long, value_name = "OS/ARCH[/VARIANT]", value_parser = super::parse_platform)]
    platform: Option<Platform>,
    /// The new layer's compression: gzip, zstd or none (crane archives: gzip only)
    #[arg(long, value_enum, default_value = "gzip")]
    compression: CompressionChoice,
    /// Compression level with gzip (libdeflate's 0-12, default 1) or zstd (1-19, default 3)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i32).range(0..=19))]
    level: Option<i32>,
    /// Replace an existing output
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    quiet: QuietArgs,
}

pub fn run(a: FlattenArgs) -> Result<ExitStatus, Error> {
    if a.compression == CompressionChoice::Keep {
        return Err(Error::Usage(
            "--compression keep: the flattened layer is new, there is no compression to keep; give gzip, zstd or none"
                .into(),
        ));
    }
    super::flags::convert_compression(a.to, a.compression, a.level)
        .and_then(|_| super::flags::output_path(&a.output))
        .map_err(Error::Usage)?;
    let to_stdout = a.output.as_os_str() == "-";
    let opts = flatten::Options {
        input: a.input.clone(),
        format: a.to,
        output: if to_stdout { Destination::Stdout } else { Destination::Path(a.output.clone()) },
        selection: Selection { images: a.image.into_iter().collect(), platform: a.platform },
        compression: a.compression,
        level: a.level,
        force: a.force,
        progress: a.quiet.progress(),
    };
    let (brevity, input) = (a.quiet.brevity(), a.input.display().to_string());
    Ok(match flatten::run(&opts)? {
        Outcome::Written(s) if brevity != Brevity::Full => {
            if brevity == Brevity::Line {
                eprintln!("{}", verdict_line(&input, true, &s.findings));
            }
            ExitStatus::Ok
        }
        Outcome::Written(s) => {
            let to = if to_stdout { "stdout".to_string() } else { a.output.display().to_string() };
            eprintln!(
                "airlock: flattened image {} of {} to {to} ({}): {} layer{} into one ({}, {} paths, {} files, layer {} as written), {}",
                s.image,
                a.input.display(),
                a.to.as_str(),
                s.layers,
                if s.layers == 1 { "" } else { "s" },
                s.diff_id.short(),
                s.paths,
                s.files,
                human_size(s.written.bytes),
                human_size(s.written.output_bytes)
            );
            let _ = crate::report::human::print_notes(&s.written.notes, &mut std::io::stderr().lock());
            for f in &s.findings {
                eprintln!("airlock: warning[{}]: {}", f.code, f.message);
            }
            ExitStatus::Ok
        }
        Outcome::Refused(Refused::Findings(input)) => {
            super::print_refused(&Report::refused(vec![input]), "flatten (nothing written)", brevity);
            ExitStatus::Failed
        }
        Outcome::Refused(Refused::Entry(stop) | Refused::Changed(stop)) => {
            match brevity {
                Brevity::Full => eprintln!("airlock: flatten refused (nothing written): {stop}"),
                Brevity::Line => eprintln!("{}", verdict_line(&input, false, &[])),
                Brevity::Status => {}
            }
            ExitStatus::Failed
        }
    })
}
