import Testing
@testable import LuaHost

extension LuaHostSuite {
    /// `callEach`: many calls in one crossing, each with its own results, error and budget.
    @Suite struct CallEach {
        @Test func everyItemGetsItsOwnResults() throws {
            let state = try LuaState()
            let f = try luaFunction(state, """
            return function(a, item, c)
              local k = item.k
              if k == 1 then return true end
              if k == 2 then return false, 'too small' end
              if k == 3 then return 42 end
              if k == 4 then return 2.5, { x = 1 } end
              if k == 5 then return end
              return nil, c.tag .. a.tag
            end
            """)
            let a = try state.reference(.map(["tag": .string("A")]))
            let c = try state.reference(.map(["tag": .string("C")]))
            let items = try (1...6).map { try state.reference(.view("node", .map(["k": .integer(Int64($0))]))) }
            let calls = try state.callEach(f, a, items, c)
            #expect(calls.map(\.first) == [.boolean(true), .boolean(false), .integer(42), .number(2.5), .nil, .nil])
            #expect(calls.map(\.second) == [.nil, .string("too small"), .nil, .map(["x": .integer(1)]), .nil, .string("CA")])
            #expect(calls.allSatisfy { $0.error == nil && $0.instructions > 0 })
            #expect(state.lastCallCost.instructions == calls.reduce(0) { $0 + $1.instructions })
        }

