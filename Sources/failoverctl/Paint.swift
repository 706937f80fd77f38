import FailoverCore
import Foundation

/// ANSI colours for a terminal; a no-op when disabled (not a terminal, `NO_COLOR`, `--no-color`).
struct Paint {
    let enabled: Bool

    /// Whether standard output is a terminal and `NO_COLOR` is unset.
    static func terminalWantsColour() -> Bool {
        isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
    }

    /// `OK` green, `WARNING` yellow, `CRITICAL` red, `UNKNOWN` magenta, in bold.
    func level(_ level: StatusLevel) -> String {
        let code = [StatusLevel.ok: "32", .warning: "33", .critical: "31", .unknown: "35"][level] ?? "0"
        return wrap(level.label, "1;\(code)")
    }

    /// Faint text.
    func dim(_ text: String) -> String { wrap(text, "2") }

    private func wrap(_ text: String, _ code: String) -> String {
        enabled ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}
