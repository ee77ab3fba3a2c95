//! The `jornada` command line. `jornada --help` lists the commands; each has examples in its
//! own `--help`.

mod analyses;
mod commands;
mod io;

use clap::Parser;
use std::process::ExitCode;

/// The program's allocator: mimalloc, tuned for ingest ([`jornada_alloc`]; README, Benchmarks).
#[global_allocator]
static ALLOC: jornada_alloc::MiMalloc = jornada_alloc::MiMalloc;

fn main() -> ExitCode {
    jornada_alloc::tune();
    let cli = commands::Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
