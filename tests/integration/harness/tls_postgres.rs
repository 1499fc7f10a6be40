//! [`TlsPostgres`]: a private, throwaway PostgreSQL server with TLS, for the tests of
//! `database.sslmode`. The shared test server is never reconfigured (other tests use it): this
//! one is made by `initdb` in a temp dir, on a free port, with a certificate for
//! `localhost`/127.0.0.1 signed by a CA the test makes with `openssl`, and a `pg_hba.conf` that
//! admits TCP connections over TLS only (`hostssl`, trust). Dropping it stops the server and
//! deletes everything.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A running private server; stopped and deleted on drop.
pub struct TlsPostgres {
    /// Holds the data directory, the certificates and the server's log.
    dir: tempfile::TempDir,
    bin: PathBuf,
    /// The user the server runs as when the tests run as root (initdb refuses root).
    run_as: Option<String>,
    pub port: u16,
}

impl TlsPostgres {
    /// Makes the certificates and starts the server; `None` (after saying why on stderr) when
    /// this machine cannot: no PostgreSQL server binaries or no `openssl`.
    pub fn start() -> Option<Self> {
        let Some(bin) = server_bin_dir() else {
            eprintln!("skipped: no PostgreSQL server binaries (initdb, pg_ctl) found");
            return None;
        };
        if !succeeds(Command::new("openssl").arg("version")) {
            eprintln!("skipped: openssl is not installed (it makes the test certificates)");
            return None;
        }
        let run_as = nix::unistd::geteuid()
            .is_root()
            .then(|| "postgres".to_string());
        let dir = tempfile::tempdir().unwrap();
        let server = Self {
            dir,
            bin,
            run_as,
            port: free_port(),
        };
        server.make_certificates();
        server.init_and_start();
        Some(server)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The CA that signed the server's certificate: `verify-full` succeeds with it.
    pub fn ca(&self) -> PathBuf {
        self.path("ca.crt")
    }

    /// A CA that signed nothing the server has: `verify-full` fails with it.
    pub fn other_ca(&self) -> PathBuf {
        self.path("other-ca.crt")
    }

    /// A URL of the server's `postgres` database at 127.0.0.1 (in the certificate).
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn make_certificates(&self) {
        let openssl = |args: &[&str]| {
            let mut cmd = Command::new("openssl");
            cmd.args(args);
            self.run_here(cmd, &format!("openssl {args:?}"));
        };
        for ca in ["ca", "other-ca"] {
            openssl(&[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-keyout",
                &format!("{ca}.key"),
                "-out",
                &format!("{ca}.crt"),
                "-subj",
                &format!("/CN=goatedvips test {ca}"),
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ]);
        }
        std::fs::write(
            self.path("server.ext"),
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n\
             extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
        )
        .unwrap();
        openssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ]);
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.crt",
        ]);
    }

    /// `initdb`, TLS on, `hostssl` only, then `pg_ctl start -w` (which waits until the server
    /// accepts connections).
    fn init_and_start(&self) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(self.path("server.key"), PermissionsExt::from_mode(0o600))
            .unwrap();
        if let Some(user) = &self.run_as {
            let user = nix::unistd::User::from_name(user)
                .unwrap()
                .unwrap_or_else(|| panic!("no user {user} to run PostgreSQL as"));
            for entry in std::fs::read_dir(self.dir.path()).unwrap() {
                chown(&entry.unwrap().path(), &user);
            }
            chown(self.dir.path(), &user);
        }
        let data = self.path("data");
        self.run(
            "initdb",
            &[
                "-D",
                path_str(&data),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
            ],
        );
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\n",
        )
        .unwrap();
        let options = format!(
            "-c port={} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c ssl=on \
             -c ssl_cert_file={} -c ssl_key_file={} -c fsync=off",
            self.port,
            path_str(self.dir.path()),
            path_str(&self.path("server.crt")),
            path_str(&self.path("server.key")),
        );
        self.run(
            "pg_ctl",
            &[
                "-D",
                path_str(&data),
                "-l",
                path_str(&self.path("server.log")),
                "-o",
                &options,
                "-w",
                "-t",
                "30",
                "start",
            ],
        );
    }

    /// A server tool (`initdb`, `pg_ctl`) to run as the server's user.
    fn tool(&self, name: &str) -> Command {
        let program = self.bin.join(name);
        match &self.run_as {
            Some(user) => {
                let mut cmd = Command::new("runuser");
                cmd.args(["-u", user, "--"]).arg(&program);
                cmd
            }
            None => Command::new(&program),
        }
    }

    /// Runs a server tool as the server's user.
    fn run(&self, tool: &str, args: &[&str]) {
        let mut cmd = self.tool(tool);
        cmd.args(args);
        self.run_here(cmd, &format!("{tool} {args:?}"));
    }

    /// Runs `cmd` in the temp dir; panics with its output (and the server's log) if it fails.
    fn run_here(&self, mut cmd: Command, what: &str) {
        let out = cmd
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{what}: {}{}\nserver log: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(self.path("server.log")).unwrap_or_default()
        );
    }
}

impl Drop for TlsPostgres {
    fn drop(&mut self) {
        // Immediate: nothing in it is worth a clean shutdown. The temp dir goes after this.
        let data = self.path("data");
        let _ = self
            .tool("pg_ctl")
            .args(["-D", path_str(&data), "-m", "immediate", "-w", "stop"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin` (Debian), else the directory of `initdb`
/// on the PATH.
fn server_bin_dir() -> Option<PathBuf> {
    let debian = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .max()
        .map(|v| PathBuf::from(format!("/usr/lib/postgresql/{v}/bin")))
        .filter(|bin| bin.join("initdb").exists());
    debian.or_else(|| {
        std::env::var_os("PATH")
            .and_then(|path| std::env::split_paths(&path).find(|dir| dir.join("initdb").exists()))
    })
}

fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn chown(path: &Path, user: &nix::unistd::User) {
    std::os::unix::fs::chown(path, Some(user.uid.as_raw()), Some(user.gid.as_raw()))
        .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("temp paths are UTF-8")
}