        /// A LuaRefArray keeps references by position; a call over some positions gets each
        /// one's own results in the order asked. An empty position, or a reference of
        /// another state (refused, so the position stays empty), is an error.
        @Test func aRefArrayIsCalledAtThePositionsAsked() throws {
            let state = try LuaState()
            let f = try luaFunction(state, "return function(a, item, c) return item.k * 10 end")
            let a = try state.newTable(), c = try state.newTable()
            let array = LuaRefArray(of: state, count: 4)
            for k in [0, 1, 3] { array[k] = try state.reference(.view("node", .map(["k": .integer(Int64(k))]))) }
            var seen: [(Int, LuaValue)] = []
            try state.callEach(f, a, array, at: [3, 0, 1, 3], c) { i, call in seen.append((i, call.first)) }
            #expect(seen.map(\.0) == [0, 1, 2, 3] && seen.map(\.1) == [.integer(30), .integer(0), .integer(10), .integer(30)])
            #expect(throws: LuaError.self) { try state.callEach(f, a, array, at: [0, 2], c) { _, _ in } }
            let other = try LuaState()
            array[1] = try other.reference(.map(["k": .integer(9)]))
            #expect(array[1] == nil)
            #expect(throws: LuaError.self) { try state.callEach(f, a, array, at: [1], c) { _, _ in } }
            // Replacing a reference releases the old one's slot; the array still calls the new.
            array[3] = try state.reference(.view("node", .map(["k": .integer(7)])))
            try state.callEach(f, a, array, at: [3], c) { _, call in #expect(call.first == .integer(70)) }
        }

        /// A view referenced `inOneSpan` lies in its span, even where freed blocks of the
        /// right sizes wait for reuse; spans do not overlap, and calls over such references
        /// (which have a later one's span read ahead) read each view as usual.
        @Test func aViewMadeInOneSpanLiesInItsSpan() throws {
            let state = try LuaState()
            let value = LuaValue.view("node", .map([
                "name": .string("n1"),
                "free": .view("free", .map(["cpu": .integer(4000), "memory": .integer(1 << 30)])),
                "labels": .view("labels", .map(["zone": .string("a")])),
            ]))
            let spread = try state.reference(value)
            #expect(spread.span == nil && spread.spanLength == 0)
            // Garbage: thousands of views made and dropped, so the collector frees blocks of
            // every size a view takes.
            for _ in 0..<3000 { _ = try state.reference(value) }
            let refs = try (0..<40).map { _ in try state.reference(value, inOneSpan: true) }
            for r in refs {
                let start = try #require(r.span.map { UInt(bitPattern: $0) })
                #expect(r.spanLength > 200)
                #expect(r.identity >= start && r.identity < start + UInt(r.spanLength))
            }
            let spans = refs.compactMap { r in r.span.map { (UInt(bitPattern: $0), UInt(r.spanLength)) } }.sorted { $0.0 < $1.0 }
            for (x, y) in zip(spans, spans.dropFirst()) { #expect(x.0 + x.1 <= y.0) }
            let f = try luaFunction(state, "return function(a, n, c) return n.free.cpu + #n.name + #n.labels.zone end")
            let a = try state.newTable(), c = try state.newTable()
            let array = LuaRefArray(of: state, count: refs.count)
            for (i, r) in refs.enumerated() { array[i] = r }
            var got: [LuaValue] = []
            try state.callEach(f, a, array, at: Array((0..<refs.count).reversed()), c) { _, call in got.append(call.first) }
            #expect(got == Array(repeating: .integer(4003), count: refs.count))
        }

        /// A value too large for one span gets none, and is called as any other.
        @Test func aValueTooLargeForOneSpanGetsNone() throws {
            let state = try LuaState()
            var entries: [String: LuaValue] = [:]
            for k in 0..<2000 { entries["k\(k)"] = .view("entry", .map(["v": .integer(Int64(k))])) }
            let big = try state.reference(.view("node", .map(entries)), inOneSpan: true)
            #expect(big.span == nil && big.spanLength == 0)
            let f = try luaFunction(state, "return function(a, n, c) return n.k1999.v end")
            let array = LuaRefArray(of: state, count: 1)
            array[0] = big
            try state.callEach(f, try state.newTable(), array, at: [0], try state.newTable()) { _, call in
                #expect(call.first == .integer(1999))
            }
        }

        /// Results that are not plain values pass through a table the state keeps for the
        /// next crossing; once read they are not kept alive by it, and the next crossing
        /// starts clean.
        @Test func resultTablesAreNotKeptAlive() throws {
            let state = try LuaState()
            let f = try luaFunction(state, """
            return function(a, item, c)
              if c.big then return string.rep('x', 100000) .. item.k, { k = item.k } end
              return item.k
            end
            """)
            let a = try state.newTable()
            let big = try state.reference(.map(["big": .boolean(true)])), small = try state.newTable()
            let items = try (1...20).map { try state.reference(.view("node", .map(["k": .integer(Int64($0))]))) }
            let before = state.memoryInUse
            var lengths: [Int] = []
            try state.callEach(f, a, items, big) { _, call in
                if case .string(let s) = call.first { lengths.append(s.utf8.count) }
                #expect(call.second == .map(["k": .integer(Int64(lengths.count))]))
            }
            #expect(lengths == (1...20).map { 100_000 + String($0).utf8.count })
            #expect(state.memoryInUse < before + 200_000)
            let plain = try state.callEach(f, a, items, small)
            #expect(plain.map(\.first) == (1...20).map { .integer(Int64($0)) } && plain.allSatisfy { $0.second == .nil })
        }

        @Test func anErrorOrARunawayCallFailsOnlyItsItem() throws {
            var limits = LuaLimits()
            limits.instructionsPerCall = 100_000
            let state = try LuaState(limits: limits)
            let f = try luaFunction(state, """
            return function(a, item, c)
              if item.k == 2 then error('bad node') end
              if item.k == 3 then while true do end end
              return item.k * 10
            end
            """, chunk: "each.lua")
            let none = try state.reference(.map([:]))
            let items = try (1...4).map { try state.reference(.map(["k": .integer(Int64($0))])) }
            let calls = try state.callEach(f, none, items, none)
            #expect(calls[0].first == .integer(10) && calls[3].first == .integer(40))
            #expect(calls[1].error?.kind == .runtime)
            #expect(calls[1].error?.message.hasSuffix("bad node") == true)
            #expect(calls[2].error?.kind == .budget)
            // The runaway call had a budget of its own; the next call a fresh one.
            #expect(calls[2].instructions >= 100_000 && calls[3].instructions < 100)
        }

        /// The calls of one crossing share one error boundary; an error still reads as it
        /// does from a call of its own: the same message, place and traceback, nothing of
        /// the loop that runs the calls. A straight function's error reads the same way.
        @Test func anErrorReadsAsFromACallOfItsOwn() throws {
            let state = try LuaState()
            let f = try luaFunction(state, """
            local function check(item)
              if item.k == 2 then error('bad node ' .. item.k) end
              return item.k
            end
            return function(a, item, c)
              for _ = 1, 2 do end
              return check(item)
            end
            """, chunk: "each.lua")
            let straight = try luaFunction(state, """
            return function(a, item, c)
              return item.k + item.nothing
            end
            """, chunk: "straight.lua")
            let none = try state.reference(.map([:]))
            let items = try (1...3).map { try state.reference(.map(["k": .integer(Int64($0))])) }
            for (function, cost) in [(f, nil), (straight, try #require(state.straightCost(of: straight)))] {
                let calls = try state.callEach(function, none, items, none, straightCost: cost)
                let failing = calls.indices.filter { calls[$0].error != nil }
                #expect(failing == (cost == nil ? [1] : [0, 1, 2]))
                let alone = try #require(throws: LuaError.self) {
                    _ = try state.call(function, none, items[failing.first ?? 0], none, straightCost: cost)
                }
                let e = try #require(calls[failing.first ?? 0].error)
                #expect(e.message == alone.message && e.chunk == alone.chunk && e.line == alone.line)
                #expect(e.traceback == alone.traceback && !e.traceback.isEmpty)
                #expect(!e.traceback.contains("[C]: in ?") && !e.traceback.hasSuffix("..."), "\(e.traceback)")
            }
        }

        @Test func straightFunctionsAreChargedTheirSizePerItem() throws {
            let state = try LuaState()
            let f = try luaFunction(state, "return function(a, n, c) return n.v > a.v end")
            let cost = try #require(state.straightCost(of: f))
            let a = try state.reference(.map(["v": .integer(2)]))
            let items = try (1...3).map { try state.reference(.map(["v": .integer(Int64($0))])) }
            let calls = try state.callEach(f, a, items, a, straightCost: cost)
            #expect(calls.map(\.first) == [.boolean(false), .boolean(false), .boolean(true)])
            #expect(calls.allSatisfy { $0.instructions == Int(cost) })
        }
    
        /// Calls run in blocks of 256: results and errors line up with their items across
        /// the blocks' edges, and strings come back from every block.
        @Test func longListsKeepEveryResultInPlace() throws {
            let state = try LuaState()
            let f = try luaFunction(state, """
            return function(a, item, c)
              local k = item.k
              if k == 256 or k == 257 or k == 600 then error('bad ' .. k) end
              if k % 3 == 0 then return false, 'r' .. k end
              return k
            end
            """)
            let none = try state.reference(.map([:]))
            let items = try (1...600).map { try state.reference(.map(["k": .integer(Int64($0))])) }
            var seen: [Int] = []
            try state.callEach(f, none, items, none) { k, call in
                seen.append(k)
                let n = k + 1
                if n == 256 || n == 257 || n == 600 {
                    #expect(call.error?.message.hasSuffix("bad \(n)") == true, "\(n)")
                } else if n % 3 == 0 {
                    #expect(call.first == .boolean(false) && call.second == .string("r\(n)"), "\(n)")
                } else {
                    #expect(call.first == .integer(Int64(n)) && call.error == nil, "\(n)")
                }
            }
            #expect(seen == Array(0..<600))
        }
    }
}
