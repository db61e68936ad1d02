// The expert's side of the PAKE (web/static/js/pake.js) against RFC 9382's test vectors, and
// pinned to the same bytes as the agent's Rust crate (pake/): the password scalar w and the
// associated data. Run with `node --test web/tests/`.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";

import {
  _internals,
  CONFIRMATION_LENGTH,
  MAX_AAD_LENGTH,
  PakeError,
  PasswordScalar,
  Role,
  SHARE_LENGTH,
  sessionAad,
  Spake2,
} from "../static/js/pake.js";

const hex = (bytes) => Buffer.from(bytes).toString("hex");
const unhex = (text) => new Uint8Array(Buffer.from(text, "hex"));
/** A random source that hands out fixed bytes: start() reads its scalar as 32 of them. */
const fixed = (...chunks) => {
  const queue = chunks.map(unhex);
  return (n) => {
    const next = queue.shift();
    assert.equal(next?.length, n, "fixed random bytes ran out");
    return next;
  };
};
const random = (n) => new Uint8Array(randomBytes(n));

/** RFC 9382 Appendix B, all four vectors (P256-SHA256-HKDF-HMAC-SHA256, AAD empty). */
const VECTORS = [
  {
    idA: "server",
    idB: "client",
    w: "2ee57912099d31560b3a44b1184b9b4866e904c49d12ac5042c97dca461b1a5f",
    x: "43dd0fd7215bdcb482879fca3220c6a968e66d70b1356cac18bb26c84a78d729",
    y: "dcb60106f276b02606d8ef0a328c02e4b629f84f89786af5befb0bc75b6e66be",
    pA: "04a56fa807caaa53a4d28dbb9853b9815c61a411118a6fe516a8798434751470f9010153ac33d0d5f2047ffdb1a3e42c9b4e6be662766e1eeb4116988ede5f912c",
    pB: "0406557e482bd03097ad0cbaa5df82115460d951e3451962f1eaf4367a420676d09857ccbc522686c83d1852abfa8ed6e4a1155cf8f1543ceca528afb591a1e0b7",
    K: "0412af7e89717850671913e6b469ace67bd90a4df8ce45c2af19010175e37eed69f75897996d539356e2fa6a406d528501f907e04d97515fbe83db277b715d3325",
    TT: "06000000000000007365727665720600000000000000636c69656e74410000000000000004a56fa807caaa53a4d28dbb9853b9815c61a411118a6fe516a8798434751470f9010153ac33d0d5f2047ffdb1a3e42c9b4e6be662766e1eeb4116988ede5f912c41000000000000000406557e482bd03097ad0cbaa5df82115460d951e3451962f1eaf4367a420676d09857ccbc522686c83d1852abfa8ed6e4a1155cf8f1543ceca528afb591a1e0b741000000000000000412af7e89717850671913e6b469ace67bd90a4df8ce45c2af19010175e37eed69f75897996d539356e2fa6a406d528501f907e04d97515fbe83db277b715d332520000000000000002ee57912099d31560b3a44b1184b9b4866e904c49d12ac5042c97dca461b1a5f",
    Ke: "0e0672dc86f8e45565d338b0540abe69",
    Ka: "15bdf72e2b35b5c9e5663168e960a91b",
    KcA: "00c12546835755c86d8c0db7851ae86f",
    KcB: "a9fa3406c3b781b93d804485430ca27a",
    cA: "58ad4aa88e0b60d5061eb6b5dd93e80d9c4f00d127c65b3b35b1b5281fee38f0",
    cB: "d3e2e547f1ae04f2dbdbf0fc4b79f8ecff2dff314b5d32fe9fcef2fb26dc459b",
  },
  {
    idA: "",
    idB: "client",
    w: "0548d8729f730589e579b0475a582c1608138ddf7054b73b5381c7e883e2efae",
    x: "403abbe3b1b4b9ba17e3032849759d723939a27a27b9d921c500edde18ed654b",
    y: "903023b6598908936ea7c929bd761af6039577a9c3f9581064187c3049d87065",
    pA: "04a897b769e681c62ac1c2357319a3d363f610839c4477720d24cbe32f5fd85f44fb92ba966578c1b712be6962498834078262caa5b441ecfa9d4a9485720e918a",
    pB: "04e0f816fd1c35e22065d5556215c097e799390d16661c386e0ecc84593974a61b881a8c82327687d0501862970c64565560cb5671f696048050ca66ca5f8cc7fc",
    K: "048f83ec9f6e4f87cc6f9dc740bdc2769725f923364f01c84148c049a39a735ebda82eac03e00112fd6a5710682767cff5361f7e819e53d8d3c3a2922e0d837aa6",
    TT: "00000000000000000600000000000000636c69656e74410000000000000004a897b769e681c62ac1c2357319a3d363f610839c4477720d24cbe32f5fd85f44fb92ba966578c1b712be6962498834078262caa5b441ecfa9d4a9485720e918a410000000000000004e0f816fd1c35e22065d5556215c097e799390d16661c386e0ecc84593974a61b881a8c82327687d0501862970c64565560cb5671f696048050ca66ca5f8cc7fc4100000000000000048f83ec9f6e4f87cc6f9dc740bdc2769725f923364f01c84148c049a39a735ebda82eac03e00112fd6a5710682767cff5361f7e819e53d8d3c3a2922e0d837aa620000000000000000548d8729f730589e579b0475a582c1608138ddf7054b73b5381c7e883e2efae",
    Ke: "642f05c473c2cd79909f9a841e2f30a7",
    Ka: "0bf89b18180af97353ba198789c2b963",
    KcA: "c6be376fc7cd1301fd0a13adf3e7bffd",
    KcB: "b7243f4ae60440a49b3f8cab3c1fba07",
    cA: "47d29e6666af1b7dd450d571233085d7a9866e4d49d2645e2df975489521232b",
    cB: "3313c5cefc361d27fb16847a91c2a73b766ffa90a4839122a9b70a2f6bd1d6df",
  },
  {
    idA: "server",
    idB: "",
    w: "626e0cdc7b14c9db3e52a0b1b3a768c98e37852d5db30febe0497b14eae8c254",
    x: "07adb3db6bc623d3399726bfdbfd3d15a58ea776ab8a308b00392621291f9633",
    y: "b6a4fc8dbb629d4ba51d6f91ed1532cf87adec98f25dd153a75accafafedec16",
    pA: "04f88fb71c99bfffaea370966b7eb99cd4be0ff1a7d335caac4211c4afd855e2e15a873b298503ad8ba1d9cbb9a392d2ba309b48bfd7879aefd0f2cea6009763b0",
    pB: "040c269d6be017dccb15182ac6bfcd9e2a14de019dd587eaf4bdfd353f031101e7cca177f8eb362a6e83e7d5e729c0732e1b528879c086f39ba0f31a9661bd34db",
    K: "0445ee233b8ecb51ebd6e7da3f307e88a1616bae2166121221fdc0dadb986afaf3ec8a988dc9c626fa3b99f58a7ca7c9b844bb3e8dd9554aafc5b53813504c1cbe",
    TT: "06000000000000007365727665720000000000000000410000000000000004f88fb71c99bfffaea370966b7eb99cd4be0ff1a7d335caac4211c4afd855e2e15a873b298503ad8ba1d9cbb9a392d2ba309b48bfd7879aefd0f2cea6009763b04100000000000000040c269d6be017dccb15182ac6bfcd9e2a14de019dd587eaf4bdfd353f031101e7cca177f8eb362a6e83e7d5e729c0732e1b528879c086f39ba0f31a9661bd34db41000000000000000445ee233b8ecb51ebd6e7da3f307e88a1616bae2166121221fdc0dadb986afaf3ec8a988dc9c626fa3b99f58a7ca7c9b844bb3e8dd9554aafc5b53813504c1cbe2000000000000000626e0cdc7b14c9db3e52a0b1b3a768c98e37852d5db30febe0497b14eae8c254",
    Ke: "005184ff460da2ce59062c87733c299c",
    Ka: "3521297d736598fc0a1127600efa1afb",
    KcA: "f3da53604f0aeecea5a33be7bddf6edf",
    KcB: "9e3f86848736f159bd92b6e107ec6799",
    cA: "bc9f9bbe99f26d0b2260e6456e05a86196a3307ec6663a18bf6ac825736533b2",
    cB: "c2370e1bf813b086dff0d834e74425a06e6390f48f5411900276dcccc5a297ec",
  },
  {
    idA: "",
    idB: "",
    w: "7bf46c454b4c1b25799527d896508afd5fc62ef4ec59db1efb49113063d70cca",
    x: "8cef65df64bb2d0f83540c53632de911b5b24b3eab6cc74a97609fd659e95473",
    y: "d7a66f64074a84652d8d623a92e20c9675c61cb5b4f6a0063e4648a2fdc02d53",
    pA: "04a65b367a3f613cf9f0654b1b28a1e3a8a40387956c8ba6063e8658563890f46ca1ef6a676598889fc28de2950ab8120b79a5ef1ea4c9f44bc98f585634b46d66",
    pB: "04589f13218822710d98d8b2123a079041052d9941b9cf88c6617ddb2fcc0494662eea8ba6b64692dc318250030c6af045cb738bc81ba35b043c3dcb46adf6f58d",
    K: "041a3c03d51b452537ca2a1fea6110353c6d5ed483c4f0f86f4492ca3f378d40a994b4477f93c64d928edbbcd3e85a7c709b7ea73ee97986ce3d1438e135543772",
    TT: "00000000000000000000000000000000410000000000000004a65b367a3f613cf9f0654b1b28a1e3a8a40387956c8ba6063e8658563890f46ca1ef6a676598889fc28de2950ab8120b79a5ef1ea4c9f44bc98f585634b46d66410000000000000004589f13218822710d98d8b2123a079041052d9941b9cf88c6617ddb2fcc0494662eea8ba6b64692dc318250030c6af045cb738bc81ba35b043c3dcb46adf6f58d4100000000000000041a3c03d51b452537ca2a1fea6110353c6d5ed483c4f0f86f4492ca3f378d40a994b4477f93c64d928edbbcd3e85a7c709b7ea73ee97986ce3d1438e13554377220000000000000007bf46c454b4c1b25799527d896508afd5fc62ef4ec59db1efb49113063d70cca",
    Ke: "fc6374762ba5cf11f4b2caa08b2cd1b9",
    Ka: "907ae0e26e8d6234318d91583cd74c86",
    KcA: "5dbd2f477166b7fb6d61febbd77a5563",
    KcB: "7689b4654407a5faeffdc8f18359d8a3",
    cA: "dfb4db8d48ae5a675963ea5e6c19d98d4ea028d8e898dad96ea19a80ade95dca",
    cB: "d0f0609d1613138d354f7e95f19fb556bf52d751947241e8c7118df5ef0ae175",
  },
];

