//! The SQLite data directory and database file, readable by the server's own user alone.
//!
//! They hold the ticket-signing key and the TURN secret: anyone who reads them can mint
//! session tickets and TURN credentials. New ones are created with owner-only modes; ones
//! found open to the group or to others (made by an older version, or by hand) are tightened
//! and the operator is warned, since what they held may already have been read.

use std::fs::{DirBuilder, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Mode of the data directory: the owner may list, enter and create files.
pub const DIR_MODE: u32 = 0o700;
/// Mode of the database file: the owner may read and write.
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` (and its parents) as [`DIR_MODE`], or tightens an existing one to it.
pub fn ensure_dir(dir: &Path) -> io::Result<()> {
    DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)?;
    tighten(dir, DIR_MODE)
}

/// Creates `file` empty as [`FILE_MODE`] when it does not exist, or tightens it to that mode.
/// SQLite accepts an empty file as a new database.
pub fn ensure_file(file: &Path) -> io::Result<()> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(FILE_MODE)
        .open(file)?;
    tighten(file, FILE_MODE)
}

/// Removes every permission bit of the group and of others from `path`.
fn tighten(path: &Path, wanted: u32) -> io::Result<()> {
    let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        tracing::warn!(
            path = %path.display(),
            mode = format!("{mode:o}"),
            "the server's data was readable by other users; it is now {:o}. Rotate the TURN \\
             secret (--turn-secret) if others could have copied it",
            wanted
        );
        std::fs::set_permissions(path, Permissions::from_mode(mode & !0o077))?;
    }
    Ok(())
}
