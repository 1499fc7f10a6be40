//! Import benchmark (run with `cargo bench --bench legacy_import`): for each old schema shape,
//! an old database holding the fixture's races and codes plus `BENCH_USERS` (5,000) generated
//! accounts (half of them Goated-linked, a quarter Telegram-linked), imported by the release
//! binary into a fresh database; prints the wall time of the import and of a second run
//! (which imports nothing). Shape c's and v's hashes are only copied; shape b's passwords are
//! really encrypted, so its figure is the decryption (PBKDF2, 100,000 rounds) and argon2id of
//! every account on every core. It prints figures; it asserts nothing about speed.

mod support;

use aes_gcm::aead::{Aead, KeyInit};
use std::time::Instant;

use support::{admin_url, connect, create_db};

const BIN: &str = env!("CARGO_BIN_EXE_goatedvips");
const KEY: &str = "bench-encryption-key";

fn fixture(shape: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/legacy/shape-{shape}.sql",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path).expect("fixture")
}

/// Shape b's encryption as the old app did it; one key derivation for every row (the
/// importer still derives one per row, as it must).
fn encrypted_rows(n: i32) -> Vec<(i32, String, String, String, String)> {
    use sha2::Sha512;
    let salt: [u8; 16] = rand::random();
    let mut key = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha512>(KEY.as_bytes(), &salt, 100_000, &mut key);
    let cipher =
        aes_gcm::AesGcm::<aes_gcm::aes::Aes256, aes_gcm::aead::consts::U16>::new_from_slice(&key)
            .unwrap();
    (1..=n)
        .map(|i| {
            let iv: [u8; 16] = rand::random();
            let nonce = aes_gcm::Nonce::<aes_gcm::aead::consts::U16>::from_slice(&iv);
            let sealed = cipher
                .encrypt(nonce, format!("bench-password-{i}").as_bytes())
                .unwrap();
            let (ct, tag) = sealed.split_at(sealed.len() - 16);
            (
                i,
                hex::encode(ct),
                hex::encode(iv),
                hex::encode(salt),
                hex::encode(tag),
            )
        })
        .collect()
}

async fn fill(old: &tokio_postgres::Client, shape: &str, n: i32) {
    old.batch_execute(&fixture(shape)).await.unwrap();
    old.batch_execute("TRUNCATE users RESTART IDENTITY CASCADE")
        .await
        .unwrap();
    let linked =
        "CASE WHEN i % 2 = 0 THEN 'uid' || i END, CASE WHEN i % 2 = 0 THEN 'Goated_' || i END";
    match shape {
        "c" => {
            old.execute(
                &format!("INSERT INTO users (id, username, password, email, is_admin, created_at, goated_id, goated_username, goated_account_linked)
                 SELECT i, 'bench_user_' || i, repeat(md5(i::text), 4) || '.' || md5('salt' || i),
                        'bench' || i || '@example.org', i % 500 = 0, now() - i * interval '1 minute',
                        {linked}, i % 2 = 0
                 FROM generate_series(1, $1::int) i"),
                &[&n],
            )
            .await
            .unwrap();
            old.execute(
                "INSERT INTO telegram_users (telegram_id, user_id, telegram_username, is_verified)
                 SELECT (800000000 + i)::text, i, 'tg' || i, true FROM generate_series(1, $1::int) i WHERE i % 4 = 0",
                &[&n],
            )
            .await
            .unwrap();
        }
        "b" => {
            let rows = encrypted_rows(n);
            let col = |f: fn(&(i32, String, String, String, String)) -> String| -> Vec<String> {
                rows.iter().map(f).collect()
            };
            let ids: Vec<i32> = rows.iter().map(|r| r.0).collect();
            old.execute(
                &format!("INSERT INTO users (id, username, email, encrypted_password, password_iv, password_salt, password_auth_tag,
                     is_admin, created_at, goated_id, goated_username, goated_account_linked, telegram_id)
                 SELECT i, 'bench_user_' || i, 'bench' || i || '@example.org', ct, iv, salt, tag,
                        i % 500 = 0, now() - i * interval '1 minute', {linked}, i % 2 = 0,
                        CASE WHEN i % 4 = 0 THEN (800000000 + i)::text END
                 FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[]) AS t(i, ct, iv, salt, tag)"),
                &[&ids, &col(|r| r.1.clone()), &col(|r| r.2.clone()), &col(|r| r.3.clone()), &col(|r| r.4.clone())],
            )
            .await
            .unwrap();
        }
        _ => {
            old.execute(
                &format!("INSERT INTO users (id, username, email, password_hash, role, status, created_at, goated_id, goated_username,
                     goated_linked, goated_verified, telegram_id)
                 SELECT gen_random_uuid(), 'bench_user_' || i, 'bench' || i || '@example.org',
                        '$2b$12$' || substr(repeat(md5(i::text), 2), 1, 53), 'user',
                        CASE WHEN i % 100 = 0 THEN 'suspended' ELSE 'active' END, now() - i * interval '1 minute',
                        {linked}, i % 2 = 0, i % 2 = 0, CASE WHEN i % 4 = 0 THEN (800000000 + i)::text END
                 FROM generate_series(1, $1::int) i"),
                &[&n],
            )
            .await
            .unwrap();
        }
    }
}

fn import(config: &std::path::Path, from: &str, key_file: &std::path::Path) -> (f64, String) {
    let started = Instant::now();
    let out = std::process::Command::new(BIN)
        .args([
            "--config",
            config.to_str().unwrap(),
            "import-legacy",
            "--from",
            from,
        ])
        .args(["--password-key-file", key_file.to_str().unwrap()])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GOATEDVIPS_ENV_FILE", "")
        .output()
        .expect("run the importer");
    let secs = started.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (secs, String::from_utf8_lossy(&out.stdout).into_owned())
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("import benchmark: run it with `cargo bench --bench legacy_import`");
        return;
    }
    let n: i32 = std::env::var("BENCH_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000);
    let shapes = std::env::var("BENCH_SHAPES").unwrap_or_else(|_| "c,v,b".into());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let admin_url = admin_url();
        let admin = connect(&admin_url).await;
        let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
        println!("goatedvips {} import-legacy (release), {n} accounts per shape, {cores} cores", env!("CARGO_PKG_VERSION"));
        for shape in shapes.split(',').map(str::trim) {
            let (old_name, old_url) = create_db(&admin, &admin_url).await;
            let (new_name, new_url) = create_db(&admin, &admin_url).await;
            fill(&connect(&old_url).await, shape, n).await;
            let dir = tempfile::tempdir().unwrap();
            let config = dir.path().join("goatedvips.toml");
            std::fs::write(
                &config,
                format!(
                    "[server]\nenvironment = \"development\"\n[database]\nurl = \"{new_url}\"\n[log]\nfile = \"{}\"\nstderr = false\nlevel = \"warning\"\n",
                    dir.path().join("app.log").display()
                ),
            )
            .unwrap();
            let key_file = dir.path().join("key");
            std::fs::write(&key_file, KEY).unwrap();
            let (first, report) = import(&config, &old_url, &key_file);
            let (second, again) = import(&config, &old_url, &key_file);
            let users = report.lines().find(|l| l.starts_with("users:")).unwrap_or("");
            println!(
                "shape {shape}: import {first:.1} s ({:.0} accounts/s) [{users}]; second run {second:.1} s [{}]",
                f64::from(n) / first,
                again.lines().find(|l| l.starts_with("users:")).unwrap_or("")
            );
            for db in [old_name, new_name] {
                let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).await;
            }
        }
    });
}
