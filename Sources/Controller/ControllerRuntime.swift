import Actions
import Alerting
import Coordination
import EventLog
import FailoverCore
import Foundation
import Logging
import ServiceLifecycle

/// The controller service behind `failoverctl run`: probes every site on its schedule,
/// debounces the results, records verdict changes in the event log and serves the API.
///
/// Runs as one `ServiceGroup` (the site monitors and the HTTP API) until SIGTERM or
/// SIGINT, then shuts down gracefully: in-flight probes are cancelled, statuses are saved
/// and a `controller_stopped` event is written.
public struct ControllerRuntime: Sendable {
    /// The validated configuration.
    public let config: ControllerConfig
    let logger: Logger
    let prober: any Prober
    let coordinator: any Coordinator
    let wallClock: any WallClock
    /// How often changed site statuses are saved for `status` without a controller.
    public var statusFlushInterval: Duration = .seconds(2)
    /// Plugins by name that replace the built-in ones (benchmarks and tests).
    public var plugins: [String: any ActionPlugin] = [:]
    /// The wait between a step's failed attempt and the next.
    public var backoff = Backoff()
    /// The wait after an alert's first failed delivery (it doubles up to 5 minutes).
    public var alertBackoff: Duration = .seconds(2)
    /// systemd's notification socket and watchdog, from the environment.
    public var notifier = SystemdNotifier()
    /// This runtime's metrics (`GET /metrics`): its own registry, not the global `MetricsSystem`.
    public let metrics: ControllerMetrics

    /// Creates the service; by default with the `local` coordinator and the system clock.
    public init(
        config: ControllerConfig, logger: Logger, prober: any Prober, coordinator: (any Coordinator)? = nil,
        wallClock: any WallClock = SystemWallClock()
    ) {
        self.config = config
        self.logger = logger
        self.prober = prober
        self.coordinator = coordinator ?? Self.coordinator(for: config, wallClock: wallClock)
        self.wallClock = wallClock
        metrics = ControllerMetrics(config: config)
    }

    /// The coordinator the configuration names.
    static func coordinator(for config: ControllerConfig, wallClock: any WallClock) -> any Coordinator {
        switch config.coordination {
        case .local: LocalCoordinator(id: config.id)
        case .etcd(let etcd): EtcdCoordinator(id: config.id, config: etcd, wallClock: wallClock)
        }
    }

