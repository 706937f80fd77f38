import FailoverCore
import FailoverTesting
import Foundation
import Probes
import Testing

/// The real servers a probe suite runs against: one nginx with five virtual servers and
/// the test PKI behind them. Started once per suite by the `.nginx` trait, stopped after.
final class ProbeFixture: Sendable {
    /// The suite's fixture, set by the `.nginx` trait for every test inside it.
    @TaskLocal static var current: ProbeFixture?

    let certificates: TestCertificates
    let directory: URL
    let otherCA: String
    let nginx: NginxServer

    /// https, 365-day certificate: `/health` answers 200.
    static let good = 0
    /// https, 5-day certificate.
    static let expiring = 1
    /// Plain http.
    static let plain = 2
    /// https, 365-day certificate, `/health` answers 503 for the whole suite.
    static let down = 3
    /// Plain http whose health one test toggles (no other test uses it).
    static let toggled = 4

    init() throws {
        directory = try TemporaryDirectory.make(prefix: "fo-probes-pki")
        certificates = try TestCertificates.make(in: directory)
        otherCA = try certificates.otherCA()
        let good = try certificates.leaf(name: "good", days: 365)
        let expiring = try certificates.leaf(name: "expiring", days: 5)
        nginx = try NginxServer([
            .https(certificate: good.cert, key: good.key),
            .https(certificate: expiring.cert, key: expiring.key),
            .http,
            .https(certificate: good.cert, key: good.key),
            .http,
        ])
        try nginx.setHealthy(false, server: Self.down)
    }

    /// Stops nginx and removes its files and the certificates.
    func stop() {
        nginx.stop()
        try? FileManager.default.removeItem(at: nginx.directory)
        try? FileManager.default.removeItem(at: directory)
    }

    /// The fixture of the running suite; fails the test when the trait is missing.
    static func require(sourceLocation: SourceLocation = #_sourceLocation) throws -> ProbeFixture {
        try #require(current, "the suite needs the .nginx trait", sourceLocation: sourceLocation)
    }

    /// An https check of `path` on `server`, trusting the test CA.
    func https(
        _ server: Int = ProbeFixture.good, path: String = "/health", expectStatus: [Int]? = nil,
        expectBody: String? = nil, minCertDays: Int? = nil, followRedirects: Bool = false
    ) -> CheckKind {
        .http(
            HTTPCheck(
                url: nginx.url(server, path: path), expectStatus: expectStatus, expectBody: expectBody,
                caFile: certificates.caFile, minCertDays: minCertDays, followRedirects: followRedirects))
    }

    /// A plain http check of `path` on `server`.
    func http(_ server: Int = ProbeFixture.plain, path: String = "/health", expectStatus: [Int]? = nil) -> CheckKind {
        .http(HTTPCheck(url: nginx.url(server, path: path), expectStatus: expectStatus))
    }
}

/// Starts a `ProbeFixture` around a whole suite and stops its nginx afterwards.
struct NginxFixtureTrait: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let fixture = try await Blocking.run { try ProbeFixture() }
        do {
            try await ProbeFixture.$current.withValue(fixture) { try await function() }
        } catch {
            try await Blocking.run { fixture.stop() }
            throw error
        }
        try await Blocking.run { fixture.stop() }
    }
}

extension Trait where Self == NginxFixtureTrait {
    /// Runs the suite against a fresh nginx fixture.
    static var nginx: Self { NginxFixtureTrait() }
}

/// Probes `kind` once through a fresh `CheckProber` on the shared engine.
func probe(_ kind: CheckKind, timeout: Duration = .seconds(5)) async -> ProbeResult {
    await CheckProber().probe(CheckConfig(name: "check", kind: kind), timeout: timeout, at: Timestamp(Date()))
}

/// A loopback port nothing listens on: bound, then closed.
func closedPort() throws -> Int {
    let listener = try TCPListener()
    listener.close()
    return listener.port
}

/// The number of threads of this process (`Threads:` in /proc/self/status).
func processThreadCount() -> Int {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("Threads:") }
    return line.flatMap { Int($0.dropFirst("Threads:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
}
