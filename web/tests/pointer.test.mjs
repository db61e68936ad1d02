// The novice's pointer shapes as the console reads them (web/static/js/pointer.js): what the
// agent sends (protocol::data::DataMessage::PointerShape) is decoded, and anything out of
// bounds or inconsistent, which only a broken or hostile peer sends, is refused. Run with
// `node --test web/tests/`.

import assert from "node:assert/strict";
import { test } from "node:test";

import { decodeShape, MAX_SIDE } from "../static/js/pointer.js";

const shape = (fields) => ({
  type: "pointer_shape",
  id: 7,
  width: 1,
  height: 2,
  hot_x: 0,
  hot_y: 1,
  // The same bytes as protocol's pointer_messages_have_the_shape_the_console_reads.
  rgba: "/wAA/wAAAAA=",
  ...fields,
});

test("a shape as the agent sends it is decoded", () => {
  const decoded = decodeShape(shape({}));
  assert.deepEqual(
    { ...decoded, pixels: [...decoded.pixels] },
    { id: 7, width: 1, height: 2, hotX: 0, hotY: 1, pixels: [255, 0, 0, 255, 0, 0, 0, 0] },
  );
});

test("the largest shape is read, a larger one is not", () => {
  const bytes = MAX_SIDE * MAX_SIDE * 4;
  const rgba = Buffer.alloc(bytes, 255).toString("base64");
  const largest = { width: MAX_SIDE, height: MAX_SIDE, hot_x: MAX_SIDE - 1, hot_y: 0, rgba };
  assert.equal(decodeShape(shape(largest))?.pixels.length, bytes);
  const larger = Buffer.alloc((MAX_SIDE + 1) * MAX_SIDE * 4, 255).toString("base64");
  assert.equal(decodeShape(shape({ ...largest, width: MAX_SIDE + 1, rgba: larger })), null);
});

test("anything out of bounds or inconsistent is refused", () => {
  for (const bad of [
    { id: -1 },
    { id: 2 ** 32 },
    { id: "7" },
    { width: 0 },
    { height: 1.5 },
    { hot_x: 1 },
    { hot_y: -1 },
    { hot_y: 2 },
    { rgba: "/wAA/wAA" },
    { rgba: "/wAA/wAAAAAA" },
    { rgba: "%%%%%%%%%%%%" },
    { rgba: 12 },
  ]) {
    assert.equal(decodeShape(shape(bad)), null, JSON.stringify(bad));
  }
  assert.equal(decodeShape(null), null);
  assert.equal(decodeShape("pointer"), null);
});
