import Actions
import Foundation

/// The status page served at `GET /`: one self-contained HTML document (inline CSS and
/// script, no external assets) that polls `/status` and `/incidents` and renders the
/// overall level, groups, sites with every controller's vote, coordination and recent
/// incidents with their RTO and RPO.
///
/// The `Content-Security-Policy` allows exactly the page's own `<style>` and `<script>`
/// (by their SHA-256, computed once at startup from the strings that are served) and
/// `fetch` to the same origin; nothing else loads or runs. The script builds the DOM with
/// `textContent` only, so no value from the API is ever parsed as HTML.
enum StatusPage {
    /// The HTML document.
    static let html: String = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="robots" content="noindex">
        <title>failoverctl status</title>
        <style>\(style)</style>
        </head>
        <body>
        \(skeleton)
        <script>\(script)</script>
        </body>
        </html>

        """

    /// `Content-Security-Policy` for `html`: its own style and script by hash, same-origin fetches.
    static let contentSecurityPolicy: String = [
        "default-src 'none'",
        "script-src '\(hashSource(script))'",
        "style-src '\(hashSource(style))'",
        "connect-src 'self'",
        "img-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ].joined(separator: "; ")

    /// The reply to `GET /`: the document with its security headers, never cached.
    static let reply = APIReply(
        status: 200, contentType: "text/html; charset=utf-8",
        headers: [
            ("Content-Security-Policy", contentSecurityPolicy),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
            ("Cache-Control", "no-store"),
        ],
        body: Data(html.utf8))

    /// A CSP hash source (`sha256-BASE64`) for the exact text of an inline element.
    static func hashSource(_ text: String) -> String {
        "sha256-" + Data(SHA256.hash(Data(text.utf8))).base64EncodedString()
    }

    /// The static frame the script fills in; every element it updates has an `id`, and
    /// rows it adds carry `data-*` attributes naming what they show.
    static let skeleton = """
        <header class="top">
          <div class="brand">failoverctl</div>
          <div class="who">controller <b id="controller-id">…</b> <span id="controller-started"></span></div>
          <div id="freshness" class="freshness" data-state="loading">connecting to the controller…</div>
        </header>
        <section id="banner" class="banner" data-level="LOADING" aria-live="polite">
          <div class="level"><span id="level-icon" class="icon" aria-hidden="true">…</span><span id="level">LOADING</span></div>
          <ul id="problems" class="problems"></ul>
        </section>
        <div id="unreachable" class="unreachable" hidden>
          <b>Cannot reach the controller.</b> <span id="unreachable-reason"></span>
          <span id="unreachable-age"></span> Retrying every 3 s.
        </div>
        <main id="content">
          <section>
            <h2>Groups</h2>
            <table id="groups"><thead><tr><th>Group</th><th>Primary</th><th>Epoch</th><th>State</th>
            <th>Paused</th><th>Last incident</th></tr></thead><tbody></tbody></table>
          </section>
          <section>
            <h2>Sites</h2>
            <table id="sites"><thead><tr><th>Site</th><th>Quorum verdict</th><th>This controller</th>
            <th>Votes</th><th>Checks (latency)</th></tr></thead><tbody></tbody></table>
          </section>
          <section>
            <h2>Recent incidents and drills</h2>
            <p id="incidents-error" class="note" hidden></p>
            <table id="incidents"><thead><tr><th>Incident</th><th>Kind</th><th>Switch</th><th>Result</th>
            <th>Decided</th><th>RTO (phases)</th><th>RPO (lag at promotion)</th><th>Grade</th></tr></thead>
            <tbody></tbody></table>
          </section>
          <section>
            <h2>Coordination</h2>
            <dl id="coordination" class="facts">
              <div><dt>Backend</dt><dd id="coord-backend">…</dd></div>
              <div><dt>Quorate</dt><dd id="coord-quorate">…</dd></div>
              <div><dt>Leader</dt><dd id="coord-leader">…</dd></div>
              <div><dt>Votes needed</dt><dd id="coord-needed">…</dd></div>
              <div><dt>Problem</dt><dd id="coord-problem">…</dd></div>
            </dl>
            <table id="members"><thead><tr><th>Member</th><th>Alive</th><th>Lease age</th><th>Role</th></tr></thead>
            <tbody></tbody></table>
          </section>
        </main>
        <footer>Polls <code>/status</code> and <code>/incidents</code> every 3 s. Ages use the controller's clock
        at the time of its report plus the time since the report arrived. The same data:
        <code>failoverctl status</code>, <code>failoverctl report</code>.</footer>
        <noscript><p class="unreachable">This page needs JavaScript. The same data is at <code>/status</code> and
        <code>/incidents</code> (JSON), or run <code>failoverctl status</code>.</p></noscript>
        """
}
