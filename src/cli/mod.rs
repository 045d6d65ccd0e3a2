//! The command line: clap definitions and dispatch. Output goes to stdout; errors and
//! progress to stderr.

mod delta;
mod diff;
mod docs;
mod export;
mod fit;
mod flags;
mod flatten;
mod quiet;
mod raw;

use crate::commands::{inspect, verify};
use crate::convert::{self, Outcome};
use crate::digest::Digest;
use crate::error::Error;
use crate::exit::ExitStatus;
use crate::formats::output::{CompressionChoice, OutputFormat};
use crate::model::Platform;
use crate::model::select::Selection;
use crate::output::Destination;
use crate::report::{self, Report};
use clap::{Args, Parser, Subcommand};
use quiet::{Brevity, QuietArgs};
use std::io::Write;
use std::path::PathBuf;

const ABOUT: &str = "Check and convert container image archives, fully offline.";

/// `airlock --version`: the version and the git commit it was built from (build.rs).
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (git ", env!("AIRLOCK_GIT_COMMIT"), ")");

const TOP_HELP: &str = "\
Examples:
  airlock verify nginx.tar                      check everything before docker load
  airlock verify bundle.tar.zst --expect-id sha256:…   pin the image IDs you expect
  airlock inspect app-oci/                      what is inside, without hashing layers
  airlock convert nginx.tar --to oci -o nginx-oci
  airlock lock images.tar -o images.lock        pin the set; verify --lock after the gap
  airlock delta v2.tar --have v1.lock -o v2.delta   ship only what the far side lacks
  airlock apply v2.delta --from v1.tar -o v2.tar    rebuild it there, verified

-q prints one verdict line per input (as sha256sum -c), --status nothing (as sha256sum --status).

Exit status: 0 ok, 1 a check failed or not a valid archive, 2 usage error or unopenable path
(with several inputs, the worst of them: every input is reported).";

const VERIFY_HELP: &str = "\
Examples:
  airlock verify nginx.tar
  airlock verify k3s-airgap-images-amd64.tar.zst --json
  airlock verify app.tar --expect-id sha256:4f1c…  --expect-id sha256:9ab2…
  airlock verify site-oci/ --platform linux/arm64
  airlock verify images.tar.zst --lock images.lock --target k3s --deny warnings
  airlock verify harbor-offline-installer-v2.10.0.tgz --checksums SHA256SUMS

Reads docker-save archives (legacy and Docker 25+), crane tarballs, OCI layouts (a directory
or a tar), wrapped whole in gzip, zstd, bzip2 or lz4 or not, and the bundles they travel in
(Harbor installers, Zarf packages and their .part000 split parts, Hauler hauls and their
.001 chunks, tars of archives, three archives deep). Recomputes every blob
digest, diffID and chainID and checks them against manifests and configs.

Exit status: 0 all inputs ok (warnings allowed), 1 a check failed or an input is not a valid
archive, 2 usage error or an input that cannot be opened (every other input is still
reported). A directory is read only if it holds oci-layout, index.json, manifest.json or
zarf.yaml at its top.";

const CONVERT_HELP: &str = "\
Examples:
  airlock convert nginx.tar --to oci -o nginx-oci
  airlock convert bundle-oci/ --to docker --platform linux/amd64 -o app.tar
  airlock convert app.tar --to oci-archive --compression zstd -o app.oci.tar
  airlock convert app.tar.zst --to docker -o - | docker load
  airlock convert harbor-offline-installer-v2.10.0.tgz --image goharbor/nginx-photon:v2.10.0 --to oci -o nginx
  airlock convert app-oci/ --for docker@20.10 -o app.tar
  airlock convert images.tar.zst --for k3s -o /var/lib/rancher/k3s/agent/images/
  airlock convert site.tar.zst --for containerd@1.6 --platform linux/amd64 -o site.tar

The image does not change: config bytes are copied verbatim (the image ID stays), layers are
copied byte for byte unless their compression changes, and a manifest that needs no change
keeps its bytes (and digest). The input is verified as it is copied; an input with errors is
refused (exit 1, nothing written) unless --force.

