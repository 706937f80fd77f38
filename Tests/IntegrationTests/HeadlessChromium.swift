import FailoverTesting
import Foundation

/// Debian's `chromium` in headless mode, with a throwaway profile: `dumpDOM` prints the DOM
/// after the page's scripts ran, `screenshot` writes a PNG. Each run is bounded; `close()`
/// kills any chromium process still using the profile (found by its unique path) and removes it.
final class HeadlessChromium {
    /// Debian's chromium.
    static let executable = "/usr/bin/chromium"
    /// The throwaway profile (`--user-data-dir`), which also holds each run's output.
    let profile: URL
    /// Runs so far, to name their output files.
    private var runs = 0

    /// Fails, never skips, when chromium is missing: the status page test needs a real browser.
    init() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
            throw ControllerProcess.Failure(
                "\(Self.executable) not found: the status page test needs a real browser "
                    + "(apt-get install chromium; scripts/install-deps.sh installs it)")
        }
        profile = FileManager.default.temporaryDirectory.appendingPathComponent("fo-chromium-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: profile, withIntermediateDirectories: true)
    }

    /// The DOM of `url` once `budgetMs` of virtual time has passed (timers and fetches run meanwhile).
    func dumpDOM(_ url: String, budgetMs: Int = 4_000, timeout: TimeInterval = 20) throws -> String {
        try run(["--virtual-time-budget=\(budgetMs)", "--dump-dom", url], timeout: timeout)
    }

    /// A PNG of `url` at `width` x `height` once `budgetMs` of virtual time has passed.
    func screenshot(_ url: String, to path: String, width: Int = 1280, height: Int = 1000, budgetMs: Int = 4_000)
        throws
    {
        _ = try run(
            ["--virtual-time-budget=\(budgetMs)", "--hide-scrollbars", "--window-size=\(width),\(height)",
                "--screenshot=\(path)", url], timeout: 20)
    }

    /// Runs chromium with the common flags plus `args`; its standard output, or an error with
    /// its standard error when it fails or overruns `timeout` (then it is killed).
    private func run(_ args: [String], timeout: TimeInterval) throws -> String {
        runs += 1
        let out = profile.appendingPathComponent("stdout-\(runs)")
        let err = profile.appendingPathComponent("stderr-\(runs)")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.executable)
        p.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--user-data-dir=\(profile.path)",
        ] + args
        // Output goes to files: chromium's helper processes may hold a pipe open after it exits.
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(50_000) }
        let stderr = { String(decoding: (try? Data(contentsOf: err)) ?? Data(), as: UTF8.self).suffix(3_000) }
        if p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            throw ControllerProcess.Failure("chromium did not finish within \(timeout)s: \(args)\n\(stderr())")
        }
        guard p.terminationStatus == 0 else {
            throw ControllerProcess.Failure("chromium exited \(p.terminationStatus): \(args)\n\(stderr())")
        }
        return String(decoding: try Data(contentsOf: out), as: UTF8.self)
    }

    /// Kills every process still running with this profile (chromium's helpers), by pid, and
    /// removes the profile. A run's own process has already exited (or was killed) and been reaped.
    func close() {
        let marker = "--user-data-dir=\(profile.path)"
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = Int32(entry), let cmdline = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline")
            else { continue }
            let args = cmdline.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if args.contains(marker) { kill(pid, SIGKILL) }
        }
        try? FileManager.default.removeItem(at: profile)
    }

    deinit { close() }
}

/// Just enough of an HTML DOM dump to find elements by an attribute and read their text.
struct DumpedDOM {
    let html: String

    /// The outer HTML of the first element whose opening tag has `name="value"` (or just
    /// `name` when `value` is nil), up to its matching closing tag.
    func element(_ name: String, _ value: String? = nil, in scope: String? = nil) -> String? {
        let text = scope ?? html
        let needle = value.map { "\(name)=\"\(Self.escape($0))\"" } ?? name
        guard let hit = text.range(of: needle), let open = text[..<hit.lowerBound].range(of: "<", options: .backwards)
        else { return nil }
        let tag = String(text[open.upperBound...].prefix { $0.isLetter || $0.isNumber })
        var depth = 0
        var cursor = open.lowerBound
        while let close = text.range(of: "</\(tag)>", range: cursor..<text.endIndex) {
            let next = Self.openingTag(tag, in: text, from: cursor) ?? close
            if next.lowerBound < close.lowerBound {
                depth += 1
                cursor = next.upperBound
            } else {
                depth -= 1
                cursor = close.upperBound
                if depth == 0 { return String(text[open.lowerBound..<close.upperBound]) }
            }
        }
        return nil
    }

    /// The text of that element: tags removed, entities for `&`, `<`, `>` and `"` decoded, spaces collapsed.
    func text(_ name: String, _ value: String? = nil, in scope: String? = nil) -> String? {
        element(name, value, in: scope).map(Self.text)
    }

    /// The value of `attribute` on the element's opening tag.
    func attribute(_ attribute: String, of element: String) -> String? {
        let head = element.prefix { $0 != ">" }
        guard let start = head.range(of: " \(attribute)=\"") else { return nil }
        return String(head[start.upperBound...].prefix { $0 != "\"" })
    }

    /// The next `<tag ` or `<tag>` at or after `start` (not `<tagname>` of a longer name).
    private static func openingTag(_ tag: String, in text: String, from start: String.Index) -> Range<String.Index>? {
        var cursor = start
        while let hit = text.range(of: "<\(tag)", range: cursor..<text.endIndex) {
            if let next = text[hit.upperBound...].first, next == " " || next == ">" { return hit }
            cursor = hit.upperBound
        }
        return nil
    }

    static func text(_ fragment: String) -> String {
        let stripped = fragment.replacingOccurrences(of: "<[^>]*>", with: " ", options: .regularExpression)
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&amp;", with: "&")
        return stripped.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    private static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
