//! The process's limit on open files. Every WebSocket holds one file descriptor, so at
//! start-up the soft limit (often 1024) is raised to the hard limit, and the operator is told
//! how many connections that allows.

use nix::sys::resource::{getrlimit, setrlimit, Resource};

/// Files the server keeps open besides its connections: database, listener, standard streams.
const SPARE_FILES: u64 = 64;
/// Below this many possible connections (5 000 agents with an expert each) the limit is
/// worth a warning.
const FEW_CONNECTIONS: u64 = 10_000;

/// Raises the soft limit on open files to the hard limit and logs what it allows. Returns the
/// limit in force.
pub fn raise_open_files() -> Option<u64> {
    let (soft, hard) = match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok(limits) => limits,
        Err(err) => {
            tracing::warn!(error = %err, "cannot read the open-file limit");
            return None;
        }
    };
    let limit = if soft < hard {
        match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
            Ok(()) => hard,
            Err(err) => {
                tracing::warn!(error = %err, soft, hard, "cannot raise the open-file limit");
                soft
            }
        }
    } else {
        soft
    };
    let connections = limit.saturating_sub(SPARE_FILES);
    if connections < FEW_CONNECTIONS {
        tracing::warn!(
            limit,
            "the open-file limit allows only about {connections} WebSockets (one per agent, \
             one per expert); raise the hard limit (ulimit -Hn, or LimitNOFILE= for systemd) \
             to hold more"
        );
    } else {
        tracing::info!(limit, connections, "open-file limit");
    }
    Some(limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soft_limit_reaches_the_hard_limit() {
        let limit = raise_open_files();
        let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).expect("read the limit");
        assert_eq!(limit, Some(soft));
        // An unlimited hard limit cannot be the soft limit of open files.
        assert!(soft == hard || hard == nix::sys::resource::RLIM_INFINITY);
    }
}
