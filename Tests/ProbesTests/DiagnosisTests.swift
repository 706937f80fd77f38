import CurlHTTP
import FailoverCore
import Foundation
import Testing

@testable import Probes

/// One switch maps curl's failures to diagnoses: the site's trouble fails the probe, the
/// controller's own trouble makes it inconclusive.
@Suite struct DiagnosisTests {
    @Test(arguments: [
        (28, 0, Diagnosis.timeout), (6, 0, .dnsFailure), (7, ECONNREFUSED, .refused), (7, EHOSTUNREACH, .unreachable),
        (7, EMFILE, .probeUnavailable), (7, EADDRNOTAVAIL, .probeUnavailable), (60, 0, .tlsFailure), (35, 0, .tlsFailure),
        (77, 0, .probeUnavailable), (58, 0, .probeUnavailable), (3, 0, .probeUnavailable), (52, 0, .protocolError),
        (56, 0, .protocolError),
    ])
    func curlFailures(code: Int32, osErrno: Int32, expected: Diagnosis) {
        let error = CurlHTTPError.curl(code, message: "test", osErrno: osErrno)
        #expect(CurlDiagnosis.diagnosis(of: error) == expected)
    }

    @Test func aCancelledProbeSaysNothingAboutTheSite() {
        #expect(CurlDiagnosis.diagnosis(of: .cancelled) == .probeUnavailable)
    }
}
