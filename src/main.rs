//! The `sparselabel` command: parses the command line and dispatches to
//! `sparselabel::cli`; exit status 0, 2 (bad usage or input) or 1.

fn main() {
    std::process::exit(sparselabel::cli::main());
}
