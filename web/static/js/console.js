// The expert console: redeems the invitation, waits for the novice's consent, shows the live
// desktop and carries the chat. The page (web/templates/console.html) is rendered by the server
// with the invitation's state; this script takes over once the expert presses Connect.
//
// The page's progress is mirrored in `document.body.dataset.state` so that people (through CSS)
// and tests can see it: open → redeeming → waiting → connecting → live → ended, or declined /
// refused / failed, or unsupported when this browser cannot show the picture at all. Before
// anything is asked of the novice the page checks that it can: WebRTC, and a video codec the
// agent sends (`document.body.dataset.browser`: supported, no-webrtc or no-codec).
//
// While live, a picture that stops changing for longer than the agent ever leaves a working
// link quiet is marked paused (`#frozen`, `document.body.dataset.frozen`), and the quality line
// (`#quality`) rates the link good, fair or poor from its round-trip time and packet loss.
//
// The server admits this page once per ticket and gives it a resume secret, kept here in memory
// only. If the signaling connection drops, the page reconnects with that secret for up to
// RECONNECT_FOR and goes on where it was; a reloaded page has no secret, and the novice is asked
// again.
//
// The password is checked by the novice's agent, never by the server (docs/pake.md): the link
// carries the invitation's secret after its '#', which browsers never send to a server (or the
// expert types it, from the short code), and once the data channel opens this page proves to
// the agent with SPAKE2 that it holds the secret and the password, bound to the session and to
// the DTLS certificates of this very connection; the agent proves the same in return. Only
// then does the page show the picture (`document.body.dataset.verified`: "yes"), and a check
// that fails ends the session: the password was wrong, or someone is intercepting the
// connection (state "refused", `dataset.refusal` "wrong_password" or "intercepted").

import { ExpertPeer } from "/static/js/peer.js";
import { fromScreen, RemoteControl } from "/static/js/control.js";
import { NovicePointer } from "/static/js/pointer.js";
import { clean } from "/static/js/text.js";
import { formatNumber, said, t } from "/static/js/i18n.js";
import {
  exchangePassword,
  fromHex,
  parseSecret,
  splitShortCode,
  toHex,
} from "/static/js/invitation.js";
import { PasswordScalar, Role, sessionAad, Spake2 } from "/static/js/pake.js";

const $ = (id) => document.getElementById(id);

// ---- what the page says -----------------------------------------------------------------------
// Every sentence comes from the page's messages (i18n.js) in the page's language, by id. Codes
// that tests and CSS read (states, `data-*` values) stay the same in every language.

/** What the server's refusal of a redemption (`error` of its JSON) says. */
const REFUSALS = {
  expired: "console-refused-expired",
  revoked: "console-refused-revoked",
  locked: "console-refused-locked",
  in_use: "console-refused-in-use",
  unknown_invitation: "console-refused-unknown",
  rate_limited: "console-refused-rate-limited",
  bad_request: "console-refused-bad-name",
};

/** Why the server ended the session (protocol::signal::EndReason). */
const END_REASONS = {
  novice_hung_up: "console-ended-novice-hung-up",
  expert_hung_up: "console-ended-expert-hung-up",
  declined: "console-ended-declined",
  consent_timeout: "console-ended-consent-timeout",
  peer_gone: "console-ended-peer-gone",
  revoked: "console-ended-revoked",
  server_shutdown: "console-ended-server-shutdown",
  not_recorded: "console-ended-not-recorded",
  video_unsupported: "console-ended-video-unsupported",
  password_mismatch: "console-ended-password-mismatch",
  invitation_closed: "console-ended-invitation-closed",
};

/** The server's errors that end the page: the ticket is of no use any more. */
const TICKET_ERRORS = {
  bad_ticket: "console-error-bad-ticket",
  ticket_expired: "console-error-ticket-expired",
  hello_expected: "console-error-hello-expected",
  ticket_used: "console-error-ticket-used",
};

/** How the browser saw the connection to the agent close (peer.js's `code`). */
const CLOSINGS = {
  closed: "console-ended-connection-closed",
  failed: "console-ended-connection-failed",
  disconnected: "console-ended-connection-disconnected",
  "channel-closed": "console-ended-channel-closed",
  "track-ended": "console-ended-track-ended",
};

