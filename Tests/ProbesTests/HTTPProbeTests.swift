import FailoverCore
import FailoverTesting
import Foundation
import Testing

/// `http`/`https` checks against a real nginx: status, body, TLS trust, certificate
/// lifetime, redirects and per-phase timings.
@Suite(.nginx) struct HTTPProbeTests {
    let fixture: ProbeFixture
    init() throws { fixture = try ProbeFixture.require() }

    @Test func httpsWithTheTestCAAndTheExpectedBodyPasses() async throws {
        let result = await probe(fixture.https(path: "/health", expectBody: "ok"))
        #expect(result.diagnosis == .ok, "\(result)")
        #expect(result.kind == "https")
        #expect(result.status == 200)
        #expect(result.error == nil)
        let days = try #require(result.certDaysLeft, "an https probe reports the certificate's days left")
        #expect((363...365).contains(days))
        let timings = result.timings
        let connect = try #require(timings.connect)
        let tls = try #require(timings.tls)
        let firstByte = try #require(timings.firstByte)
        #expect(connect <= timings.total)
        #expect(tls <= timings.total)
        #expect(firstByte <= timings.total)
        #expect(connect <= tls && tls <= firstByte, "phases are cumulative from the probe's start")
    }

    @Test func plainHTTPPassesWithoutTLSTiming() async {
        let result = await probe(fixture.http(path: "/health"))
        #expect(result.diagnosis == .ok, "\(result)")
        #expect(result.kind == "http")
        #expect(result.status == 200)
        #expect(result.timings.tls == nil)
        #expect(result.certDaysLeft == nil)
    }

    @Test func status503IsAnUnexpectedStatusByDefault() async {
        let result = await probe(fixture.https(ProbeFixture.down))
        #expect(result.diagnosis == .unexpectedStatus(503), "\(result)")
        #expect(result.status == 503)
        #expect(result.outcome == .fail)
        #expect(result.error?.isEmpty == false)
    }

    @Test func status503PassesWhenItIsTheExpectedStatus() async {
        let result = await probe(fixture.https(ProbeFixture.down, expectStatus: [503]))
        #expect(result.diagnosis == .ok, "\(result)")
        #expect(result.status == 503)
    }

    @Test func theDefaultAcceptsAny2xx() async {
        let result = await probe(fixture.http(path: "/no-content"))
        #expect(result.diagnosis == .ok, "\(result)")
        #expect(result.status == 204)
    }

    @Test func anExplicitStatusListAcceptsOnlyItsCodes() async {
        let result = await probe(fixture.http(path: "/no-content", expectStatus: [200]))
        #expect(result.diagnosis == .unexpectedStatus(204), "\(result)")
        #expect(result.status == 204)
    }

    @Test func aBodyWithoutTheExpectedTextIsABodyMismatch() async {
        let result = await probe(fixture.https(path: "/body", expectBody: "ok"))
        #expect(result.diagnosis == .bodyMismatch, "\(result)")
        #expect(result.status == 200)
        #expect(result.error?.isEmpty == false)
    }

    @Test func aCertificateFromAnotherCAIsATLSFailure() async {
        let kind = CheckKind.http(HTTPCheck(url: fixture.nginx.url(ProbeFixture.good), caFile: fixture.otherCA))
        let result = await probe(kind)
        #expect(result.diagnosis == .tlsFailure, "\(result)")
        #expect(result.status == nil)
        #expect(result.error?.isEmpty == false)
    }

    @Test func aCertificateExpiringBeforeMinCertDaysFails() async throws {
        let result = await probe(fixture.https(ProbeFixture.expiring, minCertDays: 14))
        guard case .certificateExpiring(let daysLeft) = result.diagnosis else {
            Issue.record("expected certificateExpiring, got \(result)")
            return
        }
        #expect((3...5).contains(daysLeft))
        #expect(result.certDaysLeft == daysLeft)
        #expect(result.status == 200)
        #expect(result.outcome == .fail)
    }

    @Test func aCertificateOutlivingMinCertDaysPasses() async throws {
        let result = await probe(fixture.https(ProbeFixture.expiring, minCertDays: 2))
        #expect(result.diagnosis == .ok, "\(result)")
        let days = try #require(result.certDaysLeft)
        #expect((3...5).contains(days))
    }

    @Test func aRedirectIsAnAnswerToJudgeByDefault() async {
        let result = await probe(fixture.https(path: "/redirect"))
        #expect(result.diagnosis == .unexpectedStatus(302), "\(result)")
        #expect(result.status == 302)
    }

    @Test func aRedirectIsFollowedWhenAsked() async {
        let result = await probe(fixture.https(path: "/redirect", expectBody: "ok", followRedirects: true))
        #expect(result.diagnosis == .ok, "\(result)")
        #expect(result.status == 200)
    }

    @Test func healthFollowsTheServersFlag() async throws {
        let check = fixture.http(ProbeFixture.toggled)
        #expect(await probe(check).diagnosis == .ok)
        try fixture.nginx.setHealthy(false, server: ProbeFixture.toggled)
        #expect(await probe(check).diagnosis == .unexpectedStatus(503))
        try fixture.nginx.setHealthy(true, server: ProbeFixture.toggled)
        #expect(await probe(check).diagnosis == .ok)
    }
}
