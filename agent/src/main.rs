//! `agent`: the program the novice runs to ask for help.
//!
//! Without a subcommand on a machine with a display (or with `window`) it opens the novice's
//! window; without one and without a display (or with `online`) an enrolled machine waits for
//! its support desk at the terminal. `agent --help` lists everything else.

use agent::frontend::window::{self, WindowArgs};
use agent::invitation::file as invitation_file;
use agent::invite::{self, InviteOptions, ShareOptions};
use agent::media::{MediaConfig, VideoCodec};
use agent::peer::TurnTrust;
use agent::server_api::{NameChange, ServerApi};
use agent::status_page::StatusPage;
use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use protocol::api::InvitationSummary;
use protocol::ids::InvitationId;
use protocol::mail::utc;
use protocol::text::clean;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The server used when none is given.
const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

/// Ask for remote help: invite an expert to see (and, if you allow it, control) this screen.
///
/// Run without a subcommand on a machine enrolled into a support desk, to be reachable by it.
#[derive(Debug, Parser)]
#[command(name = "agent", version, about)]
struct Cli {
    /// Signaling server to use [default: http://127.0.0.1:8080; for `agent` alone, the server
    /// this machine is enrolled with].
    #[arg(long, env = "ASSIST_SERVER", global = true)]
    server: Option<String>,

    /// Your name as your helper will see it (default: "<user> on <host>").
    #[arg(long, env = "ASSIST_NAME", global = true)]
    name: Option<String>,

    /// Where the agent keeps its credential (default: ~/.config/remote-assist).
    #[arg(long, env = "ASSIST_STATE_DIR", global = true)]
    state_dir: Option<PathBuf>,

    /// Program that opens web pages and mail addresses for you.
    #[arg(
        long,
        env = "ASSIST_OPEN_WITH",
        default_value = "xdg-open",
        global = true
    )]
    open_with: String,

    #[command(subcommand)]
    command: Option<Commands>,
}

/// How the screen is shared, for `invite` and `online`.
#[derive(Debug, Args)]
struct ShareArgs {
    /// X display to share (default: $DISPLAY).
    #[arg(long)]
    display: Option<String>,
    /// Highest frame rate to send.
    #[arg(long, default_value_t = 30)]
    max_fps: u32,
    /// Target video bitrate in bits per second.
    #[arg(long, default_value_t = 2_000_000)]
    bitrate: u32,
    /// Local address for WebRTC traffic (repeatable, or comma-separated in the environment
    /// variable; default: every non-loopback interface).
    #[arg(long = "local-ip", env = "ASSIST_LOCAL_IP", value_delimiter = ',')]
    local_ips: Vec<IpAddr>,
    /// Also trust the certificate authorities in FILE (PEM) for TURN servers over TLS
    /// (`turns:` URLs), besides the public ones: for a server with a private CA.
    #[arg(long, env = "ASSIST_TURN_CA", value_name = "FILE")]
    turn_ca: Option<PathBuf>,
    /// Write the timestamps of every frame sent and input received to FILE (CSV), to see
    /// where latency goes.
    #[arg(long, env = "ASSIST_TRACE_TIMINGS", value_name = "FILE")]
    trace_timings: Option<PathBuf>,
}

impl ShareArgs {
    /// The defaults, as for `agent online` without options.
    fn defaults() -> Self {
        #[derive(Parser)]
        struct Defaults {
            #[command(flatten)]
            share: ShareArgs,
        }
        Defaults::parse_from(["agent"]).share
    }

    fn into_options(self) -> anyhow::Result<ShareOptions> {
        let turn_trust = match &self.turn_ca {
            Some(path) => {
                let pem = std::fs::read(path)
                    .with_context(|| format!("cannot read --turn-ca {}", path.display()))?;
                TurnTrust::with_pem(&pem)
                    .with_context(|| format!("cannot use --turn-ca {}", path.display()))?
            }
            None => TurnTrust::default(),
        };
        Ok(ShareOptions {
            media: MediaConfig {
                display: self.display,
                max_fps: self.max_fps,
                bitrate_bps: self.bitrate,
                codec: VideoCodec::default(),
            },
            local_ips: self.local_ips,
            turn_trust,
            trace_timings: self.trace_timings,
        })
    }
}