--for NAME[@VERSION] (as `verify --target` spells it) chooses the format, layer compression
and file name that runtime loads, with the --target rule table: a docker archive for docker
before 29 and podman (zstd layers become gzip), an OCI archive where a tag names several
platforms (docker 29, containerd, k3s), always a plain tar, a `.tar` name for k3s and rke2
(-o DIR writes DIR/NAME.tar). It prints the --target findings for the input and for the
output; when no output loads there it writes nothing and says why (exit 2). A partial
multi-platform index is reduced to the platforms present only with --platform. --to,
--compression and --level do not go with --for.

Compression: `keep` (the default) keeps each layer's, except for the docker target, where
zstd layers become gzip because Docker before 23.0 cannot load zstd. crane archives always
hold gzip layers.

The output is written under a temporary name next to it and renamed when complete; an
existing output is refused unless --force. Output is deterministic: the same input and
options give the same bytes.

Exit status: 0 written, 1 the input failed its checks (nothing written), 2 usage error, an
input that cannot be opened, or an output that cannot be written.";

const INSPECT_HELP: &str = "\
Examples:
  airlock inspect nginx.tar
  airlock inspect app-oci/ --json
  airlock inspect k3s-airgap-images-amd64.tar.zst --compact
  airlock inspect app-oci/ --platform linux/arm64 --raw | sha256sum   (the manifest digest)
  airlock inspect app.tar --config | jq .config.Env

Shows images, tags, platforms, config and manifest digests, when each was created and what
it runs with (user, workdir, entrypoint, cmd, ports, env, labels), its size as stored, layers
with their declared diffIDs and chainIDs, and the history aligned to the layers (in full),
without hashing the layers. --raw and --config print one image's manifest or config byte
for byte (select one with --image or --platform).";

#[derive(Parser)]
#[command(name = "airlock", version = VERSION, about = ABOUT, long_about = None, after_help = TOP_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Colour the report: auto (a terminal, unless NO_COLOR or TERM=dumb; CLICOLOR_FORCE
    /// forces it), always or never
    #[arg(long, global = true, value_enum, default_value = "auto", value_name = "WHEN")]
    color: ColorWhen,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand)]
