//! A throwaway PostgreSQL 15 for the differential tests: Debian's binaries
//! (`/usr/lib/postgresql/15/bin`), a cluster in a temporary directory, reachable only through
//! a Unix socket in that directory, stopped and deleted when the value is dropped (on a panic
//! too).
//!
//! Invariants:
//! - The server runs as the `postgres` user when the test runs as root (PostgreSQL refuses to
//!   run as root); the directory is handed to that user.
//! - Settings that change answers are pinned: `TimeZone=UTC`, UTF-8 with the `C.UTF-8` locale
//!   (byte-order collation), `DateStyle` and `IntervalStyle` at their defaults. Durability is
//!   off (a throwaway cluster).

use std::ffi::OsString;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::process::{Command, Output};

use tokio_postgres::{Client, NoTls};

/// The PostgreSQL major version whose answers the corpus records.
const MAJOR: &str = "15";

/// A running PostgreSQL cluster; stopped when dropped.
pub(crate) struct Postgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    as_postgres: bool,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postgres")
            .field("dir", &self.dir.path())
            .field("port", &self.port)
            .finish()
    }
}

/// The directory of PostgreSQL `major`'s `initdb` and `pg_ctl`, or why there is none.
fn bin_dir(major: &str) -> Result<PathBuf, String> {
    let dir = PathBuf::from(format!("/usr/lib/postgresql/{major}/bin"));
    if dir.join("initdb").exists() && dir.join("pg_ctl").exists() {
        return Ok(dir);
    }
    let others: Vec<String> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    Err(format!(
        "the differential tests need PostgreSQL {major}'s server binaries in {} \
         (Debian: `apt-get install postgresql-{major}`; .ci/run installs them); \
         versions found under /usr/lib/postgresql: {others:?}",
        dir.display()
    ))
}

impl Postgres {
    /// initdb and start a cluster on a free port. Fails with a clear message when PostgreSQL
    /// 15 is not installed or does not start.
    pub(crate) fn start() -> Result<Postgres, String> {
        let bin = bin_dir(MAJOR)?;
        let dir = tempfile::Builder::new()
            .prefix("zqlite-differential-pg-")
            .tempdir()
            .map_err(|e| format!("a temporary directory: {e}"))?;
        let as_postgres = std::fs::metadata("/proc/self")
            .map(|m| m.uid() == 0)
            .unwrap_or(false);
        if as_postgres {
            run(Command::new("chown").arg("postgres").arg(dir.path()))?;
        }
        let mut pg = Postgres {
            bin,
            dir,
            port: crate::server::free_port(),
            as_postgres,
        };
        let data = pg.data();
        pg.run_tool(
            "initdb",
            &[
                "-D".into(),
                data.clone().into_os_string(),
                "-A".into(),
                "trust".into(),
                "-U".into(),
                "postgres".into(),
                "-E".into(),
                "UTF8".into(),
                "--locale=C.UTF-8".into(),
                "--no-sync".into(),
            ],
        )?;
        let log = pg.dir.path().join("log");
        // Retried on another port when the chosen one was taken in the meantime.
        let mut attempt = 0;
        loop {
            let options = format!(
                "-p {} -k {} -c listen_addresses='' -c TimeZone=UTC -c fsync=off \
                 -c synchronous_commit=off -c full_page_writes=off -c statement_timeout=20s \
                 -c lc_messages=C",
                pg.port,
                pg.dir.path().display()
            );
            let started = pg.run_tool(
                "pg_ctl",
                &[
                    "-D".into(),
                    data.clone().into_os_string(),
                    "-l".into(),
                    log.clone().into_os_string(),
                    "-w".into(),
                    "-o".into(),
                    options.into(),
                    "start".into(),
                ],
            );
            match started {
                Ok(()) => return Ok(pg),
                Err(e) if attempt == 2 => {
                    let log = std::fs::read_to_string(&log).unwrap_or_default();
                    return Err(format!("PostgreSQL did not start: {e}\n{log}"));
                }
                Err(_) => {
                    attempt += 1;
                    pg.port = crate::server::free_port();
                }
            }
        }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn run_tool(&self, tool: &str, args: &[OsString]) -> Result<(), String> {
        let path = self.bin.join(tool);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        cmd.args(args);
        run(&mut cmd)
    }

    /// The socket directory and port as a libpq connection string for `dbname`.
    fn conninfo(&self, dbname: &str) -> String {
        format!(
            "host={} port={} user=postgres dbname={dbname}",
            self.dir.path().display(),
            self.port
        )
    }

    /// A new client of database `dbname`.
    pub(crate) async fn client(&self, dbname: &str) -> Client {
        let (client, conn) = tokio_postgres::connect(&self.conninfo(dbname), NoTls)
            .await
            .unwrap_or_else(|e| panic!("connecting to PostgreSQL ({dbname}): {e}"));
        tokio::spawn(conn);
        client
    }

    /// Creates database `name` (empty) and returns a client of it.
    pub(crate) async fn fresh_database(&self, name: &str) -> Client {
        let admin = self.client("postgres").await;
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\" TEMPLATE template0"))
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        self.client(name).await
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self.run_tool(
            "pg_ctl",
            &[
                "-D".into(),
                data.into_os_string(),
                "-m".into(),
                "immediate".into(),
                "-w".into(),
                "stop".into(),
            ],
        );
    }
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out: Output = cmd
        .output()
        .map_err(|e| format!("{:?} did not run: {e}", cmd.get_program()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{:?} {:?} failed ({}): {}{}",
            cmd.get_program(),
            cmd.get_args().collect::<Vec<_>>(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

#[test]
fn differential_needs_the_postgresql_version_it_compares_with() {
    let err = bin_dir("9").expect_err("no PostgreSQL 9 is installed");
    assert!(
        err.contains("/usr/lib/postgresql/9/bin") && err.contains("apt-get install postgresql-9"),
        "{err}"
    );
}
