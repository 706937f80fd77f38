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
        // This controller's own trouble (no memory, a bad option or URL, an unreadable CA
        // file or client certificate, a crypto engine): says nothing about the site.
        case 1, 2, 3, 4, 27, 43, 48, 53, 54, 58, 66, 77: return .probeUnavailable
        case 35, 51, 59, 60, 64, 80, 82, 83, 90, 91, 98: return .tlsFailure
        default: return .protocolError
        }
    }

    private static func connectFailure(errno: Int32) -> Diagnosis {
        switch errno {
        case ENETUNREACH, EHOSTUNREACH, ENETDOWN, EHOSTDOWN: .unreachable
        case ETIMEDOUT: .timeout
        // Out of descriptors, ports or buffers here: not the site's fault.
        case EMFILE, ENFILE, EADDRNOTAVAIL, ENOBUFS, ENOMEM: .probeUnavailable
        default: .refused
        }
    }

    /// Milliseconds of a curl timing, nil when the phase did not happen.
    static func milliseconds(_ duration: Duration) -> Double? {
        duration > .zero ? duration.fractionalMilliseconds : nil
    }
}
