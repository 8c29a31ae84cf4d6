import Foundation
import Testing
@testable import LuaHost

/// All LuaHost suites run one test at a time: `LuaRef.liveCount` is process-wide and the
/// budget tests measure time.
@Suite(.serialized) struct LuaHostSuite {}

enum Fixture {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static func source(_ name: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
    }

    /// Loads the fixture with the chunk name "plugins/<name>" and returns its results.
    static func load(_ name: String, into state: LuaState) throws -> [LuaValue] {
        try state.load(source: source(name), chunkName: "plugins/" + name)
    }
}

/// Runs `body` and returns the LuaError it throws (nil if it does not throw or throws
/// something else).
func luaError<T>(_ body: () throws -> T) -> LuaError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error as? LuaError
    }
}

/// Loads `code` (chunk "test.lua") and returns the function it returns.
func luaFunction(_ state: LuaState, _ code: String, chunk: String = "test.lua") throws -> LuaRef {
    let results = try state.load(source: code, chunkName: chunk)
    guard case .function(let ref)? = results.first else {
        throw LuaError(kind: .conversion, message: "chunk did not return a function")
    }
    return ref
}

/// The module table returned by a fixture.
func module(_ values: [LuaValue]) throws -> [String: LuaValue] {
    guard let map = values.first?.mapValue else {
        throw LuaError(kind: .conversion, message: "chunk did not return a table")
    }
    return map
}

func functionRef(_ value: LuaValue?) throws -> LuaRef {
    guard case .function(let ref)? = value else {
        throw LuaError(kind: .conversion, message: "not a function: \(String(describing: value))")
    }
    return ref
}

/// Seconds spent in `body`.
func seconds(_ body: () -> Void) -> Double {
    let clock = ContinuousClock()
    let elapsed = clock.measure(body)
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}
