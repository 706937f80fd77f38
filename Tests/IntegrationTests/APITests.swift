import FailoverTesting
import Foundation
import XCTest

/// The controller's HTTP API on the wire, through curl: answers, errors, limits.
final class APITests: XCTestCase {
    private func curl(_ c: ControllerProcess, _ args: [String]) throws -> (code: String, body: String) {
        let out = try c.run(
            ["/usr/bin/curl", "-s", "--max-time", "5", "-o", "-", "-w", "\n%{http_code}"] + args, direct: true)
        let lines = out.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        return (String(lines.last ?? ""), lines.dropLast().joined(separator: "\n"))
    }

    func testEndpointsErrorsAndLimits() throws {
        let listener = try TCPListener()
        let c = try ControllerProcess(sites: [
            "a": ControllerProcess.site("a", fall: 3, rise: 2, checks: "- tcp: 127.0.0.1:\(listener.port)")
        ])
        try c.start()
        try c.waitUntilServing()
        let base = "http://127.0.0.1:\(c.port)"
        let health = try curl(c, ["\(base)/healthz"])
        XCTAssertEqual(health.code, "200")
        XCTAssertTrue(health.body.contains("\"schedule\""), health.body)
        XCTAssertEqual(try curl(c, ["\(base)/status"]).code, "200")
        XCTAssertEqual(try curl(c, ["\(base)/events?site=a&since=1m&limit=5"]).code, "200")

        let missing = try curl(c, ["\(base)/nope"])
        XCTAssertEqual(missing.code, "404")
        XCTAssertTrue(missing.body.contains("/healthz"), missing.body)
        XCTAssertEqual(try curl(c, ["-X", "POST", "\(base)/status"]).code, "405")
        let badSince = try curl(c, ["\(base)/events?since=soon"])
        XCTAssertEqual(badSince.code, "400")
        XCTAssertTrue(badSince.body.contains("since"), badSince.body)
        XCTAssertEqual(try curl(c, ["\(base)/events?after_id=x"]).code, "400")
        let head = try curl(c, ["-I", "\(base)/status"])
        XCTAssertTrue(head.body.hasPrefix("HTTP/1.1 200"), head.body)
        // A Content-Length near Int.max is refused, and the controller lives on.
        let overflow = try c.run(["/usr/bin/python3", "-c", """
            import socket; s = socket.create_connection(("127.0.0.1", \(c.port)))
            s.sendall(b"POST /groups/x/pause HTTP/1.1\\r\\nContent-Length: 9223372036854775807\\r\\n\\r\\n")
            print(s.recv(100).decode().split("\\r\\n")[0])
            """], direct: true)
        XCTAssertEqual(overflow.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "HTTP/1.1 413 Content Too Large", overflow.stderr)
        XCTAssertEqual(try curl(c, ["\(base)/healthz"]).code, "200")
        let huge = String(repeating: "a", count: 20_000)
        XCTAssertEqual(try curl(c, ["-H", "X-Big: \(huge)", "\(base)/status"]).code, "431")

        // Many clients at once are all answered.
        let urls = Array(repeating: "\(base)/status", count: 20)
        let parallel = try c.run(
            ["/usr/bin/curl", "-s", "--parallel", "--parallel-max", "20", "--max-time", "10", "-w", "%{http_code}\n"]
                + urls.flatMap { ["-o", "/dev/null", $0] }, direct: true)
        XCTAssertEqual(parallel.stdout.split(separator: "\n").filter { $0 == "200" }.count, 20, parallel.stdout)
        XCTAssertEqual(c.stop(), 0, c.logTail())
    }

    func testGroupEndpointsAuthenticationAndBadRequests() throws {
        let listener = try TCPListener()
        let site = { (name: String) in
            ControllerProcess.site(
                name, fall: 3, rise: 1, checks: "- tcp: 127.0.0.1:\(listener.port)",
                actions: "promote: { exec: [\"/bin/true\"] }")
        }
        let group = "groups:\n  - name: web\n    primary: a\n    standbys: [b]\n    plan: [promote, verify]"
        let open = try ControllerProcess(sites: ["a": site("a"), "b": site("b")], extra: group)
        try open.start()
        try open.waitUntilServing()
        let base = "http://127.0.0.1:\(open.port)"
        let refused = try curl(open, ["-X", "POST", "\(base)/groups/web/pause"])
        XCTAssertEqual(refused.code, "403")
        XCTAssertTrue(refused.body.contains("api_token"), refused.body)
        XCTAssertEqual(try curl(open, ["\(base)/groups/web"]).code, "200")
        XCTAssertEqual(try curl(open, ["\(base)/groups"]).code, "200")
        XCTAssertEqual(try curl(open, ["\(base)/incidents?group=web"]).body, "[]")
        XCTAssertEqual(try curl(open, ["\(base)/groups/nope"]).code, "404")
        XCTAssertEqual(try curl(open, ["\(base)/groups/web/drill"]).code, "405")
        XCTAssertEqual(try curl(open, ["\(base)/groups/web/plan?command=failover"]).code, "400")
        XCTAssertEqual(open.stop(), 0, open.logTail())

        let token = "api-test-token-0123456789"
        let c = try ControllerProcess(sites: ["a": site("a"), "b": site("b")], extra: group, apiToken: token)
        try c.start()
        try c.waitUntilServing()
        let auth = ["-H", "Authorization: Bearer \(token)"]
        let cbase = "http://127.0.0.1:\(c.port)"
        XCTAssertEqual(try curl(c, auth + ["-X", "POST", "-d", "{not json", "\(cbase)/groups/web/failover"]).code, "400")
        XCTAssertEqual(try curl(c, auth + ["-X", "POST", "-d", "{}", "\(cbase)/groups/web/failover"]).code, "400")
        let big = String(repeating: "x", count: 17_000)
        XCTAssertEqual(try curl(c, auth + ["-X", "POST", "-d", big, "\(cbase)/groups/web/pause"]).code, "413")
        let notUp = try curl(c, auth + ["-X", "POST", "-d", "{\"to\": \"a\"}", "\(cbase)/groups/web/failover"])
        XCTAssertEqual(notUp.code, "409")
        XCTAssertTrue(notUp.body.contains("already the primary"), notUp.body)
        let paused = try curl(c, auth + ["-X", "POST", "\(cbase)/groups/web/pause"])
        XCTAssertEqual(paused.code, "202")
        XCTAssertTrue(paused.body.contains("\"phase\":\"paused\""), paused.body)
        XCTAssertEqual(c.stop(), 0, c.logTail())
        listener.close()
    }
}
