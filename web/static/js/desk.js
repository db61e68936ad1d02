// The support-desk dashboard: keeps a WebSocket to /ws/desk open and redraws the tables from
// each snapshot the server pushes (web/templates/desk.html has the page). The page's feed state
// is mirrored in `document.body.dataset.feed` (connecting → live, or lost while reconnecting).

import { clean } from "/static/js/text.js";
import { formatNumber, language, said, t } from "/static/js/i18n.js";

const $ = (id) => document.getElementById(id);

/** How often the page tells the server it is still open, in ms. */
const PING_EVERY = 2000;
/** Longest wait between reconnection attempts, in ms. */
const MAX_RETRY = 10000;

const csrf = document.body.dataset.csrf;
let retry = 500;
let socket = null;

function setFeed(state, text) {
  document.body.dataset.feed = state;
  $("feed").textContent = clean(text);
}

// Times and dates as the page's language writes them, in this computer's time zone.
function time(unix) {
  return new Date(unix * 1000).toLocaleTimeString(language, { hour: "2-digit", minute: "2-digit" });
}

function dateTime(unix) {
  return new Date(unix * 1000).toLocaleString(language, {
    month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
  });
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = clean(text);
  if (className) td.className = className;
  return td;
}

/** A one-button form posting the page's CSRF token to `action`. */
function postForm(action, className, label) {
  const form = document.createElement("form");
  form.method = "post";
  form.action = action;
  const token = document.createElement("input");
  token.type = "hidden";
  token.name = "csrf";
  token.value = csrf;
  const button = document.createElement("button");
  button.type = "submit";
  button.className = className;
  button.textContent = label;
  form.append(token, button);
  return { form, button };
}

function offerForm(machine) {
  const { form, button } = postForm(
    `/desk/machines/${encodeURIComponent(machine.id)}/offer`, "offer", t("desk-offer-help"));
  if (!machine.online_since) {
    button.disabled = true;
    button.title = t("desk-offer-offline");
  } else if (machine.busy) {
    button.disabled = true;
    button.title = t("desk-offer-busy");
  }
  return form;
}

/** Invitations novices sent to this person: a notification each, with Accept and Decline. */
function renderDirect(direct) {
  const known = new Set([...$("direct-list").children].map((li) => li.dataset.invitation));
  $("direct-list").replaceChildren(
    ...direct.map((d) => {
      const li = document.createElement("li");
      li.dataset.invitation = d.id;
      const text = document.createElement("p");
      text.textContent = t("desk-direct-asks", {
        machine: clean(d.machine),
        sent: time(d.created_at),
        until: time(d.expires_at),
      });
      const path = `/desk/invitations/${encodeURIComponent(d.id)}`;
      li.append(
        text,
        postForm(`${path}/accept`, "accept", t("desk-accept")).form,
        postForm(`${path}/decline`, "decline", t("desk-decline")).form,
      );
      return li;
    }),
  );
  $("direct").hidden = direct.length === 0;
  const title = document.title.replace(/^\(\d+\) /, "");
  document.title = direct.length > 0 ? `(${direct.length}) ${title}` : title;
  if (notificationsAllowed()) {
    for (const d of direct.filter((d) => !known.has(d.id))) {
      // One per invitation, however many dashboards are open; a click brings this tab forward.
      const shown = new Notification(t("desk-notification-title", { machine: clean(d.machine) }), {
        body: t("desk-notification-body"),
        tag: d.id,
        requireInteraction: true,
      });
      shown.onclick = () => window.focus();
    }
  }
}

function notificationsAllowed() {
  return "Notification" in window && Notification.permission === "granted";
}

/** Offers to turn on desktop notifications while the browser has not been asked yet. */
function setUpNotifications() {
  const button = $("notify");
  const update = () => {
    button.hidden = !("Notification" in window) || Notification.permission !== "default";
  };
  button.addEventListener("click", () => Notification.requestPermission().then(update, update));
  update();
}

function renderMachines(machines) {
  const body = $("machines").tBodies[0];
  body.replaceChildren(
    ...machines.map((m) => {
      const tr = document.createElement("tr");
      tr.dataset.machine = m.id;
      tr.dataset.online = String(Boolean(m.online_since));
      tr.className = m.online_since ? "online" : "offline";
      let status;
      if (m.online_since) {
        status = t(m.busy ? "desk-online-since-busy" : "desk-online-since", { time: time(m.online_since) });
      } else if (m.last_seen) {
        status = t("desk-offline-last-seen", { when: dateTime(m.last_seen) });
      } else {
        status = t("desk-offline-never");
      }
      const action = document.createElement("td");
      action.append(offerForm(m));
      tr.append(cell(m.name, "name"), cell(status, "status"), action);
      return tr;
    }),
  );
  $("no-machines").hidden = machines.length > 0;
}

function quality(s) {
  if (s.fps === null) return "";
  // A list of measurements, each a label of its own.
  const parts = [
    t("desk-quality-fps", { fps: formatNumber(s.fps, 0) }),
    t("desk-quality-bitrate", { mbits: formatNumber(s.kbps / 1000, 2) }),
  ];
  if (s.rtt_ms !== null) parts.push(t("desk-quality-rtt", { ms: String(s.rtt_ms) }));
  return parts.join(" · ");
}

const MODES = { asking: "desk-mode-asking", view: "desk-mode-view", control: "desk-mode-control" };

