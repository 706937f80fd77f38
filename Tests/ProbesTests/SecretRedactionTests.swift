import FailoverCore
import FailoverTesting
import Foundation
import Testing

/// URL credentials and secret query values never reach a probe's error or its JSON.
@Suite(.nginx) struct SecretRedactionTests {
    let fixture: ProbeFixture
    init() throws { fixture = try ProbeFixture.require() }

    static let secrets = ["s3cretpw", "abcd1234"]

    func secretURL(port: Int) -> String {
        "https://user:s3cretpw@127.0.0.1:\(port)/health?token=abcd1234"
    }

    func expectNoSecrets(_ result: ProbeResult, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let error = try #require(result.error, "a failed probe explains itself", sourceLocation: sourceLocation)
        let json = String(decoding: try JSONEncoder().encode(result), as: UTF8.self)
        for secret in Self.secrets {
            #expect(!error.contains(secret), "error leaks \(secret): \(error)", sourceLocation: sourceLocation)
            #expect(!json.contains(secret), "JSON leaks \(secret): \(json)", sourceLocation: sourceLocation)
        }
    }

    @Test func aRefusedProbeKeepsTheURLsSecrets() async throws {
        let result = await probe(.http(HTTPCheck(url: secretURL(port: try closedPort()))))
        #expect(result.diagnosis == .refused, "\(result)")
        try expectNoSecrets(result)
    }

    @Test func aTLSFailureKeepsTheURLsSecrets() async throws {
        let url = secretURL(port: fixture.nginx.port(ProbeFixture.good))
        let result = await probe(.http(HTTPCheck(url: url, caFile: fixture.otherCA)))
        #expect(result.diagnosis == .tlsFailure, "\(result)")
        try expectNoSecrets(result)
    }

    @Test func aTimeoutKeepsTheURLsSecrets() async throws {
        let server = try HangingServer()
        defer { server.close() }
        let url = "http://user:s3cretpw@127.0.0.1:\(server.port)/health?token=abcd1234"
        let result = await probe(.http(HTTPCheck(url: url)), timeout: .milliseconds(300))
        #expect(result.diagnosis == .timeout, "\(result)")
        try expectNoSecrets(result)
    }
}
