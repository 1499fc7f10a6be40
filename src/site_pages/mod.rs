//! The site's own pages: the Markdown files of `web.pages_dir`, rendered once when they are
//! read (at start and on every reload) and held in memory, so serving one reads no disk.
//! `<name>.md` is the page `/p/<name>` (a name of lowercase letters, digits and dashes); its
//! first heading is its title (`markdown`). A missing directory, or a file that cannot be read,
//! is not UTF-8 or is too large, is logged once per load and left out (its address answers
//! 404); it never stops the daemon. Files not ending in `.md` are not pages and pass unnoticed.

pub mod markdown;

use arc_swap::ArcSwap;
use slog::{info, warn, Logger};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The largest page file read, in bytes.
pub const MAX_PAGE_BYTES: u64 = 1024 * 1024;

/// The longest page name, in characters.
const MAX_NAME_CHARS: usize = 64;

/// One page, rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SitePage {
    /// The name in its address, `/p/<name>`.
    pub name: String,
    /// The first heading's text, or the name in words when the page has no heading.
    pub title: String,
    /// The first paragraph's text, shortened: the page's description for link previews.
    pub summary: Option<String>,
    /// Safe HTML (see `markdown`).
    pub html: String,
}

/// What the footer links to: a page's address and title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageLink {
    pub href: String,
    pub title: String,
}

/// The pages of one load, by name.
#[derive(Debug, Default)]
struct Loaded {
    pages: BTreeMap<String, Arc<SitePage>>,
    /// The footer's links, made once per load: in name order.
    links: Arc<[PageLink]>,
}

/// Why a file of the pages directory is not served, or why there are no pages.
#[derive(Debug, thiserror::Error)]
pub enum PageProblem {
    #[error("the pages directory {dir} cannot be read ({error}); no site pages are served")]
    Directory { dir: PathBuf, error: std::io::Error },
    #[error(
        "{file} is not served: a page's name is lowercase letters, digits and dashes (at most 64)"
    )]
    BadName { file: PathBuf },
    #[error("{file} cannot be read ({error}); /p/{name} answers 404")]
    Unreadable {
        file: PathBuf,
        name: String,
        error: std::io::Error,
    },
    #[error("{file} is not UTF-8 text; /p/{name} answers 404")]
    NotUtf8 { file: PathBuf, name: String },
    #[error("{file} is over {MAX_PAGE_BYTES} bytes; /p/{name} answers 404")]
    TooLarge { file: PathBuf, name: String },
}

/// The pages in force, swapped whole on each load.
pub struct SitePages {
    loaded: ArcSwap<Loaded>,
    log: Logger,
}

impl SitePages {
    /// Reads `dir` (see the module doc); problems are logged.
    pub fn load(dir: &Path, log: Logger) -> Self {
        let pages = Self {
            loaded: ArcSwap::from_pointee(Loaded::default()),
            log,
        };
        pages.reload(dir);
        pages
    }

    /// Reads `dir` again and serves what it holds now; each problem is logged once.
    pub fn reload(&self, dir: &Path) {
        let (pages, problems) = read_pages(dir);
        for problem in &problems {
            warn!(self.log, "{}", problem; "pages_dir" => %dir.display());
        }
        info!(self.log, "site pages loaded"; "pages_dir" => %dir.display(), "pages" => pages.len(),
            "problems" => problems.len());
        let links = pages
            .values()
            .map(|p| PageLink {
                href: format!("/p/{}", p.name),
                title: p.title.clone(),
            })
            .collect();
        self.loaded.store(Arc::new(Loaded { pages, links }));
    }

    /// The page named `name`, if it was read.
    pub fn get(&self, name: &str) -> Option<Arc<SitePage>> {
        self.loaded.load().pages.get(name).cloned()
    }

    /// Every page's link, in name order.
    pub fn links(&self) -> Arc<[PageLink]> {
        self.loaded.load().links.clone()
    }
}