#[derive(Debug, Subcommand)]
enum Commands {
    /// Enrol this machine into an organisation's support desk with the enrolment token its
    /// administrator gave you.
    Enroll {
        /// The enrolment token. It may start with a hyphen: it is random text.
        #[arg(
            long,
            env = "ASSIST_ENROL_TOKEN",
            hide_env_values = true,
            allow_hyphen_values = true
        )]
        token: String,
    },
    /// Open the novice's window: ask for help, answer requests, chat (what `agent` alone does
    /// on a machine with a display).
    Window {
        /// An invitation file this machine saved (as the desktop passes one that is
        /// double-clicked): the window opens on the list of invitations.
        #[arg(value_name = "INVITATION-FILE", conflicts_with = "invite")]
        file: Option<PathBuf>,
        /// Create an invitation at once (valid for an hour, no password) and print its link,
        /// as if Create were clicked.
        #[arg(long)]
        invite: bool,
    },
    /// Stay connected so that your support desk can offer help, at the terminal (what `agent`
    /// alone does on a machine without a display).
    Online {
        #[command(flatten)]
        share: ShareArgs,
    },
    /// List the experts of your support desk you can invite directly, and who is online.
    Experts,
    /// Create an invitation, print its link, and wait for your helper.
    Invite {
        /// Send the invitation straight to this expert of your support desk (a login from
        /// `agent experts`) instead of making a link; they accept or decline in their browser.
        #[arg(long, value_name = "LOGIN",
              conflicts_with_all = ["password", "password_file", "copy", "save", "email", "send_to"])]
        to: Option<String>,
        /// How long the invitation stays valid: e.g. 30m, 1h, 2d (at most 30 days).
        #[arg(long, default_value = "1h", value_parser = parse_duration)]
        expires: Duration,
        /// Ask for a password your helper must type (tell it to them another way than the
        /// link): typed at a prompt that does not show it. Also from `--password-file` or the
        /// environment variable ASSIST_INVITE_PASSWORD; never as a value here, where every user
        /// of the machine could read it in the process list.
        #[arg(long, num_args = 0..=1, value_name = "NOT-HERE", conflicts_with = "password_file")]
        password: Option<Option<String>>,
        /// Read the invitation's password from the first line of FILE.
        #[arg(long, env = "ASSIST_INVITE_PASSWORD_FILE", value_name = "FILE")]
        password_file: Option<PathBuf>,
        #[command(flatten)]
        share: ShareArgs,
        /// Put the link on the clipboard, ready to paste (for as long as the agent runs).
        #[arg(long)]
        copy: bool,
        /// Also save the invitation as FILE (an .html page): your helper double-clicks it to
        /// open the invitation in their browser. The password is never in it.
        #[arg(long, value_name = "FILE")]
        save: Option<PathBuf>,
        /// Open your mail program with the invitation written out, to ADDRESS if given.
        #[arg(long, value_name = "ADDRESS", num_args = 0..=1, default_missing_value = "")]
        email: Option<String>,
        /// Have the server e-mail the invitation to ADDRESS (when it has a mail relay).
        #[arg(long, value_name = "ADDRESS")]
        send_to: Option<String>,
    },
    /// Show your invitations on a local web page where you can expire any of them.
    StatusPage {
        /// Local port for the page (default: any free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Only print the page's address; do not open it in the browser.
        #[arg(long)]
        no_open: bool,
    },
    /// Show the status of an invitation you saved as a file.
    Status {
        /// The file written by `agent invite --save`.
        file: PathBuf,
    },
    /// List your invitations with their status.
    List,
    /// Expire an invitation now; a session using it ends.
    Revoke {
        /// The invitation's id, as shown by `agent list`.
        id: InvitationId,
    },
}

/// Parses `90s`, `30m`, `1h`, `2d` (a bare number is seconds).
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit())
        .map(|i| text.split_at(i))
        .unwrap_or((text, "s"));
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration such as 30m, 1h or 2d"))?;
    let unit_secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("unknown unit {unit:?}: use s, m, h or d")),
    };
    Ok(Duration::from_secs(n.saturating_mul(unit_secs)))
}

/// What the novice is told when `--name` differs from the name the machine is registered under.
fn name_kept_note(kept: &str, asked: &str, server: &str) -> String {
    format!(
        "This computer is registered on {server} as \"{kept}\", so your helper still sees \
         \"{kept}\", not \"{asked}\": the server cannot rename it. The name stays as long as \
         this computer keeps its registration there (its invitations go with it)."
    )
}

