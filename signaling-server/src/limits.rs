//! The process's limit on open files. Every connection holds one file descriptor, so at
//! start-up the soft limit (often 1024) is raised to the hard limit, and the operator is told
//! how many connections that allows. The same limit, less a reserve for the database and the
//! rest of the server, bounds how many connections are accepted at once (see
//! [`connection_budget`]), so that a flood of connections never runs the process out of
//! descriptors.

use nix::sys::resource::{getrlimit, setrlimit, Resource};

/// Below this many possible connections (5 000 agents with an expert each) the limit is
/// worth a warning.
const FEW_CONNECTIONS: u64 = 10_000;
/// The fewest connections a derived budget allows, however small the file limit.
const MIN_BUDGET: u64 = 16;

/// Raises the soft limit on open files to the hard limit and logs how many connections it
/// allows besides the `reserved` files. Returns the limit in force.
pub fn raise_open_files(reserved: u64) -> Option<u64> {
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
    let connections = budget_of(limit, reserved);
    if connections < FEW_CONNECTIONS {
        tracing::warn!(
            limit,
            "the open-file limit allows only about {connections} connections (one per agent, \
             one per expert); raise the hard limit (ulimit -Hn, or LimitNOFILE= for systemd) \
             to hold more"
        );
    } else {
        tracing::info!(limit, connections, "open-file limit");
    }
    Some(limit)
}

/// How many connections the server accepts at once: `configured` if given, else the current
/// soft limit on open files less `reserved` (at least a handful).
pub fn connection_budget(configured: Option<u32>, reserved: u64) -> usize {
    if let Some(max) = configured {
        return max as usize;
    }
    let limit = match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, _)) => soft,
        Err(err) => {
            tracing::warn!(error = %err, "cannot read the open-file limit; assuming 1024");
            1024
        }
    };
    usize::try_from(budget_of(limit, reserved)).unwrap_or(usize::MAX)
}

fn budget_of(limit: u64, reserved: u64) -> u64 {
    limit
        .saturating_sub(reserved)
        .max(MIN_BUDGET.min(limit / 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soft_limit_reaches_the_hard_limit() {
        let limit = raise_open_files(256);
        let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).expect("read the limit");
        assert_eq!(limit, Some(soft));
        // An unlimited hard limit cannot be the soft limit of open files.
        assert!(soft == hard || hard == nix::sys::resource::RLIM_INFINITY);
    }

    #[test]
    fn the_budget_leaves_the_reserve_free() {
        assert_eq!(budget_of(20_000, 256), 19_744);
        assert_eq!(budget_of(1024, 256), 768);
        // A reserve larger than the limit still leaves a few connections, within the limit.
        assert_eq!(budget_of(100, 256), 16);
        assert_eq!(budget_of(10, 256), 5);
        assert_eq!(connection_budget(Some(42), 256), 42);
    }
}