enum Command {
    /// Recompute every digest, diffID and chainID of image archives and check them
    #[command(after_help = VERIFY_HELP)]
    Verify(VerifyArgs),
    /// Show what is inside image archives, without hashing the layers
    #[command(after_help = INSPECT_HELP)]
    Inspect(InspectArgs),
    /// Rewrite an image archive in another format without changing the image
    #[command(after_help = CONVERT_HELP)]
    Convert(ConvertArgs),
    /// Write the root filesystem an image's layers make (whiteouts applied) as a tar
    #[command(after_help = export::HELP)]
    Export(export::ExportArgs),
    /// What changed between two archives, layouts, bundles or lock files: images, layers, config, files
    #[command(after_help = diff::HELP)]
    Diff(diff::DiffArgs),
    /// Write an image's root filesystem (whiteouts applied) as an image of one layer
    #[command(after_help = flatten::HELP)]
    Flatten(flatten::FlattenArgs),
    /// Pin the images of archives in a lock file, to check with `verify --lock` after the gap
    #[command(after_help = LOCK_HELP)]
    Lock(LockArgs),
    /// Write only what the far side lacks: NEW's documents and the blobs no locked image has
    #[command(after_help = delta::DELTA_HELP)]
    Delta(delta::DeltaArgs),
    /// Rebuild the full archive from a delta and the archives the far side holds, verified
    #[command(after_help = delta::APPLY_HELP)]
    Apply(delta::ApplyArgs),
    /// Print shell completions (bash, zsh, fish) generated from these very definitions
    #[command(after_help = COMPLETIONS_HELP)]
    Completions {
        #[arg(value_enum)]
        shell: CompletionShell,
    },
    /// Print the JSON Schema of a kind of JSON document airlock prints (verify --json, …)
    #[command(after_help = SCHEMA_HELP)]
    Schema {
        #[arg(value_enum, value_name = "KIND")]
        kind: report::json::Kind,
    },
    /// Print the man page, or write every page (airlock.1, airlock-verify.1, …) into a directory
    #[command(after_help = MAN_HELP)]
    Man {
        /// Write airlock.1 and one page per subcommand into DIR instead of printing airlock.1
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

const LOCK_HELP: &str = "\
Examples:
  airlock lock k3s-airgap-images-amd64.tar.zst app.tar -o images.lock
  airlock verify k3s-airgap-images-amd64.tar.zst app.tar --lock images.lock   (after the gap)

Verifies the inputs fully, then writes what they hold: per image its tags, platform, image
ID, manifest digest and layers (diffID, blob digest, size, media type); per input its name,
format, size and sha256. The same inputs give the same bytes. An input with errors is
refused (exit 1, nothing written) unless --force.";

const COMPLETIONS_HELP: &str = "\
Examples:
  airlock completions bash | install -D -m 0644 /dev/stdin /usr/share/bash-completion/completions/airlock
  airlock completions zsh  | install -D -m 0644 /dev/stdin /usr/local/share/zsh/site-functions/_airlock
  airlock completions fish | install -D -m 0644 /dev/stdin /usr/share/fish/vendor_completions.d/airlock.fish";

const SCHEMA_HELP: &str = "\
Examples:
  airlock schema verify > airlock.verify.schema.json
  airlock verify app.tar --json | check-jsonschema --schemafile airlock.verify.schema.json -

Prints the JSON Schema (draft 2020-12) generated from the types airlock serializes. Every JSON
document carries \"schema\" (its kind and version, e.g. \"airlock.verify/v2\") and
\"airlock_version\"; within a version fields are only added, never renamed or removed.";

const MAN_HELP: &str = "\
Examples:
  airlock man | man -l -
  airlock man --dir /usr/local/share/man/man1";

#[derive(Clone, Copy, clap::ValueEnum)]
enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Args)]
struct ConvertArgs {
    /// Image archive (.tar, .tar.gz, .tar.zst, .tar.bz2, .tar.lz4, an OCI layout directory), or
    /// a bundle holding the image to take out
    #[arg(value_name = "INPUT")]
    input: PathBuf,
    /// Output format
    #[arg(long = "to", value_enum, value_name = "FORMAT", required_unless_present = "for_target")]
    to: Option<OutputFormat>,
    /// Write what this runtime loads, choosing format, layer compression and file name (see
    /// `verify --target` for the names): docker[@20.10|23|24|25|29], containerd[@1.6|1.7|2],
    /// k3s, rke2, podman[@4|5]
    #[arg(long = "for", value_name = "NAME[@VERSION]", value_parser = crate::targets::Target::parse)]
    for_target: Option<crate::targets::Target>,
    /// Output path (a directory for `oci`), or - for stdout (tar targets)
    #[arg(short = 'o', long = "output", value_name = "OUTPUT")]
    output: PathBuf,
    /// Select images by tag, image ID or manifest digest (full, or a short ID), NAME@sha256:…
    /// reference, or position (@0 is the first); repeatable
    #[arg(long = "image", value_name = "REF|ID|@N")]
    images: Vec<String>,
    /// Select images of one platform, normalised as containerd does (linux/arm64/v8 is
    /// linux/arm64, x86_64 is amd64); without a variant, any variant
    #[arg(long, value_name = "OS/ARCH[/VARIANT]", value_parser = parse_platform)]
    platform: Option<Platform>,
    /// Set the tags of the (single) selected image; repeatable
    #[arg(long = "tag", value_name = "NAME:TAG")]
    tags: Vec<String>,
    /// Layer compression in the output [default: keep]
    #[arg(long, value_enum)]
    compression: Option<CompressionChoice>,
    /// Compression level with --compression gzip (libdeflate's 0-12, default 1) or zstd (1-19, default 3)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i32).range(0..=19))]
    level: Option<i32>,
    /// Replace an existing output; write even if the input has errors
    #[arg(long)]
    force: bool,
    /// Print a summary as JSON (schema in the README): on stdout, or on stderr with -o -
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    quiet: QuietArgs,
}

#[derive(Args)]
struct CommonArgs {
    /// Image archives (.tar, .tar.gz, .tar.zst, .tar.bz2, .tar.lz4, an OCI layout directory) or
    /// bundles holding them; a split or chunked file by its first part; - for standard input
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// Select images by tag, image ID or manifest digest (full, or a short ID as reports
    /// print it), NAME@sha256:… reference, or position (@0 is the first)
    #[arg(long = "image", value_name = "REF|ID|@N")]
    images: Vec<String>,
    /// Select images of one platform, normalised as containerd does (linux/arm64/v8 is
    /// linux/arm64, x86_64 is amd64); without a variant, any variant
    #[arg(long, value_name = "OS/ARCH[/VARIANT]", value_parser = parse_platform)]
    platform: Option<Platform>,
    /// Print the report as JSON (schema in the README)
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    quiet: QuietArgs,
}