test("M and N are the points of RFC 9382 §6", () => {
  assert.equal(hex(_internals.M.toBytes(true)), "02886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12f");
  assert.equal(hex(_internals.N.toBytes(true)), "03d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49");
});

test("RFC 9382 test vectors", () => {
  for (const v of VECTORS) {
    const name = `A=${JSON.stringify(v.idA)} B=${JSON.stringify(v.idB)}`;
    const w = PasswordScalar.fromBytes(unhex(v.w));
    const [a, pA] = Spake2.start(Role.AGENT, w, v.idA, v.idB, new Uint8Array(), fixed(v.x));
    const [b, pB] = Spake2.start(Role.EXPERT, w, v.idA, v.idB, new Uint8Array(), fixed(v.y));
    assert.equal(hex(pA), v.pA, `pA, ${name}`);
    assert.equal(hex(pB), v.pB, `pB, ${name}`);

    // The transcript layout and key schedule on the vectors' own K; the confirmations below
    // then prove that finish() computed the same K and TT.
    const enc = new TextEncoder();
    const tt = _internals.withLengths([enc.encode(v.idA), enc.encode(v.idB), pA, pB, unhex(v.K), unhex(v.w)]);
    assert.equal(hex(tt), v.TT, `TT, ${name}`);
    const keys = _internals.keySchedule(tt, new Uint8Array());
    assert.equal(hex(keys.ke), v.Ke, `Ke, ${name}`);
    assert.equal(hex(keys.ka), v.Ka, `Ka, ${name}`);
    assert.equal(hex(keys.kcA), v.KcA, `KcA, ${name}`);
    assert.equal(hex(keys.kcB), v.KcB, `KcB, ${name}`);

    const [aConfirming, cA] = a.finish(pB);
    const [bConfirming, cB] = b.finish(pA);
    assert.equal(hex(cA), v.cA, `cA, ${name}`);
    assert.equal(hex(cB), v.cB, `cB, ${name}`);
    assert.equal(hex(aConfirming.verify(cB)), v.Ke, name);
    assert.equal(hex(bConfirming.verify(cA)), v.Ke, name);
  }
});