/// The environment variable that may hold the invitation's password.
const PASSWORD_ENV: &str = "ASSIST_INVITE_PASSWORD";

/// The invitation's password: typed at a prompt (`--password`), from `--password-file`, or
/// from the environment (`from_env`); a value given with `--password` is refused, as the
/// process list shows it to everybody on the machine.
fn invite_password(
    flag: Option<Option<String>>,
    file: Option<&std::path::Path>,
    from_env: Option<String>,
) -> anyhow::Result<Option<String>> {
    let password = match (flag, file) {
        (Some(Some(_)), _) => anyhow::bail!(
            "a password given on the command line can be read by every user of this computer \
             (in the process list); use `--password` alone to type it at a prompt, \
             `--password-file FILE`, or the environment variable {PASSWORD_ENV}"
        ),
        (Some(None), _) => {
            if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                anyhow::bail!(
                    "`--password` asks for the password at the terminal, and there is none; \
                     use `--password-file FILE` or the environment variable {PASSWORD_ENV}"
                );
            }
            agent::frontend::terminal::prompt_hidden("Password for the invitation: ")
                .context("cannot read the password")?
        }
        (None, Some(file)) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read --password-file {}", file.display()))?;
            text.lines().next().unwrap_or_default().to_owned()
        }
        (None, None) => match from_env {
            Some(password) => password,
            None => return Ok(None),
        },
    };
    if password.is_empty() {
        anyhow::bail!("the invitation's password is empty");
    }
    Ok(Some(password))
}

/// One line of `agent list` and `agent status`.
fn print_summary(inv: &InvitationSummary) {
    let wrong = match inv.failed_attempts {
        0 => String::new(),
        1 => "  (1 wrong password)".into(),
        n => format!("  ({n} wrong passwords)"),
    };
    println!(
        "{}  {:<8}  created {} UTC  expires {} UTC{}{wrong}",
        inv.id,
        inv.status.as_str(),
        utc(inv.created_at),
        utc(inv.expires_at),
        if inv.has_password { "  (password)" } else { "" }
    );
}

/// The enrolled machine's client: experts are reachable only through a support desk.
fn enrolled_api(server: Option<&str>, state_dir: &std::path::Path) -> anyhow::Result<ServerApi> {
    ServerApi::enrolled(server, state_dir)?.ok_or_else(|| {
        anyhow::anyhow!(
            "This machine is not enrolled into a support desk{}, so it has no experts to invite \
             directly. Run `agent enroll --server URL --token T` first, or invite a helper with \
             a link (`agent invite`).",
            server.map(|s| format!(" on {s}")).unwrap_or_default()
        )
    })
}

/// `agent experts`: who the novice can invite directly, online first.
async fn list_experts(server: Option<&str>, state_dir: &std::path::Path) -> anyhow::Result<()> {
    let api = enrolled_api(server, state_dir)?;
    let mut experts = api
        .experts()
        .await
        .with_context(|| format!("cannot list the experts on {}", api.base()))?;
    let desk = clean(api.organisation().unwrap_or("your organisation"));
    if experts.is_empty() {
        println!("Nobody works at the {desk} support desk yet.");
        return Ok(());
    }
    experts.sort_by_key(|e| !e.online);
    println!("The {desk} support desk (invite one with `agent invite --to LOGIN`):");
    let shown: Vec<(String, bool, String)> = experts
        .iter()
        .map(|e| (clean(&e.login), e.online, clean(&e.name)))
        .collect();
    let width = shown
        .iter()
        .map(|(login, ..)| login.len())
        .max()
        .unwrap_or(0);
    for (login, online, name) in &shown {
        println!(
            "  {login:<width$}  {:<7}  {name}",
            if *online { "online" } else { "offline" },
        );
    }
    Ok(())
}

fn default_name() -> String {
    let user = std::env::var("USER").unwrap_or_else(|_| "someone".into());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "this computer".into());
    format!("{user} on {host}")
}