#[derive(Args)]
struct InspectArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// One line per image (platform, image ID, layers, size, tags) instead of its tables
    #[arg(long, conflicts_with_all = ["json", "raw", "config"])]
    compact: bool,
    /// Print the selected image's manifest, its bytes as stored (sha256 = manifest digest)
    #[arg(long, conflicts_with_all = ["json", "config"])]
    raw: bool,
    /// Print the selected image's config, its bytes as stored (sha256 = image ID)
    #[arg(long, conflicts_with = "json")]
    config: bool,
}

#[derive(Args)]
struct VerifyArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Fail unless an image with this image ID (sha256 of its config) is present; repeatable
    #[arg(long = "expect-id", value_name = "sha256:HEX", value_parser = parse_digest)]
    expect_ids: Vec<Digest>,
    /// Fail on warnings too: `warnings` for all, or a finding code; repeatable
    #[arg(long = "deny", value_name = "warnings|CODE", value_parser = crate::policy::Deny::parse)]
    deny: Vec<crate::policy::Deny>,
    /// Hold the inputs against a lock written by `airlock lock` on the connected side
    #[arg(long = "lock", value_name = "FILE")]
    lock: Option<PathBuf>,
    /// Predict whether this runtime loads the inputs: docker[@20.10|23|24|25|29],
    /// containerd[@1.6|1.7|2], k3s, rke2, podman[@4|5]; repeatable
    #[arg(long = "target", value_name = "NAME[@VERSION]", value_parser = crate::targets::Target::parse)]
    targets: Vec<crate::targets::Target>,
    /// Check inputs and bundle members against a sha256sum-style list (or BSD `SHA256 (f) = h`); repeatable
    #[arg(long = "checksums", value_name = "FILE")]
    checksums: Vec<PathBuf>,
    /// Require every image to carry a cosign signature that verifies with this PEM public key
    /// (cosign.pub: ECDSA P-256/P-384, Ed25519, RSA); repeatable
    #[arg(long = "key", value_name = "FILE")]
    keys: Vec<PathBuf>,
    /// With --key: a signature counts only if its Rekor entry's SET verifies with this PEM
    /// public key (rekor.pub, offline); repeatable
    #[arg(long = "rekor-key", value_name = "FILE", requires = "keys")]
    rekor_keys: Vec<PathBuf>,
    /// With --checksums: lines naming no input or bundle member are not errors (as sha256sum's
    /// --ignore-missing); a list that names none of them still fails
    #[arg(long = "ignore-missing", requires = "checksums")]
    ignore_missing: bool,
}

#[derive(Args)]
struct LockArgs {
    /// Image archives to pin: .tar, .tar.gz, .tar.zst, or OCI layout directories
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// Write the lock here (atomically) instead of stdout; an existing file needs --force
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Replace an existing output; write the lock even if an input has errors (unreadable
    /// images are left out)
    #[arg(long)]
    force: bool,
    /// Require every image to carry a cosign signature that verifies with this PEM public key,
    /// and record the key's fingerprint with each signature it verifies; repeatable
    #[arg(long = "key", value_name = "FILE")]
    keys: Vec<PathBuf>,
    #[command(flatten)]
    quiet: QuietArgs,
}

fn parse_platform(s: &str) -> Result<Platform, String> {
    Platform::parse(s).ok_or_else(|| format!("{s:?} is not os/arch[/variant]"))
}

fn parse_digest(s: &str) -> Result<Digest, String> {
    Digest::parse(s).ok_or_else(|| format!("{s:?} is not sha256:<64 lowercase hex digits>"))
}

/// The whole command-line definition (for tests of the generated completions and pages).
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

/// Runs the command line; the exit status is decided here, once, from the command's verdict
/// or its error.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitStatus::Usage.code() } else { ExitStatus::Ok.code() };
        }
    };
    set_color(cli.color);
    let status = match run(cli.command) {
        Ok(status) => status,
        Err(e) => {
            eprintln!("airlock: {e}");
            ExitStatus::Usage
        }
    };
    status.code()
}

