//! The JSON-command-over-WebSocket client both browser protocols are: Chromium's DevTools and
//! Firefox's WebDriver BiDi send `{id, method, params}` commands and answer each with a frame
//! carrying the same `id`, in between events of their own.
//!
//! [`Rpc`] runs a writer task and a reader task on the socket. The reader hands each answer to
//! the command waiting for its `id` and keeps console lines per tab; every command waits a
//! bounded time. What differs between the protocols is a [`Protocol`]: how a frame is told
//! apart (reply, error or event), and what a failed command's error says.

use anyhow::{anyhow, bail, Context, Result};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::{lock, COMMAND_TIMEOUT};

/// What tells one browser protocol from the other.
pub(super) trait Protocol: 'static {
    /// The browser, as error messages name it: `chromium`, `firefox`.
    const BROWSER: &'static str;
    /// The protocol, as error messages name it: `DevTools`, `WebDriver BiDi`.
    const NAME: &'static str;
    /// What the browser answers a command it could not carry out.
    type Error: Send + 'static;

    /// What a frame from the browser is.
    fn classify(frame: Value) -> Incoming<Self::Error>;

    /// The error command `method` fails with when the browser answers `error`.
    fn failure(method: &str, error: Self::Error) -> anyhow::Error;
}

/// One frame from the browser, as the [`Protocol`] reads it.
pub(super) enum Incoming<E> {
    /// The answer to the command `id`: its result, or the browser's error.
    Reply {
        id: u64,
        reply: std::result::Result<Value, E>,
    },
    /// A console line or an uncaught exception of the tab `tab` (a DevTools session, a BiDi
    /// browsing context).
    Console { tab: String, line: String },
    /// Anything else.
    Ignored,
}

type Waiters<E> = Arc<Mutex<HashMap<u64, oneshot::Sender<std::result::Result<Value, E>>>>>;

/// The WebSocket to one browser: commands are matched to replies by id; console lines are kept
/// per tab. Clones share the connection.
pub(super) struct Rpc<P: Protocol> {
    next_id: Arc<AtomicU64>,
    out: mpsc::UnboundedSender<Message>,
    pending: Waiters<P::Error>,
    console: Arc<Mutex<HashMap<String, Vec<String>>>>,
    tasks: Arc<Vec<JoinHandle<()>>>,
    protocol: PhantomData<fn() -> P>,
}

impl<P: Protocol> Clone for Rpc<P> {
    fn clone(&self) -> Self {
        Rpc {
            next_id: Arc::clone(&self.next_id),
            out: self.out.clone(),
            pending: Arc::clone(&self.pending),
            console: Arc::clone(&self.console),
            tasks: Arc::clone(&self.tasks),
            protocol: PhantomData,
        }
    }
}

impl<P: Protocol> Rpc<P> {
    /// Connects to the WebSocket address the browser printed.
    pub(super) async fn connect(url: &str) -> Result<Self> {
        let (socket, _) =
            tokio::time::timeout(COMMAND_TIMEOUT, tokio_tungstenite::connect_async(url))
                .await
                .map_err(|_| {
                    anyhow!(
                        "connecting to {}'s {} at {url} timed out",
                        P::BROWSER,
                        P::NAME
                    )
                })?
                .with_context(|| format!("connecting to {}'s {} at {url}", P::BROWSER, P::NAME))?;
        Ok(Self::start(socket))
    }

    /// Runs the reader and writer of a connected WebSocket.
    pub(super) fn start<S>(socket: WebSocketStream<S>) -> Self
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let (mut sink, mut stream) = socket.split();
        let (out, mut out_rx) = mpsc::unbounded_channel::<Message>();
        let pending: Waiters<P::Error> = Arc::default();
        let console: Arc<Mutex<HashMap<String, Vec<String>>>> = Arc::default();

