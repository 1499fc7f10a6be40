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
//! - `vip`: the VIP tiers and where the logged-in player stands;
//! - `site_pages`: the site's own Markdown pages (`/p/{name}`, from `site_pages`);
//! - `races`: the current race, past races, one race;
//! - `account`: login, register, the reset-link form, account;
//! - `admin`: the admin pages;
//! - `admin_races`: the admin page's races card and race form;
//! - `admin_schedules`: the admin page's card of scheduled group posts;
//! - `challenges`: the challenges page with its entry form, and the admin page's challenges card;
//! - `old_addresses`: the old app's page addresses (301s, old profile ids);
//! - `overlay`: the stream overlays and the embeddable widget.

pub mod account;
pub mod admin;
pub mod admin_races;
pub mod admin_schedules;
pub mod assets;
pub mod challenges;
pub mod chart;
pub mod layout;
pub mod old_addresses;
pub mod overlay;
pub mod public;
pub mod races;
pub mod site_pages;
pub mod vip;

use poem::endpoint::BoxEndpoint;
use poem::http::{Method, StatusCode};
use poem::web::Data;
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route, RouteMethod};
use std::sync::Arc;

use crate::accounts::sessions::COOKIE_NAME;
use crate::accounts::CurrentUser;
use crate::state::AppState;
use layout::Visitor;

/// Every route of the site, in poem's path syntax (`:id`): the one table from which the
/// routes, the `Allow` header of 405 answers and the request metrics' route labels are made.
/// The form posts (`application/x-www-form-urlencoded`) are checked by the CSRF layer like the
/// API's.
fn site_routes() -> Vec<(&'static str, Method, BoxEndpoint<'static>)> {
    fn page<E: Endpoint + 'static>(ep: E) -> BoxEndpoint<'static> {
        ep.map_to_response().boxed()
    }
    vec![
        ("/", Method::GET, page(public::home)),
        ("/leaderboard", Method::GET, page(public::leaderboard)),
        ("/race", Method::GET, page(races::race_page)),
        ("/races", Method::GET, page(races::races_page)),
        ("/race/:id", Method::GET, page(races::race_by_id)),
        ("/players/:uid", Method::GET, page(public::player)),
        ("/bonus-codes", Method::GET, page(public::bonus_codes)),
        (
            "/challenges",
            Method::GET,
            page(challenges::challenges_page),
        ),
        ("/challenges/enter", Method::POST, page(challenges::enter)),
        ("/vip", Method::GET, page(vip::vip)),
        ("/p/:name", Method::GET, page(site_pages::site_page)),
        ("/login", Method::GET, page(account::login)),
        ("/register", Method::GET, page(account::register)),
        (
            "/reset-password",
            Method::GET,
            page(account::reset_password),
        ),
        ("/account", Method::GET, page(account::account)),
        (
            "/account/notifications",
            Method::POST,
            page(account::set_notifications),
        ),
        ("/admin", Method::GET, page(admin::admin)),
        ("/admin/users/role", Method::POST, page(admin::set_role)),
        ("/admin/users/state", Method::POST, page(admin::set_state)),
        (
            "/admin/users/reset-link",
            Method::POST,
            page(admin::reset_link),
        ),
        ("/admin/races", Method::GET, page(admin_races::races_home)),
        ("/admin/races", Method::POST, page(admin_races::create)),
        ("/admin/races/:id", Method::GET, page(admin_races::edit)),
        ("/admin/races/:id", Method::POST, page(admin_races::save)),
        (
            "/admin/races/:id/cancel",
            Method::POST,
            page(admin_races::cancel),
        ),
        (
            "/admin/schedules",
            Method::GET,
            page(admin_schedules::schedules_home),
        ),
        (
            "/admin/schedules",
            Method::POST,
            page(admin_schedules::create),
        ),
        (
            "/admin/schedules/:id/remove",
            Method::POST,
            page(admin_schedules::remove),
        ),
        ("/admin/challenges", Method::POST, page(challenges::create)),
        (
            "/admin/challenge-entries/:id/verify",
            Method::POST,
            page(challenges::verify),
        ),
        (
            "/admin/challenge-entries/:id/reject",
            Method::POST,
            page(challenges::reject),
        ),
        ("/overlay/race", Method::GET, page(overlay::race)),
        ("/overlay/race/:id", Method::GET, page(overlay::race_by_id)),
        (
            "/overlay/leaderboard",
            Method::GET,
            page(overlay::leaderboard),
        ),
        ("/embed/leaderboard", Method::GET, page(overlay::embed)),
        ("/embed/race/:id", Method::GET, page(overlay::embed_race)),
        ("/assets/:name", Method::GET, page(assets::serve)),
        // The old app's pages (`old_addresses`); `/admin/…` is answered where unknown
        // addresses are (`html_not_found`), so that it never shadows a route.
        ("/wager-races", Method::GET, old_addresses::moved("/race")),
        ("/auth", Method::GET, old_addresses::moved("/login")),
        (
            "/notification-preferences",
            Method::GET,
            old_addresses::moved("/account"),
        ),
        ("/user/:id", Method::GET, page(old_addresses::old_profile)),
        (
            "/user-profile/:id",
            Method::GET,
            page(old_addresses::old_profile),
        ),
    ]
}

