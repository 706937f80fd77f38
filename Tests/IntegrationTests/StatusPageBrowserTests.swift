import FailoverTesting
import Foundation
import XCTest

/// The status page at `GET /` in a real browser: a controller with group `web` on two real
/// nginx sites fails over once, then headless chromium loads the page (its inline script
/// runs only if the CSP hash is right) and the rendered DOM must show what `/status` and
/// `/incidents` say: the new primary, the epoch, each site's verdict, each controller's
/// vote, the leader and the incident with its RTO. Then a screenshot, and the page with no
/// controller behind it.
final class StatusPageBrowserTests: XCTestCase {
    func testTheStatusPageShowsAFailoverInARealBrowser() throws {
        let started = Date()
        let chromium = try HeadlessChromium()
        defer { chromium.close() }
        let east = try NginxServer([.http])
        let west = try NginxServer([.http])
        defer { west.stop() }
        let log = FailoverEndToEndTests.temporaryFile("actions.log")
        defer { try? FileManager.default.removeItem(atPath: log) }
        let c = try FailoverEndToEndTests.setUp(east: east, west: west, log: log)
        try c.start()
        try c.waitUntilServing()
        try c.waitFor("both sites up") { try c.siteState("east") == "up" && c.siteState("west") == "up" }
        east.stop()
        try c.waitFor("web failed over to west with a measured RTO") {
            let group = try c.json("/groups/web") as? [String: Any]
            let last = group?["last_incident"] as? [String: Any]
            return group?["primary"] as? String == "west" && group?["phase"] as? String == "steady" && last?["rto_ms"] != nil
        }
        let url = "http://127.0.0.1:\(c.port)/"
        try assertHeaders(url, c)

        let dom = DumpedDOM(html: try chromium.dumpDOM(url))
        let status = try XCTUnwrap(try c.status())
        try assertPage(dom, status: status, incidents: try XCTUnwrap(try c.json("/incidents") as? [[String: Any]]))

        let screenshot = (ProcessInfo.processInfo.environment["FAILOVERCTL_SCREENSHOT_DIR"] ?? chromium.profile.path)
            + "/status-page.png"
        try chromium.screenshot(url, to: screenshot)
        try assertPNG(screenshot)

        // The same page with nothing answering its fetches says so instead of showing stale data as live.
        let page = try XCTUnwrap(try c.get("/"))
        let file = chromium.profile.appendingPathComponent("status-page.html")
        try page.write(to: file)
        let offline = DumpedDOM(html: try chromium.dumpDOM(file.absoluteString, budgetMs: 2_000))
        XCTAssertEqual(offline.attribute("data-level", of: offline.element("id", "banner") ?? ""), "UNREACHABLE")
        XCTAssertEqual(offline.text("id", "level"), "UNKNOWN — cannot reach the controller")
        XCTAssertEqual(offline.attribute("data-state", of: offline.element("id", "freshness") ?? ""), "error")
        let notice = try XCTUnwrap(offline.element("id", "unreachable"))
        XCTAssertFalse(notice.prefix { $0 != ">" }.contains("hidden"), notice)
        XCTAssertTrue(DumpedDOM.text(notice).contains("/status"), notice)

        XCTAssertEqual(c.stop(), 0, c.logTail())
        let seconds = Date().timeIntervalSince(started)
        XCTAssertLessThan(seconds, 30, "the browser test should stay fast")
        print("status page: \(page.count) bytes; browser test took \(String(format: "%.1f", seconds)) s")
    }

