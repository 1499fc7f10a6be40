//! The progress bar of a long import, drawn on standard error only when it is a terminal
//! (a pipe, a log or a test sees the report alone).

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

/// One stage's bar, or nothing off a terminal.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn stage(len: usize, what: &str) -> Self {
        if len == 0 || !std::io::stderr().is_terminal() {
            return Self { bar: None };
        }
        let bar = ProgressBar::new(len as u64);
        if let Ok(style) =
            ProgressStyle::with_template("{msg:>18} [{bar:40}] {pos}/{len} ({eta} left)")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(what.to_string());
        Self { bar: Some(bar) }
    }

    /// One more item done (callable from any thread).
    pub fn tick(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
