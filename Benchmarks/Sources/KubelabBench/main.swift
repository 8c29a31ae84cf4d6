// kubelab's scheduler benchmarks: scheduler_perf-style workloads, scheduling time only.
//
//   KubelabBench schedule DIR PLUGIN [--floor SECONDS | --floor-command CMD] [--lua-floor-command CMD]
//                [--proxy-floor-command CMD] [--only default|lua|scan]
//       DIR/nodes.yaml and DIR/pods.yaml (bench/scheduler/workload.sh), PLUGIN the Lua
//       filter + score plugin (bench/scheduler/binpack.lua). Prints the three figures:
//       default profile pods/s, Lua plugin pods/s, Lua full scan of 1,000 pods vs the plain
//       lua5.4 floor (SECONDS, or CMD run just before and after the scan: its mean). With
//       --lua-floor-command (floor.lua at percentage 0), the Lua plugin's pods/s is shown
//       beside plain lua5.4's on the same search, run just before and after it. With
//       --proxy-floor-command (floor.lua with read-only proxy views), the scan is also set
//       against that floor.
//   KubelabBench memory DIR PODS
//       DIR's nodes holding PODS pods (the pod template, spread evenly), as the scheduler
//       keeps them; prints the peak resident memory.
import Foundation
import KubeAPI
import KubeScheduler
import KubeLab
import LuaPlugins

/// Prints a line at once (stdout may be a pipe).
func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("KubelabBench: \(message)\n".utf8))
    exit(2)
}

func read(_ path: String) -> String {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { fail("cannot read \(path)") }
    return text
}

/// Peak resident memory of this process so far (VmHWM), in bytes.
func peakResidentBytes() -> Int {
    for line in read("/proc/self/status").split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
        return kb * 1024
    }
    return 0
}

func mib(_ bytes: Int) -> String { String(format: "%.0f MiB", Double(bytes) / 1_048_576) }

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

func load(_ dir: String, podLimit: Int? = nil) -> SchedulePass {
    var pass = SchedulePass()
    do {
        try pass.load(nodesText: read("\(dir)/nodes.yaml"), nodesFile: "\(dir)/nodes.yaml",
                      podsText: read("\(dir)/pods.yaml"), podsFile: "\(dir)/pods.yaml")
    } catch {
        fail(error.description)
    }
    if let podLimit { pass.pods = Array(pass.pods.prefix(podLimit)) }
    return pass
}

/// The plugin's adapter; with `reuse` false it makes every call (no kept verdicts).
func plugin(_ path: String, reuse: Bool = true) -> LuaSchedulerPlugin {
    do {
        let lua = LuaSchedulerPlugin(try LoadedPlugin.load(path: path))
        lua.reusesVerdicts = reuse
        return lua
    } catch {
        fail("\(path): \(error)")
    }
}

/// The process's CPU time in seconds: what the floor's `os.clock()` reads. On a shared
/// machine wall time also counts the time other tenants took the CPU.
func cpuSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// The pass timed on the wall clock and in CPU time, and how many pods it placed.
func timedCPU(_ pass: SchedulePass, _ luas: [LuaSchedulerPlugin], percentage: Int?) -> (wall: Double, cpu: Double, placed: Int) {
    let clock = ContinuousClock()
    var placed = 0
    let cpu0 = cpuSeconds()
    let d = clock.measure {
        placed = pass.placements(luas: luas, seed: 1, percentageOfNodesToScore: percentage).count { $0.node != nil }
    }
    return (seconds(d), cpuSeconds() - cpu0, placed)
}

func report(_ what: String, pods: Int, placed: Int, seconds s: Double, goal: Double) {
    let rate = Double(pods) / s
    let verdict = rate >= goal ? "meets" : "BELOW"
    say(String(format: "%@: %d pods in %.3f s = %.0f pods/s (%d placed; goal >= %.0f: %@)", what, pods, s, rate, placed, goal, verdict))
}