/** The link's rating in the quality line. */
const LINK_RATINGS = {
  good: "console-quality-good",
  fair: "console-quality-fair",
  poor: "console-quality-poor",
};

/** How media travels, in the quality line. */
const PATHS = {
  direct: "console-quality-direct",
  relayed: "console-quality-relayed",
  reconnecting: "console-quality-reconnecting",
};

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
/**
 * No new frame for longer than this while live, in ms, and the picture is shown as paused. The
 * agent sends a still screen again every second (STILL_REFRESH in agent/src/media/pipeline.rs),
 * a little later when its machine is busy: one second would flag every still screen, and a busy
 * novice's machine (the usual reason to ask for help) needs some room beyond it.
 */
const FROZEN_AFTER = 2000;
/** How often the page looks for new frames, in ms. */
const FROZEN_CHECK_EVERY = 250;
/** Where the time of the last Retry is kept, across the reload it causes. */
const RETRIED_AT = "assist-retried-at";
/** How long after a Retry "in use" is taken for the last try still ending, in ms. */
const RETRY_SETTLES_IN = 10000;
/** How soon the page looks again meanwhile, in ms. */
const RETRY_LOOK_AGAIN = 500;
/** How long the note that input was not passed on stays, in ms. */
const INPUT_REFUSED_SHOWN = 4000;
/**
 * After the connection to the agent closed, how long to wait for the server or the agent to say
 * why (they usually do at once) before showing what the browser saw, in ms.
 */
const EXPLANATION_WAIT = 2000;
/** Link ratings: worse than `fair` is poor, worse than `good` is fair. RTT in s, loss 0..1. */
const LINK_LIMITS = {
  good: { roundTripTime: 0.15, lossRate: 0.01 },
  fair: { roundTripTime: 0.4, lossRate: 0.05 },
};

const page = {
  state: document.body.dataset.state,
  expertName: "",
  ws: null,
  peer: null,
  control: null,
  /** The novice's pointer over the picture. */
  pointer: null,
  timers: [],
  ended: false,
  /** Proof to the server that a reconnection comes from this page. */
  resume: null,
  /** When the signaling connection dropped, while reconnecting. */
  lostAt: null,
  outbox: [],
  // STUN and TURN servers from the consent frame, once the novice has accepted.
  iceServers: null,
  /** The timer that ends the page if nobody explains a closed connection in time. */
  explanationTimer: null,
  /** The invitation's secret, from the link's fragment or typed; never sent anywhere. */
  secret: null,
  /** What the password check needs once the invitation is redeemed; null when the server
   * admitted this page itself (help offered from the desk: no secret to prove). */
  check: null,
  /** The check's state: the exchange, then the confirmation awaited. */
  exchange: null,
  confirming: null,
  /** The check passed both ways (or there is none), and the video track arrived. */
  verified: false,
  agentAccepted: false,
  track: false,
  /** The novice paused sharing. */
  paused: false,
  inputRefusedTimer: null,
};

/** When the last new frame was seen, and whether the picture is shown as paused. */
const frames = { lastAt: 0, decoded: 0, frozen: false, looking: false };

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

/** The secret the link carries after its '#', if it carries one. */
function secretFromLink() {
  return parseSecret(decodeURIComponent(location.hash.slice(1)));
}

/** The short code page: the whole code stays here; only its lookup part goes to the server. */
function openCode(event) {
  event.preventDefault();
  const code = splitShortCode($("code").value);
  if (!code) {
    setState("code", t("console-code-invalid"));
    return;
  }
  location.assign(`/i/${encodeURIComponent(code.lookup)}#${code.secret}`);
}

// ---- can this browser show the picture? -------------------------------------------------------

/**
 * What keeps this browser from showing the live screen: null when nothing does, else
 * `no-webrtc` or `no-codec`. Checked before the invitation is redeemed, because redeeming asks
 * the novice, and a question answered for a browser that cannot show anything wastes their yes.
 */
