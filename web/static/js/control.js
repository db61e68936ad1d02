// Remote control from the expert's console: the Take control button, and, while the novice has
// granted control, the expert's pointer and keyboard on the video sent to the agent as
// protocol::data::InputEvent messages. The agent decides what is injected; this side only sends
// while it was told control is granted.
//
//   const control = new RemoteControl({ screen, video, button, label, send });
//   control.update({ state, message });   // every {type: "control"} message from the agent
//   control.screenSize({ width, height }); // every {type: "screen"} message from the agent
//   control.reset();                      // the session ended
//
// Positions are sent in pixels of the shared screen, whatever the console's scaling and whatever
// the resolution the agent encodes at (on a slow link it sends a smaller picture of the same
// screen, and says the screen's own size in a {type: "screen"} message): see `toScreen`.

import { clean } from "/static/js/text.js";
import { t } from "/static/js/i18n.js";

/** Browser mouse button numbers to protocol::data::MouseButton. */
const BUTTONS = { 0: "left", 1: "middle", 2: "right" };

/** Pixels of wheel movement per wheel step sent to the agent. */
const PIXELS_PER_STEP = 100;

/** Where the picture sits in a <video> element: its scale and top-left corner in the page. */
function placement(video) {
  const vw = video.videoWidth;
  const vh = video.videoHeight;
  const rect = video.getBoundingClientRect();
  const scale = Math.min(rect.width / vw, rect.height / vh);
  return {
    vw,
    vh,
    scale,
    left: rect.left + (rect.width - vw * scale) / 2,
    top: rect.top + (rect.height - vh * scale) / 2,
  };
}

/**
 * Screen pixels per video pixel: the screen's size as the agent last said it, over the size of
 * the picture shown now (1 until the agent says).
 */
function ratio(video, size) {
  if (!size) return { rx: 1, ry: 1, sw: video.videoWidth, sh: video.videoHeight };
  return {
    rx: size.width / video.videoWidth,
    ry: size.height / video.videoHeight,
    sw: size.width,
    sh: size.height,
  };
}

/**
 * Maps a point in the page to a pixel of the shared screen, for a <video> showing it with
 * `object-fit: contain` (fit mode) or at its own size (actual-size mode); null outside the
 * picture (the letterbox bars). `size` is the screen's own size, when the agent said it.
 */
export function toScreen(video, clientX, clientY, size) {
  if (!video.videoWidth || !video.videoHeight) return null;
  const { vw, vh, scale, left, top } = placement(video);
  const px = (clientX - left) / scale;
  const py = (clientY - top) / scale;
  if (px < 0 || py < 0 || px >= vw || py >= vh) return null;
  const { rx, ry, sw, sh } = ratio(video, size);
  return { x: Math.min(sw - 1, Math.floor(px * rx)), y: Math.min(sh - 1, Math.floor(py * ry)) };
}

/**
 * The inverse of `toScreen`: where the top-left corner of screen pixel (x, y) is in the page,
 * and how many page pixels a screen pixel takes; null before the video has a size.
 */
export function fromScreen(video, x, y, size) {
  if (!video.videoWidth || !video.videoHeight) return null;
  const { scale, left, top } = placement(video);
  const { rx, ry } = ratio(video, size);
  return { clientX: left + (x / rx) * scale, clientY: top + (y / ry) * scale, scale: scale / rx };
}

/** Like `toScreen`, but a point outside the picture goes to its nearest edge. */
function clampToScreen(video, clientX, clientY, size) {
  if (!video.videoWidth || !video.videoHeight) return { x: 0, y: 0 };
  const { scale, left, top } = placement(video);
  const { rx, ry, sw, sh } = ratio(video, size);
  const clamp = (v, max) => Math.max(0, Math.min(max - 1, Math.floor(v)));
  return {
    x: clamp(((clientX - left) / scale) * rx, sw),
    y: clamp(((clientY - top) / scale) * ry, sh),
  };
}

export class RemoteControl {
  #screen;
  #video;
  #button;
  #label;
  #send;
  #state = "off";
  #keysDown = new Set();
  #buttonsDown = new Set();
  #pendingMove = null;
  #lastPosition = { x: 0, y: 0 };
  #wheelRest = { x: 0, y: 0 };
  #screenSize = null;

