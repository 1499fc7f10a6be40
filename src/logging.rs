//! Logging: slog with JSON lines to the log file and plain text to stderr (journald).
//!
//! The file can be reopened on demand (logrotate moves it away, then SIGUSR1 or
//! `ctl reopen-logs`), and the level can change at runtime (reload). Records are written whole,
//! one `write` per line on an `O_APPEND` file, so a reopen never splits or loses a line.

use slog::{o, Drain, Level, Logger, OwnedKVList, Record};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::config::LogConfig;

/// The open log file, shared between the writer and the reopen handle.
struct FileTarget {
    path: PathBuf,
    file: Mutex<File>,
}

impl FileTarget {
    fn open(path: &Path) -> io::Result<File> {
        OpenOptions::new().create(true).append(true).open(path)
    }
}

/// `io::Write` for slog-json: collects one record, writes it to the current file on flush.
struct LineWriter {
    target: Arc<FileTarget>,
    line: Vec<u8>,
}

impl Write for LineWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.line.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.line.is_empty() {
            return Ok(());
        }
        let result = self
            .target
            .file
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .write_all(&self.line);
        self.line.clear();
        result
    }
}

/// Drops records below a level that can change at runtime.
struct RuntimeLevel<D> {
    drain: D,
    level: Arc<AtomicUsize>,
}

impl<D: Drain> Drain for RuntimeLevel<D> {
    type Ok = Option<D::Ok>;
    type Err = D::Err;

    fn log(&self, record: &Record, values: &OwnedKVList) -> Result<Self::Ok, Self::Err> {
        if record.level().as_usize() <= self.level.load(Ordering::Relaxed) {
            self.drain.log(record, values).map(Some)
        } else {
            Ok(None)
        }
    }
}

/// Control over the running logger: reopen the file, change the level.
#[derive(Clone)]
pub struct LogHandle {
    file: Option<Arc<FileTarget>>,
    level: Arc<AtomicUsize>,
}

impl LogHandle {
    /// Reopens the log file at its configured path (after logrotate moved it away).
    pub fn reopen(&self) -> io::Result<()> {
        if let Some(target) = &self.file {
            let fresh = FileTarget::open(&target.path).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("cannot reopen {}: {e}", target.path.display()),
                )
            })?;
            *target.file.lock().unwrap_or_else(|p| p.into_inner()) = fresh;
        }
        Ok(())
    }

    pub fn set_level(&self, level: Level) {
        self.level.store(level.as_usize(), Ordering::Relaxed);
    }

    /// The log file path, if logging to a file.
    pub fn file_path(&self) -> Option<&Path> {
        self.file.as_ref().map(|t| t.path.as_path())
    }
}

/// The root logger; dropping it flushes every pending record.
pub struct Logging {
    pub logger: Logger,
    pub handle: LogHandle,
    _guard: slog_async::AsyncGuard,
}

/// Builds the logger from `[log]`. Fails when the log file cannot be opened.
pub fn init(cfg: &LogConfig, level: Level) -> io::Result<Logging> {
    let level = Arc::new(AtomicUsize::new(level.as_usize()));
    let file = if cfg.file.is_empty() {
        None
    } else {
        let path = PathBuf::from(&cfg.file);
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let file = FileTarget::open(&path).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot open log file {} (log.file): {e}", path.display()),
            )
        })?;
        Some(Arc::new(FileTarget {
            path,
            file: Mutex::new(file),
        }))
    };

    let json = file.clone().map(|target| {
        let writer = LineWriter {
            target,
            line: Vec::with_capacity(512),
        };
        slog_json::Json::new(writer)
            .set_newlines(true)
            .set_flush(true)
            .add_default_keys()
            .add_key_value(o!("module" => slog::FnValue(|r: &Record| r.module())))
            .build()
            .fuse()
    });
    let term = cfg.stderr.then(|| {
        let decorator = slog_term::PlainSyncDecorator::new(io::stderr());
        slog_term::FullFormat::new(decorator).build().fuse()
    });
    // Both sinks are optional; a Duplicate of two Options keeps one code path.
    let both = slog::Duplicate::new(OptionalDrain(json), OptionalDrain(term)).ignore_res();
    let (drain, guard) = slog_async::Async::new(
        RuntimeLevel {
            drain: both,
            level: level.clone(),
        }
        .ignore_res(),
    )
    .chan_size(8192)
    .overflow_strategy(slog_async::OverflowStrategy::Block)
    .build_with_guard();

    let logger = Logger::root(drain.fuse(), o!());
    Ok(Logging {
        logger,
        handle: LogHandle { file, level },
        _guard: guard,
    })
}

/// A drain that may be absent (no file, or stderr off).
struct OptionalDrain<D>(Option<D>);

impl<D: Drain<Ok = (), Err = slog::Never>> Drain for OptionalDrain<D> {
    type Ok = ();
    type Err = slog::Never;

    fn log(&self, record: &Record, values: &OwnedKVList) -> Result<(), slog::Never> {
        if let Some(d) = &self.0 {
            d.log(record, values)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slog::info;

    #[test]
    fn reopen_sends_new_lines_to_a_new_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        let cfg = LogConfig {
            level: Level::Info.into(),
            file: path.to_string_lossy().into_owned(),
            stderr: false,
        };
        let logging = init(&cfg, Level::Info).unwrap();
        info!(logging.logger, "before"; "n" => 1);
        // Let the async thread write before moving the file.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::fs::read_to_string(&path)
            .unwrap_or_default()
            .is_empty()
        {
            assert!(
                std::time::Instant::now() < deadline,
                "first line never written"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let rotated = dir.path().join("app.log.1");
        std::fs::rename(&path, &rotated).unwrap();
        logging.handle.reopen().unwrap();
        info!(logging.logger, "after");
        let Logging { logger, _guard, .. } = logging;
        drop(logger);
        drop(_guard);

        let old = std::fs::read_to_string(&rotated).unwrap();
        let new = std::fs::read_to_string(&path).unwrap();
        let first: serde_json::Value = serde_json::from_str(old.lines().next().unwrap()).unwrap();
        assert_eq!(first["msg"], "before");
        assert_eq!(first["n"], 1);
        assert_eq!(first["level"], "INFO");
        assert!(first["module"].as_str().unwrap().contains("logging"));
        assert!(first["ts"].is_string());
        assert!(new.contains("\"msg\":\"after\""), "{new}");
        assert!(!old.contains("after"));
    }
}