    /// Runs until a shutdown signal (or `cancel`), then returns. Throws when the state
    /// cannot be opened or the API cannot listen.
    public func run(onReady: @escaping @Sendable () async -> Void = {}) async throws {
        let wakeup = Wakeup()
        let hooks = config.alerts.sinks.isEmpty ? nil : StoreOutbox.hooks(config.alerts, wakeup: wakeup)
        let store = try EventStore(
            path: EventStore.path(inStateDirectory: config.stateDir), backgroundCheckpoints: true, outbox: hooks)
        let startedAt = wallClock.now()
        try recordStart(store, at: startedAt)
        let board = StatusBoard(
            config: config, startedAt: startedAt, store: store, coordinator: coordinator, wallClock: wallClock,
            logger: logger, metrics: metrics)
        let executor = try makeExecutor(store: store, board: board)
        // The first coordination round before any probe: with etcd a controller that cannot
        // join yet starts anyway, not quorate, and keeps trying; `local` leads from here.
        let first = await coordinator.refresh()
        await board.apply(first)
        await executor.viewRead(first)
        let monitors = MonitorService(
            scheduler: RoundScheduler(
                sites: config.sites, prober: prober, clock: ContinuousClock(), wallClock: wallClock, board: board),
            flushInterval: statusFlushInterval)
        let (snapshots, sink) = AsyncStream.makeStream(of: WorldSnapshot.self, bufferingPolicy: .bufferingNewest(8))
        await board.connect { sink.yield($0) }
        let groups = GroupService(executor: executor, snapshots: snapshots, clock: ContinuousClock())
        let api = APIServer.service(
            address: config.listen, context: APIContext(
                config: config, board: board, store: store, executor: executor, wallClock: wallClock, metrics: metrics),
            onRunning: { [logger, config, notifier] in
                logger.notice("controller \(config.id) serving its API on http://\(config.listen)")
                notifier.notify("READY=1\nSTATUS=probing \(config.sites.count) sites, API on \(config.listen)")
                await onReady()
            })
        let watchdog = WatchdogService(
            notifier: notifier, board: board, clock: ContinuousClock(), expectsRounds: !config.sites.isEmpty)
        var shared: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if case .etcd(let etcd) = config.coordination {
            shared.append(
                .init(
                    service: CoordinationService(
                        coordinator: coordinator, board: board, executor: executor, poll: etcd.poll,
                        keepAlive: etcd.leaseTTL / 3, clock: ContinuousClock(), logger: logger),
                    successTerminationBehavior: .gracefullyShutdownGroup))
            if let etcdCoordinator = coordinator as? EtcdCoordinator {
                shared.append(
                    .init(
                        service: EventExchangeService(
                            coordinator: etcdCoordinator, store: store, controller: config.id, every: .milliseconds(500),
                            clock: ContinuousClock(), logger: logger),
                        successTerminationBehavior: .gracefullyShutdownGroup))
            }
        }
        let group = ServiceGroup(
            configuration: .init(
                services: shared + [
                    .init(service: monitors, successTerminationBehavior: .gracefullyShutdownGroup),
                    .init(service: groups, successTerminationBehavior: .gracefullyShutdownGroup),
                    .init(service: watchdog, successTerminationBehavior: .gracefullyShutdownGroup),
                    .init(service: alertService(store: store, wakeup: wakeup), successTerminationBehavior: .gracefullyShutdownGroup),
                    .init(service: api, successTerminationBehavior: .gracefullyShutdownGroup),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            await coordinator.leave()
            await recordStop(store, board: board, reason: "\(error)")
            throw error
        }
        await coordinator.leave()
        await recordStop(store, board: board, reason: "shutdown")
    }

    /// The alert sender service; with no sink configured it only waits for shutdown.
    private func alertService(store: EventStore, wakeup: Wakeup) -> AlertService {
        var sender = AlertSender(config: config.alerts, outbox: StoreOutbox(store: store))
        sender.backoff = alertBackoff
        return AlertService(sender: sender, wakeup: wakeup, wallClock: wallClock, logger: logger)
    }

    /// The leadership executor with its ledger and step runner: exec and verify built in,
    /// `plugins` on top.
    private func makeExecutor(store: EventStore, board: StatusBoard) throws -> LeadershipExecutor {
        let secrets = config.secrets
        let exec = ExecAction(secrets: secrets, logger: logger)
        let verify = VerifyAction(sites: config.sites, prober: prober, clock: ContinuousClock(), wallClock: wallClock)
        let observer = StepEvents(controller: config.id, store: store, wallClock: wallClock, secrets: secrets, logger: logger)
        let postgres = PostgresAction(
            lastSeen: { [board] site in await board.lastDatabase(of: site) }, wallClock: wallClock,
            logger: logger)
        let runner = StepRunner(
            registry: PluginRegistry(exec: exec, verify: verify, postgres: postgres, plugins: plugins), observer: observer,
            wallClock: wallClock, backoff: backoff)
        let ledger: any StateLedger =
            coordinator.ledger.map { SharedLedger(groups: $0, store: store, logger: logger) } ?? LocalLedger(store: store)
        // A local controller's term counts its starts: a step it resumes carries a greater token.
        let localTerm = try store.mirrorCursor("local_term") + 1
        try store.setMirrorCursor("local_term", localTerm)
        return try LeadershipExecutor(
            config: config, store: store, board: board, runner: runner, hooks: exec, ledger: ledger, localTerm: localTerm,
            wallClock: wallClock, logger: logger, metrics: metrics)
    }

    private func recordStart(_ store: EventStore, at: Timestamp) throws {
        try store.recordControllerStarted(
            ControllerInfo(id: config.id, listen: config.listen.description, startedAt: at, pid: getpid()))
        let sites: [JSONValue] = config.sites.map { site in
            .object([
                "name": .string(site.name), "interval": .string(site.interval.text), "fall": .number(Double(site.fall)),
                "rise": .number(Double(site.rise)), "require": .string(site.require.rawValue),
                "checks": .array(site.checks.map { .string("\($0.name) \($0.kind.label) \($0.kind.redactedTarget)") }),
            ])
        }
        try store.recordEvents([
            Event(
                at: at, controller: config.id, kind: .controllerStarted,
                details: .object(["pid": .number(Double(getpid())), "listen": .string(config.listen.description)])),
            Event(
                at: at, controller: config.id, kind: .configLoaded,
                details: .object(["path": .string(URL(fileURLWithPath: config.sourcePath).standardizedFileURL.path), "sites": .array(sites)])),
        ])
        logger.notice("controller \(config.id) started: \(config.sites.count) sites, state in \(store.path)")
    }

    private func recordStop(_ store: EventStore, board: StatusBoard, reason: String) async {
        await board.flush(resultsEvery: .zero)
        let at = wallClock.now()
        await board.append(
            Event(at: at, controller: config.id, kind: .controllerStopped, details: .object(["reason": .string(reason)])))
        try? store.recordControllerStopped(at: at)
        logger.notice("controller \(config.id) stopped (\(reason))")
    }
}