func schedule(_ args: [String]) {
    guard args.count >= 2 else { fail("usage: KubelabBench schedule DIR PLUGIN [--floor SECONDS | --floor-command CMD] [--lua-floor-command CMD] [--proxy-floor-command CMD] [--only default|lua|scan]") }
    let dir = args[0], pluginPath = args[1]
    var floor: Double?
    if let i = args.firstIndex(of: "--floor"), i + 1 < args.count { floor = Double(args[i + 1]) }
    // The floor command is run just before and just after the scan: this machine's speed
    // drifts by 2x over minutes, so a floor measured apart from the scan misleads.
    let floorCommand = args.firstIndex(of: "--floor-command").flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil }
    // The same for the default percentage: lua5.4 floor.lua ... PERCENT 0, around the Lua pass.
    let luaFloorCommand = args.firstIndex(of: "--lua-floor-command").flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil }
    // The scan's floor with read-only proxy views, beside the one with plain tables.
    let proxyFloorCommand = args.firstIndex(of: "--proxy-floor-command").flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil }
    let only = args.firstIndex(of: "--only").flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil }
    func wanted(_ phase: String) -> Bool { only == nil || only == phase }
    let pass = load(dir)
    say("workload: \(pass.nodes.count) nodes, \(pass.pods.count) pods (\(dir))")

    if wanted("default") {
        // Under half a second a pass: the median of three, against a passing stall.
        let runs = (0..<3).map { _ in timedCPU(pass, [], percentage: nil) }
        let median = runs.sorted { $0.cpu < $1.cpu }[1]
        report("default profile, native plugins (median of 3 passes, CPU time)", pods: pass.pods.count, placed: median.placed,
               seconds: median.cpu, goal: 20_000)
    }
    if wanted("lua") {
        let before = luaFloorCommand.flatMap(runFloor)
        let lua = plugin(pluginPath)
        let (_, s, p) = timedCPU(pass, [lua], percentage: nil)
        report("Lua filter + score (\(pluginPath)), default percentageOfNodesToScore, CPU time", pods: pass.pods.count, placed: p,
               seconds: s, goal: 2_000)
        say("  \(lua.costs.values.map(\.calls).reduce(0, +)) filter and score calls, \(lua.reusedResults) of them given kept verdicts")
        // The same pass making every call: the Lua boundary's own speed.
        let (_, every, _) = timedCPU(pass, [plugin(pluginPath, reuse: false)], percentage: nil)
        say(String(format: "  every call made (no kept verdicts): %.3f s = %.0f pods/s", every, Double(pass.pods.count) / every))
        if let before, let after = luaFloorCommand.flatMap(runFloor) {
            // Plain lua5.4 doing the same search with the same views: what this machine
            // allows a Lua plugin at all, beside the fixed goal.
            let floor = (before + after) / 2
            say(String(format: "  plain lua5.4, same search and views: %.3f s before, %.3f s after = %.0f pods/s; kubelab x%.2f of its rate (x%.2f making every call)",
                       before, after, Double(pass.pods.count) / floor, floor / s, floor / every))
        }
    }
    guard wanted("scan") else { return say("peak resident memory: \(mib(peakResidentBytes()))") }

    var first = pass
    first.pods = Array(pass.pods.prefix(1000))
    let before = floorCommand.flatMap(runFloor)
    let proxyBefore = proxyFloorCommand.flatMap(runFloor)
    let (wall3, s3, p3) = timedCPU(first, [plugin(pluginPath)], percentage: 100)
    let (_, every3, _) = timedCPU(first, [plugin(pluginPath, reuse: false)], percentage: 100)
    if let proxyBefore, let proxyAfter = proxyFloorCommand.flatMap(runFloor) {
        let proxyFloor = (proxyBefore + proxyAfter) / 2
        say(String(format: "floor with read-only proxy views: before the scan %.3f s, after %.3f s; ratio %.2f (%.2f making every call)",
                   proxyBefore, proxyAfter, s3 / proxyFloor, every3 / proxyFloor))
    }
    if let before, let after = floorCommand.flatMap(runFloor) {
        floor = (before + after) / 2
        say(String(format: "floor before the scan %.3f s, after %.3f s (CPU time, os.clock)", before, after))
    }
    var line = String(format: "Lua filter + score, full scan (percentageOfNodesToScore 100): %d pods x %d nodes in %.3f s of CPU time (%.3f s wall; %d placed)",
                      first.pods.count, pass.nodes.count, s3, wall3, p3)
    if let floor, floor > 0 {
        let ratio = s3 / floor
        line += String(format: "; plain lua5.4 floor %.3f s, ratio %.2f (goal <= 1.50: %@)", floor, ratio, ratio <= 1.5 ? "meets" : "ABOVE")
    }
    say(line)
    var everyLine = String(format: "  every call made (no kept verdicts): %.3f s of CPU time", every3)
    if let floor, floor > 0 { everyLine += String(format: ", ratio %.2f", every3 / floor) }
    say(everyLine)
    say("peak resident memory: \(mib(peakResidentBytes()))")
}

/// Runs the floor script through the shell and reads the seconds it prints first.
func runFloor(_ command: String) -> Double? {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", command]
    let out = Pipe()
    p.standardOutput = out
    do { try p.run() } catch { return nil }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0, let text = String(data: data, encoding: .utf8) else { return nil }
    return text.split(whereSeparator: \.isNewline).first.flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }
}

func memory(_ args: [String]) {
    guard args.count >= 2, let count = Int(args[1]), count > 0 else { fail("usage: KubelabBench memory DIR PODS") }
    let pass = load(args[0], podLimit: 1)
    guard let template = pass.pods.first else { fail("\(args[0])/pods.yaml has no pod") }
    let before = peakResidentBytes()
    var infos = pass.nodes.map { NodeInfo(node: $0) }
    var pods: [Pod] = []
    pods.reserveCapacity(count)
    for i in 0..<count {
        var p = template
        p.metadata.name = "pod-\(i)"
        p.metadata.uid = "uid-\(i)"
        p.spec.nodeName = infos[i % infos.count].name
        pods.append(p)
        infos[i % infos.count].add(p)
    }
    let peak = peakResidentBytes()
    let held = infos.reduce(0) { $0 + $1.pods.count }
    say("memory: \(infos.count) nodes holding \(held) pods (and the \(pods.count) pod objects): peak resident \(mib(peak)) " +
          "(\(mib(before)) before the pods; goal <= 2048 MiB: \(peak <= 2 << 30 ? "meets" : "ABOVE"))")
}

let args = Array(CommandLine.arguments.dropFirst())
switch args.first {
case "schedule": schedule(Array(args.dropFirst()))
case "memory": memory(Array(args.dropFirst()))
default: fail("usage: KubelabBench schedule DIR PLUGIN [--floor SECONDS | --floor-command CMD] [--lua-floor-command CMD] [--proxy-floor-command CMD] [--only default|lua|scan] | memory DIR PODS")
}