function missingForLiveView() {
  if (typeof window.RTCPeerConnection !== "function") return "no-webrtc";
  // Without the capability query (older browsers) the answer to the agent's offer will tell.
  if (typeof window.RTCRtpReceiver?.getCapabilities !== "function") return null;
  let codecs;
  try {
    codecs = RTCRtpReceiver.getCapabilities("video")?.codecs ?? [];
  } catch {
    codecs = [];
  }
  return codecs.some(agentSends) ? null : "no-codec";
}

/** Whether `codec` (an RTCRtpCodecCapability) is one the agent can send: VP8, or H.264 as it
 * packetizes it (non-interleaved, packetization-mode=1; RFC 6184 §6.2). */
function agentSends(codec) {
  const type = String(codec?.mimeType ?? "").toLowerCase();
  if (type === "video/vp8") return true;
  const fmtp = String(codec?.sdpFmtpLine ?? "");
  return type === "video/h264" && fmtp.split(";").some((p) => p.trim() === "packetization-mode=1");
}

/** Runs the check, shows its outcome, and tells whether the page may go on. */
function checkBrowser() {
  const missing = missingForLiveView();
  document.body.dataset.browser = missing ?? "supported";
  if (!missing) return true;
  const message = t(missing === "no-webrtc" ? "console-no-webrtc" : "console-no-codec");
  const connect = $("connect");
  if (connect) connect.disabled = true;
  // Only where there was something to connect to; an expired invitation says so already.
  const novice = document.body.dataset.noviceName ?? "";
  if ($("join")) {
    setHeadline(t("console-unsupported-headline"), t("console-not-asked", { novice }));
    setState("unsupported", message);
  } else if (document.body.dataset.offer) {
    setHeadline(t("console-unsupported-headline"), t("console-offer-withdrawn", { novice }));
    setState("unsupported", message);
  }
  return false;
}

/**
 * Help offered from the desk, in a browser that cannot show it: the server asked the novice when
 * the offer was made, so withdraw the question rather than leave them answering for nothing.
 */
function withdrawOffer(json) {
  let offered;
  try {
    offered = JSON.parse(json);
  } catch {
    return;
  }
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${scheme}//${location.host}/ws/expert`);
  ws.onopen = () => {
    ws.send(JSON.stringify({ type: "hello", ticket: offered.ticket }));
    ws.send(JSON.stringify({ type: "hang_up" }));
    ws.close();
  };
}

// ---- joining ---------------------------------------------------------------------------------

async function join(event) {
  event.preventDefault();
  // The button is disabled then, but a form can be submitted in other ways.
  if (document.body.dataset.browser !== "supported") return;
  const form = $("join");
  const name = $("expert-name").value.trim();
  if (!name) {
    setState("open", t("console-name-needed"));
    return;
  }
  page.expertName = name;
  const secret = page.secret ?? parseSecret($("secret")?.value ?? "");
  if (!secret) {
    setState("open", t("console-secret-needed"));
    $("secret")?.focus();
    return;
  }
  const password = $("password")?.value ?? "";
  $("connect").disabled = true;
  setState("redeeming", t("console-checking-invitation"));

  let response;
  let body;
  try {
    // Neither the secret nor the password: those are for the agent alone.
    response = await fetch("/api/redeem", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ code: inviteCode(), expert_name: name }),
    });
    body = await response.json().catch(() => ({}));
  } catch (err) {
    $("connect").disabled = false;
    setState("open", t("console-server-unreachable", { why: err.message }));
    return;
  }

  if (!response.ok) {
    const message = said(
      REFUSALS,
      body.error,
      body.message ?? t("console-invitation-refused", { status: String(response.status) }),
    );
    $("connect").disabled = false;
    // Expired, revoked, locked, in use, unknown: nothing the expert can retry here. (The
    // password is not the server's to judge: the agent checks it after the novice's yes.)
    form.hidden = true;
    setState("refused", message);
    setHeadline(t("console-cannot-connect"), message);
    return;
  }

  form.hidden = true;
  page.check = {
    w: PasswordScalar.derive(String(body.invitation_id), exchangePassword(secret, password)),
    session: String(body.session_id),
  };
  setState("waiting", t("console-waiting-for", { novice: body.novice_name }));
  connect(body);
}

