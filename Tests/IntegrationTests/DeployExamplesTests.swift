import FailoverTesting
import Foundation
import XCTest

/// `deploy/examples/`: the three regional controller files pass `failoverctl check` with the
/// variables of `failoverctl.env.example`, once installed (their `/etc/failoverctl/` TLS files
/// are real test certificates in a temporary directory), and differ only in `controller.id`.
final class DeployExamplesTests: XCTestCase {
    static let regions = ["us-east-1", "us-west-2", "eu-west-1"]
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("deploy/examples")

    func testEveryRegionalConfigPassesCheck() throws {
        let etc = try Self.install()
        defer { try? FileManager.default.removeItem(at: etc) }
        let environment = try Self.environmentExample()
        XCTAssertEqual(
            Set(environment.keys),
            ["FAILOVERCTL_API_TOKEN", "FAILOVERCTL_LISTEN", "HEALTH_CHECK_TOKEN", "PG_PASSWORD", "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY", "PAGERDUTY_ROUTING_KEY", "SLACK_WEBHOOK_URL"])
        for region in Self.regions {
            let config = etc.appendingPathComponent("\(region).yaml").path
            let result = try Self.check(config, environment)
            XCTAssertEqual(result.status, 0, "\(region): \(result.stderr)")
            XCTAssertTrue(result.stdout.contains("controller \(region), API on 127.0.0.1:7400"), result.stdout)
            XCTAssertTrue(result.stdout.contains(", coordination etcd\n"), result.stdout)
            XCTAssertTrue(
                result.stdout.contains(
                    "coordination: members us-east-1, us-west-2, eu-west-1, 2 votes needed; etcd https://etcd-use1.example.internal:2379, "
                        + "https://etcd-usw2.example.internal:2379, https://etcd-euw1.example.internal:2379 under /failoverctl/prod, "
                        + "lease 5s, poll 100ms, TLS with a client certificate\n"), result.stdout)
            for (site, region) in [("use1", "us-east-1"), ("usw2", "us-west-2"), ("euw1", "eu-west-1")] {
                XCTAssertTrue(result.stdout.contains("site \(site) (\(region)): every 1s"), result.stdout)
            }
            XCTAssertTrue(result.stdout.contains("group app: primary use1, standbys usw2 (1), euw1 (2)"), result.stdout)
            XCTAssertTrue(result.stdout.contains("alerts pagerduty: pagerduty, min_severity error"), result.stdout)
            for secret in environment.filter({ $0.key != "FAILOVERCTL_LISTEN" && $0.key != "AWS_ACCESS_KEY_ID" }).values {
                XCTAssertFalse(result.stdout.contains(secret), "\(region): a secret is printed")
            }
        }
    }

    func testTheRegionalConfigsDifferOnlyInTheControllerID() throws {
        let texts = try Self.regions.map {
            try String(contentsOf: Self.examples.appendingPathComponent("\($0).yaml"), encoding: .utf8)
        }
        for (region, text) in zip(Self.regions, texts) {
            XCTAssertTrue(text.contains("\n  id: \(region)\n"), region)
            XCTAssertTrue(text.contains("members: [us-east-1, us-west-2, eu-west-1]"), region)
            XCTAssertTrue(text.contains("  backend: etcd\n"), region)
            XCTAssertEqual(
                Self.withoutID(text), Self.withoutID(texts[0]),
                "\(region).yaml and \(Self.regions[0]).yaml should differ only in controller.id (and the title comment)")
        }
    }

    /// `text` without its `controller.id` line and its title comment.
    static func withoutID(_ text: String) -> [Substring] {
        text.split(separator: "\n").filter { !$0.hasPrefix("  id: ") && !$0.hasPrefix("# failoverctl in ") }
    }

    /// The example tree copied to a temporary directory, its `/etc/failoverctl/` paths pointing
    /// there, where the etcd CA, client certificate and key are real PEM files.
    static func install() throws -> URL {
        let etc = FileManager.default.temporaryDirectory.appendingPathComponent("fo-deploy-\(UUID().uuidString.prefix(8))")
        try FileManager.default.copyItem(at: examples, to: etc)
        let pki = try TestCertificates.make(in: etc.appendingPathComponent("pki"))
        let client = try pki.leaf(name: "etcd-client", days: 30)
        for (source, name) in [(pki.caFile, "etcd-ca.pem"), (client.cert, "etcd-client.pem"), (client.key, "etcd-client-key.pem")] {
            try FileManager.default.copyItem(atPath: source, toPath: etc.appendingPathComponent(name).path)
        }
        for region in regions {
            let path = etc.appendingPathComponent("\(region).yaml")
            let text = try String(contentsOf: path, encoding: .utf8)
            try text.replacingOccurrences(of: "/etc/failoverctl/", with: etc.path + "/")
                .replacingOccurrences(of: "/var/lib/failoverctl", with: etc.appendingPathComponent("state").path)
                .write(to: path, atomically: true, encoding: .utf8)
        }
        return etc
    }

    /// The `NAME=value` lines of `failoverctl.env.example`.
    static func environmentExample() throws -> [String: String] {
        let text = try String(contentsOf: examples.appendingPathComponent("failoverctl.env.example"), encoding: .utf8)
        var environment: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let pair = line.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { continue }
            environment[pair[0]] = pair[1]
        }
        return environment
    }

    /// `failoverctl check --config CONFIG` with only `environment` (and `PATH`).
    static func check(_ config: String, _ environment: [String: String]) throws -> (
        status: Int32, stdout: String, stderr: String
    ) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try BuildProducts.executable("failoverctl"))
        p.arguments = ["check", "--config", config]
        p.environment = environment.merging(["PATH": "/usr/bin:/bin"]) { $1 }
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, stdout, stderr)
    }
}
