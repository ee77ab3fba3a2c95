//! The `jornada` command line. `jornada --help` lists the commands; each has examples in its
//! own `--help`.

mod analyses;
mod commands;
mod io;

use clap::Parser;
use std::process::ExitCode;

/// The program's allocator: timelines are many small growing lists, which glibc's malloc
/// serves slowly (README, Benchmarks).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = commands::Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
