/// What is kept of one output stream of a child: the last `tailLimit` bytes, the last
/// non-blank line, and the lines starting with a marker (at most `maxMarked`).
///
/// Lines are kept from their start and cut at `lineLimit` bytes, so a line is never cut
/// in front (text that is scrubbed of secrets later is whole at its beginning).
struct OutputCapture: Sendable {
    static let tailLimit = 4_096
    static let lineLimit = 1_024
    static let maxMarked = 100

    private let marker: [UInt8]
    private var tailBytes: [UInt8] = []
    private var line: [UInt8] = []
    private(set) var lastLine = ""
    private(set) var marked: [String] = []
    private(set) var total = 0

    /// A capture collecting lines that start with `marker` (none when empty).
    init(marker: String = "") { self.marker = Array(marker.utf8) }

    /// The last bytes received, as text.
    var tail: String { String(decoding: tailBytes, as: UTF8.self) }

    /// Takes in the next bytes of the stream.
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        total += bytes.count
        tailBytes.append(contentsOf: bytes)
        if tailBytes.count > 2 * Self.tailLimit { tailBytes.removeFirst(tailBytes.count - Self.tailLimit) }
        var rest = bytes[...]
        while let newline = rest.firstIndex(of: 10) {
            take(rest[rest.startIndex..<newline])
            endLine()
            rest = rest[(newline + 1)...]
        }
        take(rest)
    }

    /// Ends the stream: a last line without a newline counts.
    mutating func finish() {
        if !line.isEmpty { endLine() }
        if tailBytes.count > Self.tailLimit { tailBytes.removeFirst(tailBytes.count - Self.tailLimit) }
    }

    private mutating func take(_ bytes: Slice<UnsafeRawBufferPointer>) {
        let room = Self.lineLimit - line.count
        if room > 0 { line.append(contentsOf: bytes.prefix(room)) }
    }

    private mutating func endLine() {
        let text = String(decoding: line, as: UTF8.self).trimmingWhitespace
        line.removeAll(keepingCapacity: true)
        guard !text.isEmpty else { return }
        lastLine = text
        if !marker.isEmpty, marked.count < Self.maxMarked, text.utf8.starts(with: marker) { marked.append(text) }
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs, carriage returns and newlines.
    var trimmingWhitespace: String {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        guard let first = firstIndex(where: { !blank($0) }), let last = lastIndex(where: { !blank($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
