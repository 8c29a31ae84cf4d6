import Testing
@testable import LuaHost

extension LuaHostSuite {
    @Suite struct Patterns {
        @Test func pathologicalFindEndsWithTheBudgetNamingTheFunction() throws {
            let state = try LuaState()
            var error: LuaError?
            _ = seconds {
                error = luaError {
                    try state.load(source: "return string.rep('a', 50000):find('.-.-.-.-.-b')", chunkName: "plugins/p.lua")
                }
            }
            #expect(error?.kind == .budget)
            #expect(error?.message == "plugins/p.lua:1: string.find: instruction budget exceeded (50000000 instructions)")
            #expect(error?.line == 1)
            #expect(try state.load(source: "return ('node-7'):match('%d+')", chunkName: "ok.lua") == [.string("7")])
        }

        @Test func everyPatternFunctionIsCounted() throws {
            let state = try LuaState(limits: LuaLimits(instructionsPerCall: 2_000_000))
            let cases = [
                ("return s:match('.-.-.-b')", "string.match"),
                ("for x in s:gmatch('.-.-.-b') do end", "string.gmatch"),
                ("return s:gsub('.-.-.-b', 'x')", "string.gsub"),
                ("return s:find('.-.-.-b')", "string.find"),
            ]
            for (code, name) in cases {
                let error = luaError {
                    try state.load(source: "local s = ('a'):rep(3000)\n" + code, chunkName: "c.lua")
                }
                #expect(error?.kind == .budget, "\(name)")
                #expect(error?.message == "c.lua:2: \(name): instruction budget exceeded (2000000 instructions)")
            }
        }

        @Test func theBudgetVerdictIsStickyUnderPcall() throws {
            let state = try LuaState(limits: LuaLimits(instructionsPerCall: 1_000_000))
            let error = luaError {
                try state.load(source: """
                    local s = ('a'):rep(2000)
                    local ok = pcall(string.find, s, '.-.-.-b')
                    return ok, 'still running'
                    """, chunkName: "sticky.lua")
            }
            #expect(error?.kind == .budget)
            #expect(error?.message.contains("instruction budget exceeded") == true)
        }

        @Test func longSubjectsRefuseNonPlainPatterns() throws {
            let state = try LuaState()
            let setup = "local s = ('a'):rep(70000)\n"
            let refused = luaError { try state.load(source: setup + "return s:find('%d+')", chunkName: "cap.lua") }
            #expect(refused?.kind == .runtime)
            #expect(refused?.message == "cap.lua:2: string.find: subject too long for a pattern (70000 bytes, limit 65536)")
            for (code, name) in [("s:match('a+')", "string.match"), ("s:gmatch('a+')", "string.gmatch"), ("s:gsub('.', 'b')", "string.gsub")] {
                let error = luaError { try state.load(source: setup + "return " + code, chunkName: "cap.lua") }
                #expect(error?.message == "cap.lua:2: \(name): subject too long for a pattern (70000 bytes, limit 65536)")
            }
            // plain searches stay unlimited (and counted)
            let plain = try state.load(source: setup + """
                return s:find('b', 1, true), s:find('aab'), (s .. 'x.'):find('x.', 1, true), #s:gsub('a', 'b'), s:match('aaa')
                """, chunkName: "cap.lua")
            #expect(plain == [.nil, .nil, .integer(70001), .integer(70000), .string("aaa")])
            // the cap is a setting
            state.limits.patternSubjectBytes = 0
            #expect(try state.load(source: setup + "return #s:match('a+')", chunkName: "cap.lua") == [.integer(70000)])
            state.limits.patternSubjectBytes = 10
            let small = luaError { try state.load(source: "return ('node-12345'):match('%d+')", chunkName: "cap.lua") }
            #expect(small == nil)
            let over = luaError { try state.load(source: "return ('node-123456'):match('%d+')", chunkName: "cap.lua") }
            #expect(over?.message == "cap.lua:1: string.match: subject too long for a pattern (11 bytes, limit 10)")
        }

