//! Shell completions and man pages, generated at run time from the same clap definitions as
//! `--help`, so they can never drift from it. (Run time rather than build time: the binary is
//! the one file users carry across the gap, and `airlock completions bash` there gives what
//! that very binary accepts.)

use super::Cli;
use clap::CommandFactory;
use clap_complete::Shell;
use std::io::{self, Write};
use std::path::Path;

pub fn completions(shell: Shell, out: &mut dyn Write) {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "airlock", out);
}

/// The top-level page on `out`.
pub fn man(out: &mut dyn Write) -> io::Result<()> {
    clap_mangen::Man::new(Cli::command()).render(out)
}

/// `airlock.1` and one `airlock-SUBCOMMAND.1` per subcommand, into `dir`. Returns the
/// file names written.
pub fn man_pages(dir: &Path) -> io::Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    let mut cmd = Cli::command();
    cmd.build();
    let mut written = Vec::new();
    let mut write = |name: String, page: clap::Command| -> io::Result<()> {
        let mut f = std::fs::File::create(dir.join(&name))?;
        clap_mangen::Man::new(page).render(&mut f)?;
        written.push(name);
        Ok(())
    };
    write("airlock.1".into(), cmd.clone())?;
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("airlock-{}", sub.get_name());
        write(format!("{name}.1"), sub.clone().name(name))?;
    }
    Ok(written)
}
