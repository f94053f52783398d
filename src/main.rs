//! `lrp-explorer`: the window by default, subcommands for headless work.

/// mimalloc keeps freed memory for reuse instead of returning large blocks to the system, so the engine's
/// per-chunk arrays do not page-fault on every batch (measured in BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    lrp_explorer::cli::main(|window| {
        let inputs = window.inputs;
        lrp_explorer::app::run_gui(lrp_explorer::app::GuiOptions {
            model: inputs.model,
            data: inputs.data,
            labels: inputs.labels,
            preprocess: inputs.preprocess,
            output: inputs.output.output,
            relevance: window.relevance,
        })
    })
}
