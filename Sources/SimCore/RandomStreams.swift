/// A small, fast, seedable generator (SplitMix64): the same seed gives the same draws on
/// every machine and every Swift version, unlike `SystemRandomNumberGenerator`.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Creates a generator from a seed.
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Named random streams derived from one run seed (the ns-3 model): each component draws
/// from its own stream, so adding a component does not shift the draws of the others.
public final class RandomStreams {
    /// The run seed.
    public let seed: UInt64
    private var streams: [String: SplitMix64] = [:]

    public init(seed: UInt64) { self.seed = seed }

    /// FNV-1a over the UTF-8 bytes: stable across processes, unlike `Hasher`.
    public static func stableHash(_ text: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in text.utf8 {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        return h
    }

    /// The next 64 random bits of the stream `name`.
    public func next(_ name: String) -> UInt64 {
        var g = streams[name] ?? SplitMix64(seed: seed ^ RandomStreams.stableHash(name))
        let v = g.next()
        streams[name] = g
        return v
    }

    /// A uniform integer in `range` from the stream `name`.
    public func int(_ name: String, in range: ClosedRange<Int64>) -> Int64 {
        let span = UInt64(bitPattern: range.upperBound &- range.lowerBound) &+ 1
        if span == 0 { return Int64(bitPattern: next(name)) }
        return range.lowerBound &+ Int64(bitPattern: next(name) % span)
    }

    /// A uniform double in [0, 1) from the stream `name`.
    public func unit(_ name: String) -> Double {
        Double(next(name) >> 11) * 0x1.0p-53
    }

    /// `count` characters from Kubernetes' name alphabet ("bcdfghjklmnpqrstvwxz2456789"),
    /// as the API server uses for generateName suffixes.
    public func nameSuffix(_ name: String, count: Int = 5) -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        var out = ""
        for _ in 0..<count { out.append(alphabet[Int(next(name) % UInt64(alphabet.count))]) }
        return out
    }
}