/** The same known answer as pake/src/password.rs: both sides derive one w. */
test("password scalar: known answer shared with the Rust crate", () => {
  const w = PasswordScalar.derive("3f1c2a9e-5b7d-4e21-9c0a-7d8e6f5a4b3c", "correct horse");
  assert.equal(hex(w.toBytes()), "0c6360a320c0233a4b304ea66a45b9212db47b376702ace60675e18bf7fe4a4c");
});

test("password scalar: composed and decomposed accents are one password", () => {
  assert.equal(
    hex(PasswordScalar.derive("inv", "Am\u00e9lie").toBytes()),
    hex(PasswordScalar.derive("inv", "Ame\u0301lie").toBytes()),
  );
  assert.notEqual(hex(PasswordScalar.derive("ab", "c").toBytes()), hex(PasswordScalar.derive("a", "bc").toBytes()));
});

test("password scalar: only scalars in [1, p) are taken as they are", () => {
  for (const bad of [new Uint8Array(32), new Uint8Array(32).fill(0xff), new Uint8Array(31)]) {
    assert.throws(() => PasswordScalar.fromBytes(bad), { code: "invalid-password-scalar" });
  }
});

/** The same bytes as pake/src/binding.rs's known_bytes test. */
test("associated data: known bytes shared with the Rust crate", () => {
  const aad = sessionAad("s-1", " SHA-256 AB:cd ", "sha-256 01:ef");
  assert.equal(
    hex(aad),
    "1c00000000000000" +
      "72656d6f74652d617373697374616e6365207370616b653220616164" +
      "0300000000000000" +
      "732d31" +
      "0d00000000000000" +
      "7368612d3235362061623a6364" +
      "0d00000000000000" +
      "7368612d3235362030313a6566",
  );
});

