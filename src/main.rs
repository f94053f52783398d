//! `lrp-explorer`: the window by default, subcommands for headless work.

fn main() -> std::process::ExitCode {
    lrp_explorer::cli::main()
}
