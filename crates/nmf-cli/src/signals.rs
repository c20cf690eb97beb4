//! SIGINT and SIGTERM stop a run at the end of the current iteration: the run then writes a
//! complete, consistent output marked `"stop": {"reason": "interrupted", …}` with the factors
//! reached (so it can be resumed with `--init-u/--init-v`), and exits 130 or 143 (128 + the
//! signal's number, as a shell reports a process killed by it).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use signal_hook::consts::{SIGINT, SIGTERM};

/// Which stop signals have arrived since [`Signals::install`].
#[derive(Debug, Clone)]
pub struct Signals {
    int: Arc<AtomicBool>,
    term: Arc<AtomicBool>,
}

impl Signals {
    /// Catch SIGINT and SIGTERM from now on (instead of dying at once).
    pub fn install() -> std::io::Result<Signals> {
        let s = Signals {
            int: Arc::new(AtomicBool::new(false)),
            term: Arc::new(AtomicBool::new(false)),
        };
        signal_hook::flag::register(SIGINT, Arc::clone(&s.int))?;
        signal_hook::flag::register(SIGTERM, Arc::clone(&s.term))?;
        Ok(s)
    }

    /// The exit code a received stop signal asks for: 143 for SIGTERM, 130 for SIGINT.
    pub fn exit_code(&self) -> Option<u8> {
        if self.term.load(Ordering::Relaxed) {
            Some(128 + SIGTERM as u8)
        } else if self.int.load(Ordering::Relaxed) {
            Some(128 + SIGINT as u8)
        } else {
            None
        }
    }
}