/// `--color always|never`: anstream's global choice; auto leaves anstream's rules.
fn set_color(when: ColorWhen) {
    match when {
        ColorWhen::Auto => {}
        ColorWhen::Always => anstream::ColorChoice::Always.write_global(),
        ColorWhen::Never => anstream::ColorChoice::Never.write_global(),
    }
}

fn run(command: Command) -> Result<ExitStatus, Error> {
    match command {
        Command::Verify(mut a) => {
            let report = verify::run(&verify_options(&mut a)?)?;
            print_report(&report, &a.common, report::json::Kind::Verify, false, "verify");
            Ok(report.exit_status())
        }
        Command::Inspect(a) => run_inspect(a),
        Command::Convert(a) => run_convert(a),
        Command::Lock(a) => run_lock(a),
        Command::Delta(a) => delta::run_delta(a),
        Command::Apply(a) => delta::run_apply(a),
        Command::Export(a) => export::run(a),
        Command::Flatten(a) => flatten::run(a),
        Command::Diff(a) => diff::run(a),
        Command::Completions { shell } => {
            let shell = match shell {
                CompletionShell::Bash => clap_complete::Shell::Bash,
                CompletionShell::Zsh => clap_complete::Shell::Zsh,
                CompletionShell::Fish => clap_complete::Shell::Fish,
            };
            docs::completions(shell, &mut std::io::stdout().lock());
            Ok(ExitStatus::Ok)
        }
        Command::Schema { kind } => {
            let mut out = std::io::stdout().lock();
            let schema = docs::schema(kind);
            let _ = serde_json::to_writer_pretty(&mut out, &schema)
                .map_err(std::io::Error::from)
                .and_then(|_| writeln!(out));
            Ok(ExitStatus::Ok)
        }
        Command::Man { dir: None } => match docs::man(&mut std::io::stdout().lock()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::output("cannot write the man page", e)),
            _ => Ok(ExitStatus::Ok),
        },
        Command::Man { dir: Some(d) } => {
            let pages = docs::man_pages(&d)
                .map_err(|e| Error::output(format!("cannot write man pages into {}", d.display()), e))?;
            eprintln!("airlock: wrote {} in {}", pages.join(", "), d.display());
            Ok(ExitStatus::Ok)
        }
    }
}

/// `--key`, `--rekor-key`: the keys read. Signatures are looked for with keys, or when the
/// lock records some (to find the locked ones, even without keys).
fn verify_trust(
    keys: &[PathBuf],
    rekor: &[PathBuf],
    lock: Option<&crate::lock::Lock>,
) -> Result<Option<crate::signatures::Trust>, Error> {
    let trust = crate::signatures::Trust {
        keys: crate::signatures::keys::read_files(keys)?,
        rekor: crate::signatures::keys::read_files(rekor)?,
    };
    let locked = lock.is_some_and(|l| l.images.iter().any(|i| !i.signatures.is_empty()));
    Ok((!keys.is_empty() || locked).then_some(trust))
}

/// verify's options from its flags: the lock, checksum lists and keys read, `-` made stdin.
fn verify_options(a: &mut VerifyArgs) -> Result<verify::Options, Error> {
    flags::stdin_input(&mut a.common.inputs, !a.checksums.is_empty()).map_err(Error::Usage)?;
    a.common.quiet.check_json(a.common.json)?;
    let lock = a.lock.as_deref().map(crate::lock::read).transpose()?;
    let mut checksums = Vec::new();
    for f in &a.checksums {
        checksums.extend(crate::checksums::read(f)?);
    }
    let signatures = verify_trust(&a.keys, &a.rekor_keys, lock.as_ref())?;
    Ok(verify::Options {
        inputs: a.common.inputs.clone(),
        selection: selection(&a.common),
        expect_ids: std::mem::take(&mut a.expect_ids),
        progress: a.common.quiet.progress(),
        policy: crate::policy::Policy::new(&a.deny),
        lock,
        targets: std::mem::take(&mut a.targets),
        checksums,
        ignore_missing: a.ignore_missing,
        signatures,
    })
}

fn selection(a: &CommonArgs) -> Selection {
    Selection { images: a.images.clone(), platform: a.platform.clone() }
}

