//! `signaling-server`: runs the server with configuration from flags and environment.

use anyhow::Context;
use clap::Parser;
use signaling_server::clock::Clock;
use signaling_server::config::{AdminCommand, Cli, Command, ServerConfig};
use signaling_server::state::AppState;
use signaling_server::store::Store;
use signaling_server::turn;
use signaling_server::turn::live::LiveSessions;
use signaling_server::turn::service::EmbeddedTurn;
use tracing_subscriber::EnvFilter;

mod admin;
mod audit_cli;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Logs go to standard error: standard output carries what commands print (the listening
    // address, `audit verify`'s verdict, an audit export).
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        None => serve(cli.server).await,
        Some(Command::Admin {
            command: AdminCommand::Create { org, login, name },
        }) => {
            let store = open_store(&cli.server).await?;
            let password = admin::read_new_password()?;
            let created = signaling_server::accounts::create_admin(
                &store,
                &org,
                &login,
                name.as_deref().unwrap_or(&login),
                &password,
                Clock::default().now(),
            )
            .await;
            store.close().await;
            let created = created?;
            println!(
                "Administrator {} of {} created. Sign in at /desk on the server.",
                created.login, created.org_name
            );
            Ok(())
        }
        Some(Command::Audit { command }) => {
            let store = open_store(&cli.server).await?;
            let done = audit_cli::run(&store, command).await;
            store.close().await;
            done
        }
    }
}

async fn open_store(config: &ServerConfig) -> anyhow::Result<Store> {
    Ok(match &config.database_url {
        Some(url) => Store::connect(url)
            .await
            .with_context(|| "cannot open the database given by DATABASE_URL")?,
        None => Store::open_sqlite_dir(&config.data_dir)
            .await
            .with_context(|| {
                format!(
                    "cannot open the SQLite database in {}",
                    config.data_dir.display()
                )
            })?,
    })
}

async fn serve(mut config: ServerConfig) -> anyhow::Result<()> {
    signaling_server::limits::raise_open_files(config.reserved_files);
    let store = open_store(&config).await?;
    let clock = Clock::default();
    let freed = store.release_stale_sessions(clock.now()).await?;
    if freed > 0 {
        tracing::info!(
            freed,
            "released invitations held by sessions of a previous run"
        );
    }

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let local = listener.local_addr()?;
    let public_url = match &config.public_url {
        Some(url) => url.clone(),
        None => format!("http://{local}").parse()?,
    };
    // Runs until the end of `main`; its URLs go to every session.
    let turn_sessions = LiveSessions::default();
    let embedded = match turn::service_config(&config)? {
        Some(service) => {
            let secret = turn::shared_secret(&config, &store).await?;
            // The lifetime chosen for the embedded service, kept once its URLs are set below.
            config.turn_credential_ttl = Some(config.credential_ttl());
            let embedded = EmbeddedTurn::start(&service, secret, clock.clone(), turn_sessions.clone())
                .await
                .context("cannot start the embedded STUN/TURN service (see --turn-udp-port, --turn-tcp-port, --turn-tls-port, --no-embedded-turn)")?;
            config.turn_urls = embedded.urls();
            config.stun_urls.push(embedded.stun_url());
            Some(embedded)
        }
        None => None,
    };
    if let Some(addr) = config.metrics_listen {
        let metrics = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr} (--metrics-listen)"))?;
        let turn = embedded.as_ref().map(EmbeddedTurn::metrics);
        tracing::info!(%addr, "metrics listening");
        tokio::spawn(async move {
            if let Err(e) = axum::serve(metrics, signaling_server::metrics::router(turn)).await {
                tracing::error!("metrics listener failed: {e}");
            }
        });
    }
    let state = AppState::new(&config, store.clone(), &public_url, clock, turn_sessions).await?;
    tracing::info!(%local, %public_url, "signaling server listening");
    println!("Signaling server listening on {public_url}");

    signaling_server::serve(listener, state, shutdown_signal()).await?;
    store.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