function joinOffered(json) {
  let offered;
  try {
    offered = JSON.parse(json);
  } catch {
    setState("failed", t("console-damaged-page"));
    return;
  }
  page.expertName = offered.expert_name;
  // The server admitted this operator itself, and the agent takes its word for a desk's
  // offer: there is no secret to prove.
  page.verified = true;
  page.agentAccepted = true;
  setState("waiting", t("console-waiting-for", { novice: offered.novice_name }));
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
      setState(page.state, t("console-reconnecting"));
      setTimeout(() => {
        if (!page.ended) openSignaling(redeemed);
      }, RECONNECT_EVERY);
      return;
    }
    finish("failed", t("console-server-lost"));
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
        setState("waiting", t("console-waiting-for", { novice: msg.novice_name }));
      } else if (msg.state === "accepted") {
        // The session's TURN credential comes with the novice's yes, never before.
        if (msg.ice_servers) page.iceServers = msg.ice_servers;
        // Back after a dropped signaling connection: the picture went on meanwhile.
        if (page.peer) break;
        setState(
          "connecting",
          t(page.check ? "console-checking" : "console-allowed", { novice: msg.novice_name }),
        );
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
      // The server's sentence says why, also for what the agent found out (e.g. that this
      // browser's answer has no codec it can send); it wins over what the browser saw.
      let state = "ended";
      if (msg.reason === "declined" || msg.reason === "consent_timeout") state = "declined";
      if (msg.reason === "video_unsupported") {
        state = "unsupported";
        document.body.dataset.browser = "no-codec";
      }
      const message = said(END_REASONS, msg.reason, msg.message);
      if (msg.reason === "password_mismatch") {
        // The agent's own word, with the tries left, travels on the data channel and may come
        // a moment after the server's: wait for it a little, then say what the server said.
        page.ws = null;
        clearTimeout(page.explanationTimer);
        page.explanationTimer = setTimeout(
          () => refuse("wrong_password", message),
          EXPLANATION_WAIT,
        );
        break;
      }
      if (msg.reason === "invitation_closed") state = "refused";
      finish(state, message);
      break;
    }
    case "error":
      console.warn(`server error ${msg.code}: ${msg.message}`);
      if (Object.hasOwn(TICKET_ERRORS, msg.code)) finish("failed", t(TICKET_ERRORS[msg.code]));
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
  page.noviceName = redeemed.novice_name;
  peer.addEventListener("track", () => {
    page.track = true;
    goLive();
  });
  peer.addEventListener("open", () => {
    if (page.check) startCheck();
    else goLive();
  });
  peer.addEventListener("message", (e) => onDataMessage(e.detail));
  peer.addEventListener("closed", (e) => {
    if (page.ended || page.explanationTimer !== null) return;
    // The agent's bye or the server's session_ended usually follows at once and says why the
    // session ended (the novice ended it, negotiation failed, ...); what the browser saw ("video
    // track ended") is only the fallback.
    page.explanationTimer = setTimeout(
      () => finish("ended", said(CLOSINGS, e.detail.code, t("console-ended-connection-closed"))),
      EXPLANATION_WAIT,
    );
  });
  page.timers.push(setInterval(showQuality, STATS_EVERY));
}

/** Shows the picture and opens chat and control, once the check passed and the video came. */
function goLive() {
  if (page.ended || !page.verified || !page.agentAccepted) return;
  if (page.peer?.channelOpen) {
    $("chat-input").disabled = false;
    $("control").disabled = false;
  }
  if (!page.track || page.state === "live") return;
  document.body.dataset.verified = "yes";
  $("session").hidden = false;
  setState("live", t("console-connected-to", { novice: page.noviceName }));
  watchFrames($("video"));
}

// ---- the password check with the agent (docs/pake.md) ----------------------------------------

