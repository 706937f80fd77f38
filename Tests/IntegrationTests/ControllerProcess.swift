import FailoverTesting
import Foundation
import XCTest

/// A `failoverctl` binary under test: a temporary config directory, `run` in the
/// background, and one-shot subcommands with their exit code and output.
final class ControllerProcess {
    let dir: URL
    let port: Int
    var configPath: String { dir.appendingPathComponent("failoverctl.yaml").path }
    var stateDir: String { dir.appendingPathComponent("state").path }
    var logPath: String { dir.appendingPathComponent("controller.log").path }
    private var process: ChildProcess?
    /// The network namespace the controller runs in (nil: the host's).
    var netns: String?
    /// A command the controller runs under, e.g. `setpriv` to drop a capability.
    var wrapper: [String] = []

    /// Writes `failoverctl.yaml` (with `sites:` = the given files) and the site files.
    /// `extra` is appended to the controller file (e.g. `groups:` and `controller` keys are
    /// not: use `apiToken` for the token).
    init(
        sites: [String: String], id: String = "it-1", extra: String = "", apiToken: String? = nil,
        coordination: String = "coordination:\n  backend: local"
    ) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("fo-it-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("sites"), withIntermediateDirectories: true)
        port = try FreePort.tcp()
        let controller = """
            controller:
              id: \(id)
              listen: 127.0.0.1:\(port)
              state_dir: state
            \(apiToken.map { "  api_token: \($0)" } ?? "")
            \(coordination)
            sites: sites/
            \(extra)
            """
        try controller.write(toFile: configPath, atomically: true, encoding: .utf8)
        for (name, text) in sites {
            try text.write(toFile: dir.appendingPathComponent("sites/\(name).yaml").path, atomically: true, encoding: .utf8)
        }
    }

    /// A site file: the debounce keys, then `checks`, YAML list items written from column 0.
    static func site(
        _ name: String, interval: String = "200ms", timeout: String = "150ms", fall: Int = 1, rise: Int = 1,
        checks: String, actions: String = ""
    ) -> String {
        let items = checks.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")
        let site = "name: \(name)\ninterval: \(interval)\ntimeout: \(timeout)\nfall: \(fall)\nrise: \(rise)\nchecks:\n" + items
        return actions.isEmpty ? site : site + "\nactions:\n" + actions.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")
    }

    /// The API's JSON at `path`, decoded loosely.
    func json(_ path: String) throws -> Any? {
        guard let data = try get(path) else { return nil }
        return try JSONSerialization.jsonObject(with: data)
    }

    deinit {
        if let process, process.isRunning { process.stop(signal: SIGKILL) }
        try? FileManager.default.removeItem(at: dir)
    }

    /// Starts `failoverctl run` and waits until its API answers.
    func start(env: [String: String] = [:]) throws {
        let binary = try BuildProducts.executable("failoverctl")
        let command = (netns.map { ["/usr/sbin/ip", "netns", "exec", $0] } ?? []) + wrapper
            + [binary, "run", "--config", configPath, "--log-level", "debug"]
        FileManager.default.createFile(atPath: logPath, contents: nil)
        process = try ChildProcess(
            command, environment: ProcessInfo.processInfo.environment.merging(env) { $1 }, outputPath: logPath)
    }

    /// The controller's process id.
    var pid: Int32 { process?.pid ?? 0 }

    /// Waits until `GET /healthz` answers (the API is up), failing with the log otherwise.
    func waitUntilServing(timeout: TimeInterval = 30) throws {
        try waitFor("the controller API on port \(port)", timeout: timeout) {
            (try? self.get("/healthz")) != nil
        }
    }

    /// Polls `condition` every 50 ms until it holds, failing with the controller log after `timeout`.
    func waitFor(_ what: String, timeout: TimeInterval = 30, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return }
            if let process, !process.isRunning {
                throw Failure("controller exited (\(process.terminationStatus ?? -1)) while waiting for \(what)\n\(logTail())")
            }
            usleep(50_000)
        }
        throw Failure("timed out after \(timeout)s waiting for \(what)\n\(logTail())")
    }

    /// `GET path` on the API; the body, or nil when not answered with 200.
    func get(_ path: String) throws -> Data? {
        if netns == nil {
            guard let reply = LoopbackHTTP.get(port: port, path: path), reply.status == 200 else { return nil }
            return reply.body
        }
        let curl = ["/usr/bin/curl", "-sf", "--max-time", "2", "http://127.0.0.1:\(port)\(path)"]
        let result = try run((netns.map { ["/usr/sbin/ip", "netns", "exec", $0] } ?? []) + curl, direct: true)
        return result.status == 0 ? Data(result.stdout.utf8) : nil
    }

    /// The API's `/status`, decoded loosely.
    func status() throws -> [String: Any]? {
        guard let data = try get("/status") else { return nil }
        return try JSONSerialization.jsonObject(with: data) as? [String: Any]
    }

    /// The state of `site` in `/status`.
    func siteState(_ site: String) throws -> String? {
        let sites = try status()?["sites"] as? [[String: Any]]
        return sites?.first { $0["name"] as? String == site }?["state"] as? String
    }

    /// Sends `signal` and waits for the process to exit; returns its exit status.
    @discardableResult
    func stop(signal: Int32 = SIGTERM) -> Int32 {
        guard let process else { return -1 }
        return process.stop(signal: signal)
    }

    /// Runs `failoverctl ARGS --config <this config>` (or an arbitrary command with `direct`).
    func run(_ args: [String], direct: Bool = false, env: [String: String] = [:]) throws
        -> (status: Int32, stdout: String, stderr: String)
    {
        let argv = direct ? args : [try BuildProducts.executable("failoverctl")] + args + ["--config", configPath]
        return try ChildProcess.run(argv, environment: ProcessInfo.processInfo.environment.merging(env) { $1 })
    }

    func logTail(_ lines: Int = 40) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "(no log)"
        return "--- controller log (last \(lines) lines) ---\n" + text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
