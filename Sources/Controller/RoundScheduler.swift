import FailoverCore
import Synchronization

/// Runs the probe rounds of every site from one task, each round in a short-lived child
/// task, and hands each finished round to the `StatusBoard`, which owns the sites' FSMs.
///
/// One scheduling task instead of one per site keeps memory flat with many sites: a task
/// keeps the memory of its deepest await chain for life. Time comes from an injected
/// clock, so tests drive rounds with a manual clock instead of sleeping.
struct RoundScheduler<C: Clock>: Sendable where C.Duration == Duration {
    let sites: [SiteConfig]
    let prober: any Prober
    let clock: C
    let wallClock: any WallClock
    let board: StatusBoard

    /// Runs rounds until the task is cancelled.
    func run() async {
        guard !sites.isEmpty else { return }
        let start = clock.now
        var queue = DeadlineQueue<C.Instant>()
        for (index, site) in sites.enumerated() {
            queue.push(start.advanced(by: Self.offset(index: index, count: sites.count, interval: site.interval)), index)
        }
        // A site's next round never starts while its previous one runs (timeout < interval
        // makes that rare); it is skipped rather than queued.
        let running = RunningFlags(count: sites.count)
        await withDiscardingTaskGroup { group in
            while let next = queue.first {
                do { try await clock.sleep(until: next.deadline, tolerance: nil) } catch { break }
                let now = clock.now
                while let due = queue.first, due.deadline <= now {
                    queue.removeFirst()
                    let index = due.site
                    queue.push(Self.nextDeadline(after: due.deadline, interval: sites[index].interval, now: now), index)
                    guard running.claim(index) else { continue }
                    let lateness = due.deadline.duration(to: now)
                    group.addTask {
                        await round(sites[index], lateness: lateness)
                        running.release(index)
                        await board.roundCompleted()
                    }
                }
            }
            group.cancelAll()
        }
    }

    /// Probes one round of `site` and hands it to the board.
    private func round(_ site: SiteConfig, lateness: Duration) async {
        let at = wallClock.now()
        let round = await Self.probeRound(site, prober: prober, at: at)
        guard !Task.isCancelled else { return }
        await board.roundFinished(site: site.name, round: round, lateness: lateness)
    }

    /// Probes every check of the site at once; results come back in the checks' order.
    static func probeRound(_ site: SiteConfig, prober: any Prober, at: Timestamp) async -> ProbeRound {
        let results = await withTaskGroup(of: (Int, ProbeResult).self) { group in
            for (index, check) in site.checks.enumerated() {
                let timeout = check.timeout ?? site.timeout
                group.addTask { (index, await prober.probe(check, timeout: timeout, at: at)) }
            }
            var results = [ProbeResult?](repeating: nil, count: site.checks.count)
            for await (index, result) in group { results[index] = result }
            return results.compactMap { $0 }
        }
        return ProbeRound(at: at, results: results)
    }

    /// The next round's deadline; rounds missed while the process was stalled are skipped
    /// rather than run in a burst.
    static func nextDeadline(after deadline: C.Instant, interval: Duration, now: C.Instant) -> C.Instant {
        var next = deadline.advanced(by: interval)
        if next <= now {
            let behind = next.duration(to: now)
            let missed = Int(behind.milliseconds / max(interval.milliseconds, 1)) + 1
            next = next.advanced(by: interval * missed)
        }
        return next
    }

    /// Spreads first rounds evenly over the interval, so many sites do not probe in one
    /// burst every second.
    static func offset(index: Int, count: Int, interval: Duration) -> Duration {
        guard count > 1 else { return .zero }
        return interval * Double(index) / Double(count)
    }
}

/// Which sites have a round in flight, shared by the scheduler and its round tasks.
final class RunningFlags: Sendable {
    private let flags: Mutex<[Bool]>

    init(count: Int) { flags = Mutex([Bool](repeating: false, count: count)) }

    /// Marks `site` running; false when it already was.
    func claim(_ site: Int) -> Bool {
        flags.withLock { busy in
            defer { busy[site] = true }
            return !busy[site]
        }
    }

    func release(_ site: Int) { flags.withLock { $0[site] = false } }
}

/// A binary min-heap of (deadline, site index): the next round to run is `first`.
struct DeadlineQueue<Instant: InstantProtocol> {
    struct Entry {
        let deadline: Instant
        let site: Int
    }

    private var heap: [Entry] = []

    var first: Entry? { heap.first }

    mutating func push(_ deadline: Instant, _ site: Int) {
        heap.append(Entry(deadline: deadline, site: site))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].deadline < heap[parent].deadline else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func removeFirst() {
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count, heap[left].deadline < heap[smallest].deadline { smallest = left }
            if right < heap.count, heap[right].deadline < heap[smallest].deadline { smallest = right }
            guard smallest != parent else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