/// The report as `--json` (a document of `kind`), `-q`, `--status` or neither ask; an input that cannot be opened
/// is also named on stderr, whatever they ask (as sha256sum does).
fn print_report(report: &Report, c: &CommonArgs, kind: report::json::Kind, compact: bool, verb: &str) {
    note_unreadable(report);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let r = match c.quiet.brevity() {
        _ if c.json => report::json::print(kind, report, &mut out),
        Brevity::Status => Ok(()),
        Brevity::Line => report::human::print_verdicts(report, &mut out),
        Brevity::Full => {
            let color = colored(&std::io::stdout());
            report::human::print(report, &report::human::Style { color, compact }, verb, &mut out)
        }
    };
    // A closed pipe (`airlock verify x | head`) is not an error worth a panic.
    let _ = r.and_then(|_| out.flush());
}

/// `airlock: cannot open …` on stderr for each input that could not be opened.
fn note_unreadable(report: &Report) {
    let unreadable = report.inputs.iter().flat_map(|i| &i.findings);
    for f in unreadable.filter(|f| f.code == crate::finding::Code::InputUnreadable) {
        eprintln!("airlock: {}", f.message);
    }
}

/// Whether to colour what goes to `stream`: `--color always|never` if given (set as
/// anstream's global choice), else anstream's rules: `CLICOLOR_FORCE` forces it, `NO_COLOR`
/// and `TERM=dumb` turn it off, otherwise only a terminal gets it.
fn colored(stream: &impl anstream::stream::RawStream) -> bool {
    anstream::AutoStream::choice(stream) != anstream::ColorChoice::Never
}

/// The human report of inputs a command refused (nothing written), on stderr; with `-q` one
/// verdict line per input, with `--status` nothing.
fn print_refused(report: &Report, verb: &str, brevity: Brevity) {
    match brevity {
        Brevity::Full => {}
        Brevity::Line => {
            let _ = report::human::print_verdicts(report, &mut std::io::stderr().lock());
            return;
        }
        Brevity::Status => return,
    }
    let style = report::human::Style { color: colored(&std::io::stderr()), compact: false };
    let _ = report::human::print(report, &style, verb, &mut std::io::stderr().lock());
}

/// `inspect`: the report, or with `--raw` / `--config` one document's bytes.
fn run_inspect(mut a: InspectArgs) -> Result<ExitStatus, Error> {
    flags::stdin_input(&mut a.common.inputs, false).map_err(Error::Usage)?;
    if a.raw || a.config {
        return run_raw(&a);
    }
    let c = &a.common;
    c.quiet.check_json(c.json)?;
    let opts = inspect::Options { inputs: c.inputs.clone(), selection: selection(c), progress: c.quiet.progress() };
    let report = inspect::run(&opts)?;
    print_report(&report, c, report::json::Kind::Inspect, a.compact, "inspect");
    Ok(report.exit_status())
}

/// `inspect --raw` / `--config`: the bytes on stdout, nothing added.
fn run_raw(a: &InspectArgs) -> Result<ExitStatus, Error> {
    let which = if a.raw { raw::Document::Manifest } else { raw::Document::Config };
    let found = raw::run(&a.common.inputs, &selection(&a.common), which, a.common.quiet.progress())?;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(&found.bytes).and_then(|_| out.flush());
    if !found.ok {
        eprintln!("airlock: the input has errors (`airlock inspect` lists them); these are the bytes as stored");
    }
    Ok(ExitStatus::passed(found.ok))
}