    /// Three controllers on a real 3-member etcd cluster, c3 seeing east down: a follower's
    /// page shows every controller's vote on east (c3 dissenting), the quorum's verdict up,
    /// the leader, and each member alive with its lease.
    func testTheStatusPageShowsEveryControllersVoteWithEtcd() throws {
        let chromium = try HeadlessChromium()
        defer { chromium.close() }
        let etcd = try EtcdCluster()
        defer { etcd.stop() }
        let q = try QuorumCluster(etcd: etcd, eastCheck: ["c3": "http://127.0.0.1:\(try FreePort.tcp())/health"])
        try q.start()
        let leader = try q.waitForLeader()
        let follower = try XCTUnwrap(QuorumCluster.ids.first { $0 != leader })
        try q[follower].waitFor("c3's down vote on east seen by \(follower)") {
            let votes = try q.quorum(follower, site: "east")?["votes"] as? [String: String]
            return votes == ["c1": "up", "c2": "up", "c3": "down"]
        }
        let dom = DumpedDOM(html: try chromium.dumpDOM("http://127.0.0.1:\(q[follower].port)/"))
        XCTAssertEqual(dom.text("id", "controller-id"), follower)
        let east = try XCTUnwrap(dom.element("data-site", "east"), dom.html)
        XCTAssertEqual(dom.attribute("data-verdict", of: dom.element("data-field", "verdict", in: east) ?? ""), "up", east)
        for (id, verdict) in [("c1", "up"), ("c2", "up"), ("c3", "down")] {
            let vote = try XCTUnwrap(dom.element("data-vote", id, in: east), east)
            XCTAssertEqual(dom.attribute("data-verdict", of: vote), verdict, "\(id)'s vote on east: \(east)")
            let member = try XCTUnwrap(dom.element("data-member", id), dom.html)
            XCTAssertEqual(dom.attribute("data-alive", of: member), "true", member)
            XCTAssertEqual(DumpedDOM.text(member).contains("leader"), id == leader, member)
        }
        XCTAssertTrue(DumpedDOM.text(east).contains("2 of 3 votes decide"), east)
        XCTAssertEqual(dom.text("id", "coord-backend"), "etcd")
        XCTAssertEqual(dom.text("id", "coord-leader"), leader)
        XCTAssertEqual(dom.text("id", "coord-quorate"), "✓ yes")
        XCTAssertEqual(dom.text("id", "coord-needed"), "2 of 3")
        XCTAssertEqual(dom.text("data-field", "epoch", in: dom.element("data-group", "web")), "0")
        if let dir = ProcessInfo.processInfo.environment["FAILOVERCTL_SCREENSHOT_DIR"] {
            try chromium.screenshot("http://127.0.0.1:\(q[follower].port)/", to: dir + "/status-page-etcd.png")
        }
    }

    /// HTML with a strict CSP that names the script and style by hash and nothing by `unsafe-inline`.
    private func assertHeaders(_ url: String, _ c: ControllerProcess) throws {
        let head = try c.run(["/usr/bin/curl", "-sf", "--max-time", "5", "-D", "-", "-o", "/dev/null", url], direct: true)
        XCTAssertEqual(head.status, 0, head.stderr)
        let lines = head.stdout.split(separator: "\r\n").map(String.init)
        XCTAssertTrue(lines.contains("Content-Type: text/html; charset=utf-8"), head.stdout)
        XCTAssertTrue(lines.contains("X-Content-Type-Options: nosniff"), head.stdout)
        let csp = try XCTUnwrap(lines.first { $0.hasPrefix("Content-Security-Policy: ") }, head.stdout)
        XCTAssertTrue(csp.contains("default-src 'none'"), csp)
        XCTAssertTrue(csp.contains("script-src 'sha256-"), csp)
        XCTAssertTrue(csp.contains("connect-src 'self'"), csp)
        XCTAssertFalse(csp.contains("unsafe"), csp)
    }

