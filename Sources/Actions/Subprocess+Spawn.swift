import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Why `posix_spawnp` failed: its errno, readable.
struct SpawnFailure: Error, CustomStringConvertible {
    /// The errno value.
    let code: Int32
    var description: String { String(cString: strerror(code)) }
}

/// The `posix_spawnp` call behind `Subprocess`.
enum SpawnCall {
    /// Signals reset to their default action in the child: the controller (and Swift's
    /// runtime) may ignore some, and an ignored signal stays ignored across exec.
    static let defaultSignals = [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGCHLD]

    /// Spawns `argv` (PATH lookup for `argv[0]`, no shell) in a new process group with
    /// stdin from /dev/null, stdout and stderr on the given descriptors, an empty signal
    /// mask (Dispatch threads block SIGTERM; a child would inherit that), and no other
    /// descriptor of ours.
    static func spawn(_ argv: [String], environment: [String: String], stdout: Int32, stderr: Int32)
        -> Result<pid_t, SpawnFailure>
    {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        configure(&attributes)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        _ = closeFrom.map { $0(&actions, 3) }
        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (cArgv + cEnv).forEach { free($0) } }
        var pid: pid_t = 0
        let code = posix_spawnp(&pid, argv[0], &actions, &attributes, cArgv, cEnv)
        return code == 0 ? .success(pid) : .failure(SpawnFailure(code: code))
    }

    /// `pipe2(fds, O_CLOEXEC)`, so no other child inherits our ends; `pipe` plus `fcntl`
    /// where `pipe2` is missing. Returns 0 or -1 with `errno` set.
    static func closeOnExecPipe(_ fds: inout [Int32]) -> Int32 {
        if let pipe2 { return pipe2(&fds, O_CLOEXEC) }
        guard pipe(&fds) == 0 else { return -1 }
        fds.forEach { _ = fcntl($0, F_SETFD, FD_CLOEXEC) }
        return 0
    }

    // Glibc's Swift module does not declare these GNU extensions (they need _GNU_SOURCE);
    // look them up once. `addclosefrom_np` exists from glibc 2.34.
    private typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>?, Int32) -> Int32
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32
    private static let pipe2: Pipe2? = symbol("pipe2")
    private static let closeFrom: AddCloseFrom? = symbol("posix_spawn_file_actions_addclosefrom_np")

    private static func symbol<T>(_ name: String) -> T? {
        guard let handle = dlopen(nil, RTLD_NOW), let address = dlsym(handle, name) else { return nil }
        return unsafeBitCast(address, to: T.self)
    }

    private static func configure(_ attributes: inout posix_spawnattr_t) {
        let flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        posix_spawnattr_setflags(&attributes, Int16(flags))
        posix_spawnattr_setpgroup(&attributes, 0)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        defaultSignals.forEach { sigaddset(&defaults, $0) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
    }
}