fn run_lock(a: LockArgs) -> Result<ExitStatus, Error> {
    use crate::commands::lock::{self, Outcome};
    let keys = crate::signatures::keys::read_files(&a.keys)?;
    // As convert: an existing output is replaced only on purpose.
    if let Some(p) = a.output.as_deref().filter(|p| !a.force && std::fs::symlink_metadata(p).is_ok()) {
        return Err(Error::Usage(format!("{} exists; give --force to replace it", p.display())));
    }
    let opts = lock::Options {
        verify: verify::Options {
            inputs: a.inputs,
            selection: Selection { images: Vec::new(), platform: None },
            expect_ids: Vec::new(),
            progress: a.quiet.progress(),
            policy: crate::policy::Policy::default(),
            lock: None,
            targets: Vec::new(),
            checksums: Vec::new(),
            signatures: Some(crate::signatures::Trust { keys, rekor: Vec::new() }),
            ignore_missing: false,
        },
        output: a.output,
        force: a.force,
    };
    let brevity = a.quiet.brevity();
    match lock::run(&opts)? {
        Outcome::Written { notes, report } => {
            let _ = match brevity {
                Brevity::Full => report::human::print_notes(&notes, &mut std::io::stderr().lock()),
                Brevity::Line => report::human::print_verdicts(&report, &mut std::io::stderr().lock()),
                Brevity::Status => Ok(()),
            };
            Ok(ExitStatus::Ok)
        }
        Outcome::Refused(report) => {
            note_unreadable(&report);
            let verb = if report.inputs.iter().any(report::InputReport::unreadable) {
                "lock (nothing written: a lock must hold every input, and --force does not change that)"
            } else {
                "lock (nothing written; --force writes anyway)"
            };
            print_refused(&report, verb, brevity);
            Ok(report.exit_status())
        }
    }
}

fn run_convert(a: ConvertArgs) -> Result<ExitStatus, Error> {
    if let Some(target) = a.for_target {
        return fit::run(a, target);
    }
    let to = a.to.expect("clap requires --to without --for");
    let compression = a.compression.unwrap_or(CompressionChoice::Keep);
    flags::convert_compression(to, compression, a.level)
        .and_then(|_| flags::output_path(&a.output))
        .map_err(Error::Usage)?;
    let opts = convert_options(&a, to, compression, a.output.clone());
    let (status, _) = convert_and_print(&a, &opts)?;
    Ok(status)
}

/// convert's options from its flags, with the format, compression and output decided.
fn convert_options(
    a: &ConvertArgs,
    to: OutputFormat,
    compression: CompressionChoice,
    output: PathBuf,
) -> convert::Options {
    let to_stdout = output.as_os_str() == "-";
    convert::Options {
        input: a.input.clone(),
        format: to,
        output: if to_stdout { Destination::Stdout } else { Destination::Path(output) },
        selection: Selection { images: a.images.clone(), platform: a.platform.clone() },
        tags: a.tags.clone(),
        compression,
        level: a.level,
        force: a.force,
        progress: a.quiet.progress(),
    }
}

/// Runs convert and prints what it wrote or why it refused; returns the exit status and
/// whether the output was written.
fn convert_and_print(a: &ConvertArgs, opts: &convert::Options) -> Result<(ExitStatus, bool), Error> {
    let to_stdout = matches!(opts.output, Destination::Stdout);
    let format = opts.format.as_str();
    let output_name = match &opts.output {
        Destination::Path(p) => p.display().to_string(),
        Destination::Stdout => "-".to_string(),
    };
    a.quiet.check_json(a.json)?;
    let outcome = convert::run(opts)?;
    let written = matches!(outcome, Outcome::Written(_));
    if a.json {
        let (input, output) = (a.input.display().to_string(), output_name);
        let r = match outcome {
            Outcome::Written(s) => report::ConvertReport::written(s, input, output, format),
            Outcome::Refused { report, .. } => report::ConvertReport::refused(report, input, output, format),
        };
        // The summary goes where the archive does not: stdout, or stderr when stdout is the tar.
        let _ = if to_stdout {
            report::json::print_convert(&r, &mut std::io::stderr().lock())
        } else {
            report::json::print_convert(&r, &mut std::io::stdout().lock())
        };
        return Ok((ExitStatus::passed(written), written));
    }
    let brevity = a.quiet.brevity();
    match outcome {
        Outcome::Written(s) if brevity == Brevity::Full => {
            let to = if to_stdout { "stdout".to_string() } else { output_name };
            let _ = report::human::print_written(&s, format, &to, &mut std::io::stderr().lock());
        }
        Outcome::Written(s) => {
            if brevity == Brevity::Line {
                let line = report::human::verdict_line(&a.input.display().to_string(), true, &s.findings);
                eprintln!("{line}");
            }
        }
        Outcome::Refused { report: input, forceable } => {
            let verb = if forceable {
                "convert (nothing written; --force writes anyway)"
            } else {
                "convert (nothing written, and --force does not change that)"
            };
            print_refused(&Report::refused(vec![input]), verb, brevity);
        }
    }
    Ok((ExitStatus::passed(written), written))
}
