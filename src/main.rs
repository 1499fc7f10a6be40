//! The `goatedvips` binary: parses the command line and hands over to [`goatedvips::cli`].

fn main() {
    std::process::exit(goatedvips::cli::main());
}
