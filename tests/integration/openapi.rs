//! The API description: `/openapi.json` is an OpenAPI 3 document, `/docs` is Swagger UI.

use crate::harness::TestApp;

#[tokio::test]
async fn openapi_document_and_swagger_ui() {
    let app = TestApp::builder().start().await;

    let (_, spec) = app.get_json("/openapi.json").await;
    assert!(
        spec["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        spec["openapi"]
    );
    assert_eq!(spec["info"]["version"], env!("CARGO_PKG_VERSION"));
    let health = &spec["paths"]["/api/health"]["get"];
    assert_eq!(health["tags"][0], "Health");
    assert!(health["responses"]["200"].is_object() && health["responses"]["503"].is_object());
    for tag in spec["tags"].as_array().unwrap() {
        assert!(
            tag["description"].as_str().is_some_and(|d| !d.is_empty()),
            "tag without description: {tag}"
        );
    }
    // Every operation documents its responses.
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            assert!(
                !op["responses"].as_object().unwrap().is_empty(),
                "{method} {path}"
            );
        }
    }

    // The session cookie is a security scheme, on exactly the operations that need a session,
    // each of which documents 401 and 403.
    let scheme = &spec["components"]["securitySchemes"]["SessionAuth"];
    assert_eq!(scheme["type"], "apiKey", "{scheme}");
    assert_eq!(scheme["in"], "cookie");
    assert_eq!(scheme["name"], "goatedvips_session");
    let mut protected = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if op.get("security").is_some() {
                assert!(op["responses"]["401"].is_object(), "{method} {path}");
                assert!(op["responses"]["403"].is_object(), "{method} {path}");
                protected.push(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    for op in [
        "POST /api/auth/logout",
        "GET /api/auth/me",
        "GET /api/account",
        "GET /api/admin/users",
        "GET /api/admin/audit",
        "POST /api/admin/link-requests/{id}/approve",
        "POST /api/admin/bonus-codes",
    ] {
        assert!(
            protected.iter().any(|p| p == op),
            "{op} not protected: {protected:?}"
        );
    }
    for open in [
        "GET /api/bonus-codes",
        "POST /api/auth/login",
        "GET /api/leaderboard",
    ] {
        assert!(!protected.iter().any(|p| p == open), "{open} protected");
    }

    let docs = app.get("/docs").await;
    assert_eq!(docs.status(), 200);
    assert!(docs.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(docs.text().await.unwrap().contains("swagger-ui"));
}
