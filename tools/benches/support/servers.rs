//! The two servers the comparative benchmarks drive over loopback: a real `zqlite serve` and
//! a throwaway PostgreSQL cluster, each on a temporary data directory on the same disk and
//! stopped when dropped (also on errors and panics). PostgreSQL comes from Debian's packages
//! (the newest `/usr/lib/postgresql/*/bin`, or `ZQLITE_PG_BIN`), run as the `postgres` user
//! when the benchmark runs as root.
//!
//! Each benchmark includes this file as a module and uses part of it.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use tokio_postgres::{Client, NoTls};

pub fn free_port() -> Result<u16> {
    // Free when probed; the server binds it right after.
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A client connection; its connection task runs on the current runtime.
pub async fn pg_connect(conninfo: &str) -> Result<Client> {
    let (client, connection) = tokio_postgres::connect(conninfo, NoTls).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// A running `zqlite serve` on a temporary data directory; killed when dropped.
pub struct Zqlite {
    child: Child,
    pub pg_port: u16,
    pub http_port: u16,
    _data: tempfile::TempDir,
}

impl Zqlite {
    /// Starts `zqlite serve` with `extra` flags and waits until both ports listen.
    pub fn start(extra: &[&str]) -> Result<Zqlite> {
        let data = tempfile::Builder::new().prefix("zqlite-bench").tempdir()?;
        let (pg_port, http_port) = (free_port()?, free_port()?);
        let child = Command::new(env!("CARGO_BIN_EXE_zqlite"))
            .arg("serve")
            .arg("--data")
            .arg(data.path().join("zq"))
            .arg("--pg-listen")
            .arg(format!("127.0.0.1:{pg_port}"))
            .arg("--http-listen")
            .arg(format!("127.0.0.1:{http_port}"))
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting zqlite serve")?;
        let mut server = Zqlite {
            child,
            pg_port,
            http_port,
            _data: data,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", http_port)).is_err()
            || std::net::TcpStream::connect(("127.0.0.1", pg_port)).is_err()
        {
            if let Some(status) = server.child.try_wait()? {
                bail!("zqlite serve exited early: {status}");
            }
            ensure!(
                Instant::now() < deadline,
                "zqlite serve did not listen in time"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(server)
    }
}

impl Drop for Zqlite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A throwaway PostgreSQL cluster; stopped (and its directory removed) when dropped.
pub struct Postgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    running: bool,
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `program`, run as the `postgres` user when we are root (PostgreSQL refuses to run as root).
fn as_postgres(program: &Path) -> Command {
    if running_as_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn pg_bin() -> Result<PathBuf> {
    if let Ok(dir) = std::env::var("ZQLITE_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .context("PostgreSQL is not installed (Debian's postgresql package), or set ZQLITE_PG_BIN")?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found
        .pop()
        .map(|(_, bin)| bin)
        .ok_or_else(|| anyhow!("no /usr/lib/postgresql/*/bin/initdb: install Debian's postgresql"))
}

impl Postgres {
    pub fn start() -> Result<Postgres> {
        let bin = pg_bin()?;
        let dir = tempfile::Builder::new()
            .prefix("zqlite-bench-pg")
            .tempdir()?;
        let mut pg = Postgres {
            bin,
            dir,
            port: free_port()?,
            running: false,
        };
        let root = pg.dir.path();
        let status = Command::new("chmod").arg("755").arg(root).status()?;
        ensure!(status.success(), "chmod of {} failed", root.display());
        std::fs::create_dir(root.join("sock"))?;
        if running_as_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres"])
                .arg(root)
                .status()?;
            ensure!(status.success(), "chown postgres {} failed", root.display());
        }
        let out = as_postgres(&pg.bin.join("initdb"))
            .arg("-D")
            .arg(root.join("data"))
            .args(["-A", "trust", "-U", "postgres"])
            .output()?;
        ensure!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        pg.running = true;
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200",
            pg.port,
            root.join("sock").display()
        );
        let out = as_postgres(&pg.bin.join("pg_ctl"))
            .arg("-D")
            .arg(root.join("data"))
            .arg("-l")
            .arg(root.join("log"))
            .args(["-w", "-o", &options, "start"])
            .output()?;
        ensure!(
            out.status.success(),
            "pg_ctl start failed: {}{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(root.join("log")).unwrap_or_default()
        );
        Ok(pg)
    }

    pub fn conninfo(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres",
            self.port
        )
    }

    pub fn version(&self) -> String {
        Command::new(self.bin.join("postgres"))
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_else(|_| "PostgreSQL".into())
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if self.running {
            let _ = as_postgres(&self.bin.join("pg_ctl"))
                .arg("-D")
                .arg(self.dir.path().join("data"))
                .args(["-m", "immediate", "-w", "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

impl Zqlite {
    pub fn conninfo(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=zqlite dbname=zqlite",
            self.pg_port
        )
    }
}
