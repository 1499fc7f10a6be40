//! What the benchmarks that need PostgreSQL share: a connection, and a fresh database on the
//! server of `TEST_DATABASE_URL` (the local one by default).

/// The server benchmarks create their databases on.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("PostgreSQL for the benchmark");
    tokio::spawn(conn);
    client
}

/// A new empty database: its name and URL.
pub async fn create_db(admin: &tokio_postgres::Client, admin_url: &str) -> (String, String) {
    let name = format!("gv_bench_{}", uuid::Uuid::new_v4().simple());
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let mut url = url::Url::parse(admin_url).unwrap();
    url.set_path(&format!("/{name}"));
    (name, url.to_string())
}