/** The data channel opened: send this browser's share, bound to this connection. */
function startCheck() {
  if (page.exchange || page.ended) return;
  let aad;
  try {
    const { agent, expert } = page.peer.fingerprints();
    aad = sessionAad(page.check.session, agent, expert);
  } catch (err) {
    console.warn(`cannot bind the password check to this connection: ${err.message}`);
    refuse("intercepted", t("console-intercepted"));
    return;
  }
  const [exchange, share] = Spake2.start(Role.EXPERT, page.check.w, "agent", "expert", aad);
  page.exchange = exchange;
  page.peer.send({ type: "pake", share: toHex(share) });
}

/** One of the check's messages from the agent. */
function onCheckMessage(msg) {
  try {
    if (msg.type === "pake" && page.exchange && !page.confirming) {
      const share = fromHex(msg.share, 65);
      if (!share) throw new Error("the agent's share is malformed");
      const [confirming, confirmation] = page.exchange.finish(share);
      page.confirming = confirming;
      page.peer.send({ type: "pake_confirm", mac: toHex(confirmation) });
    } else if (msg.type === "pake_confirm" && page.confirming) {
      const mac = fromHex(msg.mac, 32);
      const confirming = page.confirming;
      page.confirming = null;
      page.exchange = null;
      if (!mac) throw new Error("the agent's confirmation is malformed");
      try {
        confirming.verify(mac);
      } catch {
        refuse("intercepted", t("console-intercepted"));
        return;
      }
      page.verified = true;
      goLive();
    } else if (msg.type === "pake_result") {
      if (msg.ok === true) {
        page.agentAccepted = true;
        goLive();
      } else {
        const triesLeft = Number.isInteger(msg.tries_left) ? msg.tries_left : null;
        refuse(
          "wrong_password",
          triesLeft === null
            ? t("console-wrong-password")
            : t("console-wrong-password-tries", { tries: triesLeft }),
        );
      }
    }
  } catch (err) {
    console.warn(`the password check broke: ${err.message}`);
    refuse("intercepted", t("console-check-broken"));
  }
}

/** The check failed: the session ends here, with nothing shown, and the expert may try again. */
function refuse(refusal, message) {
  if (page.ended) return;
  document.body.dataset.refusal = refusal;
  if (page.ws?.readyState === WebSocket.OPEN) page.ws.send(JSON.stringify({ type: "hang_up" }));
  finish("refused", message);
  $("retry-line").hidden = false;
}

function onDataMessage(msg) {
  if (["pake", "pake_confirm", "pake_result"].includes(msg?.type)) {
    onCheckMessage(msg);
    return;
  }
  // Nothing from the other end counts before it proved to be the novice's agent.
  if (!page.verified || !page.agentAccepted) return;
  switch (msg?.type) {
    case "chat":
      addChatLine(msg.from, msg.text, "them");
      break;
    case "bye":
      // A bye may say why; the sentence is the agent's, cleaned like all text from a peer.
      finish("ended", msg.message?.trim?.() ? msg.message : t("console-novice-ended"));
      break;
    case "control":
      page.control?.update(msg);
      break;
    case "screen":
      page.control?.screenSize(msg);
      page.pointer?.place();
      break;
    case "pointer_shape":
      page.pointer?.shape(msg);
      break;
    case "pointer":
      page.pointer?.move(msg);
      break;
    case "sharing":
      setPaused(msg.paused === true);
      break;
    case "input_refused":
      showInputRefused();
      break;
    default:
      console.warn(`ignoring an unknown data message: ${msg?.type}`);
  }
}

// ---- is the picture moving? ------------------------------------------------------------------

/**
 * Watches `video` for new frames: each presented frame where the browser reports them
 * (requestVideoFrameCallback), and the decoder's frame count otherwise. The count is also asked
 * when frame callbacks go quiet, since a hidden tab stops them while frames still arrive.
 */
