//! The old app's page addresses, kept working so that bookmarks, search results and links in
//! old messages still land somewhere useful: each that has a counterpart here answers
//! `301 Moved Permanently` to it (with the query string, which the pages read the same way),
//! and an old profile address (`/user/{id}`, `/user-profile/{id}`, an id of the old app as
//! imported by `import-legacy`) leads to the player page of that account's Goated player. An
//! old page with no counterpart gets the HTML 404 page, whose links lead on.

use poem::endpoint::BoxEndpoint;
use poem::http::Method;
use poem::web::{Path, Redirect};
use poem::{handler, EndpointExt, IntoResponse, Request, Response};

use super::layout::not_found_page;
use super::{visitor, State};

/// An endpoint answering 301 to `to`, keeping the request's query string.
pub(super) fn moved(to: &'static str) -> BoxEndpoint<'static> {
    poem::endpoint::make_sync(move |req: Request| moved_to(to, req.uri().query()))
        .map_to_response()
        .boxed()
}

fn moved_to(to: &str, query: Option<&str>) -> Response {
    match query.filter(|q| !q.is_empty()) {
        Some(q) => Redirect::moved_permanent(format!("{to}?{q}")).into_response(),
        None => Redirect::moved_permanent(to).into_response(),
    }
}

/// Whether an unknown address is an old admin page (`/admin/…`, read by GET or HEAD), to be
/// sent to `/admin`; the admin's form posts under `/admin/users/` are routes of their own and
/// never get here.
pub(super) fn is_old_admin_page(req: &Request) -> bool {
    (*req.method() == Method::GET || *req.method() == Method::HEAD)
        && req.uri().path().starts_with("/admin/")
}

/// The answer to an old admin page: 301 to `/admin`.
pub(super) fn to_admin() -> Response {
    Redirect::moved_permanent("/admin").into_response()
}

/// `GET /user/:id` and `GET /user-profile/:id` (the old app's profile pages): 301 to the
/// player page of the imported account's Goated player; the 404 page for an id that was not
/// imported, an account without a Goated link, a disabled one, or one whose owner chose to
/// mask their name (the old id must not tell who that player is).
#[handler]
pub async fn old_profile(req: &Request, Path(id): Path<String>, state: State<'_>) -> Response {
    match state.accounts.user_by_legacy_id(&id).await {
        Ok(Some(user)) if !user.disabled && !user.mask_name => match user.goated_uid {
            Some(uid) => {
                let segment: String =
                    url::form_urlencoded::byte_serialize(uid.as_bytes()).collect();
                Redirect::moved_permanent(format!("/players/{segment}")).into_response()
            }
            None => not_found_page(Some(visitor(req))).into_response(),
        },
        Ok(_) => not_found_page(Some(visitor(req))).into_response(),
        Err(e) => {
            slog::error!(state.log, "old profile address"; "error" => %e);
            super::public::unavailable(visitor(req)).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_move_keeps_the_query_string() {
        let location = |r: Response| {
            assert_eq!(r.status(), poem::http::StatusCode::MOVED_PERMANENTLY);
            r.headers()["location"].to_str().unwrap().to_string()
        };
        assert_eq!(location(moved_to("/race", Some("x=1"))), "/race?x=1");
        assert_eq!(location(moved_to("/race", Some(""))), "/race");
        assert_eq!(location(moved_to("/login", None)), "/login");
    }
}