    /// The rendered DOM against the API's own answers.
    private func assertPage(_ dom: DumpedDOM, status: [String: Any], incidents: [[String: Any]]) throws {
        let levels = ["OK", "WARNING", "CRITICAL", "UNKNOWN"]
        let level = try XCTUnwrap(status["level"] as? Int)
        XCTAssertEqual(dom.attribute("data-level", of: dom.element("id", "banner") ?? ""), levels[level], dom.html)
        XCTAssertEqual(dom.text("id", "level"), levels[level])
        let problems = dom.text("id", "problems") ?? ""
        for problem in status["problems"] as? [String] ?? [] { XCTAssertTrue(problems.contains(problem), problems) }
        XCTAssertEqual(dom.attribute("data-state", of: dom.element("id", "freshness") ?? ""), "ok")
        XCTAssertEqual(dom.text("id", "controller-id"), "it-1")

        let group = try XCTUnwrap(dom.element("data-group", "web"), dom.html)
        XCTAssertEqual(dom.text("data-field", "name", in: group), "web")
        XCTAssertEqual(dom.text("data-field", "primary", in: group), "west")
        XCTAssertEqual(dom.text("data-field", "epoch", in: group), "1")
        XCTAssertEqual(dom.attribute("data-phase", of: dom.element("data-field", "state", in: group) ?? ""), "steady")
        XCTAssertEqual(dom.text("data-field", "paused", in: group), "no")
        let last = try XCTUnwrap(dom.element("data-field", "last-incident", in: group), group)
        XCTAssertEqual(dom.attribute("data-incident", of: last), "web-1")
        XCTAssertTrue(DumpedDOM.text(last).contains("failover east → west, succeeded"), last)

        for (site, verdict) in [("east", "down"), ("west", "up")] {
            let row = try XCTUnwrap(dom.element("data-site", site), dom.html)
            XCTAssertEqual(dom.attribute("data-verdict", of: dom.element("data-field", "verdict", in: row) ?? ""), verdict, row)
            XCTAssertEqual(dom.attribute("data-state", of: dom.element("data-field", "state", in: row) ?? ""), verdict, row)
            let vote = try XCTUnwrap(dom.element("data-vote", "it-1", in: row), row)
            XCTAssertEqual(dom.attribute("data-verdict", of: vote), verdict, row)
            XCTAssertEqual(DumpedDOM.text(vote), "it-1: \(verdict == "up" ? "✓" : "✕") \(verdict)")
            XCTAssertNotNil(dom.element("data-check", "api", in: row), row)
        }
        let sites = try XCTUnwrap(status["sites"] as? [[String: Any]])
        for site in sites {
            let votes = try XCTUnwrap((site["quorum"] as? [String: Any])?["votes"] as? [String: String])
            XCTAssertEqual(votes, ["it-1": site["name"] as? String == "east" ? "down" : "up"], "\(site)")
        }

        XCTAssertEqual(dom.text("id", "coord-backend"), "local")
        XCTAssertEqual(dom.text("id", "coord-leader"), "it-1")
        XCTAssertEqual(dom.text("id", "coord-quorate"), "✓ yes")
        XCTAssertEqual(dom.text("id", "coord-needed"), "1 of 1")
        let member = try XCTUnwrap(dom.element("data-member", "it-1"), dom.html)
        XCTAssertEqual(dom.attribute("data-alive", of: member), "true")
        XCTAssertTrue(DumpedDOM.text(member).contains("leader"), member)

        let measures = try XCTUnwrap(incidents.first { ($0["incident"] as? [String: Any])?["id"] as? String == "web-1" }?["measures"] as? [String: Any])
        let rto = try XCTUnwrap(measures["rto_ms"] as? Int)
        let row = try XCTUnwrap(dom.element("data-incident", "web-1", in: dom.element("id", "incidents")), dom.html)
        XCTAssertEqual(dom.attribute("data-result", of: row), "succeeded")
        let cell = try XCTUnwrap(dom.element("data-field", "rto", in: row), row)
        XCTAssertEqual(dom.attribute("data-ms", of: cell), String(rto))
        XCTAssertEqual(DumpedDOM.text(cell), Self.duration(rto))
        XCTAssertTrue(DumpedDOM.text(row).contains("east → west"), row)
        XCTAssertTrue(DumpedDOM.text(row).contains("(target 30.0 s)"), row)
        XCTAssertTrue(DumpedDOM.text(row).contains("detection"), row)
        XCTAssertEqual(dom.text("data-field", "grade", in: row), "✓ PASS")
    }

    /// The page's duration text for `ms` below a minute (`840 ms`, `2.3 s`).
    static func duration(_ ms: Int) -> String {
        ms < 1_000 ? "\(ms) ms" : String(format: "%.1f s", (Double(ms) / 100).rounded(.toNearestOrAwayFromZero) / 10)
    }

    /// A real PNG of a rendered page, not an empty canvas.
    private func assertPNG(_ path: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertEqual(Array(data.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "PNG signature")
        XCTAssertGreaterThan(data.count, 20_000, "a rendered page, not a blank image")
        // IHDR: width and height, big-endian, right after the signature and the chunk header.
        let width = data[16..<20].reduce(0) { $0 << 8 | Int($1) }
        let height = data[20..<24].reduce(0) { $0 << 8 | Int($1) }
        XCTAssertEqual(width, 1280)
        XCTAssertEqual(height, 1000)
    }
}
