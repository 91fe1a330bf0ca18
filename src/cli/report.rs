//! `sparselabel report RUN_DIR…`: mean ± sd of each test metric per
//! configuration over the runs found at or below the given directories,
//! printed as Markdown and written to `report.md` and `report.json`.

use std::path::PathBuf;

use clap::Args;

use crate::train::report;
use crate::Result;

/// Flags of `report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Run directories, or directories holding run directories (a sweep's
    /// output).
    #[arg(required = true)]
    pub runs: Vec<PathBuf>,
    /// Where to write report.md and report.json (default: the directory
    /// given when there is one, else the current directory).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Runs `report`.
pub fn run(args: &ReportArgs) -> Result<()> {
    let report = report::collect(&args.runs)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| match args.runs.as_slice() {
            [one] => one.clone(),
            _ => PathBuf::from("."),
        });
    report.write(&out)?;
    print!("{}", report.markdown());
    println!(
        "\nwritten: {} and {}",
        out.join("report.md").display(),
        out.join("report.json").display()
    );
    Ok(())
}
