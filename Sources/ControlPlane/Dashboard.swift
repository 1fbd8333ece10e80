/// The admin server's live page at `/`: one self-contained HTML document (no external assets, no
/// build step) whose script polls `/status` every two seconds and draws the Gateways with their
/// listeners and routes, every connected Envoy with its versions per type and NACKs in full (a
/// NACKed Envoy in red), the last reload with its file problems, and certificate expiries; a
/// route's `explain` view is fetched from `/debug/explain` when opened. Everything from the
/// configuration is written as text, never as markup.
enum Dashboard {
    static let page = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <link rel="icon" href="data:,">
        <title>Switchboard</title>
        <style>
          body { font: 14px/1.4 system-ui, sans-serif; margin: 0 1.5rem 2rem; color: #1d1d1f; background: #fafafa; }
          h1 { font-size: 1.3rem; margin: 1rem 0 .25rem; }
          h2 { font-size: 1.05rem; margin: 1.5rem 0 .4rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
          table { border-collapse: collapse; width: 100%; background: #fff; }
          th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #eee; vertical-align: top; }
          th { font-weight: 600; color: #555; }
          pre { margin: .3rem 0; white-space: pre-wrap; font: 12px/1.35 ui-monospace, monospace; }
          .ok { color: #1b5e20; }
          .nack { color: #b00020; background: #fde8ea; }
          .warn { color: #8a5300; background: #fff4e0; }
          .muted { color: #777; }
          .badge { display: inline-block; padding: 0 .45rem; border-radius: .6rem; font-size: 12px; border: 1px solid currentColor; }
          button { font: inherit; font-size: 12px; }
          #banner { margin: .3rem 0; }
        </style>
        </head>
        <body>
        <h1>Switchboard <span id="ready" class="badge muted">loading</span></h1>
        <div id="banner" class="muted">Waiting for /status…</div>
        <h2>Last reload</h2>
        <div id="reload"></div>
        <h2>Envoys</h2>
        <div id="envoys"></div>
        <h2>Gateways</h2>
        <div id="gateways"></div>
        <h2>Certificates</h2>
        <div id="certificates"></div>
        <script>
        "use strict";
        // Builds an element; strings become text nodes, so nothing from the configuration is markup.
        function el(tag, attributes, ...children) {
          const node = document.createElement(tag);
          for (const [key, value] of Object.entries(attributes || {})) {
            if (value !== undefined && value !== null) node.setAttribute(key, value);
          }
          for (const child of children.flat()) {
            if (child === undefined || child === null) continue;
            node.append(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
          }
          return node;
        }
        function replace(id, ...children) { document.getElementById(id).replaceChildren(...children.flat()); }
        function since(text) {
          const seconds = Math.max(0, Math.round((Date.now() - Date.parse(text)) / 1000));
          if (seconds < 120) return seconds + " s ago";
          if (seconds < 7200) return Math.round(seconds / 60) + " min ago";
          return Math.round(seconds / 3600) + " h ago";
        }
        // A type's last reply was a NACK of what was last sent: Envoy runs an older version.
        function nacked(state) {
          return state.nackVersion !== undefined && state.nackVersion === state.sent && state.acked !== state.sent;
        }

        function renderReload(status) {
          const reload = status.reload;
          if (!reload) { replace("reload", el("div", { class: "muted" }, "No reload yet.")); return; }
          const failed = reload.outcome === "failed" || (reload.diagnostics || []).length > 0;
          const parts = [el("div", { class: failed ? "warn" : "ok" },
            reload.outcome + " " + since(reload.at) + (reload.error ? ": " + reload.error : ""))];
          if ((reload.diagnostics || []).length) {
            parts.push(el("pre", { class: "nack", id: "diagnostics" }, reload.diagnostics.join("\n")));
          }
          if ((reload.lastKnownGood || []).length) {
            parts.push(el("div", { class: "warn" }, "Last good content kept for: " + reload.lastKnownGood.join(", ")));
          }
          if ((status.unwatched || []).length) {
            parts.push(el("div", { class: "warn" }, "Not watched: " + status.unwatched.join("; ")));
          }
          replace("reload", parts);
        }

        function renderEnvoys(envoys) {
          if (!envoys.length) { replace("envoys", el("div", { class: "muted" }, "No Envoy is connected.")); return; }
          const types = [...new Set(envoys.flatMap(e => Object.keys(e.types)))].sort();
          const rows = [];
          for (const envoy of envoys) {
            const bad = types.filter(t => envoy.types[t] && nacked(envoy.types[t]));
            const cells = types.map(type => {
              const state = envoy.types[type];
              if (!state) return el("td", { class: "muted" }, "–");
              if (nacked(state)) return el("td", { class: "nack" }, "NACK " + state.nackVersion);
              if (state.acked !== undefined && state.acked === state.sent) return el("td", { class: "ok" }, state.acked);
              return el("td", { class: "muted" }, "sent " + (state.sent || "–") + ", acked " + (state.acked || "–"));
            });
            rows.push(el("tr", { class: bad.length ? "nack" : "ok", "data-node": envoy.nodeID },
              el("td", {}, envoy.nodeID), el("td", {}, envoy.nodeCluster), el("td", {}, envoy.stream),
              el("td", {}, since(envoy.connectedSince)), cells));
            for (const type of types) {
              const state = envoy.types[type];
              if (state && state.nackMessage !== undefined) {
                rows.push(el("tr", { class: nacked(state) ? "nack" : "muted" },
                  el("td", { colspan: String(4 + types.length) },
                    el("pre", {}, (nacked(state) ? "" : "earlier ") + type + " NACK of " + state.nackVersion + ": " + state.nackMessage))));
              }
            }
          }
          replace("envoys", el("table", {},
            el("tr", {}, el("th", {}, "node"), el("th", {}, "gateway"), el("th", {}, "stream"), el("th", {}, "connected"),
              types.map(t => el("th", {}, t))),
            rows));
        }

        function conditionText(conditions) {
          const off = (conditions || []).filter(c => c.status !== "True");
          return off.length ? off.map(c => c.type + ": " + c.reason + " (" + c.message + ")").join("; ") : "";
        }
        const openExplains = new Set();
        async function explain(key, target) {
          const [gateway, kind, route] = key.split("|");
          try {
            const response = await fetch("debug/explain?route=" + encodeURIComponent(kind + "/" + route) +
              "&gateway=" + encodeURIComponent(gateway), { cache: "no-store" });
            target.replaceChildren(el("pre", { class: response.ok ? "" : "warn" }, await response.text()));
          } catch (error) {
            target.replaceChildren(el("pre", { class: "warn" }, "explain failed: " + error));
          }
        }
        function renderGateways(report) {
          const gateways = (report && report.gateways) || [];
          if (!gateways.length) { replace("gateways", el("div", { class: "muted" }, "No Gateway is loaded.")); return; }
          const routes = [...(report.httpRoutes || []).map(r => ["httproute", r]), ...(report.grpcRoutes || []).map(r => ["grpcroute", r])];
          const sections = [];
          for (const gateway of gateways) {
            const key = gateway.namespace + "/" + gateway.name;
            const problems = conditionText(gateway.conditions);
            sections.push(el("h3", { class: problems ? "warn" : "" }, "Gateway " + key + (problems ? " — " + problems : "")));
            sections.push(el("table", {}, el("tr", {}, el("th", {}, "listener"), el("th", {}, "routes"), el("th", {}, "problems")),
              (gateway.listeners || []).map(listener => {
                const text = conditionText(listener.conditions);
                return el("tr", { class: text ? "warn" : "" }, el("td", {}, listener.name),
                  el("td", {}, listener.attachedRoutes), el("td", {}, text));
              })));
            const rows = [];
            for (const [kind, route] of routes) {
              const parents = (route.parents || []).filter(p =>
                (p.parentRef.namespace || route.namespace) + "/" + p.parentRef.name === key);
              if (!parents.length) continue;
              const problems = parents.map(p => conditionText(p.conditions)).filter(Boolean).join("; ");
              const name = route.namespace + "/" + route.name;
              const explainKey = key + "|" + kind + "|" + name;
              const detail = el("td", { colspan: "3" });
              const button = el("button", { type: "button" }, openExplains.has(explainKey) ? "hide" : "explain");
              button.addEventListener("click", () => {
                if (openExplains.has(explainKey)) { openExplains.delete(explainKey); detail.replaceChildren(); button.textContent = "explain"; }
                else { openExplains.add(explainKey); button.textContent = "hide"; explain(explainKey, detail); }
              });
              rows.push(el("tr", { class: problems ? "warn" : "" }, el("td", {}, kind + " " + name), el("td", {}, problems || "accepted"), el("td", {}, button)));
              rows.push(el("tr", {}, detail));
              if (openExplains.has(explainKey)) explain(explainKey, detail);
            }
            sections.push(rows.length
              ? el("table", {}, el("tr", {}, el("th", {}, "route"), el("th", {}, "status"), el("th", {}, "")), rows)
              : el("div", { class: "muted" }, "No route is attached."));
          }
          replace("gateways", sections);
        }

        function renderCertificates(report) {
          const certificates = (report && report.certificates) || [];
          if (!certificates.length) { replace("certificates", el("div", { class: "muted" }, "No listener certificate is loaded.")); return; }
          replace("certificates", el("table", {},
            el("tr", {}, el("th", {}, "secret"), el("th", {}, "expires"), el("th", {}, "listeners")),
            certificates.map(c => el("tr", { class: c.expiresSoon ? "warn" : "" },
              el("td", {}, c.secret), el("td", {}, c.notAfter + (c.expiresSoon ? " (soon)" : "")), el("td", {}, c.listeners.join(", "))))));
        }

        let lastReload = null;
        async function refresh() {
          try {
            const response = await fetch("status", { cache: "no-store" });
            if (!response.ok) { replace("banner", el("span", { class: "warn" }, "/status answered " + response.status)); return; }
            const status = await response.json();
            const ready = document.getElementById("ready");
            ready.textContent = status.ready ? "ready" : "not ready";
            ready.className = "badge " + (status.ready ? "ok" : "warn");
            replace("banner", el("span", { class: "muted" }, "Updated " + new Date().toLocaleTimeString() + "; refreshes every 2 s."));
            renderReload(status);
            renderEnvoys(status.envoys || []);
            // Routes and their explain views are drawn again only when a reload ran.
            const reloadKey = status.reload ? status.reload.at + status.reload.outcome : "";
            if (reloadKey !== lastReload) {
              lastReload = reloadKey;
              renderGateways(status.resources);
              renderCertificates(status.resources);
            }
          } catch (error) {
            replace("banner", el("span", { class: "warn" }, "Switchboard did not answer: " + error.message));
          }
        }
        refresh();
        setInterval(refresh, 2000);
        </script>
        </body>
        </html>

        """#
}
