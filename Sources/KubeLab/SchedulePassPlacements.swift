public import LuaPlugins

extension SchedulePass {
    /// Schedules every pod and returns only where each went ("ns/name" and its node, or nil),
    /// in scheduling order: the pass without the summary `run` builds (what the scheduler
    /// benchmarks time).
    public func placements(luas: [LuaSchedulerPlugin], seed: UInt64, percentageOfNodesToScore: Int? = nil) -> [(pod: String, node: String?)] {
        cycles(luas: luas, seed: seed, percentageOfNodesToScore: percentageOfNodesToScore).results.map { ($0.key, $0.result.node) }
    }
}
