import FailoverCore

/// Which plugin performs a resolved step's action.
///
/// `exec` specs go to the exec plugin, `haproxy`, `powerdns` and `cloudflare` specs to their
/// built-in plugins, `verify` to the plugin the controller injects (it probes the target's
/// checks), and any plugin name found in `plugins` to that plugin, which wins over the
/// built-in ones (tests inject `RecordingAction`s this way).
public struct PluginRegistry: Sendable {
    private let exec: any ActionPlugin
    private let verify: (any ActionPlugin)?
    private let plugins: [String: any ActionPlugin]
    private let haproxy = HAProxyAction()
    private let powerdns = PowerDNSAction()
    private let cloudflare = CloudflareAction()
    private let postgres: PostgresAction
    private let route53 = Route53Action()
    private let elbv2 = ELBv2Action()

    /// Creates a registry. `plugins` is keyed by `ActionSpec.plugin` (`exec`, ...);
    /// `postgres` is the built-in PostgreSQL plugin (the controller gives it the checks'
    /// readings).
    public init(
        exec: any ActionPlugin = ExecAction(), verify: (any ActionPlugin)? = nil, postgres: PostgresAction = PostgresAction(),
        plugins: [String: any ActionPlugin] = [:]
    ) {
        self.exec = exec
        self.postgres = postgres
        self.verify = verify
        self.plugins = plugins
    }

    /// The plugin for `action`, or nil when none can run it (skip, unavailable, a verify
    /// step without a verify plugin, an unknown plugin name).
    public func plugin(for action: ResolvedAction) -> (any ActionPlugin)? {
        switch action {
        case .plugin(let spec):
            if let injected = plugins[spec.plugin] { return injected }
            switch spec {
            case .exec: return exec
            case .haproxy: return haproxy
            case .powerdns: return powerdns
            case .cloudflare: return cloudflare
            case .postgres: return postgres
            case .route53: return route53
            case .elbv2: return elbv2
            }
        case .verify: return verify
        case .skip, .unavailable: return nil
        }
    }
}
