//! The `goatedvips` binary: parses the command line and hands over to [`goatedvips::cli`], on
//! the jemalloc allocator.

/// jemalloc instead of glibc malloc: with thousands of WebSocket clients coming and going,
/// glibc kept the freed memory in its per-thread arenas (RSS never went down again), while
/// jemalloc's decay hands unused pages back to the system.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options (read at its start): a background thread purges pages unused for a
/// second, so memory goes back to the system even when the daemon is idle afterwards.
#[allow(non_upper_case_globals)]
#[export_name = "_rjem_malloc_conf"]
pub static malloc_conf: &[u8; 60] =
    b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

fn main() {
    std::process::exit(goatedvips::cli::main());
}
