// The expert console: redeems the invitation, waits for the novice's consent, shows the live
// desktop and carries the chat. The page (web/templates/console.html) is rendered by the server
// with the invitation's state; this script takes over once the expert presses Connect.
//
// The page's progress is mirrored in `document.body.dataset.state` so that people (through CSS)
// and tests can see it: open → redeeming → waiting → connecting → live → ended, or declined /
// refused / failed.
//
// The server admits this page once per ticket and gives it a resume secret, kept here in memory
// only. If the signaling connection drops, the page reconnects with that secret for up to
// RECONNECT_FOR and goes on where it was; a reloaded page has no secret, and the novice is asked
// again.

import { ExpertPeer } from "/static/js/peer.js";
import { RemoteControl } from "/static/js/control.js";
import { clean } from "/static/js/text.js";

const $ = (id) => document.getElementById(id);

/** How often the quality line is refreshed, in ms. */
const STATS_EVERY = 1000;
/** How often the signaling connection is kept alive, in ms. */
const PING_EVERY = 20000;
/** How long a dropped signaling connection is retried, in ms (the server waits 15 s). */
const RECONNECT_FOR = 12000;
/** Pause between reconnection attempts, in ms. */
const RECONNECT_EVERY = 1000;
/** Frames kept for the server while the connection is down. */
const OUTBOX_LIMIT = 256;

const page = {
  state: document.body.dataset.state,
  expertName: "",
  ws: null,
  peer: null,
  control: null,
  timers: [],
  ended: false,
  /** Proof to the server that a reconnection comes from this page. */
  resume: null,
  /** When the signaling connection dropped, while reconnecting. */
  lostAt: null,
  outbox: [],
  // STUN and TURN servers from the consent frame, once the novice has accepted.
  iceServers: null,
};

/** Sends to the server, or keeps the frame until the connection is back. */
function sendToServer(msg) {
  if (page.ws?.readyState === WebSocket.OPEN) {
    page.ws.send(JSON.stringify(msg));
  } else if (page.outbox.length < OUTBOX_LIMIT && msg.type !== "ping") {
    page.outbox.push(msg);
  }
}

function setState(state, message) {
  page.state = state;
  document.body.dataset.state = state;
  if (message !== undefined) $("status").textContent = clean(message);
}

function setHeadline(headline, explanation) {
  $("headline").textContent = clean(headline);
  $("explanation").textContent = clean(explanation);
}

function inviteCode() {
  const parts = location.pathname.split("/");
  return decodeURIComponent(parts[parts.length - 1] ?? "");
}

// ---- joining ---------------------------------------------------------------------------------

async function join(event) {
  event.preventDefault();
  const form = $("join");
  const name = $("expert-name").value.trim();
  if (!name) {
    setState("open", "Please enter your name.");
    return;
  }
  page.expertName = name;
  const password = $("password")?.value ?? null;
  $("connect").disabled = true;
  setState("redeeming", "Checking the invitation…");

  let response;
  let body;
  try {
    response = await fetch("/api/redeem", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ code: inviteCode(), password: password || null, expert_name: name }),
    });
    body = await response.json().catch(() => ({}));
  } catch (err) {
    $("connect").disabled = false;
    setState("open", `Cannot reach the server: ${err.message}. Check your connection and try again.`);
    return;
  }

  if (!response.ok) {
    const message = body.message ?? `The server refused the invitation (${response.status}).`;
    $("connect").disabled = false;
    if (body.error === "wrong_password" || body.error === "password_required") {
      setState("open", message);
      $("password")?.select();
    } else {
      // Expired, revoked, locked, in use, unknown: nothing the expert can retry here.
      form.hidden = true;
      setState("refused", message);
      setHeadline("Cannot connect", message);
    }
    return;
  }

  form.hidden = true;
  setState("waiting", `Waiting for ${body.novice_name} to allow the connection…`);
  connect(body);
}

function joinOffered(json) {
  let offered;
  try {
    offered = JSON.parse(json);
  } catch {
    setState("failed", "This page is damaged. Go back to the dashboard and offer help again.");
    return;
  }
  page.expertName = offered.expert_name;
  setState("waiting", `Waiting for ${offered.novice_name} to allow the connection…`);
  connect(offered);
}

