// The expert's side of one WebRTC session: answers the agent's offer, shows the novice's desktop
// in a <video> element and carries data-channel messages both ways. Plain ES module, no build.
//
// API
//
//   import { ExpertPeer } from "/static/js/peer.js";
//
//   const peer = new ExpertPeer({
//     iceServers,            // RTCIceServer[] as the server handed them out ({urls, username?, credential?})
//     sendSignal,            // (signal) => void: relay to the agent through the signaling server
//     video,                 // optional HTMLVideoElement; made muted, autoplay and playsInline
//   });
//   await peer.handleSignal(signal);  // every signal from the agent, in order of arrival
//   peer.send({ type: "chat", from: "Expert", text: "hello" });  // throws if the channel is not open
//   const s = await peer.stats();
//   const n = await peer.framesDecoded();   // cheap: the decoder's frame count only
//   const { agent, expert } = peer.fingerprints();  // the DTLS certificates this connection uses
//   peer.close();
//
// Signals have exactly the JSON shape of protocol::signal::Signal:
//   {kind: "offer", sdp} | {kind: "answer", sdp}
//   {kind: "candidate", candidate, sdpMid, sdpMLineIndex} | {kind: "end_of_candidates"}
// The agent always offers; this side only ever sends "answer", "candidate" and
// "end_of_candidates".
//
// Events (ExpertPeer is an EventTarget; read event.detail):
//   "track"   detail: MediaStream      the desktop stream arrived (already attached to `video`)
//   "open"    detail: null             the data channel is open; send() works
//   "message" detail: DataMessage      a message from the agent, e.g. {type: "chat", from, text}
//   "state"   detail: string           RTCPeerConnection.connectionState changed
//   "closed"  detail: {code, reason}   the session ended (fired once): the connection closed, or
//                                      failed or was lost and not restored by the agent's ICE
//                                      restart within 45 s, or the agent closed the data channel;
//                                      `code` says which for the page to word ("closed",
//                                      "failed", "disconnected", "channel-closed", "track-ended",
//                                      "expert-closed"), `reason` in English for logs
//
// Properties: `connectionState`, `channelOpen` (boolean), `closedReason` (null until "closed").
//
// stats() resolves to {framesDecoded, keyFramesDecoded, framesPerSecond, frameWidth,
// frameHeight, bitrate, packetsReceived, packetsLost, lossRate, roundTripTime, relayed,
// candidateTypes}: bitrate in
// bits/s from the bytesReceived change since the previous call (0 on the first call);
// packetsReceived and packetsLost the video's totals so far (inbound-rtp); lossRate the share of
// the video's packets lost since the previous call, 0..1 (null on the first call and while
// nothing new was expected); roundTripTime in seconds from the selected candidate
// pair (null before one is selected), relayed true when either end of that pair is a TURN relay,
// candidateTypes "<local>/<remote>" of that pair once it has succeeded (e.g. "host/relay"), else
// null, relayProtocol "udp", "tcp" or "tls" when this side reaches its TURN relay that way.

import { sdpFingerprint } from "/static/js/invitation.js";

/** Label of the one data channel the agent opens (protocol::data::CHANNEL_LABEL). */
export const CHANNEL_LABEL = "assist";

/** Largest data-channel message accepted, in bytes (protocol::MAX_DATA_MESSAGE). */
export const MAX_DATA_MESSAGE = 16 * 1024;

/**
 * How long a lost connection may take to come back before the session ends, in ms. The agent
 * restarts ICE when the path breaks (agent/src/peer/recovery.rs) and gives up after 40 s.
 */
const RECOVERY_LIMIT_MS = 45_000;

export class ExpertPeer extends EventTarget {
  #pc;
  #sendSignal;
  #video;
  #channel = null;
  #queue = Promise.resolve();
  #lastBytes = null;
  #lastPackets = null;
  #recoveryTimer = null;

  closedReason = null;