        let writer = tokio::spawn(async move {
            while let Some(message) = out_rx.recv().await {
                if sink.send(message).await.is_err() {
                    break;
                }
            }
        });
        let reader = {
            let pending = Arc::clone(&pending);
            let console = Arc::clone(&console);
            tokio::spawn(async move {
                while let Some(Ok(message)) = stream.next().await {
                    let Message::Text(text) = message else {
                        continue;
                    };
                    let Ok(frame) = serde_json::from_str::<Value>(&text) else {
                        continue;
                    };
                    match P::classify(frame) {
                        Incoming::Reply { id, reply } => {
                            let waiter = lock(&pending).remove(&id);
                            if let Some(waiter) = waiter {
                                let _ = waiter.send(reply);
                            }
                        }
                        Incoming::Console { tab, line } => {
                            lock(&console).entry(tab).or_default().push(line);
                        }
                        Incoming::Ignored => {}
                    }
                }
                // The browser is gone: fail every command still waiting.
                lock(&pending).clear();
            })
        };
        Rpc {
            next_id: Arc::new(AtomicU64::new(1)),
            out,
            pending,
            console,
            tasks: Arc::new(vec![writer, reader]),
            protocol: PhantomData,
        }
    }

    /// Sends command `method` and waits for its result. `session` is the DevTools session the
    /// command is for (sent as `sessionId`); BiDi commands name their target in `params`.
    pub(super) async fn call(
        &self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value> {
        self.call_within(session, method, params, COMMAND_TIMEOUT)
            .await
    }

    /// [`Rpc::call`] with a custom limit.
    pub(super) async fn call_within(
        &self,
        session: Option<&str>,
        method: &str,
        params: Value,
        limit: Duration,
    ) -> Result<Value> {
        let (browser, protocol) = (P::BROWSER, P::NAME);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut frame = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            frame["sessionId"] = json!(session);
        }
        let (tx, rx) = oneshot::channel();
        lock(&self.pending).insert(id, tx);
        if self
            .out
            .send(Message::Text(frame.to_string().into()))
            .is_err()
        {
            lock(&self.pending).remove(&id);
            bail!("{method}: the {protocol} connection to {browser} is closed");
        }
        match tokio::time::timeout(limit, rx).await {
            Err(_) => {
                lock(&self.pending).remove(&id);
                bail!("{method}: {browser} did not answer within {limit:?}")
            }
            Ok(Err(_)) => bail!("{method}: {browser} closed the {protocol} connection"),
            Ok(Ok(Err(error))) => Err(P::failure(method, error)),
            Ok(Ok(Ok(result))) => Ok(result),
        }
    }

    /// The console lines of tab `tab` so far.
    pub(super) fn console(&self, tab: &str) -> Vec<String> {
        lock(&self.console).get(tab).cloned().unwrap_or_default()
    }

    pub(super) fn shutdown(&self) {
        for task in self.tasks.iter() {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The simplest frames: answers `{id, result}` or `{id, error: text}`, console lines
    /// `{tab, line}`.
    struct Test;

    impl Protocol for Test {
        const BROWSER: &'static str = "browser";
        const NAME: &'static str = "Test";
        type Error = String;

        fn classify(mut frame: Value) -> Incoming<String> {
            match (frame["id"].as_u64(), frame["error"].as_str()) {
                (Some(id), Some(error)) => Incoming::Reply {
                    id,
                    reply: Err(error.to_owned()),
                },
                (Some(id), None) => Incoming::Reply {
                    id,
                    reply: Ok(frame["result"].take()),
                },
                (None, _) => match (frame["tab"].as_str(), frame["line"].as_str()) {
                    (Some(tab), Some(line)) => Incoming::Console {
                        tab: tab.to_owned(),
                        line: line.to_owned(),
                    },
                    _ => Incoming::Ignored,
                },
            }
        }

        fn failure(method: &str, error: String) -> anyhow::Error {
            anyhow!("{method} failed: {error}")
        }
    }

    /// A browser at the other end of an in-memory WebSocket, answering as the test says.
    async fn connected() -> Result<(Rpc<Test>, WebSocketStream<tokio::io::DuplexStream>)> {
        let (near, far) = tokio::io::duplex(64 * 1024);
        let (client, server) = tokio::join!(
            tokio_tungstenite::client_async("ws://browser/", near),
            tokio_tungstenite::accept_async(far)
        );
        Ok((Rpc::start(client?.0), server?))
    }

    async fn next_command(browser: &mut WebSocketStream<tokio::io::DuplexStream>) -> Value {
        let Some(Ok(Message::Text(text))) = browser.next().await else {
            panic!("the client sent no command");
        };
        serde_json::from_str(&text).expect("a JSON command")
    }

    #[tokio::test]
    async fn replies_reach_their_commands_whatever_their_order() -> Result<()> {
        let (rpc, mut browser) = connected().await?;
        let (first, second) = (rpc.clone(), rpc.clone());
        let calls = tokio::spawn(async move {
            tokio::join!(
                first.call(None, "first", json!({ "n": 1 })),
                second.call(Some("s1"), "second", json!({}))
            )
        });
        let (a, b) = (
            next_command(&mut browser).await,
            next_command(&mut browser).await,
        );
        let [first_cmd, second_cmd] = if a["method"] == "first" {
            [a, b]
        } else {
            [b, a]
        };
        assert_eq!(first_cmd["params"], json!({ "n": 1 }));
        assert_eq!(first_cmd.get("sessionId"), None);
        assert_eq!(second_cmd["sessionId"], "s1");
        // An event in between, then the answers the other way round.
        for frame in [
            json!({ "tab": "s1", "line": "console.log: hi" }),
            json!({ "id": second_cmd["id"], "error": "no such thing" }),
            json!({ "id": first_cmd["id"], "result": { "value": 2 } }),
        ] {
            browser
                .send(Message::Text(frame.to_string().into()))
                .await?;
        }
        let (first, second) = calls.await?;
        assert_eq!(first?, json!({ "value": 2 }));
        assert_eq!(
            second.expect_err("an error answer").to_string(),
            "second failed: no such thing"
        );
        assert_eq!(rpc.console("s1"), ["console.log: hi"]);
        assert!(rpc.console("s2").is_empty());
        rpc.shutdown();
        Ok(())
    }

    #[tokio::test]
    async fn a_command_fails_when_the_browser_is_silent_or_gone() -> Result<()> {
        let (rpc, mut browser) = connected().await?;
        let silent = rpc
            .call_within(None, "slow", json!({}), Duration::from_millis(100))
            .await
            .expect_err("no answer");
        assert_eq!(
            silent.to_string(),
            "slow: browser did not answer within 100ms"
        );
        next_command(&mut browser).await;
        let waiting = tokio::spawn({
            let rpc = rpc.clone();
            async move { rpc.call(None, "pending", json!({})).await }
        });
        next_command(&mut browser).await;
        drop(browser);
        let gone = waiting.await?.expect_err("the browser went away");
        assert_eq!(
            gone.to_string(),
            "pending: browser closed the Test connection"
        );
        rpc.shutdown();
        // The writer ends once the runtime gets to the abort.
        for _ in 0..100 {
            if rpc.out.is_closed() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let closed = rpc
            .call(None, "after", json!({}))
            .await
            .expect_err("nothing to send on");
        assert_eq!(
            closed.to_string(),
            "after: the Test connection to browser is closed"
        );
        Ok(())
    }
}
