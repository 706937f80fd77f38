import CSpawnShim
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Why a command could not be started: its errno, readable.
struct SpawnFailure: Error, CustomStringConvertible {
    /// The errno value.
    let code: Int32
    var description: String { String(cString: strerror(code)) }
}

/// The start of a `Subprocess`: the program found on PATH here, then the command started
/// under a guard process (`fo_guard_spawn`) that kills it and its whole process group when
/// this process dies, even by SIGKILL.
enum SpawnCall {
    /// The PATH searched when the environment has none (glibc's `execvp` default).
    static let defaultPath = "/bin:/usr/bin"

    /// Starts `argv` (PATH lookup for a bare `argv[0]`, no shell) in a new process group
    /// led by its guard, with stdin from /dev/null, stdout and stderr on the given
    /// descriptors, an empty signal mask and default signal actions (Dispatch threads
    /// block SIGTERM and the runtime ignores SIGPIPE; a child would inherit both), and no
    /// other descriptor of ours. Returns the guard's pid, which is the group id; the guard
    /// ends exactly as the command does.
    static func spawn(_ argv: [String], environment: [String: String], stdout: Int32, stderr: Int32)
        -> Result<pid_t, SpawnFailure>
    {
        let path: String
        switch resolve(argv[0], searchPath: environment["PATH"] ?? ProcessInfo.processInfo.environment["PATH"]) {
        case .success(let found): path = found
        case .failure(let failure): return .failure(failure)
        }
        // Built before the fork: the guard and the command only make system calls.
        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (cArgv + cEnv).forEach { free($0) } }
        var pid: pid_t = 0
        let code = fo_guard_spawn(path, cArgv, cEnv, stdout, stderr, &pid)
        return code == 0 ? .success(pid) : .failure(SpawnFailure(code: code))
    }

    /// The file `execvp` would run for `program`: itself when it holds a `/`, else the
    /// first executable regular file named so in a directory of `searchPath` (an empty
    /// entry is the working directory). ENOENT when there is none, EACCES when only
    /// non-executable ones exist.
    static func resolve(_ program: String, searchPath: String?) -> Result<String, SpawnFailure> {
        if program.contains("/") { return .success(program) }
        var denied = false
        for directory in (searchPath ?? defaultPath).split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = directory.isEmpty ? program : "\(directory)/\(program)"
            var info = stat()
            guard stat(candidate, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { continue }
            if access(candidate, X_OK) == 0 { return .success(candidate) }
            denied = true
        }
        return .failure(SpawnFailure(code: denied ? EACCES : ENOENT))
    }

    /// `pipe2(fds, O_CLOEXEC)`, so no other child inherits our ends. Returns 0 or -1 with
    /// `errno` set.
    static func closeOnExecPipe(_ fds: inout [Int32]) -> Int32 {
        fds.withUnsafeMutableBufferPointer { fo_cloexec_pipe($0.baseAddress) }
    }
}
