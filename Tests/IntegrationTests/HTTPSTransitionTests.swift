import FailoverTesting
import Foundation
import XCTest

/// HTTPS checks against a real nginx, through the `failoverctl` binary: a 503 while TCP
/// still connects, and a certificate that expires within `min_cert_days`, each take the
/// site down after exactly `fall` rounds and back up after `rise`.
final class HTTPSTransitionTests: XCTestCase {
    private var nginx: NginxServer?
    private var certs: TestCertificates!
    private var certFile = ""
    private var keyFile = ""

    override func setUpWithError() throws {
        let dir = try TemporaryDirectory.make(prefix: "fo-https-it")
        certs = try TestCertificates.make(in: dir)
        let leaf = try certs.leaf(name: "site", days: 365)
        // nginx serves fixed paths, so a test can swap the certificate and reload.
        certFile = dir.appendingPathComponent("served.pem").path
        keyFile = dir.appendingPathComponent("served.key").path
        try FileManager.default.copyItem(atPath: leaf.cert, toPath: certFile)
        try FileManager.default.copyItem(atPath: leaf.key, toPath: keyFile)
        nginx = try NginxServer([.https(certificate: certFile, key: keyFile)], reloadable: true)
    }

    override func tearDown() {
        // XCTest keeps test case objects alive, so clean up here rather than in deinit.
        nginx?.stop()
        if let nginx { try? FileManager.default.removeItem(at: nginx.directory) }
        nginx = nil
        if let certs { try? FileManager.default.removeItem(at: certs.directory) }
    }

    private func site(minCertDays: Int? = nil) -> String {
        let server = nginx!
        let checks = """
            - name: port
              tcp: 127.0.0.1:\(server.port())
            - name: api
              https: \(server.url())
              expect_status: [200]
              expect_body: ok
              ca_file: \(certs.caFile)
            """ + (minCertDays.map { "\n  min_cert_days: \($0)" } ?? "")
        return ControllerProcess.site("web", interval: "300ms", timeout: "250ms", fall: 3, rise: 2, checks: checks)
    }

    func testHTTP503WhileTCPConnectsGoesDownAfterFallAndUpAfterRise() throws {
        let c = try ControllerProcess(sites: ["web": site()])
        try c.start()
        try c.waitUntilServing()
        try c.waitFor("web up") { try c.siteState("web") == "up" }
        try nginx!.setHealthy(false)
        try c.waitFor("web down") { try c.siteState("web") == "down" }
        try nginx!.setHealthy(true)
        try c.waitFor("web up again") { try c.siteState("web") == "up" }
        XCTAssertEqual(c.stop(), 0, c.logTail())

        let t = try Transitions(c, site: "web")
        let down = t.assertWentDown(fall: 3, interval: 300, failing: "api", diagnosis: "unexpected_status", passing: ["port"])
        let api = down?.result("api")
        XCTAssertEqual((api?["status"] as? NSNumber)?.intValue, 503)
        XCTAssertEqual(api?["kind"] as? String, "https")
        let timings = api?["timings"] as? [String: Any]
        for phase in ["connect_ms", "tls_ms", "first_byte_ms", "total_ms"] {
            XCTAssertNotNil(timings?[phase], "\(phase) recorded: \(timings ?? [:])")
        }
        XCTAssertNotNil(api?["cert_days_left"], "certificate lifetime recorded")
        t.assertCameBack(rise: 2)
        XCTAssertTrue(
            c.logTail(400).contains("site web is down: 3 failed rounds in a row (api: unexpected_status 503)"), c.logTail())
    }

    func testCertificateExpiringWithinMinCertDaysGoesDownAndRenewedComesBack() throws {
        let c = try ControllerProcess(sites: ["web": site(minCertDays: 14)])
        try c.start()
        try c.waitUntilServing()
        try c.waitFor("web up") { try c.siteState("web") == "up" }
        try replaceCertificate(days: 5)
        try c.waitFor("web down") { try c.siteState("web") == "down" }
        try replaceCertificate(days: 365)
        try c.waitFor("web up again") { try c.siteState("web") == "up" }
        XCTAssertEqual(c.stop(), 0, c.logTail())

        let t = try Transitions(c, site: "web")
        let down = t.assertWentDown(
            fall: 3, interval: 300, failing: "api", diagnosis: "certificate_expiring", passing: ["port"])
        let days = (down?.result("api")?["cert_days_left"] as? NSNumber)?.intValue ?? -1
        XCTAssertTrue((3...5).contains(days), "a 5-day certificate has 3 to 5 days left, got \(days)")
        XCTAssertTrue((down?.result("api")?["error"] as? String ?? "").contains("min_cert_days 14"))
        t.assertCameBack(rise: 2)
    }

    private func replaceCertificate(days: Int) throws {
        let leaf = try certs.leaf(name: "site-\(days)", days: days)
        for (from, to) in [(leaf.cert, certFile), (leaf.key, keyFile)] {
            try FileManager.default.removeItem(atPath: to)
            try FileManager.default.copyItem(atPath: from, toPath: to)
        }
        try nginx!.reload()
    }
}
