// The novice's pointer, drawn over the video. The agent leaves the pointer out of the picture
// and says instead, on the data channel, what it looks like ({type: "pointer_shape"}, once per
// shape) and where it is ({type: "pointer"}, as it moves, in pixels of the shared screen), so a
// moving pointer costs a few bytes and never a new frame. The shape is drawn into a <canvas>
// over the video, placed and scaled as the picture is (fit to window or actual size, full or
// halved resolution), whether or not the expert controls; while the expert does (the screen
// has the class `controlled`), console.css tells the novice's pointer from the expert's own.
//
//   const pointer = new NovicePointer({ screen, video, canvas, locate });
//   pointer.shape(msg);   // every {type: "pointer_shape"} message from the agent
//   pointer.move(msg);    // every {type: "pointer"} message
//   pointer.place();      // the picture moved or changed size
//   pointer.reset();      // the session ended
//
// Everything received is checked: it comes from the peer. For tests the page says where the
// pointer is drawn (`document.body.dataset.pointer`, "x,y" in screen pixels, "" when hidden)
// and with which shape (`document.body.dataset.pointerShape`), and the canvas its hotspot
// (`dataset.hot`, "x,y" in the image's pixels).
//
// `locate(x, y)` says where screen pixel (x, y) is in the page ({clientX, clientY, scale}, or
// null while there is no picture): control.js's `fromScreen`, the inverse of the mapping clicks
// take.

/** Largest side of a shape, in pixels (protocol::data::MAX_POINTER_SIDE). */
export const MAX_SIDE = 48;
/** How many shapes are kept, oldest dropped first (protocol::data::POINTER_SHAPES_KEPT). */
export const SHAPES_KEPT = 32;

const isId = (n) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
const isCoordinate = (n) => Number.isInteger(n) && n >= 0 && n <= 65535;

/**
 * A {type: "pointer_shape"} message as an image: {id, width, height, hotX, hotY, pixels} (RGBA
 * bytes), or null when anything in it is out of bounds or inconsistent.
 */
export function decodeShape(msg) {
  const { id, width, height, hot_x: hotX, hot_y: hotY, rgba } = msg ?? {};
  const side = (n) => Number.isInteger(n) && n >= 1 && n <= MAX_SIDE;
  if (!isId(id) || !side(width) || !side(height)) return null;
  if (!Number.isInteger(hotX) || !Number.isInteger(hotY)) return null;
  if (hotX < 0 || hotX >= width || hotY < 0 || hotY >= height) return null;
  const bytes = width * height * 4;
  // Base64 of exactly that many bytes, nothing longer decoded.
  if (typeof rgba !== "string" || rgba.length !== Math.ceil(bytes / 3) * 4) return null;
  let binary;
  try {
    binary = atob(rgba);
  } catch {
    return null;
  }
  if (binary.length !== bytes) return null;
  const pixels = new Uint8ClampedArray(bytes);
  for (let i = 0; i < bytes; i++) pixels[i] = binary.charCodeAt(i);
  return { id, width, height, hotX, hotY, pixels };
}

export class NovicePointer {
  #screen;
  #canvas;
  #locate;
  /** Shapes by id, in the order they came. */
  #shapes = new Map();
  /** The shape drawn in the canvas now. */
  #drawn = null;
  /** The last position: {x, y, shape, visible}. */
  #at = null;

  constructor({ screen, video, canvas, locate }) {
    this.#screen = screen;
    this.#canvas = canvas;
    this.#locate = locate;
    canvas.hidden = true;
    video.addEventListener("resize", () => this.place());
    window.addEventListener("resize", () => this.place());
    screen.addEventListener("scroll", () => this.place());
  }

  /** A {type: "pointer_shape"} message from the agent. */
  shape(msg) {
    const shape = decodeShape(msg);
    if (!shape) {
      console.warn("ignoring a malformed pointer shape");
      return;
    }
    this.#shapes.delete(shape.id);
    this.#shapes.set(shape.id, shape);
    while (this.#shapes.size > SHAPES_KEPT) this.#shapes.delete(this.#shapes.keys().next().value);
    if (this.#drawn?.id === shape.id) this.#drawn = null;
    this.place();
  }

  /** A {type: "pointer", x, y, shape, visible} message from the agent. */
  move({ x, y, shape, visible } = {}) {
    if (!isCoordinate(x) || !isCoordinate(y) || !isId(shape) || typeof visible !== "boolean") {
      console.warn("ignoring a malformed pointer position");
      return;
    }
    this.#at = { x, y, shape, visible };
    this.place();
  }

  /** Draws the pointer where it is now over the picture, at the picture's scale. */
  place() {
    const at = this.#at;
    const shape = at && this.#shapes.get(at.shape);
    const corner = shape && this.#locate(at.x - shape.hotX, at.y - shape.hotY);
    if (!at?.visible || !shape || !corner) {
      this.#hide();
      return;
    }
    const canvas = this.#canvas;
    if (this.#drawn !== shape) {
      canvas.width = shape.width;
      canvas.height = shape.height;
      const image = new ImageData(shape.pixels, shape.width, shape.height);
      canvas.getContext("2d").putImageData(image, 0, 0);
      this.#drawn = shape;
      canvas.dataset.hot = `${shape.hotX},${shape.hotY}`;
      document.body.dataset.pointerShape = String(shape.id);
    }
    // Relative to the screen's box, which scrolls in actual size.
    const box = this.#screen.getBoundingClientRect();
    const left = corner.clientX - box.left - this.#screen.clientLeft + this.#screen.scrollLeft;
    const top = corner.clientY - box.top - this.#screen.clientTop + this.#screen.scrollTop;
    canvas.style.left = `${left}px`;
    canvas.style.top = `${top}px`;
    canvas.style.width = `${shape.width * corner.scale}px`;
    canvas.style.height = `${shape.height * corner.scale}px`;
    canvas.hidden = false;
    document.body.dataset.pointer = `${at.x},${at.y}`;
  }

  /** The session ended: no pointer, no shapes. */
  reset() {
    this.#at = null;
    this.#shapes.clear();
    this.#drawn = null;
    this.#hide();
  }

  #hide() {
    this.#canvas.hidden = true;
    document.body.dataset.pointer = "";
  }
}
