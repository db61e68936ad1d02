//! This process's limit on open files: every WebSocket is one.

use crate::error::LoadError;
use nix::sys::resource::{getrlimit, setrlimit, Resource};

/// Raises the soft limit on open files to `wanted` if it can: up to the hard limit, and the
/// hard limit too when privileged (a server started afterwards inherits both). Returns the
/// soft limit in force.
pub fn raise_open_files(wanted: u64) -> Result<u64, LoadError> {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)
        .map_err(|e| LoadError::Limit(format!("cannot read it: {e}")))?;
    if soft >= wanted {
        return Ok(soft);
    }
    if hard < wanted && setrlimit(Resource::RLIMIT_NOFILE, wanted, wanted).is_ok() {
        return Ok(wanted);
    }
    setrlimit(Resource::RLIMIT_NOFILE, hard, hard)
        .map_err(|e| LoadError::Limit(format!("cannot raise it to {hard}: {e}")))?;
    Ok(hard)
}