function renderSessions(sessions) {
  $("sessions").tBodies[0].replaceChildren(
    ...sessions.map((s) => {
      const tr = document.createElement("tr");
      tr.dataset.session = s.id;
      tr.dataset.mode = s.mode;
      tr.dataset.fps = s.fps ?? "";
      tr.dataset.kbps = s.kbps ?? "";
      tr.dataset.rttMs = s.rtt_ms ?? "";
      tr.append(
        cell(s.machine),
        cell(s.novice),
        cell(s.expert, "expert"),
        cell(s.since ? time(s.since) : "—"),
        cell(Object.hasOwn(MODES, s.mode) ? t(MODES[s.mode]) : s.mode, "mode"),
        cell(quality(s), "quality"),
      );
      return tr;
    }),
  );
}

function renderInvitations(invitations) {
  $("invitations").tBodies[0].replaceChildren(
    ...invitations.map((i) => {
      const tr = document.createElement("tr");
      tr.dataset.invitation = i.id;
      tr.dataset.state = i.state;
      const inUse = i.state === "in_use";
      const state = i.offered_by
        ? t(inUse ? "desk-invitation-in-use-offered" : "desk-invitation-open-offered", {
            operator: clean(i.offered_by),
          })
        : t(inUse ? "desk-invitation-in-use" : "desk-invitation-open");
      tr.append(cell(i.machine), cell(dateTime(i.created_at)), cell(dateTime(i.expires_at)), cell(state));
      return tr;
    }),
  );
}

let machineNames = new Map();

/** An audit event's kind in words: as the log's filter names it (the server renders those). */
function kindName(kind) {
  const option = [...$("audit-filter").elements.kind.options].find((o) => o.value === kind);
  return option ? option.textContent : kind;
}

function renderAudit(events) {
  $("audit").tBodies[0].replaceChildren(
    ...events.map((e) => {
      const tr = document.createElement("tr");
      tr.dataset.seq = e.seq;
      tr.dataset.kind = e.kind;
      const machine = e.machine ? machineNames.get(e.machine) ?? e.machine : "";
      tr.append(cell(dateTime(e.at)), cell(kindName(e.kind), "kind"), cell(e.actor, "actor"), cell(machine), cell(e.detail));
      return tr;
    }),
  );
}

/** Keeps the machine filter's choices in step with the machines. */
function renderMachineChoices(machines) {
  machineNames = new Map(machines.map((m) => [m.id, m.name]));
  const select = $("audit-filter").elements.machine;
  const chosen = select.value;
  const options = machines.map((m) => new Option(m.name, m.id, false, m.id === chosen));
  select.replaceChildren(new Option(t("desk-audit-all-machines"), ""), ...options);
}

/** The audit filters as the server takes them, times in Unix seconds. */
function auditFilter() {
  const f = $("audit-filter").elements;
  const unix = (input) => (input.value ? Math.floor(new Date(input.value).getTime() / 1000) : null);
  return {
    machine: f.machine.value || null,
    person: f.person.value.trim() || null,
    kind: f.kind.value || null,
    since: unix(f.since),
    until: unix(f.until),
  };
}

function applyAuditFilter(ws) {
  const filter = auditFilter();
  const query = new URLSearchParams(
    Object.entries(filter).filter(([, v]) => v !== null).map(([k, v]) => [k, String(v)]),
  ).toString();
  $("export-csv").href = `/desk/audit.csv${query ? `?${query}` : ""}`;
  $("export-json").href = `/desk/audit.json${query ? `?${query}` : ""}`;
  if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "audit_filter", ...filter }));
}

/** What the server's feed errors (their `code`) say. */
const FEED_ERRORS = { bad_message: "desk-feed-bad-message", database: "desk-feed-database" };

function onMessage(event) {
  let msg;
  try {
    msg = JSON.parse(event.data);
  } catch {
    console.warn("ignoring a malformed message from the server");
    return;
  }
  if (msg.type === "snapshot") {
    renderMachineChoices(msg.machines ?? []);
    renderMachines(msg.machines ?? []);
    renderAudit(msg.audit ?? []);
    renderSessions(msg.sessions ?? []);
    renderInvitations(msg.invitations ?? []);
    renderDirect(msg.direct ?? []);
    setFeed("live", t("desk-feed-live"));
  } else if (msg.type === "error") {
    setFeed("lost", said(FEED_ERRORS, msg.code, msg.message));
  }
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${scheme}//${location.host}/ws/desk`);
  socket = ws;
  let pinger = null;
  ws.onopen = () => {
    retry = 500;
    applyAuditFilter(ws);
    pinger = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send("ping"), PING_EVERY);
  };
  ws.onmessage = onMessage;
  ws.onclose = () => {
    clearInterval(pinger);
    setFeed("lost", t("desk-feed-lost"));
    // A sign-in that ran out sends the page back to the sign-in form.
    fetch("/desk", { redirect: "manual" })
      .then((r) => {
        if (r.type === "opaqueredirect") location.assign("/desk/sign-in");
      })
      .catch(() => {});
    setTimeout(connect, retry);
    retry = Math.min(retry * 2, MAX_RETRY);
  };
}

$("audit-filter").addEventListener("input", () => applyAuditFilter(socket));
$("audit-filter").addEventListener("submit", (e) => e.preventDefault());
setUpNotifications();
connect();