  constructor({ iceServers = [], sendSignal, video = null }) {
    super();
    if (typeof sendSignal !== "function") {
      throw new TypeError("ExpertPeer needs a sendSignal(signal) callback");
    }
    this.#sendSignal = sendSignal;
    this.#video = video;
    if (video) {
      // Autoplay without a user gesture is only allowed for muted video.
      video.muted = true;
      video.autoplay = true;
      video.playsInline = true;
    }

    const pc = new RTCPeerConnection({ iceServers });
    this.#pc = pc;
    pc.onicecandidate = (e) => {
      // Chrome also reports an empty candidate at the end of each generation; the null one
      // after it is the real end.
      if (!e.candidate) {
        this.#sendSignal({ kind: "end_of_candidates" });
      } else if (e.candidate.candidate) {
        this.#sendSignal({
          kind: "candidate",
          candidate: e.candidate.candidate,
          sdpMid: e.candidate.sdpMid,
          sdpMLineIndex: e.candidate.sdpMLineIndex,
        });
      }
    };
    pc.ontrack = (e) => this.#onTrack(e);
    pc.ondatachannel = (e) => {
      if (e.channel.label === CHANNEL_LABEL) this.#attachChannel(e.channel);
    };
    pc.onconnectionstatechange = () => {
      const state = pc.connectionState;
      this.#emit("state", state);
      if (state === "closed") {
        this.#end("closed", "connection closed");
      } else if (state === "failed" || state === "disconnected") {
        // The agent restarts ICE with a new offer; wait for it rather than give up at once.
        this.#recoveryTimer ??= setTimeout(
          () => this.#end(state, `connection ${state}`),
          RECOVERY_LIMIT_MS,
        );
      } else if (state === "connected") {
        clearTimeout(this.#recoveryTimer);
        this.#recoveryTimer = null;
      }
    };
  }

  get connectionState() {
    return this.#pc.connectionState;
  }

  get channelOpen() {
    return this.#channel?.readyState === "open";
  }

  /** Applies one signal from the agent. Signals are applied strictly in call order. */
  handleSignal(signal) {
    const next = this.#queue.then(() => this.#apply(signal));
    // One bad signal must not wedge the ones after it.
    this.#queue = next.catch(() => {});
    return next;
  }

  /** Sends one DataMessage object to the agent. */
  send(message) {
    if (!this.channelOpen) throw new Error("the data channel to the agent is not open");
    this.#channel.send(JSON.stringify(message));
  }

  /** Connection quality for the console and dashboard; see the header for the fields. */
  async stats() {
    const report = await this.#pc.getStats();
    const out = {
      framesDecoded: 0,
      keyFramesDecoded: 0,
      framesPerSecond: 0,
      frameWidth: 0,
      frameHeight: 0,
      bitrate: 0,
      packetsReceived: 0,
      packetsLost: 0,
      lossRate: null,
      roundTripTime: null,
      relayed: false,
      candidateTypes: null,
      relayProtocol: null,
    };
    let pairId = null;
    report.forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "video") {
        out.framesDecoded = s.framesDecoded ?? 0;
        out.keyFramesDecoded = s.keyFramesDecoded ?? 0;
        out.framesPerSecond = s.framesPerSecond ?? 0;
        out.frameWidth = s.frameWidth ?? 0;
        out.frameHeight = s.frameHeight ?? 0;
        const now = { bytes: s.bytesReceived ?? 0, at: s.timestamp };
        if (this.#lastBytes && now.at > this.#lastBytes.at) {
          out.bitrate = ((now.bytes - this.#lastBytes.bytes) * 8 * 1000) / (now.at - this.#lastBytes.at);
        }
        this.#lastBytes = now;
        out.packetsReceived = s.packetsReceived ?? 0;
        // Duplicates can make the count negative (RFC 3550 §6.4.1): that is no loss.
        out.packetsLost = Math.max(0, s.packetsLost ?? 0);
        const packets = { received: out.packetsReceived, lost: out.packetsLost };
        if (this.#lastPackets) {
          const received = packets.received - this.#lastPackets.received;
          const lost = Math.max(0, packets.lost - this.#lastPackets.lost);
          if (received + lost > 0) out.lossRate = lost / (received + lost);
        }
        this.#lastPackets = packets;
      } else if (s.type === "transport" && s.selectedCandidatePairId) {
        pairId = s.selectedCandidatePairId;
      }
    });
    const pair = pairId ? report.get(pairId) : null;
    if (pair) {
      out.roundTripTime = pair.currentRoundTripTime ?? null;
      const local = report.get(pair.localCandidateId);
      const remote = report.get(pair.remoteCandidateId);
      out.relayed = local?.candidateType === "relay" || remote?.candidateType === "relay";
      if (pair.state === "succeeded" && pair.nominated) {
        out.candidateTypes = `${local?.candidateType}/${remote?.candidateType}`;
        out.relayProtocol = local?.relayProtocol ?? null;
      }
    }
    return out;
  }

  /**
   * The DTLS certificate fingerprints the password check binds to, as this browser sees them:
   * the agent's from the offer applied, this browser's own from its answer ("sha-256 ab:..").
   * Throws before negotiation, or when a description names several certificates.
   */
  fingerprints() {
    return {
      agent: sdpFingerprint(this.#pc.remoteDescription?.sdp),
      expert: sdpFingerprint(this.#pc.localDescription?.sdp),
    };
  }

  /** Video frames decoded so far (0 before the first); lighter than stats() for frequent use. */
  async framesDecoded() {
    const receiver = this.#pc.getReceivers().find((r) => r.track?.kind === "video");
    if (!receiver) return 0;
    const report = await receiver.getStats();
    let decoded = 0;
    report.forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "video") decoded = s.framesDecoded ?? 0;
    });
    return decoded;
  }

  /** Ends the session from this side. */
  close() {
    this.#channel?.close();
    this.#pc.close();
    this.#end("expert-closed", "closed by the expert");
  }

  async #apply(signal) {
    const pc = this.#pc;
    switch (signal?.kind) {
      case "offer": {
        await pc.setRemoteDescription({ type: "offer", sdp: signal.sdp });
        await pc.setLocalDescription(await pc.createAnswer());
        this.#sendSignal({ kind: "answer", sdp: pc.localDescription.sdp });
        return;
      }
      case "candidate":
        await pc.addIceCandidate({
          candidate: signal.candidate,
          sdpMid: signal.sdpMid ?? null,
          sdpMLineIndex: signal.sdpMLineIndex ?? null,
        });
        return;
      case "end_of_candidates":
        // Optional for the browser; older versions reject it, which changes nothing.
        await pc.addIceCandidate().catch(() => {});
        return;
      default:
        throw new Error(`unexpected signal from the agent: ${JSON.stringify(signal?.kind)}`);
    }
  }

  #onTrack(e) {
    // Show frames as soon as they are decoded: this is a live desktop, not a film.
    if ("jitterBufferTarget" in e.receiver) e.receiver.jitterBufferTarget = 0;
    if ("playoutDelayHint" in e.receiver) e.receiver.playoutDelayHint = 0;
    const stream = e.streams[0] ?? new MediaStream([e.track]);
    if (this.#video) {
      this.#video.srcObject = stream;
      // Autoplay may still be refused (e.g. a background tab); play() is retried by the page.
      this.#video.play().catch(() => {});
    }
    e.track.addEventListener("ended", () => this.#end("track-ended", "video track ended"));
    this.#emit("track", stream);
  }

  #attachChannel(channel) {
    this.#channel = channel;
    channel.onopen = () => this.#emit("open", null);
    channel.onclose = () => this.#end("channel-closed", "data channel closed");
    channel.onmessage = (e) => {
      // The agent is trusted no more than any peer: ignore what is not a DataMessage.
      if (typeof e.data !== "string" || e.data.length > MAX_DATA_MESSAGE) return;
      let message;
      try {
        message = JSON.parse(e.data);
      } catch {
        return;
      }
      if (message && typeof message.type === "string") this.#emit("message", message);
    };
    if (channel.readyState === "open") this.#emit("open", null);
  }

  #end(code, reason) {
    if (this.closedReason !== null) return;
    clearTimeout(this.#recoveryTimer);
    this.closedReason = reason;
    this.#emit("closed", { code, reason });
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