/// Whether `name` may be a page's name: 1 to 64 lowercase ASCII letters, digits and dashes.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_CHARS
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The pages of `dir` and what kept the others out.
fn read_pages(dir: &Path) -> (BTreeMap<String, Arc<SitePage>>, Vec<PageProblem>) {
    let mut pages = BTreeMap::new();
    let mut problems = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            problems.push(PageProblem::Directory {
                dir: dir.to_path_buf(),
                error,
            });
            return (pages, problems);
        }
    };
    for entry in entries.flatten() {
        let file = entry.path();
        let file_name = entry.file_name();
        let Some(name) = file_name.to_str().and_then(|n| n.strip_suffix(".md")) else {
            continue;
        };
        if !valid_name(name) {
            // Editor and package leftovers (`.faq.md.swp` does not end in `.md`; `.faq.md`
            // does) are not pages either.
            if !name.starts_with('.') {
                problems.push(PageProblem::BadName { file });
            }
            continue;
        }
        match read_page(&file, name) {
            Ok(page) => {
                pages.insert(name.to_string(), Arc::new(page));
            }
            Err(problem) => problems.push(problem),
        }
    }
    (pages, problems)
}

/// Reads and renders one page file.
fn read_page(file: &Path, name: &str) -> Result<SitePage, PageProblem> {
    let unreadable = |error| PageProblem::Unreadable {
        file: file.to_path_buf(),
        name: name.to_string(),
        error,
    };
    let mut bytes = Vec::new();
    std::fs::File::open(file)
        .and_then(|f| f.take(MAX_PAGE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_PAGE_BYTES {
        return Err(PageProblem::TooLarge {
            file: file.to_path_buf(),
            name: name.to_string(),
        });
    }
    let text = String::from_utf8(bytes).map_err(|_| PageProblem::NotUtf8 {
        file: file.to_path_buf(),
        name: name.to_string(),
    })?;
    let rendered = markdown::render(&text);
    Ok(SitePage {
        name: name.to_string(),
        title: rendered.title.unwrap_or_else(|| title_from_name(name)),
        summary: rendered.summary,
        html: rendered.html,
    })
}

/// `how-it-works` -> `How it works`.
fn title_from_name(name: &str) -> String {
    let words = name.replace('-', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => words,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lowercase_letters_digits_and_dashes() {
        assert!(valid_name("faq"));
        assert!(valid_name("how-it-works"));
        assert!(valid_name("2024-rules"));
        for bad in ["", "FAQ", "a_b", "a b", "a.b", "../x", "é", &"a".repeat(65)] {
            assert!(!valid_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_page_without_a_heading_is_titled_from_its_name() {
        assert_eq!(title_from_name("how-it-works"), "How it works");
    }

    #[test]
    fn the_directory_is_read_once_and_problems_are_listed() {
        let dir = std::env::temp_dir().join(format!("site-pages-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("broken.md")).unwrap();
        std::fs::write(dir.join("faq.md"), "# Questions\n\nAsk away.").unwrap();
        std::fs::write(dir.join("latin1.md"), b"# Caf\xe9\n").unwrap();
        std::fs::write(dir.join("Bad Name.md"), "# x").unwrap();
        std::fs::write(dir.join("notes.txt"), "not a page").unwrap();
        let (pages, problems) = read_pages(&dir);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(pages.keys().collect::<Vec<_>>(), ["faq"]);
        assert_eq!(pages["faq"].title, "Questions");
        assert_eq!(pages["faq"].summary.as_deref(), Some("Ask away."));
        let mut kinds: Vec<&str> = problems
            .iter()
            .map(|p| match p {
                PageProblem::Unreadable { .. } => "unreadable",
                PageProblem::NotUtf8 { .. } => "not utf-8",
                PageProblem::BadName { .. } => "bad name",
                _ => "other",
            })
            .collect();
        kinds.sort();
        assert_eq!(kinds, ["bad name", "not utf-8", "unreadable"]);

        let (pages, problems) = read_pages(Path::new("/nonexistent/goatedvips/pages"));
        assert!(pages.is_empty());
        assert!(matches!(problems[..], [PageProblem::Directory { .. }]));
    }
}
