//! Backup: a verified pg_dump that restores into a fresh database with the same data; pruning;
//! one at a time; failures reported with pg_dump's message and no partial file left.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use crate::harness::{TestApp, TestDb};

fn files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

async fn rows(client: &tokio_postgres::Client) -> Vec<String> {
    let mut out = Vec::new();
    for r in client
        .query(
            "SELECT version::text || name || checksum FROM schema_migrations ORDER BY version",
            &[],
        )
        .await
        .unwrap()
    {
        out.push(r.get(0));
    }
    for r in client
        .query("SELECT key || '=' || value FROM app_meta ORDER BY key", &[])
        .await
        .unwrap()
    {
        out.push(r.get(0));
    }
    out
}

#[tokio::test]
async fn backup_restores_into_a_fresh_database_and_old_ones_are_pruned() {
    let app = TestApp::builder().config("backup.keep", 2).start().await;
    app.db()
        .client()
        .await
        .execute(
            "INSERT INTO app_meta (key, value) VALUES ('marker', 'survives the round trip')",
            &[],
        )
        .await
        .unwrap();

    let out = app.ctl(&["--json", "backup"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let answer: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let data = &answer["data"];
    let path = std::path::PathBuf::from(data["path"].as_str().unwrap());
    assert_eq!(path.parent().unwrap(), app.path("backups"));
    let name = path.file_name().unwrap().to_str().unwrap();
    assert!(
        name.starts_with("goatedvips_") && name.ends_with("Z.dump"),
        "{name}"
    );
    assert_eq!(
        data["size_bytes"].as_u64().unwrap(),
        std::fs::metadata(&path).unwrap().len()
    );
    assert!(data["entries"].as_u64().unwrap() > 0);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode & 0o007,
        0,
        "the dump is not readable by others (mode {mode:o})"
    );
    assert!(data["duration_ms"].is_u64());
    let copy = std::path::PathBuf::from(data["config_copy"].as_str().unwrap());
    assert_eq!(
        std::fs::read(&copy).unwrap(),
        std::fs::read(app.path("goatedvips.toml")).unwrap()
    );
    assert_eq!(
        std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // Restore into a fresh database and compare.
    let fresh = TestDb::create().await;
    let restore = std::process::Command::new("pg_restore")
        .args(["--no-owner", "--dbname", &fresh.url])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        restore.status.success(),
        "{}",
        String::from_utf8_lossy(&restore.stderr)
    );
    let original = rows(&app.db().client().await).await;
    assert!(original
        .iter()
        .any(|r| r == "marker=survives the round trip"));
    assert_eq!(rows(&fresh.client().await).await, original);

    // status remembers it.
    let status: serde_json::Value =
        serde_json::from_str(&app.ctl(&["--json", "status"]).stdout).unwrap();
    assert_eq!(status["data"]["last_backup"]["path"], data["path"]);

    // keep = 2: the third backup prunes the first (and its config copy).
    for _ in 0..2 {
        assert_eq!(app.ctl(&["backup"]).code, 0);
    }
    let dumps: Vec<String> = files(&app.path("backups"))
        .into_iter()
        .filter(|n| n.ends_with(".dump"))
        .collect();
    assert_eq!(dumps.len(), 2, "{dumps:?}");
    assert!(!path.exists() && !copy.exists(), "oldest pruned");
}

/// A pg_dump stand-in that starts writing, then fails like a full disk.
fn failing_pg_dump(app: &TestApp) -> String {
    let script = app.path("pg_dump_full_disk");
    std::fs::write(
        &script,
        "#!/bin/sh\n\
         while [ $# -gt 0 ]; do [ \"$1\" = --file ] && out=$2; shift; done\n\
         head -c 4096 /dev/zero > \"$out\"\n\
         echo 'pg_dump: error: could not write to output file: No space left on device' >&2\n\
         exit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script.display().to_string()
}

#[tokio::test]
async fn failures_are_reported_and_leave_no_partial_file() {
    let mut app = TestApp::builder().build().await;
    app.set_config("backup.pg_dump", failing_pg_dump(&app));
    app.start().await;
    let out = app.ctl(&["backup"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("No space left on device"),
        "{}",
        out.stderr
    );
    assert_eq!(
        files(&app.path("backups")),
        Vec::<String>::new(),
        "no partial file"
    );

    // pg_dump missing: named with its config key. Reload applies backup settings.
    app.set_config("backup.pg_dump", "/nonexistent/pg_dump");
    app.write_config();
    assert_eq!(app.ctl(&["reload"]).code, 0);
    let out = app.ctl(&["backup"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("cannot run /nonexistent/pg_dump (backup.pg_dump)"),
        "{}",
        out.stderr
    );
    assert_eq!(app.ctl(&["status"]).code, 0, "daemon still serving");
}

#[tokio::test]
async fn one_backup_at_a_time() {
    let mut app = TestApp::builder().build().await;
    let slow = app.path("pg_dump_slow");
    let started = app.path("pg_dump_started");
    std::fs::write(
        &slow,
        format!(
            "#!/bin/sh\ntouch {}\nsleep 2\nexec pg_dump \"$@\"\n",
            started.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&slow, std::fs::Permissions::from_mode(0o755)).unwrap();
    app.set_config("backup.pg_dump", slow.display().to_string());
    app.start().await;
    let first = {
        let socket = app.admin_socket();
        tokio::spawn(async move {
            crate::harness::admin_call(&socket, serde_json::json!({"cmd": "backup"})).await
        })
    };
    crate::harness::wait_for(
        "the first backup to start",
        Duration::from_secs(10),
        || async { started.exists().then_some(()) },
    )
    .await;
    // Ask again while the first one runs.
    let second = app.admin(serde_json::json!({"cmd": "backup"})).await;
    assert_eq!(second["ok"], false);
    assert_eq!(second["error"]["code"], "backup_running", "{second}");
    let first = first.await.unwrap();
    assert_eq!(first["ok"], true, "{first}");
}
