import Testing
@testable import SimCore

struct SimulationTests {
    @Test func eventsRunByTimeThenPriorityThenInsertionOrder() {
        let sim = Simulation(seed: 1)
        var order: [String] = []
        sim.schedule(after: .seconds(2)) { order.append("t2") }
        sim.schedule(after: .seconds(1)) { order.append("t1-a") }
        sim.schedule(after: .seconds(1)) { order.append("t1-b") }
        sim.schedule(after: .seconds(1), priority: -1) { order.append("t1-urgent") }
        for i in 0..<50 { sim.schedule(after: .seconds(3)) { order.append("t3-\(i)") } }
        sim.run(until: SimTime(nanoseconds: 10_000_000_000))
        #expect(Array(order.prefix(4)) == ["t1-urgent", "t1-a", "t1-b", "t2"])
        #expect(Array(order.dropFirst(4)) == (0..<50).map { "t3-\($0)" })
        #expect(sim.now == SimTime(nanoseconds: 10_000_000_000))
    }

    @Test func cancelledEventsDoNotRunAndTimeNeverGoesBack() {
        let sim = Simulation(seed: 1)
        var ran = false
        let id = sim.schedule(after: .seconds(1)) { ran = true }
        sim.cancel(id)
        sim.schedule(after: .seconds(5)) {
            // Scheduling in the past runs "now", not earlier.
            sim.schedule(at: .zero) { #expect(sim.now == SimTime.zero + .seconds(5)) }
        }
        sim.run(until: SimTime.zero + .minutes(1))
        #expect(!ran)
    }

    @Test func stopEndsTheRunAfterTheCurrentEvent() {
        let sim = Simulation(seed: 1)
        var count = 0
        for i in 1...10 { sim.schedule(after: .seconds(Int64(i))) { count += 1; if i == 3 { sim.stop() } } }
        sim.run(until: SimTime.zero + .minutes(1))
        #expect(count == 3)
        #expect(sim.now == SimTime.zero + .seconds(3))
    }

    @Test func randomStreamsAreSeededAndIndependent() {
        let a = RandomStreams(seed: 42), b = RandomStreams(seed: 42), c = RandomStreams(seed: 43)
        let xa = (0..<5).map { _ in a.next("scheduler") }
        // Drawing from another stream does not shift "scheduler".
        _ = b.next("kubelet/node-1")
        let xb = (0..<5).map { _ in b.next("scheduler") }
        let xc = (0..<5).map { _ in c.next("scheduler") }
        #expect(xa == xb)
        #expect(xa != xc)
        #expect(a.int("x", in: 3...3) == 3)
        #expect(a.nameSuffix("n").count == 5)
    }

    @Test func eventLogLinesCarryVirtualTimeOnly() {
        let sim = Simulation(seed: 1)
        sim.schedule(after: .milliseconds(12_500)) { sim.record("scheduler", "bound default/web-1 to node-2") }
        sim.run(until: SimTime.zero + .minutes(1))
        #expect(sim.log.text == "[t=12.500s] scheduler: bound default/web-1 to node-2\n")
        #expect(sim.log.sha256.count == 64)
        #expect(EventLog().sha256 == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test(arguments: [
        ("500ms", Int64(500_000_000)), ("30s", 30_000_000_000), ("5m", 300_000_000_000), ("1h", 3_600_000_000_000),
        ("1m30s", 90_000_000_000), ("1.5s", 1_500_000_000), ("2", 2_000_000_000), ("0", 0),
    ])
    func durationsParse(_ text: String, _ ns: Int64) throws {
        #expect(try SimDuration(parsing: text).nanoseconds == ns)
    }

    @Test(arguments: ["", "abc", "5x", "-3s", "1e400", "s", "10 minutes"])
    func badDurationsAreRejected(_ text: String) {
        #expect(throws: DurationParseError.self) { try SimDuration(parsing: text) }
    }

    @Test func humanDurations() {
        #expect(SimDuration.seconds(340).humanDescription == "5m40s")
        #expect(SimDuration.milliseconds(750).humanDescription == "750ms")
        #expect(SimDuration.seconds(3600).humanDescription == "1h")
        #expect((SimTime.zero + .milliseconds(1005)).description == "1.005s")
    }
}