        @Test func normalPatternsOnShortStringsWork() throws {
            let state = try LuaState(limits: LuaLimits(instructionsPerCall: 200_000))
            let results = try state.load(source: """
                local r = {}
                local function add(...) for i = 1, select('#', ...) do r[#r + 1] = tostring((select(i, ...))) end end
                add(('node-17'):find('%-(%d+)$'))                    -- 5 7 17
                add(('node-17'):find('-', 1, true))                  -- 5 5
                add(('worker.zone-a'):match('^(%w+)%.(.+)$'))         -- worker zone-a
                add(('cpu=4,memory=16Gi'):match('memory=(%d+)(%a+)'))  -- 16 Gi
                add(('  trim  '):match('^%s*(.-)%s*$'))               -- trim
                add(('f(a(b)c)'):match('%b()'))                      -- (a(b)c)
                add(('THE (quick) fox'):find('%f[%a]%a+%f[%A]', 5))  -- 6 10
                add(('hello'):match('()ll()'))                       -- 3 5
                add(('abcabc'):match('(abc)%1'))                     -- abc
                local kv = {}
                for k, v in ('zone=a, gpu=true'):gmatch('(%w+)=(%w+)') do kv[#kv + 1] = k .. ':' .. v end
                add(table.concat(kv, ' '))                           -- zone:a gpu:true
                add(('a,b,,c'):gsub(',', ';'))                       -- a;b;;c 3
                add(('hello world'):gsub('(%w+)', '<%1>'))           -- <hello> <world> 2
                add(('hello world'):gsub('%w+', string.upper, 1))    -- HELLO world 1
                add(('$name is $age'):gsub('%$(%w+)', { name = 'ada', age = 36 }))  -- ada is 36 2
                add(('abc'):gsub('', '-'))                           -- -a-b-c- 4
                return table.concat(r, ' ')
                """, chunkName: "normal.lua")
            #expect(results == [.string("""
                5 7 17 5 5 worker zone-a 16 Gi trim (a(b)c) 6 10 3 5 abc zone:a gpu:true a;b;;c 3 \
                <hello> <world> 2 HELLO world 1 ada is 36 2 -a-b-c- 4
                """)])
        }

        @Test func patternErrorsMatchStockLua() throws {
            let state = try LuaState()
            let cases = [
                ("('a'):find('%')", "malformed pattern (ends with '%')"),
                ("('a'):find('[a')", "malformed pattern (missing ']')"),
                ("('a'):find('%b')", "malformed pattern (missing arguments to '%b')"),
                ("('a'):find('%fa')", "missing '[' after '%f' in pattern"),
                ("('a'):find('(a')", "unfinished capture"),
                ("('a'):find('a)')", nil),
                ("('a'):find('%1')", "invalid capture index %1"),
                ("('a'):gsub('a', '%2')", "invalid capture index %2"),
                ("('a'):gsub('a', '%x')", "invalid use of '%' in replacement string"),
                ("('a'):gsub('(a)', { a = true })", "invalid replacement value (a boolean)"),
                ("('a'):find(('('):rep(33))", "too many captures"),
                ("('a'):find(('a?'):rep(300))", nil),
                ("('a'):gsub('a')", "bad argument #2 to 'gsub' (string/function/table expected, got no value)"),
                ("string.find(nil, 'a')", "bad argument #1 to 'find' (string expected, got nil)"),
            ]
            for (code, message) in cases {
                let error = luaError { try state.load(source: "return " + code, chunkName: "e.lua") }
                if let message {
                    #expect(error?.message == "e.lua:1: " + message, "\(code)")
                } else {
                    #expect(error == nil, "\(code)")
                }
            }
            // 'pattern too complex' needs more than 200 levels of recursion
            let deep = luaError { try state.load(source: "return (('a'):rep(300)):find(('a?'):rep(300) .. 'b')", chunkName: "e.lua") }
            #expect(deep?.message == "e.lua:1: pattern too complex")
        }

        @Test func resultsMatchTheStockFunctionsOnAGeneratedCorpus() throws {
            let state = try LuaState(seed: 7, limits: LuaLimits(instructionsPerCall: 2_000_000_000, wallTimePerCall: .seconds(60)))
            state.exposeStockStringFunctions(as: "stock")
            let results = try Fixture.load("pattern_parity.lua", into: state)
            #expect(results.first == .integer(30_000))
            #expect(results.dropFirst().first == .integer(0))
            #expect(results.dropFirst(2).first == .nil, "\(results)")
        }

        @Test func anInfiniteLoopInAGsubCallbackEndsWithTheBudget() throws {
            let state = try LuaState(limits: LuaLimits(instructionsPerCall: 1_000_000))
            let f = try functionRef(Fixture.load("gsub_callback_loop.lua", into: state).first)
            var error: LuaError?
            _ = seconds { error = luaError { try state.call(f, ["node-1"]) } }
            #expect(error?.kind == .budget)
            #expect(error?.message == "plugins/gsub_callback_loop.lua:6: instruction budget exceeded (1000000 instructions)")
            let ok = try luaFunction(state, "return function(s) return (s:gsub('%-', '_')) end")
            #expect(try state.call(ok, ["node-1"]) == [.string("node_1")])
        }

        @Test func matchingCostIsChargedAndDeterministic() throws {
            let state = try LuaState()
            let f = try luaFunction(state, "return function(s) return s:find('%d+$') end")
            _ = try state.call(f, ["node-1"])
            let short = state.lastCallCost.instructions
            _ = try state.call(f, [.string(String(repeating: "node-", count: 2000) + "1")])
            let long = state.lastCallCost.instructions
            _ = try state.call(f, [.string(String(repeating: "node-", count: 2000) + "1")])
            #expect(state.lastCallCost.instructions == long)
            #expect(short > 0)
            #expect(short < 100)
            #expect(long > 10_000)
        }
    }
}
