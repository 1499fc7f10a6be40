//! `database.sslmode` against a private PostgreSQL server with TLS ([`TlsPostgres`]): with
//! `verify-full` and the right root the daemon serves and `ctl backup` (pg_dump) works; a root
//! that did not sign the server's certificate, or a host name the certificate is not for, is
//! refused at once naming certificate verification; `require` connects without verifying;
//! `disable` is refused by a server that admits TLS only.

use std::time::{Duration, Instant};

use crate::harness::{run_cli, CliOutput, TestApp, TlsPostgres};

/// `goatedvips --config <app's config> migrate`.
fn migrate(app: &TestApp) -> CliOutput {
    let config = app.write_config();
    run_cli(&["--config", config.to_str().unwrap(), "migrate"], &[])
}

/// The command failed and its error holds every one of `phrases`.
fn assert_refused(out: &CliOutput, phrases: &[&str]) {
    assert_ne!(out.code, 0, "{}", out.stdout);
    for phrase in phrases {
        assert!(out.stderr.contains(phrase), "{phrase:?} in {}", out.stderr);
    }
}

fn path_text(path: std::path::PathBuf) -> String {
    path.display().to_string()
}

#[tokio::test]
async fn verify_full_with_the_right_root_serves_and_backs_up() {
    let Some(server) = TlsPostgres::start() else {
        return;
    };
    let app = TestApp::builder()
        .config("database.url", server.url())
        .config("database.sslmode", "verify-full")
        .config("database.ssl_root_cert", path_text(server.ca()))
        .start()
        .await;
    let (status, _) = app.get_json("/api/health").await;
    assert_eq!(status, 200);

    // pg_dump and pg_restore --list under PGSSLMODE=verify-full with the test CA as the root.
    let out = app.ctl(&["--json", "backup"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let answer: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(answer["data"]["entries"].as_u64().unwrap() > 0, "{answer}");
}

#[tokio::test]
async fn certificates_that_do_not_verify_and_plain_connections_are_refused() {
    let Some(server) = TlsPostgres::start() else {
        return;
    };
    let mut app = TestApp::builder()
        .config("database.url", server.url())
        .config("database.sslmode", "verify-full")
        .config("database.ssl_root_cert", path_text(server.other_ca()))
        .build()
        .await;

    // A root that did not sign the server's certificate: refused at once, not retried until
    // database.startup_deadline_secs (10 s in tests).
    let started = Instant::now();
    assert_refused(
        &migrate(&app),
        &[
            "certificate",
            "did not verify",
            "other-ca.crt",
            "UnknownIssuer",
        ],
    );
    assert!(started.elapsed() < Duration::from_secs(5), "retried");

    // The right root, but a host name the certificate is not for (the same address).
    app.set_config("database.ssl_root_cert", path_text(server.ca()));
    app.set_config(
        "database.url",
        format!(
            "host=db.invalid hostaddr=127.0.0.1 port={} user=postgres dbname=postgres",
            server.port
        ),
    );
    assert_refused(&migrate(&app), &["did not verify", "not valid for name"]);

    // require encrypts without verifying: the wrong root does not matter.
    app.set_config("database.url", server.url());
    app.set_config("database.sslmode", "require");
    app.set_config("database.ssl_root_cert", path_text(server.other_ca()));
    let out = migrate(&app);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);

    // The server admits TLS connections only (hostssl): disable is turned away.
    app.set_config("database.sslmode", "disable");
    app.set_config("database.startup_deadline_secs", 0);
    assert_refused(&migrate(&app), &["no pg_hba.conf entry", "no encryption"]);
}
