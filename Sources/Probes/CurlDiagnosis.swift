import CurlHTTP
import FailoverCore
import Foundation

/// Classifies a failed curl transfer into the one `Diagnosis` it means.
enum CurlDiagnosis {
    static func diagnosis(of error: CurlHTTPError) -> Diagnosis {
        guard let code = error.curlCode else { return .probeUnavailable }  // cancelled: says nothing
        switch code {
        case 28: return .timeout
        case 5, 6: return .dnsFailure
        case 7: return connectFailure(errno: error.osErrno)
        case 35, 51, 53, 54, 58, 59, 60, 64, 66, 77, 80, 82, 83, 90, 91, 98: return .tlsFailure
        case 27, 43, 48: return .probeUnavailable  // out of memory, bad option: our problem
        default: return .protocolError
        }
    }

    private static func connectFailure(errno: Int32) -> Diagnosis {
        switch errno {
        case ENETUNREACH, EHOSTUNREACH, ENETDOWN, EHOSTDOWN: .unreachable
        case ETIMEDOUT: .timeout
        default: .refused
        }
    }

    /// Milliseconds of a curl timing, nil when the phase did not happen.
    static func milliseconds(_ duration: Duration) -> Double? {
        duration > .zero ? duration.fractionalMilliseconds : nil
    }
}

extension Duration {
    /// This duration in milliseconds with microsecond precision.
    var fractionalMilliseconds: Double {
        let (seconds, attoseconds) = components
        return (Double(seconds) * 1_000 + Double(attoseconds / 1_000_000_000_000) / 1_000)
    }
}
