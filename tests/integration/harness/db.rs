//! The per-test database: a fresh PostgreSQL database created on the test server for one test
//! and dropped (with force) when its [`TestDb`] goes.

/// The server tests create databases on: `TEST_DATABASE_URL`, else `DATABASE_URL`, else the
/// local server on 127.0.0.1:5432 as `postgres`.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// `url` with its database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let mut u = url::Url::parse(url).expect("TEST_DATABASE_URL must be a URL");
    u.set_path(&format!("/{name}"));
    u.to_string()
}

pub async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to test PostgreSQL at {url}: {e}"));
    tokio::spawn(conn);
    client
}

/// A database that exists for one test and is dropped after it.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    pub async fn create() -> Self {
        let name = format!("gvt_{}", uuid::Uuid::new_v4().simple());
        let admin = connect(&admin_url()).await;
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create test database");
        Self {
            url: with_database(&admin_url(), &name),
            name,
        }
    }

    pub async fn client(&self) -> tokio_postgres::Client {
        connect(&self.url).await
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs inside a runtime; use a thread with its own to finish the DROP.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok((client, conn)) =
                    tokio_postgres::connect(&admin_url(), tokio_postgres::NoTls).await
                {
                    tokio::spawn(conn);
                    let _ = client
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            })
        })
        .join();
    }
}
