import Foundation
import XCTest

/// An unanswered ping takes a site down after `fall` rounds and back up after `rise`.
///
/// The controller runs inside a network namespace created for the test, whose own
/// `net.ipv4.icmp_echo_ignore_all` (a per-namespace sysctl) is switched on to stop echo
/// replies on its loopback. The host's settings are never touched.
final class PingTransitionTests: XCTestCase {
    private var namespace = ""

    override func setUpWithError() throws {
        namespace = "fo-it-\(UUID().uuidString.prefix(8).lowercased())"
        try sh(["/usr/sbin/ip", "netns", "add", namespace])
        try sh(["/usr/sbin/ip", "netns", "exec", namespace, "/usr/sbin/ip", "link", "set", "lo", "up"])
    }

    override func tearDown() {
        _ = try? sh(["/usr/sbin/ip", "netns", "del", namespace])
    }

    @discardableResult
    private func sh(_ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: args[0])
        p.arguments = Array(args.dropFirst())
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw ControllerProcess.Failure("\(args.joined(separator: " ")): \(text)") }
        return text
    }

    private func ignoreEchoes(_ on: Bool) throws {
        try sh([
            "/usr/sbin/ip", "netns", "exec", namespace, "/usr/sbin/sysctl", "-qw",
            "net.ipv4.icmp_echo_ignore_all=\(on ? 1 : 0)",
        ])
    }

    func testUnansweredPingGoesDownAfterFallAndUpAfterRise() throws {
        let c = try ControllerProcess(sites: [
            "edge": ControllerProcess.site(
                "edge", interval: "300ms", timeout: "200ms", fall: 3, rise: 2, checks: "- name: icmp\n  ping: 127.0.0.1")
        ])
        c.netns = namespace
        try c.start()
        try c.waitUntilServing()
        try c.waitFor("edge up") { try c.siteState("edge") == "up" }
        try ignoreEchoes(true)
        try c.waitFor("edge down") { try c.siteState("edge") == "down" }
        try ignoreEchoes(false)
        try c.waitFor("edge up again") { try c.siteState("edge") == "up" }
        XCTAssertEqual(c.stop(), 0, c.logTail())

        let t = try Transitions(c, site: "edge")
        let down = t.assertWentDown(fall: 3, interval: 300, failing: "icmp", diagnosis: "timeout")
        XCTAssertEqual(down?.result("icmp")?["kind"] as? String, "ping")
        t.assertCameBack(rise: 2)
        XCTAssertTrue(c.logTail(400).contains("site edge is down: 3 failed rounds in a row (icmp: timeout)"), c.logTail())
    }

    /// Without CAP_NET_RAW the controller falls back to the kernel's datagram ping socket
    /// when `net.ipv4.ping_group_range` admits its group, and otherwise says plainly what
    /// is missing (and the round is inconclusive, not failed). Both sysctls are set in
    /// this test's own namespace.
    func testWithoutRawSocketsPingUsesDatagramsOrSaysWhatIsMissing() throws {
        try sh(["/usr/sbin/ip", "netns", "exec", namespace, "/usr/sbin/sysctl", "-qw", "net.ipv4.ping_group_range=0 0"])
        let allowed = try pingCheck()
        XCTAssertEqual(allowed["diagnosis"] as? String, "ok", "datagram ping as gid 0: \(allowed)")

        try sh(["/usr/sbin/ip", "netns", "exec", namespace, "/usr/sbin/sysctl", "-qw", "net.ipv4.ping_group_range=1 0"])
        let refused = try pingCheck()
        XCTAssertEqual(refused["diagnosis"] as? String, "probe_unavailable", "\(refused)")
        let error = refused["error"] as? String ?? ""
        XCTAssertTrue(error.contains("CAP_NET_RAW") && error.contains("ping_group_range"), error)
    }

    /// Runs a controller without CAP_NET_RAW in the namespace and returns its ping result.
    private func pingCheck() throws -> [String: Any] {
        let c = try ControllerProcess(sites: [
            "edge": ControllerProcess.site("edge", fall: 3, rise: 2, checks: "- name: icmp\n  ping: 127.0.0.1")
        ])
        c.netns = namespace
        c.wrapper = ["/usr/bin/setpriv", "--bounding-set=-net_raw", "--inh-caps=-net_raw", "--"]
        try c.start()
        try c.waitUntilServing()
        var result: [String: Any] = [:]
        try c.waitFor("a ping result") {
            let sites = try c.status()?["sites"] as? [[String: Any]]
            let checks = sites?.first?["checks"] as? [[String: Any]] ?? []
            result = checks.first ?? [:]
            return !result.isEmpty
        }
        XCTAssertEqual(c.stop(), 0, c.logTail())
        return result
    }
}