/** Runs one exchange; returns each side's key, or the PakeError code it refused with. */
function exchange(agentW, agentAad, expertW, expertAad) {
  const [agent, shareA] = Spake2.start(Role.AGENT, agentW, "agent", "expert", agentAad, random);
  const [expert, shareB] = Spake2.start(Role.EXPERT, expertW, "agent", "expert", expertAad, random);
  const [agentConfirming, confirmA] = agent.finish(shareB);
  const [expertConfirming, confirmB] = expert.finish(shareA);
  const outcome = (confirming, confirmation) => {
    try {
      return hex(confirming.verify(confirmation));
    } catch (error) {
      assert.ok(error instanceof PakeError);
      return error.code;
    }
  };
  return [outcome(agentConfirming, confirmB), outcome(expertConfirming, confirmA)];
}

test("both roles agree on the key", () => {
  const w = PasswordScalar.derive("invitation", "correct horse");
  const aad = sessionAad("session", "sha-256 aa:bb", "sha-256 cc:dd");
  const [agent, expert] = exchange(w, aad, w, aad);
  assert.equal(agent.length, 32);
  assert.equal(agent, expert);
  assert.notEqual(exchange(w, aad, w, aad)[0], agent, "fresh scalars, another key");
});

test("a wrong password fails confirmation on both sides", () => {
  const aad = sessionAad("session", "sha-256 aa", "sha-256 bb");
  const right = PasswordScalar.derive("invitation", "correct horse");
  const wrong = PasswordScalar.derive("invitation", "correct horse ");
  assert.deepEqual(exchange(right, aad, wrong, aad), ["confirmation-mismatch", "confirmation-mismatch"]);
});

test("a relay in the middle fails confirmation despite the right password", () => {
  const w = PasswordScalar.derive("invitation", "correct horse");
  const agentAad = sessionAad("session", "sha-256 aa", "sha-256 relay");
  const expertAad = sessionAad("session", "sha-256 aa", "sha-256 bb");
  assert.deepEqual(exchange(w, agentAad, w, expertAad), ["confirmation-mismatch", "confirmation-mismatch"]);
});

