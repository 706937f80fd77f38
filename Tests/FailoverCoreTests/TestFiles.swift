import Foundation

/// A temporary directory of test files, removed when the test ends.
final class TestFiles {
    /// The directory's absolute path.
    let root: String

    /// Creates an empty directory under the system temporary directory.
    init() throws {
        root = FileManager.default.temporaryDirectory
            .appendingPathComponent("fo-core-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// Writes `text` to `relative` (creating folders) and returns the absolute path.
    @discardableResult
    func write(_ relative: String, _ text: String) throws -> String {
        let path = self.path(relative)
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The absolute path of `relative`.
    func path(_ relative: String) -> String { (root as NSString).appendingPathComponent(relative) }
}

/// The test target's resource folders (`Scenarios`, `BadConfigs`), one URL per case, sorted.
func resourceCases(_ folder: String) throws -> [URL] {
    guard let base = Bundle.module.url(forResource: folder, withExtension: nil) else {
        throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: folder])
    }
    return try FileManager.default.contentsOfDirectory(atPath: base.path).sorted()
        .map { base.appendingPathComponent($0) }
}

/// A line diff for failure messages: `-` expected, `+` actual, ` ` both.
func lineDiff(expected: String, actual: String) -> String {
    let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
    let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
    var out: [String] = []
    for i in 0..<max(e.count, a.count) {
        let el = i < e.count ? String(e[i]) : nil
        let al = i < a.count ? String(a[i]) : nil
        if el == al {
            out.append("  \(el ?? "")")
        } else {
            if let el { out.append("- \(el)") }
            if let al { out.append("+ \(al)") }
        }
    }
    return out.joined(separator: "\n")
}
