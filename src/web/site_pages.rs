//! `/p/{name}`: the site's own pages (FAQ, how it works, terms …), as `site_pages` read and
//! rendered them from `web.pages_dir`; no disk read per request. A name that was not read (no
//! such file, or one that could not be read) answers the 404 page.

use maud::{html, PreEscaped};
use poem::web::Path;
use poem::{handler, IntoResponse, Request, Response};

use super::layout::{not_found_page, Nav, Page};
use super::{visitor, State};

/// `GET /p/:name`.
#[handler]
pub fn site_page(req: &Request, Path(name): Path<String>, state: State<'_>) -> Response {
    let v = visitor(req);
    let Some(page) = state.site_pages.get(&name) else {
        return not_found_page(Some(v)).into_response();
    };
    let body = html! { article.prose { (PreEscaped(&page.html)) } };
    let mut answer = Page::new(page.title.clone(), Nav::None, v, body);
    if let Some(summary) = &page.summary {
        answer = answer.describe(summary.clone());
    }
    answer.into_response()
}
