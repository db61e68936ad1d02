// Plays the expert's browser (party B) for agent_and_browser_module_agree.rs: runs the console's
// own module, web/static/js/pake.js, and speaks to the Rust test over stdin and stdout, one line
// per message: "share <hex>", "confirmation <hex>", then "key <hex>" or "refused <code>".
//
//   node expert_in_node.mjs INVITATION PASSWORD SESSION AGENT_FINGERPRINT EXPERT_FINGERPRINT

import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";

import { PakeError, PasswordScalar, Role, sessionAad, Spake2 } from "../../web/static/js/pake.js";

const [invitation, password, session, agentFingerprint, expertFingerprint] = process.argv.slice(2);
const hex = (bytes) => Buffer.from(bytes).toString("hex");
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

async function receive(tag) {
  const { value, done } = await lines.next();
  if (done) throw new Error(`stdin closed while waiting for ${tag}`);
  const [got, payload] = value.trim().split(" ");
  if (got !== tag) throw new Error(`expected ${tag}, got ${value}`);
  return new Uint8Array(Buffer.from(payload ?? "", "hex"));
}

const w = PasswordScalar.derive(invitation, password);
const aad = sessionAad(session, agentFingerprint, expertFingerprint);
const random = (n) => new Uint8Array(randomBytes(n));
const [exchange, share] = Spake2.start(Role.EXPERT, w, "agent", "expert", aad, random);
console.log(`share ${hex(share)}`);
try {
  const [confirming, confirmation] = exchange.finish(await receive("share"));
  console.log(`confirmation ${hex(confirmation)}`);
  console.log(`key ${hex(confirming.verify(await receive("confirmation")))}`);
} catch (error) {
  if (!(error instanceof PakeError)) throw error;
  console.log(`refused ${error.code}`);
}
process.exit(0);
