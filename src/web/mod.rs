//! The web site: server-rendered pages (maud templates) for players, admins and streamers, and
//! the embedded, content-hashed CSS and JavaScript they use. Pages read the same services as
//! the API (`board` snapshot and `views` for public data, `races` for races, `accounts` for
//! accounts); public
//! pages render from the in-memory snapshot without a database query. Like `http`, this is
//! an adapter: it imports `state` and the services, and nothing below it imports `web`.
//!
//! - `layout`: the page frame, the Content-Security-Policy, error pages, formatting;
//! - `assets`: the embedded CSS and JS under hashed names;
//! - `public`: home, leaderboard, players, bonus codes;
//! - `races`: the current race, past races, one race;
//! - `account`: login, register, account;
//! - `admin`: the admin pages;
//! - `overlay`: the stream overlays and the embeddable widget.

pub mod account;
pub mod admin;
pub mod assets;
pub mod layout;
pub mod overlay;
pub mod public;
pub mod races;

use poem::http::{Method, StatusCode};
use poem::web::Data;
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route};
use std::sync::Arc;

use crate::accounts::sessions::COOKIE_NAME;
use crate::accounts::CurrentUser;
use crate::state::AppState;
use layout::Visitor;

/// Every page route: `(template, handler)`; the templates also go into the `Allow` table and
/// label the request metrics.
pub const PAGES: &[&str] = &[
    "/",
    "/leaderboard",
    "/race",
    "/races",
    "/race/{id}",
    "/players/{uid}",
    "/bonus-codes",
    "/login",
    "/register",
    "/account",
    "/admin",
    "/overlay/race",
    "/overlay/leaderboard",
    "/embed/leaderboard",
    "/assets/{name}",
];

/// The routes of the site's own form posts (`application/x-www-form-urlencoded`, checked by
/// the CSRF layer like the API's).
pub const FORMS: &[&str] = &["/admin/users/role", "/admin/users/state"];

/// The page routes, added to the daemon's routes by `http::routes`.
pub fn add_routes(route: Route) -> Route {
    route
        .at("/leaderboard", poem::get(public::leaderboard))
        .at("/race", poem::get(races::race_page))
        .at("/races", poem::get(races::races_page))
        .at("/race/:id", poem::get(races::race_by_id))
        .at("/players/:uid", poem::get(public::player))
        .at("/bonus-codes", poem::get(public::bonus_codes))
        .at("/login", poem::get(account::login))
        .at("/register", poem::get(account::register))
        .at("/account", poem::get(account::account))
        .at("/admin", poem::get(admin::admin))
        .at("/admin/users/role", poem::post(admin::set_role))
        .at("/admin/users/state", poem::post(admin::set_state))
        .at("/overlay/race", poem::get(overlay::race))
        .at("/overlay/leaderboard", poem::get(overlay::leaderboard))
        .at("/embed/leaderboard", poem::get(overlay::embed))
        .at("/assets/:name", poem::get(assets::serve))
}

/// Whether the client asked for a page (browsers send `Accept: text/html`); other clients
/// keep the JSON error of the rest of the daemon.
pub fn wants_html(req: &Request) -> bool {
    req.headers()
        .get(poem::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// Whether a path belongs to the machine interfaces (answered in JSON), not to the site.
pub fn is_api_path(path: &str) -> bool {
    path.starts_with("/api/")
        || path == "/api"
        || path.starts_with("/ws")
        || path.starts_with("/docs")
        || path == "/openapi.json"
}

/// Wraps the routes so that an unknown address outside the API answers the HTML 404 page to
/// a browser (the API, and clients that do not ask for HTML, keep the JSON error), and
/// answers the home page `/`.
pub fn html_not_found<E: Endpoint + 'static>(inner: E) -> impl Endpoint<Output = Response> {
    inner.around(|ep, req: Request| async move {
        let html =
            !is_api_path(req.uri().path()) && *req.method() == Method::GET && wants_html(&req);
        // A page's form posted without the script (to the page itself).
        let form =
            !is_api_path(req.uri().path()) && *req.method() == Method::POST && wants_html(&req);
        let visitor = visitor(&req);
        // The API's nest at `/` shadows a route at `/` itself: the home page is answered here.
        if req.uri().path() == "/" && matches!(*req.method(), Method::GET | Method::HEAD) {
            return public::home
                .call(req)
                .await
                .map(IntoResponse::into_response);
        }
        match ep.call(req).await {
            Ok(r) => Ok(r.into_response()),
            Err(e) if html && e.status() == StatusCode::NOT_FOUND => {
                Ok(layout::not_found_page(Some(visitor)).into_response())
            }
            Err(e) if form && e.status() == StatusCode::METHOD_NOT_ALLOWED => {
                Ok(layout::error_page(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "This form needs JavaScript",
                    "The form could not be sent this way. Turn JavaScript on and try again.",
                    visitor,
                )
                .into_response())
            }
            Err(e) => Err(e),
        }
    })
}

/// The session cookie's token, if the browser sent one.
pub fn session_token(req: &Request) -> Option<String> {
    req.cookie()
        .get(COOKIE_NAME)
        .map(|c| c.value_str().to_string())
        .filter(|t| !t.is_empty())
}

/// The header's view of the visitor from the cookie alone (no database query).
pub fn visitor(req: &Request) -> Visitor {
    Visitor {
        logged_in: session_token(req).is_some(),
        admin: false,
    }
}

/// The logged-in user, from the session (one database query), or `None`.
pub async fn current_user(req: &Request, state: &AppState) -> Option<CurrentUser> {
    let token = session_token(req)?;
    state.accounts.resolve_session(&token).await.ok().flatten()
}

/// The header's view of a resolved user.
pub fn visitor_of(user: Option<&CurrentUser>) -> Visitor {
    Visitor {
        logged_in: user.is_some(),
        admin: user.is_some_and(|u| u.is_admin()),
    }
}

/// The state, in page handlers.
pub type State<'a> = Data<&'a Arc<AppState>>;