// ---- signaling ---------------------------------------------------------------------------------

function connect(redeemed) {
  openSignaling(redeemed);
  page.timers.push(setInterval(() => sendToServer({ type: "ping" }), PING_EVERY));
}

function openSignaling(redeemed) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${scheme}//${location.host}/ws/expert`);
  page.ws = ws;
  const send = sendToServer;

  ws.onopen = () => {
    const hello = { type: "hello", ticket: redeemed.ticket };
    if (page.resume) hello.resume = page.resume;
    ws.send(JSON.stringify(hello));
  };
  ws.onmessage = (e) => {
    let msg;
    try {
      msg = JSON.parse(e.data);
    } catch {
      console.warn("ignoring a malformed message from the server");
      return;
    }
    onServerMessage(msg, redeemed, send);
  };
  ws.onclose = () => {
    if (page.ended || page.ws !== ws) return;
    page.lostAt ??= Date.now();
    if (page.resume && Date.now() - page.lostAt < RECONNECT_FOR) {
      setState(page.state, "Lost the connection to the server; reconnecting…");
      setTimeout(() => {
        if (!page.ended) openSignaling(redeemed);
      }, RECONNECT_EVERY);
      return;
    }
    finish("failed", "Lost the connection to the server. Open the invitation link again to reconnect.");
  };
}

function onServerMessage(msg, redeemed, send) {
  switch (msg.type) {
    case "consent":
      if (msg.resume) page.resume = msg.resume;
      if (page.lostAt !== null) {
        page.lostAt = null;
        page.outbox.splice(0).forEach(sendToServer);
      }
      if (msg.state === "waiting") {
        setState("waiting", `Waiting for ${msg.novice_name} to allow the connection…`);
      } else if (msg.state === "accepted") {
        // The session's TURN credential comes with the novice's yes, never before.
        if (msg.ice_servers) page.iceServers = msg.ice_servers;
        // Back after a dropped signaling connection: the picture went on meanwhile.
        if (page.peer) break;
        setState("connecting", `${msg.novice_name} allowed the connection. Connecting…`);
        startPeer(redeemed, send);
      }
      break;
    case "signal":
      if (!page.peer) startPeer(redeemed, send);
      page.peer.handleSignal(msg.signal).catch((err) => {
        console.warn(`could not apply a signal: ${err.message}`);
      });
      break;
    case "session_ended": {
      const state = msg.reason === "declined" || msg.reason === "consent_timeout" ? "declined" : "ended";
      finish(state, msg.message);
      break;
    }
    case "error":
      console.warn(`server error ${msg.code}: ${msg.message}`);
      if (["bad_ticket", "ticket_expired", "hello_expected", "ticket_used"].includes(msg.code)) {
        finish("failed", `${msg.message} Open the invitation link again to reconnect.`);
      }
      break;
    case "pong":
      break;
    default:
      console.warn(`ignoring an unknown message from the server: ${msg.type}`);
  }
}

// ---- the live session --------------------------------------------------------------------------

function startPeer(redeemed, sendToServer) {
  if (page.peer || page.ended) return;
  const peer = new ExpertPeer({
    iceServers: page.iceServers ?? redeemed.ice_servers ?? [],
    sendSignal: (signal) => sendToServer({ type: "signal", signal }),
    video: $("video"),
  });
  page.peer = peer;
  peer.addEventListener("track", () => {
    $("session").hidden = false;
    setState("live", `Connected to ${redeemed.novice_name}.`);
  });
  peer.addEventListener("open", () => {
    $("chat-input").disabled = false;
    $("control").disabled = false;
  });
  peer.addEventListener("message", (e) => onDataMessage(e.detail));
  peer.addEventListener("closed", (e) => {
    if (!page.ended) finish("ended", `The connection ended (${e.detail.reason}).`);
  });
  page.timers.push(setInterval(showQuality, STATS_EVERY));
}

function onDataMessage(msg) {
  switch (msg?.type) {
    case "chat":
      addChatLine(msg.from, msg.text, "them");
      break;
    case "bye":
      finish("ended", "The person you are helping ended the session.");
      break;
    case "control":
      page.control?.update(msg);
      break;
    default:
      console.warn(`ignoring an unknown data message: ${msg?.type}`);
  }
}

