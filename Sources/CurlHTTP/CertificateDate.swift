import Foundation

/// Parses the dates libcurl's certinfo reports with the OpenSSL backend
/// (`ASN1_TIME_print` form: `Jan  1 00:00:00 2027 GMT`).
public enum CertificateDate {
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The instant written in `text`, or nil when it is not in the expected form.
    public static func parse(_ text: String) -> Date? {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard fields.count >= 4, let month = months.firstIndex(of: String(fields[0])),
            let day = Int(fields[1]), let year = Int(fields[3])
        else { return nil }
        if fields.count >= 5, fields[4] != "GMT" { return nil }
        let clock = fields[2].split(separator: ":")
        guard clock.count == 3, let hour = Int(clock[0]), let minute = Int(clock[1]),
            let second = Double(clock[2])
        else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1_900)
        parts.tm_mon = Int32(month)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        // timegm reads the fields as UTC, unlike mktime.
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
    }
}