fn default_state_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("remote-assist")
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ASSIST_AGENT_LOG")
                .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
                // The WebRTC stack warns about every odd packet, and the windowing library about
                // a display without settings or size; the novice's terminal only
                // needs our own warnings.
                .unwrap_or_else(|_| {
                    tracing_subscriber::EnvFilter::new(
                        "warn,rtc=error,rtc_ice=error,rtc_dtls=error,rtc_sctp=error,webrtc=error,winit=error",
                    )
                }),
        )
        .init();
    let cli = Cli::parse();
    let has_display = std::env::var_os("DISPLAY").is_some_and(|d| !d.is_empty());
    match (&cli.command, has_display) {
        (Some(Commands::Window { .. }), _) | (None, true) => window::run(WindowArgs {
            server: cli.server.clone(),
            default_server: DEFAULT_SERVER.into(),
            name: cli.name.clone().unwrap_or_else(default_name),
            state_dir: cli.state_dir.clone().unwrap_or_else(default_state_dir),
            open_with: cli.open_with.clone(),
            file: match &cli.command {
                Some(Commands::Window { file, .. }) => file.clone(),
                _ => None,
            },
            invite: matches!(&cli.command, Some(Commands::Window { invite: true, .. })),
            share: ShareArgs::defaults().into_options()?,
        }),
        _ => tokio::runtime::Runtime::new()
            .context("cannot start the agent's runtime")?
            .block_on(run_at_terminal(cli)),
    }
}

