//! `--json`: the report as one JSON document on stdout.

use super::{ConvertReport, Report};
use std::io::{self, Write};

pub fn print(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}

pub fn print_convert(report: &ConvertReport, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}