/// The site's routes, added to the daemon's routes by `http::routes` (the methods of a path
/// listed more than once, such as a form's page and its post, on one route).
pub fn add_routes(route: Route) -> Route {
    let mut paths: Vec<(&'static str, RouteMethod)> = Vec::new();
    for (path, method, endpoint) in site_routes() {
        match paths.iter().position(|(p, _)| *p == path) {
            Some(i) => {
                let (_, methods) = paths.swap_remove(i);
                paths.push((path, methods.method(method, endpoint)));
            }
            None => paths.push((path, RouteMethod::new().method(method, endpoint))),
        }
    }
    paths
        .into_iter()
        .fold(route, |route, (path, methods)| route.at(path, methods))
}

/// Each route of the site as an OpenAPI-style template (`/race/{id}`) with its method.
pub fn route_templates() -> Vec<(String, Method)> {
    site_routes()
        .into_iter()
        .map(|(path, method, _)| (openapi_template(path), method))
        .collect()
}

/// `/race/:id` -> `/race/{id}`.
fn openapi_template(path: &str) -> String {
    path.split('/')
        .map(|part| match part.strip_prefix(':') {
            Some(name) => format!("{{{name}}}"),
            None => part.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
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
        || path == "/health"
}

/// Wraps the routes so that an unknown address outside the API answers the HTML 404 page to
/// a browser (the API, and clients that do not ask for HTML, keep the JSON error), and an
/// unknown old admin page (`/admin/…`) moves to `/admin`.
pub fn html_not_found<E: Endpoint + 'static>(inner: E) -> impl Endpoint<Output = Response> {
    inner.around(|ep, req: Request| async move {
        let html =
            !is_api_path(req.uri().path()) && *req.method() == Method::GET && wants_html(&req);
        // A page's form posted without the script (to the page itself).
        let form =
            !is_api_path(req.uri().path()) && *req.method() == Method::POST && wants_html(&req);
        let visitor = visitor(&req);
        let old_admin_page = old_addresses::is_old_admin_page(&req);
        match ep.call(req).await {
            Ok(r) => Ok(r.into_response()),
            Err(e) if old_admin_page && e.status() == StatusCode::NOT_FOUND => {
                Ok(old_addresses::to_admin())
            }
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

/// Wraps the site so that every page it renders lists the site's own pages in its footer
/// (read from the state's `site_pages` once per request).
pub fn with_footer_pages<E: Endpoint<Output = Response> + 'static>(
    inner: E,
) -> impl Endpoint<Output = Response> {
    inner.around(|ep, req: Request| async move {
        let pages = req
            .data::<Arc<AppState>>()
            .map(|state| state.site_pages.links())
            .unwrap_or_default();
        layout::with_footer_pages(pages, ep.call(req)).await
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_templates_name_parameters_as_openapi_does() {
        assert_eq!(openapi_template("/race/:id"), "/race/{id}");
        assert_eq!(openapi_template("/"), "/");
        let templates = route_templates();
        assert!(templates.contains(&("/players/{uid}".into(), Method::GET)));
        assert!(templates.contains(&("/admin/users/role".into(), Method::POST)));
        assert!(templates.contains(&("/".into(), Method::GET)));
    }
}
