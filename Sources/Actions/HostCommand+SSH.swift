import FailoverCore
import Foundation

/// The `ssh` command line that runs one argv on a remote host.
///
/// `ssh -o BatchMode=yes -o ConnectTimeout=S [-p PORT] [-i FILE -o IdentitiesOnly=yes]
/// [-o UserKnownHostsFile=FILE -o StrictHostKeyChecking=yes] [-F FILE] -- DESTINATION
/// REMOTE`, where REMOTE is the argv single-quoted for the remote user's POSIX shell and
/// run under `watchdog`.
struct SSHInvocation {
    /// Where and how to connect.
    let target: DatabaseHost.SSHTarget

    /// Runs `"$@"` and waits for it; meanwhile a background subshell watches the ssh
    /// session and, once it is gone, ends the whole process group (TERM, KILL after 2 s).
    ///
    /// Why: without a terminal, sshd leaves a remote command running when the client is
    /// killed (at our timeout) or the connection drops, and nothing it waits for (stdin is
    /// at EOF, it may never write) tells it. A terminal (`ssh -tt`) would hang it up, but
    /// would also merge its stderr into stdout and let tools prompt. sshd makes the shell
    /// a session leader, so the group is the command and its children; the session is
    /// alive while our parent is still the sshd process that started us (asked of `ps`,
    /// which sees the change even while that process is a zombie), or, where `ps` cannot
    /// tell (none, or one without `-o ppid`), while that process exists.
    static let watchdog = """
        p=$PPID s=$$
        "$@" &
        c=$!
        (
            if [ "$(ps -o ppid= -p "$s" 2>/dev/null)" -eq "$p" ] 2>/dev/null; then
                while [ "$(ps -o ppid= -p "$s" 2>/dev/null)" -eq "$p" ] 2>/dev/null; do sleep 1; done
            else
                while kill -0 "$p" 2>/dev/null; do sleep 1; done
            fi
            trap "" TERM
            kill -TERM 0
            sleep 2
            kill -KILL 0
        ) </dev/null >/dev/null 2>&1 &
        w=$!
        wait "$c"
        r=$?
        kill "$w" 2>/dev/null
        exit "$r"
        """

    /// The local argv for running `remote` (argv) on the target.
    func argv(remote: [String]) -> [String] {
        var args = ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=\(connectSeconds)"]
        if let port = target.port { args += ["-p", String(port)] }
        if let identity = target.identityFile { args += ["-i", identity, "-o", "IdentitiesOnly=yes"] }
        if let knownHosts = target.knownHostsFile {
            args += ["-o", "UserKnownHostsFile=\(knownHosts)", "-o", "StrictHostKeyChecking=yes"]
        }
        if let config = target.configFile { args += ["-F", config] }
        return args + ["--", target.destination, Self.remoteCommand(remote)]
    }

    /// The text ssh hands to the remote shell: `exec sh -c WATCHDOG failoverctl ARGV...`,
    /// every part single-quoted.
    static func remoteCommand(_ argv: [String]) -> String {
        (["exec", "sh", "-c", quote(watchdog), "failoverctl"] + argv.map(quote)).joined(separator: " ")
    }

    /// `text` as one POSIX shell word: in single quotes, each `'` written as `'\''`.
    static func quote(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }

    /// `connectTimeout` in whole seconds, rounded up (ssh takes seconds), at least 1.
    private var connectSeconds: Int64 {
        max(1, (target.connectTimeout.milliseconds + 999) / 1_000)
    }
}

/// Why ssh itself failed (it exited 255), read from its stderr.
struct SSHFailure: Equatable {
    /// The kinds of failure, most specific first: a missing identity file also ends in
    /// `Permission denied`, a changed host key in `Host key verification failed`.
    enum Kind: CaseIterable {
        /// The host's key differs from the known one.
        case hostKeyChanged
        /// The host's key is not known.
        case hostKeyUnknown
        /// The identity file is missing, unreadable or too open.
        case identityUnusable
        /// The ssh config is invalid or has bad permissions.
        case badConfiguration
        /// The server refused every key offered.
        case keyRefused
        /// The host could not be reached or dropped the connection.
        case unreachable

        /// The texts in ssh's stderr that tell this kind.
        var markers: [String] {
            switch self {
            case .hostKeyChanged: ["REMOTE HOST IDENTIFICATION HAS CHANGED"]
            case .hostKeyUnknown: ["Host key verification failed"]
            case .identityUnusable:
                ["no such identity", "Identity file", "UNPROTECTED PRIVATE KEY FILE", "bad permissions"]
            case .badConfiguration: ["Bad configuration", "Bad owner or permissions"]
            case .keyRefused: ["Permission denied"]
            case .unreachable:
                [
                    "Connection timed out", "Connection refused", "No route to host", "Could not resolve hostname",
                    "Connection closed", "Connection reset", "Network is unreachable",
                ]
            }
        }
    }

    /// What failed.
    let kind: Kind
    /// The stderr line that told, scrubbed of anything key-shaped.
    let line: String

    /// The failure `stderr` reports; nil when it shows none (the remote command itself
    /// may have exited 255).
    init?(stderr: String) {
        let lines = stderr.split(whereSeparator: \.isNewline).map { $0.trimmingWhitespace }
        for kind in Kind.allCases {
            for marker in kind.markers {
                if let line = lines.last(where: { $0.localizedCaseInsensitiveContains(marker) }) {
                    self.kind = kind
                    self.line = KeyMaterial.scrub(line)
                    return
                }
            }
        }
        return nil
    }

    /// The error to throw for ssh to `destination`: permanent unless unreachable.
    func error(destination: String) -> ActionError {
        let ssh = "ssh to \(destination)"
        switch kind {
        case .keyRefused:
            return .permanent("\(ssh) refused the key: \(Self.from("Permission denied", in: line))")
        case .hostKeyChanged:
            return .permanent(
                "\(ssh) refused the host: its host key changed (REMOTE HOST IDENTIFICATION HAS CHANGED); "
                    + "replace its known_hosts entry if the change is expected")
        case .hostKeyUnknown:
            return .permanent("\(ssh) could not verify the host key (is the host in known_hosts?): \(line)")
        case .identityUnusable:
            return .permanent("\(ssh) cannot use its identity file: \(line)")
        case .badConfiguration:
            return .permanent("\(ssh) has a bad ssh configuration: \(line)")
        case .unreachable:
            return .failed("\(ssh) failed: \(line)", retryable: true)
        }
    }

    /// `line` from `marker` on, without a final period (`user@host: Permission denied
    /// (publickey).` gives `Permission denied (publickey)`).
    private static func from(_ marker: String, in line: String) -> String {
        let tail = line.range(of: marker).map { String(line[$0.lowerBound...]) } ?? line
        return tail.hasSuffix(".") ? String(tail.dropLast()) : tail
    }
}
