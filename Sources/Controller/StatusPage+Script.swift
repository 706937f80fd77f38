extension StatusPage {
    /// The page's script: polls `/status` and `/incidents` every 3 s, re-renders ages every
    /// second, and builds every node with `textContent` (never `innerHTML`).
    static let script = #"""

        "use strict";
        const POLL_MS = 3000, TIMEOUT_MS = 2500;
        const LEVELS = ["OK", "WARNING", "CRITICAL", "UNKNOWN"];
        const ICONS = { OK: "\u2713", WARNING: "!", CRITICAL: "\u2715", UNKNOWN: "?", UNREACHABLE: "\u2300" };
        const MARKS = { up: "\u2713", down: "\u2715", suspect: "!", recovering: "\u21bb", unknown: "?" };
        const state = { report: null, reportAt: 0, incidents: null, incidentsError: null, error: null, lastOkAt: 0 };
        const $ = (id) => document.getElementById(id);

        function el(tag, attrs, ...children) {
          const node = document.createElement(tag);
          for (const [name, value] of Object.entries(attrs || {})) {
            if (value !== undefined && value !== null) node.setAttribute(name, String(value));
          }
          for (const child of children) {
            if (child === undefined || child === null || child === false) continue;
            node.append(child instanceof Node ? child : document.createTextNode(String(child)));
          }
          return node;
        }
        const chip = (cls, text, attrs) => el("span", Object.assign({ class: "chip " + cls }, attrs || {}), text);
        const verdictChip = (v, attrs, prefix) => chip("v-" + (MARKS[v] ? v : "unknown"), (prefix || "") + (MARKS[v] || "?") + " " + v, attrs);
        const yesNo = (b) => chip(b ? "c-ok" : "c-bad", b ? "\u2713 yes" : "\u2715 no");

        function duration(ms) {
          if (ms === null || ms === undefined) return "not measured";
          if (ms < 1000) return Math.round(ms) + " ms";
          const s = ms / 1000;
          // From whole tenths, so the text is the same whatever the binary value of ms / 1000.
          if (s < 60) return (Math.round(ms / 100) / 10).toFixed(1) + " s";
          const m = Math.floor(s / 60), rest = Math.round(s % 60);
          if (m < 60) return m + " min " + rest + " s";
          return Math.floor(m / 60) + " h " + (m % 60) + " min";
        }
        const latency = (ms) => ms < 10 ? ms.toFixed(1) + " ms" : duration(ms);
        // The age of a controller timestamp: how old it was in the report, plus how long ago the report arrived.
        function ageMs(ts) {
          if (!state.report || ts === null || ts === undefined) return null;
          return state.report.generated_at - ts + (performance.now() - state.reportAt);
        }
        function ago(ms) {
          if (ms === null) return "";
          if (ms < 0) return "in the future (clock skew)";
          const s = Math.floor(ms / 1000);
          if (s < 120) return s + " s ago";
          if (s < 7200) return Math.floor(s / 60) + " min ago";
          if (s < 172800) return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min ago";
          return Math.floor(s / 86400) + " d ago";
        }
        const utc = (ts) => (ts === null || ts === undefined) ? "" : new Date(ts).toISOString().slice(0, 19).replace("T", " ") + " UTC";
        const agoOf = (ts) => el("span", { class: "sub", title: utc(ts), "data-ts": ts }, ago(ageMs(ts)));
        function fill(tbody, rows, columns, emptyText) {
          tbody.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { class: "empty", colspan: columns }, emptyText))]));
        }

        function renderBanner(r) {
          const unreachable = state.error !== null;
          const level = unreachable ? "UNREACHABLE" : (LEVELS[r ? r.level : 3] || "UNKNOWN");
          $("banner").setAttribute("data-level", level);
          $("level-icon").textContent = ICONS[level];
          $("level").textContent = unreachable ? "UNKNOWN \u2014 cannot reach the controller" : level;
          const problems = unreachable ? [] : (r ? r.problems : []);
          $("problems").replaceChildren(...problems.map((p) => el("li", { "data-problem": "" }, p)));
          if (!unreachable && r && r.level === 0) $("problems").replaceChildren(el("li", {}, "every site up, every group steady"));
          $("unreachable").hidden = !unreachable;
          $("content").classList.toggle("stale", unreachable);
          if (unreachable) {
            $("unreachable-reason").textContent = state.error + ".";
            $("unreachable-age").textContent = state.lastOkAt
              ? "Below: the last data received, " + ago(performance.now() - state.lastOkAt) + "."
              : "No data received yet.";
          }
          const fresh = $("freshness");
          fresh.setAttribute("data-state", unreachable ? "error" : (r ? "ok" : "loading"));
          fresh.textContent = unreachable ? "no answer from the controller"
            : r ? "updated " + ago(performance.now() - state.reportAt) + (r.source === "api" ? "" : " (stored state)") : "connecting\u2026";
        }

        function runText(g) {
          if (g.run) {
            const run = g.run, what = run.kind + " " + run.from + " \u2192 " + run.to;
            if (run.phase === "stuck") return [chip("c-bad", "\u2715 stuck"), " at step " + run.step + "/" + run.steps + " (" + run.step_kind + ") of " + what, run.error ? el("span", { class: "sub" }, run.error) : null];
            if (run.phase === "suspended") return [chip("c-warn", "! suspended"), " before step " + run.step + "/" + run.steps + " of " + what];
            if (run.phase === "awaiting_hook") return [chip("c-warn", "! pre hook"), " before " + what];
            return [chip("c-warn", "\u21bb running"), " step " + run.step + "/" + run.steps + " (" + run.step_kind + ") of " + what];
          }
          if (g.hold) return [chip("c-bad", "\u2715 held"), " primary down, not failing over: " + g.hold.replace(/_/g, " ")];
          return [chip(g.paused ? "c-warn" : "c-ok", g.paused ? "! paused" : "\u2713 " + g.phase), el("span", { class: "sub" }, "failover " + g.failover)];
        }
        function lastIncident(g) {
          const i = g.last_incident;
          if (!i) return el("span", { class: "sub" }, "none yet");
          return el("span", { "data-field": "last-incident", "data-incident": i.id },
            el("b", {}, i.id), " " + i.kind + " " + i.from + " \u2192 " + i.to + ", " + i.result,
            el("span", { class: "sub" }, "RTO ", el("b", { "data-field": "last-rto", "data-ms": i.rto_ms }, duration(i.rto_ms)),
              " \u00b7 ", i.passed ? "PASS" : "FAIL", " \u00b7 decided " + ago(ageMs(i.decided))));
        }
        function renderGroups(r) {
          fill($("groups").tBodies[0], r.groups.map((g) => el("tr", { "data-group": g.name },
            el("td", {}, el("span", { class: "big", "data-field": "name" }, g.name), el("span", { class: "sub" }, "sites " + g.sites.join(", "))),
            el("td", {}, el("span", { class: "big", "data-field": "primary" }, g.primary),
              g.primary !== g.configured_primary ? el("span", { class: "sub" }, "configured primary " + g.configured_primary) : null),
            el("td", {}, el("span", { class: "big", "data-field": "epoch" }, g.epoch)),
            el("td", { "data-field": "state", "data-phase": g.phase }, ...runText(g)),
            el("td", { "data-field": "paused", "data-paused": g.paused }, g.paused ? chip("c-warn", "! yes (maintenance)") : "no"),
            el("td", {}, lastIncident(g)))), 6, "no failover groups: this controller only monitors");
        }

        function checkItem(c) {
          const ok = c.diagnosis === "ok";
          const extra = [c.status ? "HTTP " + c.status : null, c.cert_days_left !== undefined ? c.cert_days_left + " d cert" : null,
            c.role || null, c.lag_bytes !== undefined ? "lag " + c.lag_bytes + " B" : null].filter(Boolean).join(", ");
          return el("li", { "data-check": c.check },
            chip(ok ? "c-ok" : "c-bad", (ok ? "\u2713 " : "\u2715 ") + c.check), c.kind + " ",
            el("b", { "data-field": "latency", "data-ms": c.timings.total_ms }, latency(c.timings.total_ms)),
            ok ? "" : " " + c.diagnosis.replace(/_/g, " "), extra ? " (" + extra + ")" : "",
            c.error && !ok ? el("span", { class: "sub" }, c.error) : null, agoOf(c.at));
        }
        function renderSites(r) {
          const members = r.coordination.members;
          fill($("sites").tBodies[0], r.sites.map((s) => {
            const roles = s.primary_of.map((g) => "primary of " + g).concat(s.standby_of.map((g) => "standby of " + g));
            const voters = members.concat(Object.keys(s.quorum.votes).filter((m) => !members.includes(m)));
            return el("tr", { "data-site": s.name },
              el("td", {}, el("span", { class: "big" }, s.name), el("span", { class: "sub" }, [s.region].concat(roles).filter(Boolean).join(" \u00b7 "))),
              el("td", {}, verdictChip(s.quorum.verdict, { "data-field": "verdict", "data-verdict": s.quorum.verdict }),
                el("span", { class: "sub" }, (s.quorum.quorate ? "" : "no quorum \u00b7 ") + s.quorum.needed + " of " + members.length + " votes decide")),
              el("td", {}, verdictChip(s.state, { "data-field": "state", "data-state": s.state }), s.since ? agoOf(s.since) : null),
              el("td", {}, ...voters.map((m) => {
                const v = s.quorum.votes[m];
                return v ? verdictChip(v, { "data-vote": m, "data-verdict": v }, m + ": ")
                  : chip("c-none", m + ": no vote", { "data-vote": m, "data-verdict": "none" });
              })),
              el("td", {}, el("ul", { class: "checks" }, ...s.checks.map(checkItem))));
          }), 5, "no sites configured");
        }

        function renderCoordination(r) {
          const c = r.coordination;
          $("coord-backend").textContent = c.backend;
          $("coord-quorate").replaceChildren(yesNo(c.quorate));
          $("coord-leader").textContent = c.leader || "none";
          $("coord-needed").textContent = c.needed + " of " + c.members.length;
          $("coord-problem").textContent = c.problem || "none";
          fill($("members").tBodies[0], c.member_states.map((m) => el("tr", { "data-member": m.id, "data-alive": m.alive },
            el("td", { class: "big" }, m.id, m.id === r.controller ? el("span", { class: "sub" }, "this controller") : null),
            el("td", {}, m.alive ? chip("c-ok", "\u2713 alive") : chip("c-bad", "\u2715 lost")),
            el("td", {}, m.lease_age_ms === null || m.lease_age_ms === undefined ? "\u2013" : duration(m.lease_age_ms)),
            el("td", {}, m.leader ? chip("c-info", "\u2605 leader") : "member"))), 4, "no members");
        }

        function rpoText(i, m) {
          const lag = i.incident.lag;
          if (!lag) return "not measured";
          const parts = [lag.bytes !== undefined ? lag.bytes + " B" : null, lag.seconds !== undefined ? lag.seconds.toFixed(1) + " s" : null];
          return parts.filter(Boolean).join(", ") + (m.rpo_met === true ? " \u2713" : m.rpo_met === false ? " \u2715 over target" : "");
        }
        function renderIncidents() {
          $("incidents-error").hidden = state.incidentsError === null;
          $("incidents-error").textContent = state.incidentsError ? "Could not load /incidents: " + state.incidentsError : "";
          if (!state.incidents) return;
          fill($("incidents").tBodies[0], state.incidents.map((v) => {
            const i = v.incident, m = v.measures;
            const phases = [["detection", m.detection_ms], ["decision", m.decision_ms], ["actuation", m.actuation_ms], ["verification", m.verification_ms]]
              .filter((p) => p[1] !== undefined && p[1] !== null).map((p) => p[0] + " " + duration(p[1])).join(" \u00b7 ");
            const target = (ms) => ms !== undefined && ms !== null ? " (target " + duration(ms) + ")" : "";
            return el("tr", { "data-incident": i.id, "data-result": i.result },
              el("td", {}, el("span", { class: "big" }, i.id), el("span", { class: "sub" }, "group " + i.group + ", epoch " + i.epoch)),
              el("td", {}, i.kind + (i.planned ? " (planned)" : "")),
              el("td", {}, i.from + " \u2192 " + i.to),
              el("td", {}, chip(i.result === "succeeded" ? "c-ok" : i.result === "running" ? "c-warn" : "c-bad",
                (i.result === "succeeded" ? "\u2713 " : i.result === "running" ? "\u21bb " : "\u2715 ") + i.result), i.error ? el("span", { class: "sub" }, i.error) : null),
              el("td", {}, ago(ageMs(i.decided)), el("span", { class: "sub" }, utc(i.decided))),
              el("td", {}, el("b", { "data-field": "rto", "data-ms": m.rto_ms }, duration(m.rto_ms)), target(i.rto_target_ms),
                el("span", { class: "sub" }, phases), m.worst_case_client_ms ? el("span", { class: "sub" }, "worst case for clients (with DNS TTL) " + duration(m.worst_case_client_ms)) : null),
              el("td", { "data-field": "rpo" }, rpoText(v, m), target(i.rpo_target_ms)),
              el("td", { "data-field": "grade" }, i.result === "running" ? chip("c-warn", "\u21bb running") : m.passed ? chip("c-ok", "\u2713 PASS") : chip("c-bad", "\u2715 FAIL")));
          }), 8, "no incidents or drills recorded");
        }

        function render() {
          const r = state.report;
          renderBanner(r);
          if (!r) return;
          $("controller-id").textContent = r.controller;
          $("controller-started").textContent = r.started_at ? "started " + ago(ageMs(r.started_at)) : "";
          renderGroups(r);
          renderSites(r);
          renderCoordination(r);
          renderIncidents();
        }

        async function getJSON(path) {
          const abort = new AbortController();
          const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
          try {
            const response = await fetch(path, { cache: "no-store", signal: abort.signal });
            const body = await response.json().catch(() => null);
            if (!response.ok) throw new Error(path + " answered HTTP " + response.status + (body && body.error ? ": " + body.error : ""));
            if (body === null) throw new Error(path + " did not answer JSON");
            return body;
          } catch (error) {
            throw new Error(error.name === "AbortError" ? path + ": no answer within " + TIMEOUT_MS / 1000 + " s" : error.message.startsWith(path) ? error.message : path + ": " + error.message);
          } finally {
            clearTimeout(timer);
          }
        }
        async function poll() {
          const [report, incidents] = await Promise.allSettled([getJSON("/status"), getJSON("/incidents?limit=20")]);
          if (report.status === "fulfilled") {
            Object.assign(state, { report: report.value, reportAt: performance.now(), lastOkAt: performance.now(), error: null });
          } else {
            state.error = report.reason.message;
          }
          if (incidents.status === "fulfilled") Object.assign(state, { incidents: incidents.value, incidentsError: null });
          else state.incidentsError = incidents.reason.message;
          render();
          setTimeout(poll, POLL_MS);
        }
        setInterval(render, 1000);
        poll();

        """#
}