/// Everything but the window: the subcommands, answered at the terminal.
async fn run_at_terminal(cli: Cli) -> anyhow::Result<()> {
    let name = cli.name.clone().unwrap_or_else(default_name);
    let state_dir = cli.state_dir.clone().unwrap_or_else(default_state_dir);
    let command = match cli.command {
        None => {
            let share = ShareArgs::defaults().into_options()?;
            return agent::online::run(cli.server.as_deref(), &state_dir, &share).await;
        }
        Some(Commands::Window { .. }) => anyhow::bail!(
            "the window needs a display (the environment variable DISPLAY is not set); run `agent invite` to ask for help at the terminal"
        ),
        Some(Commands::Online { share }) => {
            return agent::online::run(cli.server.as_deref(), &state_dir, &share.into_options()?)
                .await;
        }
        Some(Commands::Enroll { token }) => {
            let server = cli.server.as_deref().unwrap_or(DEFAULT_SERVER);
            let api = ServerApi::enroll(server, &token, &name, &state_dir)
                .await
                .with_context(|| format!("cannot enrol with the server {server}"))?;
            println!(
                "{}",
                agent::online::enrolled_line(&clean(
                    api.organisation().unwrap_or("your organisation")
                ))
            );
            return Ok(());
        }
        Some(Commands::Experts) => return list_experts(cli.server.as_deref(), &state_dir).await,
        Some(Commands::Invite {
            to: Some(to),
            expires,
            share,
            ..
        }) => {
            let api = enrolled_api(cli.server.as_deref(), &state_dir)?;
            return invite::run_direct(api, &to, Some(expires), &share.into_options()?).await;
        }
        Some(command) => command,
    };
    let server = cli.server.as_deref().unwrap_or(DEFAULT_SERVER);
    let api = ServerApi::connect(server, &name, &state_dir)
        .await
        .with_context(|| format!("cannot register with the server {server}"))?;
    match api.name_kept() {
        // Only a name given on purpose is worth a word; the default one may change by itself.
        Some(NameChange::Kept { kept, asked }) if cli.name.is_some() => eprintln!(
            "{}",
            name_kept_note(&clean(kept), &clean(asked), api.base())
        ),
        Some(NameChange::Reregistered) => eprintln!(
            "The server {} no longer knew this machine, so it is registered anew; invitations \
             made before cannot be listed or revoked from here any more.",
            api.base()
        ),
        _ => {}
    }

    match command {
        // Answered above, before any registration.
        Commands::Enroll { .. }
        | Commands::Online { .. }
        | Commands::Experts
        | Commands::Window { .. } => Ok(()),
        Commands::Invite {
            expires,
            password,
            password_file,
            share,
            save,
            email,
            send_to,
            copy,
            to: _,
        } => {
            invite::run(
                api,
                InviteOptions {
                    expires_in: Some(expires),
                    password: invite_password(
                        password,
                        password_file.as_deref(),
                        std::env::var(PASSWORD_ENV).ok(),
                    )?,
                    share: share.into_options()?,
                    save,
                    email,
                    send_to,
                    copy,
                    open_with: cli.open_with.clone(),
                },
            )
            .await
        }
        Commands::List => {
            let all = api.invitations().await?;
            if all.is_empty() {
                println!("You have no invitations.");
            }
            for inv in &all {
                print_summary(inv);
            }
            Ok(())
        }
        Commands::StatusPage { port, no_open } => {
            let page = StatusPage::bind(api, port)
                .await
                .context("cannot open the local status page")?;
            let url = page.url();
            println!("Your invitations: {url}");
            println!("(The address is private to you. Press Ctrl+C to close the page.)");
            if !no_open {
                if let Err(err) = agent::frontend::terminal::open_with(&cli.open_with, &url) {
                    eprintln!(
                        "Could not start {} ({err}); open the address yourself.",
                        cli.open_with
                    );
                }
            }
            page.serve(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .context("the status page stopped")
        }
        Commands::Status { file } => {
            let page = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let key = invitation_file::key_for(api.token());
            let saved = invitation_file::parse(&page, Some(&key))
                .with_context(|| format!("{}", file.display()))?;
            if saved.server.trim_end_matches('/') != api.base() {
                anyhow::bail!(
                    "this invitation is on the server {}; run again with --server {}",
                    saved.server,
                    saved.server
                );
            }
            let all = api.invitations().await?;
            let Some(inv) = all.iter().find(|inv| inv.id == saved.id) else {
                anyhow::bail!(
                    "invitation {} is not one of yours on {}",
                    saved.id,
                    api.base()
                );
            };
            print_summary(inv);
            Ok(())
        }
        Commands::Revoke { id } => {
            let inv = api.revoke(id).await?;
            println!("Invitation {} is now {}.", inv.id, inv.status.as_str());
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{invite_password, parse_duration, Cli, Commands};
    use clap::Parser;
    use std::time::Duration;

    #[test]
    fn an_enrolment_token_starting_with_a_hyphen_is_taken_as_the_token() {
        let cli = Cli::try_parse_from(["agent", "enroll", "--token", "-iX_4"]).expect("parses");
        match cli.command {
            Some(Commands::Enroll { token }) => assert_eq!(token, "-iX_4"),
            other => panic!("expected enroll, got {other:?}"),
        }
    }

    #[test]
    fn a_password_on_the_command_line_is_refused_with_the_ways_to_give_it() {
        let cli = Cli::try_parse_from(["agent", "invite", "--password", "tulip-42"])
            .expect("parses, to explain");
        let Some(Commands::Invite { password, .. }) = cli.command else {
            panic!("expected invite");
        };
        let err = invite_password(password, None, None).expect_err("refused");
        let message = err.to_string();
        assert!(
            message.contains("--password-file") && message.contains(super::PASSWORD_ENV),
            "{message}"
        );
        assert!(!message.contains("tulip-42"), "{message}");
    }

    #[test]
    fn a_password_comes_from_its_file_or_the_environment() {
        let file = std::env::temp_dir().join(format!("assist-password-{}", std::process::id()));
        std::fs::write(&file, "tulip-42\nignored\n").expect("write");
        assert_eq!(
            invite_password(None, Some(&file), Some("other".into())).expect("read"),
            Some("tulip-42".into())
        );
        std::fs::write(&file, "\n").expect("write");
        assert!(invite_password(None, Some(&file), None).is_err(), "empty");
        let _ = std::fs::remove_file(&file);
        assert_eq!(
            invite_password(None, None, Some("from-env".into())).expect("env"),
            Some("from-env".into())
        );
        assert_eq!(invite_password(None, None, None).expect("none"), None);
        let cli = Cli::try_parse_from(["agent", "invite", "--password", "--copy"]).expect("parses");
        assert!(matches!(
            cli.command,
            Some(Commands::Invite {
                password: Some(None),
                copy: true,
                ..
            })
        ));
    }

    #[test]
    fn the_window_takes_an_invitation_file_as_the_desktop_passes_it() {
        let cli = Cli::try_parse_from(["agent", "--name", "Nora", "window"]).expect("parses");
        assert!(matches!(
            cli.command,
            Some(Commands::Window {
                file: None,
                invite: false
            })
        ));
        let cli =
            Cli::try_parse_from(["agent", "window", "/tmp/eve.invitation.html"]).expect("parses");
        assert!(matches!(
            cli.command,
            Some(Commands::Window { file: Some(f), .. }) if f == std::path::Path::new("/tmp/eve.invitation.html")
        ));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
        assert!(parse_duration("1w").is_err());
        assert!(parse_duration("h").is_err());
    }
}