async function showQuality() {
  if (!page.peer || page.ended) return;
  const s = await page.peer.stats().catch(() => null);
  if (!s) return;
  const parts = [];
  if (s.frameWidth) parts.push(`${s.frameWidth}×${s.frameHeight}`);
  parts.push(`${Math.round(s.framesPerSecond ?? 0)} fps`);
  parts.push(`${(s.bitrate / 1e6).toFixed(2)} Mbit/s`);
  if (s.roundTripTime !== null) parts.push(`RTT ${Math.round(s.roundTripTime * 1000)} ms`);
  // Whether media goes straight between the two machines or through the TURN relay.
  const lost = ["disconnected", "failed"].includes(page.peer.connectionState);
  const path = lost ? "reconnecting" : s.candidateTypes ? (s.relayed ? "relayed" : "direct") : "";
  if (path) parts.push(path);
  $("quality").textContent = parts.join(" · ");
  $("quality").dataset.framesDecoded = String(s.framesDecoded);
  $("quality").dataset.path = path;
  $("quality").dataset.candidateTypes = s.candidateTypes ?? "";
  $("quality").dataset.relayProtocol = s.relayProtocol ?? "";
}

function addChatLine(from, text, who) {
  const item = document.createElement("li");
  item.className = who;
  const name = document.createElement("strong");
  name.textContent = `${clean(from)}: `;
  item.append(name, document.createTextNode(clean(text)));
  $("chat-log").append(item);
  item.scrollIntoView({ block: "end" });
}

function sendChat(event) {
  event.preventDefault();
  const input = $("chat-input");
  const text = input.value.trim();
  if (!text || !page.peer) return;
  try {
    page.peer.send({ type: "chat", from: page.expertName, text });
  } catch (err) {
    setState(page.state, `Message not sent: ${err.message}`);
    return;
  }
  addChatLine(page.expertName, text, "me");
  input.value = "";
}

function endByExpert() {
  if (page.ended) return;
  try {
    page.peer?.send({ type: "bye" });
  } catch {
    // The channel is already gone; the hang-up below still tells the agent.
  }
  if (page.ws?.readyState === WebSocket.OPEN) page.ws.send(JSON.stringify({ type: "hang_up" }));
  finish("ended", "You ended the session.");
}

/** Ends the session on this page: stops the video, closes the connections, says why. */
function finish(state, message) {
  if (page.ended) return;
  page.ended = true;
  page.timers.forEach(clearInterval);
  page.peer?.close();
  const video = $("video");
  video.srcObject?.getTracks().forEach((t) => t.stop());
  video.srcObject = null;
  $("chat-input").disabled = true;
  $("end").disabled = true;
  page.control?.reset();
  $("quality").textContent = "";
  if (page.ws && page.ws.readyState <= WebSocket.OPEN) page.ws.close();
  setState(state, message);
  // The desktop is gone; the chat stays readable if there was one.
  $("session").hidden = $("chat-log").children.length === 0;
}

// ---- view modes --------------------------------------------------------------------------------

function setViewMode(mode) {
  $("screen").className = mode;
  $("fit").setAttribute("aria-pressed", String(mode === "fit"));
  $("actual").setAttribute("aria-pressed", String(mode === "actual"));
}

function init() {
  $("join")?.addEventListener("submit", join);
  $("chat-form").addEventListener("submit", sendChat);
  $("chat-input").disabled = true;
  $("end").addEventListener("click", endByExpert);
  page.control = new RemoteControl({
    screen: $("screen"),
    video: $("video"),
    button: $("control"),
    label: $("control-state"),
    send: (message) => {
      if (!page.peer) throw new Error("not connected yet");
      page.peer.send(message);
    },
  });
  // Usable once the data channel to the agent is open.
  $("control").disabled = true;
  $("fit").addEventListener("click", () => setViewMode("fit"));
  $("actual").addEventListener("click", () => setViewMode("actual"));
  // Help offered from the support desk: the server already admitted this page to a session.
  if (document.body.dataset.offer) joinOffered(document.body.dataset.offer);
  window.addEventListener("pagehide", () => {
    if (!page.ended && page.ws?.readyState === WebSocket.OPEN) {
      page.ws.send(JSON.stringify({ type: "hang_up" }));
    }
  });
}

init();
