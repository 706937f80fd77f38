import FailoverCore
import ServiceLifecycle

/// Feeds the leadership executor: a snapshot whenever a quorum verdict changes, and every
/// `tick` a chance to re-judge the groups that wait for time (cooldown, failback) and to
/// retry failed commits. On graceful shutdown it stops running steps, whose plan resumes
/// at that step on the next start.
struct GroupService<C: Clock>: Service where C.Duration == Duration {
    let executor: LeadershipExecutor
    let snapshots: AsyncStream<WorldSnapshot>
    let clock: C
    var tick: Duration = .seconds(1)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await snapshot in snapshots { await executor.update(snapshot) }
                }
                group.addTask {
                    while true {
                        do { try await clock.sleep(for: tick) } catch { return }
                        await executor.tick()
                    }
                }
            }
        }
        await executor.shutdown()
    }
}

extension GroupService: CustomStringConvertible {
    /// What service-lifecycle logs: no configuration, which may hold secrets.
    var description: String { "GroupService" }
}