function watchFrames(video) {
  frames.lastAt = performance.now();
  if (typeof video.requestVideoFrameCallback === "function") {
    const onFrame = () => {
      frames.lastAt = performance.now();
      if (!page.ended) video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  }
  page.timers.push(setInterval(lookForFrames, FROZEN_CHECK_EVERY));
}

async function lookForFrames() {
  if (page.ended || page.state !== "live" || !page.peer || frames.looking) return;
  if (performance.now() - frames.lastAt >= FROZEN_CHECK_EVERY) {
    frames.looking = true;
    const decoded = await page.peer.framesDecoded().catch(() => null);
    frames.looking = false;
    if (decoded !== null && decoded > frames.decoded) {
      frames.decoded = decoded;
      frames.lastAt = performance.now();
    }
  }
  if (page.ended) return;
  // A paused picture is still on purpose, not frozen.
  setFrozen(!page.paused && performance.now() - frames.lastAt > FROZEN_AFTER);
}

/** The novice paused sharing (no frames come) or resumed it. */
function setPaused(paused) {
  page.paused = paused;
  $("paused").textContent = t("console-sharing-paused", { novice: page.noviceName ?? "" });
  $("paused").hidden = !paused;
  document.body.dataset.paused = String(paused);
  if (paused) setFrozen(false);
  // The picture is not late when it comes back.
  frames.lastAt = performance.now();
}

/** Says for a moment that the expert's input aimed at the novice's own window. */
function showInputRefused() {
  const note = $("input-refused");
  note.textContent = t("console-input-refused", { novice: page.noviceName ?? "" });
  note.hidden = false;
  document.body.dataset.inputRefused = String(Number(document.body.dataset.inputRefused ?? 0) + 1);
  clearTimeout(page.inputRefusedTimer);
  page.inputRefusedTimer = setTimeout(() => {
    note.hidden = true;
  }, INPUT_REFUSED_SHOWN);
}

function setFrozen(frozen) {
  frames.frozen = frozen;
  $("frozen").hidden = !frozen;
  document.body.dataset.frozen = String(frozen);
}

// ---- the quality line ------------------------------------------------------------------------

/** `good`, `fair` or `poor`, from the round-trip time and the share of packets lost. */
function rateLink({ roundTripTime, lossRate }) {
  const within = (limit) =>
    (roundTripTime === null || roundTripTime <= limit.roundTripTime) &&
    (lossRate === null || lossRate <= limit.lossRate);
  if (frames.frozen) return "poor";
  if (within(LINK_LIMITS.good)) return "good";
  return within(LINK_LIMITS.fair) ? "fair" : "poor";
}

async function showQuality() {
  if (!page.peer || page.ended) return;
  const s = await page.peer.stats().catch(() => null);
  if (!s || page.ended) return;
  // Whether media goes straight between the two machines or through the TURN relay.
  const lost = ["disconnected", "failed"].includes(page.peer.connectionState);
  const path = lost ? "reconnecting" : s.candidateTypes ? (s.relayed ? "relayed" : "direct") : "";
  const link = rateLink(s);
  const fps = Math.round(s.framesPerSecond ?? 0);
  const mbits = (s.bitrate / 1e6).toFixed(2);
  const rttMs = s.roundTripTime === null ? null : Math.round(s.roundTripTime * 1000);
  const lossPercent = s.lossRate === null ? null : (s.lossRate * 100).toFixed(1);

  // A list of measurements, each a label of its own; sizes without grouping separators.
  const parts = [];
  if (s.frameWidth) {
    parts.push(
      t("console-quality-size", { width: String(s.frameWidth), height: String(s.frameHeight) }),
    );
  }
  parts.push(t("console-quality-fps", { fps }));
  const numbers = [t("console-quality-bitrate", { mbits: formatNumber(Number(mbits), 2) })];
  if (rttMs !== null) numbers.push(t("console-quality-rtt", { ms: String(rttMs) }));
  if (lossPercent !== null) {
    numbers.push(t("console-quality-loss", { percent: formatNumber(Number(lossPercent), 1) }));
  }
  parts.push(t(LINK_RATINGS[link], { numbers: numbers.join(", ") }));
  if (path) parts.push(t(PATHS[path]));

  const quality = $("quality");
  quality.textContent = parts.join(" · ");
  Object.assign(quality.dataset, {
    readings: String(Number(quality.dataset.readings ?? 0) + 1),
    framesDecoded: String(s.framesDecoded),
    keyFramesDecoded: String(s.keyFramesDecoded),
    fps: String(fps),
    link,
    bitrate: String(Math.round(s.bitrate)),
    rttMs: rttMs === null ? "" : String(rttMs),
    packetsReceived: String(s.packetsReceived),
    packetsLost: String(s.packetsLost),
    lossPercent: lossPercent ?? "",
    path,
    candidateTypes: s.candidateTypes ?? "",
    relayProtocol: s.relayProtocol ?? "",
  });
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
    console.warn(`chat message not sent: ${err.message}`);
    setState(page.state, t("console-message-not-sent"));
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
  finish("ended", t("console-you-ended"));
}

/** Ends the session on this page: stops the video, closes the connections, says why. */
function finish(state, message) {
  if (page.ended) return;
  page.ended = true;
  page.timers.forEach(clearInterval);
  clearTimeout(page.explanationTimer);
  setFrozen(false);
  page.peer?.close();
  const video = $("video");
  video.srcObject?.getTracks().forEach((t) => t.stop());
  video.srcObject = null;
  $("chat-input").disabled = true;
  $("end").disabled = true;
  page.control?.reset();
  page.pointer?.reset();
  $("quality").textContent = "";
  if (page.ws && page.ws.readyState <= WebSocket.OPEN) page.ws.close();
  setState(state, message);
  // The desktop is gone; the chat stays readable if there was one.
  $("session").hidden = $("chat-log").children.length === 0;
}

// ---- view modes --------------------------------------------------------------------------------

function setViewMode(mode) {
  // The class list, not the class name: control.js marks the screen `controlled` on it too.
  $("screen").classList.remove("fit", "actual");
  $("screen").classList.add(mode);
  $("fit").setAttribute("aria-pressed", String(mode === "fit"));
  $("actual").setAttribute("aria-pressed", String(mode === "actual"));
  page.pointer?.place();
}

function init() {
  $("code-form")?.addEventListener("submit", openCode);
  $("retry")?.addEventListener("click", () => {
    sessionStorage.setItem(RETRIED_AT, String(Date.now()));
    location.reload();
  });
  // Back from Retry before the server heard that the last try ended: the invitation still
  // reads "in use" for a moment, so look again shortly instead of turning the expert away.
  const retriedAt = Number(sessionStorage.getItem(RETRIED_AT) ?? 0);
  if (document.body.dataset.state === "in_use" && Date.now() - retriedAt < RETRY_SETTLES_IN) {
    setState("in_use", t("console-checking-invitation"));
    setTimeout(() => location.reload(), RETRY_LOOK_AGAIN);
  } else {
    sessionStorage.removeItem(RETRIED_AT);
  }
  // The invitation's secret: from the link, else typed by the expert.
  page.secret = secretFromLink();
  if ($("join")) {
    document.body.dataset.secret = page.secret ? "link" : "missing";
    if (!page.secret) {
      $("secret-label").hidden = false;
      setState("open", t("console-secret-missing"));
    }
  }
  $("frozen").textContent = t("console-frozen");
  setFrozen(false);
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
  page.pointer = new NovicePointer({
    screen: $("screen"),
    video: $("video"),
    canvas: $("pointer"),
    locate: (x, y) => fromScreen($("video"), x, y, page.control.screen),
  });
  // Usable once the data channel to the agent is open.
  $("control").disabled = true;
  $("fit").addEventListener("click", () => setViewMode("fit"));
  $("actual").addEventListener("click", () => setViewMode("actual"));
  // Nothing is redeemed, and so nobody asked, before this browser is known to show the picture.
  const supported = checkBrowser();
  if (supported && $("connect")) $("connect").disabled = false;
  // Help offered from the support desk: the server already admitted this page to a session.
  const offer = document.body.dataset.offer;
  if (offer) {
    if (supported) joinOffered(offer);
    else withdrawOffer(offer);
  }
  window.addEventListener("pagehide", () => {
    if (!page.ended && page.ws?.readyState === WebSocket.OPEN) {
      page.ws.send(JSON.stringify({ type: "hang_up" }));
    }
  });
}

init();