  constructor({ screen, video, button, label, send }) {
    this.#screen = screen;
    this.#video = video;
    this.#button = button;
    this.#label = label;
    this.#send = send;
    button.addEventListener("click", () => this.#toggle());
    this.#listen();
    this.#render("");
  }

  get granted() {
    return this.#state === "granted";
  }

  /** The shared screen's own size as the agent last said it, or null. */
  get screen() {
    return this.#screenSize;
  }

  /** A {type: "control", state, message} message from the agent. */
  update({ state, message }) {
    if (this.#state === "granted" && state !== "granted") this.#releaseAll();
    this.#state = state;
    this.#render(message ?? "");
  }

  /** A {type: "screen", width, height} message from the agent: the shared screen's own size. */
  screenSize({ width, height }) {
    const valid = (n) => Number.isInteger(n) && n > 0 && n <= 65535;
    if (valid(width) && valid(height)) this.#screenSize = { width, height };
  }

  /** The session ended: nothing more is sent. */
  reset() {
    this.#state = "off";
    this.#keysDown.clear();
    this.#buttonsDown.clear();
    this.#render("");
    this.#button.disabled = true;
  }

  #toggle() {
    if (this.#state === "granted") {
      this.#releaseAll();
      this.#trySend({ type: "control_release" });
    } else if (this.#state !== "pending") {
      this.#state = "pending";
      this.#render(t("console-asking-control"));
      this.#trySend({ type: "control_request" });
    }
  }

  #render(message) {
    document.body.dataset.control = this.#state;
    this.#label.textContent = clean(message);
    this.#button.textContent = t(
      this.#state === "granted" ? "console-release-control" : "console-take-control",
    );
    this.#button.disabled = this.#state === "pending";
    this.#screen.classList.toggle("controlled", this.#state === "granted");
  }

  #trySend(message) {
    try {
      this.#send(message);
      return true;
    } catch (err) {
      console.warn(`control message not sent: ${err.message}`);
      this.#label.textContent = t("console-control-not-sent");
      return false;
    }
  }

  #input(event) {
    if (this.granted) this.#trySend({ type: "input", event });
  }

  #listen() {
    const screen = this.#screen;
    const video = this.#video;

    screen.addEventListener("pointermove", (e) => {
      if (!this.granted) return;
      // At most one move per animation frame: enough for the eye, kind to the channel.
      const first = this.#pendingMove === null;
      this.#pendingMove = [e.clientX, e.clientY];
      if (first) {
        requestAnimationFrame(() => {
          const [cx, cy] = this.#pendingMove;
          this.#pendingMove = null;
          const p = toScreen(video, cx, cy, this.#screenSize);
          if (p) {
            this.#lastPosition = p;
            this.#input({ kind: "move", x: p.x, y: p.y });
          }
        });
      }
    });
    screen.addEventListener("pointerdown", (e) => {
      if (!this.granted) return;
      screen.focus({ preventScroll: true });
      const button = BUTTONS[e.button];
      const p = toScreen(video, e.clientX, e.clientY, this.#screenSize);
      if (!button || !p) return;
      e.preventDefault();
      screen.setPointerCapture?.(e.pointerId);
      this.#buttonsDown.add(button);
      this.#lastPosition = p;
      this.#input({ kind: "button", button, down: true, x: p.x, y: p.y });
    });
    screen.addEventListener("pointerup", (e) => {
      const button = BUTTONS[e.button];
      if (!this.granted || !button || !this.#buttonsDown.has(button)) return;
      e.preventDefault();
      this.#buttonsDown.delete(button);
      // A release outside the picture still ends the drag, at its nearest edge.
      const p = toScreen(video, e.clientX, e.clientY, this.#screenSize) ??
        clampToScreen(video, e.clientX, e.clientY, this.#screenSize);
      this.#input({ kind: "button", button, down: false, x: p.x, y: p.y });
    });
    screen.addEventListener("contextmenu", (e) => {
      if (this.granted) e.preventDefault();
    });
    screen.addEventListener(
      "wheel",
      (e) => {
        if (!this.granted) return;
        e.preventDefault();
        const unit = e.deltaMode === WheelEvent.DOM_DELTA_LINE ? PIXELS_PER_STEP / 3 : 1;
        const rest = this.#wheelRest;
        rest.x += e.deltaX * unit;
        rest.y += e.deltaY * unit;
        const dx = Math.trunc(rest.x / PIXELS_PER_STEP);
        const dy = Math.trunc(rest.y / PIXELS_PER_STEP);
        rest.x -= dx * PIXELS_PER_STEP;
        rest.y -= dy * PIXELS_PER_STEP;
        if (dx || dy) this.#input({ kind: "wheel", dx, dy });
      },
      { passive: false },
    );
    screen.addEventListener("keydown", (e) => {
      if (!this.granted || e.isComposing || e.key === "Dead" || e.key === "Unidentified") return;
      // Everything goes to the remote desktop, Tab and shortcuts included.
      e.preventDefault();
      this.#keysDown.add(e.key);
      this.#input({ kind: "key", key: e.key, down: true });
    });
    screen.addEventListener("keyup", (e) => {
      if (!this.granted) return;
      e.preventDefault();
      // With Shift released first, "A" goes down and "a" comes up: release what went down.
      const key = this.#keysDown.has(e.key) ? e.key : [...this.#keysDown].find((k) => k.toLowerCase() === e.key.toLowerCase());
      if (key === undefined) return;
      this.#keysDown.delete(key);
      this.#input({ kind: "key", key, down: false });
    });
    // Leaving the desktop must not leave keys or buttons down over there.
    screen.addEventListener("blur", () => this.#releaseAll());
  }

  #releaseAll() {
    for (const key of this.#keysDown) this.#input({ kind: "key", key, down: false });
    this.#keysDown.clear();
    const { x, y } = this.#lastPosition;
    for (const button of this.#buttonsDown) this.#input({ kind: "button", button, down: false, x, y });
    this.#buttonsDown.clear();
  }
}
