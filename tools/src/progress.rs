//! Progress of long operator commands (`log verify`, `log dump`, `log stats`, `replay`,
//! `rebuild`).
//!
//! On a terminal (stderr is a TTY, and stdout is not one the command prints records to) an
//! indicatif bar shows how far the work has come (bytes of log read, or records replayed out
//! of a known count), records and records/s, and an ETA. Otherwise plain
//! `tracing` lines go to stderr: one every [`LINE_EVERY`] while the work lasts, and a summary
//! at the end. Progress never touches stdout, which holds the command's output.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often the plain-line mode reports while work goes on.
pub const LINE_EVERY: Duration = Duration::from_secs(5);

const BAR_TEMPLATE: &str = "{prefix} [{bar:30}] {percent:>3}% {msg} ETA {eta}";

/// Reports one operation's progress; see the module documentation.
#[derive(Debug)]
pub struct Progress {
    what: &'static str,
    bar: Option<ProgressBar>,
    started: Instant,
    last_report: Instant,
    /// The amount of work, in `unit`s.
    total_bytes: u64,
    unit: &'static str,
}

impl Progress {
    /// Starts reporting on `what` (e.g. "verify"), which goes through `total_bytes` of log.
    /// `stdout_shows_output`: the command prints its results to stdout as it goes, so a bar
    /// on the same terminal would tear them.
    pub fn start(what: &'static str, total_bytes: u64, stdout_shows_output: bool) -> Progress {
        Progress::start_in(what, total_bytes, "bytes", stdout_shows_output)
    }

    /// Starts reporting on work measured in records (`update` then takes records done as its
    /// first argument), for a replay through the locked log whose length is its LSN.
    pub fn start_records(what: &'static str, total_records: u64) -> Progress {
        Progress::start_in(what, total_records, "records", false)
    }

    fn start_in(
        what: &'static str,
        total_bytes: u64,
        unit: &'static str,
        stdout_shows_output: bool,
    ) -> Progress {
        let terminal = std::io::stderr().is_terminal()
            && !(stdout_shows_output && std::io::stdout().is_terminal());
        let bar = terminal.then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr());
            // The template is a constant: it parses, or the unit test below fails.
            let style = ProgressStyle::with_template(BAR_TEMPLATE)
                .expect("valid template")
                .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(what);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        let now = Instant::now();
        Progress {
            what,
            bar,
            started: now,
            last_report: now,
            total_bytes,
            unit,
        }
    }

    fn rate(&self, records: u64) -> u64 {
        let secs = self.started.elapsed().as_secs_f64();
        if secs > 0.0 {
            (records as f64 / secs) as u64
        } else {
            0
        }
    }

    /// Records how far the work has come (`bytes_done` in the unit it started with). Cheap
    /// enough to call per record.
    pub fn update(&mut self, bytes_done: u64, records: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(bytes_done.min(self.total_bytes));
            if self.last_report.elapsed() >= Duration::from_millis(100) {
                self.last_report = Instant::now();
                bar.set_message(format!(
                    "{records} records, {} records/s",
                    self.rate(records)
                ));
            }
            return;
        }
        if self.last_report.elapsed() < LINE_EVERY {
            return;
        }
        self.last_report = Instant::now();
        let fraction = if self.total_bytes == 0 {
            1.0
        } else {
            (bytes_done as f64 / self.total_bytes as f64).min(1.0)
        };
        let elapsed = self.started.elapsed().as_secs_f64();
        let eta = if fraction > 0.0 {
            elapsed / fraction - elapsed
        } else {
            0.0
        };
        tracing::info!(
            "{}: {records} records, {} records/s, {:.0}% of {} {}, ETA {eta:.0} s",
            self.what,
            self.rate(records),
            fraction * 100.0,
            self.total_bytes,
            self.unit,
        );
    }

    /// Ends the report with a summary line on stderr.
    pub fn finish(self, records: u64) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        tracing::info!(
            "{}: {records} records in {:.2} s ({} records/s)",
            self.what,
            self.started.elapsed().as_secs_f64(),
            self.rate(records),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_template_parses() {
        assert!(ProgressStyle::with_template(BAR_TEMPLATE).is_ok());
    }
}