test("malformed shares are refused", () => {
  const w = PasswordScalar.derive("invitation", "pw");
  const [, good] = Spake2.start(Role.AGENT, w, "", "", new Uint8Array(), random);
  const finish = (share) => () => Spake2.start(Role.EXPERT, w, "", "", new Uint8Array(), random)[0].finish(share);

  for (const share of [new Uint8Array(), good.slice(0, 64), new Uint8Array([...good, 0]), new Uint8Array([0]), "x".repeat(65)]) {
    assert.throws(finish(share), { code: "share-length" });
  }
  for (const tag of [0x00, 0x02, 0x03, 0x06]) {
    const tagged = good.slice();
    tagged[0] = tag;
    assert.throws(finish(tagged), { code: "share-encoding" });
  }
  const zeros = new Uint8Array(SHARE_LENGTH);
  zeros[0] = 0x04;
  const offCurve = good.slice();
  offCurve[64] ^= 1;
  const tooBig = new Uint8Array(SHARE_LENGTH).fill(0xff);
  tooBig[0] = 0x04;
  for (const share of [zeros, offCurve, tooBig]) {
    assert.throws(finish(share), { code: "invalid-share" });
  }
  // w*M is a point, but pA - w*M is the identity: no key can come of it.
  const wM = _internals.M.multiply(w.scalar).toBytes(false);
  assert.throws(finish(wM), { code: "invalid-share" });
});

test("any bytes as a share give a result or a PakeError", () => {
  const w = PasswordScalar.derive("invitation", "pw");
  for (let i = 0; i < 300; i++) {
    const share = random(i % 3 === 0 ? SHARE_LENGTH : Math.floor(Math.random() * 140));
    if (i % 2 === 0) share[0] = 0x04;
    const [exchange] = Spake2.start(Role.EXPERT, w, "", "", new Uint8Array(), random);
    try {
      exchange.finish(share);
    } catch (error) {
      assert.ok(error instanceof PakeError, `${hex(share)}: ${error}`);
    }
  }
});

test("malformed confirmations are refused", () => {
  const w = PasswordScalar.derive("invitation", "pw");
  const [, shareA] = Spake2.start(Role.AGENT, w, "", "", new Uint8Array(), random);
  const confirming = () => Spake2.start(Role.EXPERT, w, "", "", new Uint8Array(), random)[0].finish(shareA)[0];
  assert.throws(() => confirming().verify(new Uint8Array()), { code: "confirmation-length" });
  assert.throws(() => confirming().verify(new Uint8Array(CONFIRMATION_LENGTH + 1)), { code: "confirmation-length" });
  assert.throws(() => confirming().verify(new Uint8Array(CONFIRMATION_LENGTH)), { code: "confirmation-mismatch" });
});

test("each step is taken once: a failed exchange is over", () => {
  const w = PasswordScalar.derive("invitation", "pw");
  const [agent, shareA] = Spake2.start(Role.AGENT, w, "", "", new Uint8Array(), random);
  const [expert, shareB] = Spake2.start(Role.EXPERT, w, "", "", new Uint8Array(), random);
  const [agentConfirming] = agent.finish(shareB);
  assert.throws(() => agent.finish(shareB), { code: "used" });
  const [, confirmB] = expert.finish(shareA);
  assert.throws(() => agentConfirming.verify(new Uint8Array(CONFIRMATION_LENGTH)), { code: "confirmation-mismatch" });
  assert.throws(() => agentConfirming.verify(confirmB), { code: "used" }, "no second guess on one exchange");
});

test("associated data is bounded as RFC 9382 says", () => {
  const w = PasswordScalar.derive("invitation", "pw");
  Spake2.start(Role.AGENT, w, "", "", new Uint8Array(MAX_AAD_LENGTH), random);
  assert.throws(() => Spake2.start(Role.AGENT, w, "", "", new Uint8Array(MAX_AAD_LENGTH + 1), random), {
    code: "aad-too-long",
  });
});

test("scalars out of range are drawn again", () => {
  const v = VECTORS[0];
  const order = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
  const w = PasswordScalar.fromBytes(unhex(v.w));
  const [, pA] = Spake2.start(Role.AGENT, w, v.idA, v.idB, new Uint8Array(), fixed(order, "00".repeat(32), v.x));
  assert.equal(hex(pA), v.pA);
});
