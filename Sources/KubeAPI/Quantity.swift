/// A Kubernetes resource quantity ("500m", "1.5", "1Gi", "1G", "1e3"), parsed exactly as
/// `resource.ParseQuantity` in k8s.io/apimachinery does.
///
/// The value is kept exactly, as a sign, a decimal significand and a power of ten, with the
/// same rounding Kubernetes applies when it parses: values finer than a nano-unit are rounded up
/// (away from zero) to 1n, and values that Kubernetes parses through its arbitrary-precision path
/// are capped at 2^63-1. Equality, hashing and ordering compare values, never spellings:
/// `"1" == "1000m" == "1e0" == "0.001k"`.
public struct Quantity: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// How a quantity is written back as text (Kubernetes' `resource.Format`).
    public enum Format: String, Sendable, Hashable {
        /// Decimal SI suffixes: n, u, m, "", k, M, G, T, P, E.
        case decimalSI = "DecimalSI"
        /// Binary SI suffixes: Ki, Mi, Gi, Ti, Pi, Ei.
        case binarySI = "BinarySI"
        /// A decimal exponent: e3, E-1, ...
        case decimalExponent = "DecimalExponent"
    }

    /// The value is negative (false for zero).
    private let negative: Bool
    /// Decimal digits of the magnitude, most significant first, without leading or trailing
    /// zeros; empty for zero.
    private let digits: [UInt8]
    /// The power of ten the significand is multiplied by.
    private let exponent: Int

    /// The suffix family the quantity was written in; it only affects `description`.
    public let format: Format
    /// The value in thousandths, rounded up (towards +infinity) to an integer and saturated at
    /// `Int64.min`/`Int64.max` (Kubernetes' `MilliValue()`).
    public let milliValue: Int64
    /// The value rounded up (towards +infinity) to an integer and saturated at
    /// `Int64.min`/`Int64.max` (Kubernetes' `Value()`).
    public let value: Int64

    /// The value is below zero.
    public var isNegative: Bool { negative }
    /// The value is exactly zero.
    public var isZero: Bool { digits.isEmpty }

    /// A quantity of `milli` thousandths ("500m").
    public init(milli: Int64) {
        self.init(magnitude: milli.magnitude, negative: milli < 0, exponent: -3, format: .decimalSI)
    }

    /// A quantity of `value` units ("2").
    public init(value: Int64) {
        self.init(magnitude: value.magnitude, negative: value < 0, exponent: 0, format: .decimalSI)
    }

    private init(magnitude: UInt64, negative: Bool, exponent: Int, format: Format) {
        self.init(normalizing: Quantity.decimalDigits(of: magnitude), exponent: exponent, negative: negative,
                  format: format)
    }

    /// Builds a quantity from digits that may carry leading or trailing zeros.
    private init(normalizing raw: [UInt8], exponent rawExponent: Int, negative: Bool, format: Format) {
        let (d, e) = Quantity.normalize(raw, rawExponent)
        self.digits = d
        self.exponent = e
        self.negative = negative && !d.isEmpty
        self.format = format
        self.milliValue = Quantity.ceilScaled(d, e + 3, negative: negative)
        self.value = Quantity.ceilScaled(d, e, negative: negative)
    }

    /// Parses `text` exactly as Kubernetes' `resource.ParseQuantity`: an optional sign, digits
    /// with an optional decimal point, then a binary SI suffix (Ki Mi Gi Ti Pi Ei), a decimal SI
    /// suffix (n u m k M G T P E, or none) or a decimal exponent (e/E and a signed integer).
    public init(parsing text: String) throws(QuantityError) {
        let s = Array(text.utf8)
        if s.isEmpty { throw QuantityError(text: text, reason: "the quantity is empty") }
        let parts = try Quantity.split(s, text: text)
        guard let interpretation = Quantity.interpret(parts.suffix) else {
            throw QuantityError(text: text, reason: "unknown suffix '\(String(decoding: parts.suffix, as: UTF8.self))'"
                + " (expected one of n u m k M G T P E Ki Mi Gi Ti Pi Ei, or an exponent like e3)")
        }
        let (base, power, format) = interpretation
        guard power >= Int(Int32.min), power <= Int(Int32.max) else {
            throw QuantityError(text: text, reason: "the exponent is out of range")
        }
        let numLen = parts.num.count, denomLen = parts.denom.count
        var raw = parts.num + parts.denom
        var exp = -denomLen
        // Kubernetes keeps "small" quantities as an exact int64 with a scale (its fast path) and
        // sends the others through inf.Dec, where they are rounded to 1n and capped at 2^63-1.
        var fastPath: Bool
        if base == 10 {
            exp += power
            fastPath = numLen + denomLen <= 18 && power - denomLen >= -9
        } else {
            Quantity.multiply(&raw, byPowerOfTwo: power)
            let precision = 15 - numLen - Int(Float(power) * 3 / 10) - 1
            fastPath = denomLen == 0 && precision >= 0
            if fastPath {
                var n: Int64 = 0
                for d in parts.num { n = n * 10 + Int64(d) }  // at most 11 digits here
                let (product, overflow) = n.multipliedReportingOverflow(by: Int64(1) << Int64(power))
                fastPath = !overflow && product >= 0
            }
        }
        var (d, e) = Quantity.normalize(raw, exp)
        (d, e) = Quantity.roundUpToNano(d, e)
        if !fastPath && Quantity.compareMagnitudes(d, e, Quantity.maxDigits, 0) > 0 {
            (d, e) = (Quantity.maxDigits, 0)
        }
        // Kubernetes writes binary amounts below 1 that went through inf.Dec in decimal.
        let written: Format = format == .binarySI && !fastPath && !d.isEmpty && Quantity.compareMagnitudes(d, e, [1], 0) < 0
            ? .decimalSI : format
        self.init(normalizing: d, exponent: e, negative: !parts.positive, format: written)
    }

    // MARK: - Text

    /// The canonical text, as Kubernetes' `Quantity.String()` writes it: "500m", "2", "1Gi"
    /// (binary when the quantity was written with a binary suffix and is a whole number of at
    /// least 1024), "1e3" for exponent notation. It parses back to the same value,
    /// with one exception Kubernetes shares: a value beyond 2^63-1 that the exact fast path
    /// kept ("9223372036854775.9k") is written with 19 or more digits, which read back capped.
    public var description: String {
        if digits.isEmpty { return "0" }
        let sign = negative ? "-" : ""
        if format == .binarySI, exponent >= 0, let whole = wholeMagnitude, whole >= 1024 {
            var n = whole
            var power = 0
            while power < 6 && n % 1024 == 0 { n /= 1024; power += 1 }
            return sign + String(n) + Quantity.binarySuffixes[power]
        }
        var d = digits
        var e = exponent
        let r = ((e % 3) + 3) % 3
        d.append(contentsOf: repeatElement(0, count: r))
        e -= r
        if format == .decimalExponent {
            return sign + Quantity.text(of: d) + (e == 0 ? "" : "e\(e)")
        }
        if e > 18 {
            d.append(contentsOf: repeatElement(0, count: e - 18))
            e = 18
        }
        guard e >= -9, let suffix = Quantity.decimalSuffixes[e] else {
            return sign + Quantity.text(of: d) + "e\(e)"
        }
        return sign + Quantity.text(of: d) + suffix
    }

    /// The magnitude as an integer, when it is one that fits in 64 bits.
    private var wholeMagnitude: UInt64? {
        guard exponent >= 0, digits.count + exponent <= 20 else { return nil }
        var n: UInt64 = 0
        for d in digits + repeatElement(0, count: exponent) {
            let (m, o1) = n.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(d))
            if o1 || o2 { return nil }
            n = a
        }
        return n
    }

    // MARK: - Equality and order (by value)

    /// Quantities are equal when their values are ("1" == "1000m"), whatever their spelling.
    public static func == (a: Quantity, b: Quantity) -> Bool {
        a.negative == b.negative && a.exponent == b.exponent && a.digits == b.digits
    }

    /// Hashes the value, consistently with `==`.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(negative)
        hasher.combine(exponent)
        hasher.combine(digits)
    }

    /// Orders quantities by value.
    public static func < (a: Quantity, b: Quantity) -> Bool {
        if a.negative != b.negative { return a.negative }
        let c = compareMagnitudes(a.digits, a.exponent, b.digits, b.exponent)
        return a.negative ? c > 0 : c < 0
    }

    // MARK: - Parsing helpers

    private static let maxDigits: [UInt8] = decimalDigits(of: UInt64(Int64.max))
    private static let binarySuffixes = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
    private static let decimalSuffixes: [Int: String] = [
        -9: "n", -6: "u", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T", 15: "P", 18: "E",
    ]

    private struct Parts {
        var positive = true
        /// Digits before the point, leading zeros removed; [0] when there are none.
        var num: [UInt8] = [0]
        /// Digits after the point.
        var denom: [UInt8] = []
        var suffix: [UInt8] = []
    }

    private static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }

    /// Kubernetes' `parseQuantityString`.
    private static func split(_ s: [UInt8], text: String) throws(QuantityError) -> Parts {
        var p = Parts()
        var pos = 0
        let end = s.count
        if s[0] == UInt8(ascii: "-") { p.positive = false; pos += 1 } else if s[0] == UInt8(ascii: "+") { pos += 1 }
        while pos < end && s[pos] == UInt8(ascii: "0") { pos += 1 }
        if pos >= end { return p }
        var i = pos
        while i < end && isDigit(s[i]) { i += 1 }
        if i > pos { p.num = s[pos..<i].map { $0 - 48 } }
        pos = i
        if pos >= end { return p }
        if s[pos] == UInt8(ascii: ".") {
            pos += 1
            i = pos
            while i < end && isDigit(s[i]) { i += 1 }
            p.denom = s[pos..<i].map { $0 - 48 }
            pos = i
            if pos >= end { return p }
        }
        let suffixStart = pos
        let letters = Set("eEinumkKMGTP".utf8)
        while pos < end && letters.contains(s[pos]) { pos += 1 }
        if pos < end && (s[pos] == UInt8(ascii: "-") || s[pos] == UInt8(ascii: "+")) { pos += 1 }
        while pos < end && isDigit(s[pos]) { pos += 1 }
        if pos < end {
            let bad = String(decoding: [s[pos]], as: UTF8.self)
            throw QuantityError(text: text, reason: "unexpected '\(bad)' at position \(pos + 1); quantities must match "
                + "the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
        }
        p.suffix = Array(s[suffixStart..<end])
        return p
    }

    /// Kubernetes' `suffixHandler.interpret`: (base, exponent, format).
    private static func interpret(_ suffix: [UInt8]) -> (Int, Int, Format)? {
        switch String(decoding: suffix, as: UTF8.self) {
        case "n": return (10, -9, .decimalSI)
        case "u": return (10, -6, .decimalSI)
        case "m": return (10, -3, .decimalSI)
        case "": return (10, 0, .decimalSI)
        case "k": return (10, 3, .decimalSI)
        case "M": return (10, 6, .decimalSI)
        case "G": return (10, 9, .decimalSI)
        case "T": return (10, 12, .decimalSI)
        case "P": return (10, 15, .decimalSI)
        case "E": return (10, 18, .decimalSI)
        case "Ki": return (2, 10, .binarySI)
        case "Mi": return (2, 20, .binarySI)
        case "Gi": return (2, 30, .binarySI)
        case "Ti": return (2, 40, .binarySI)
        case "Pi": return (2, 50, .binarySI)
        case "Ei": return (2, 60, .binarySI)
        default: break
        }
        guard suffix.count > 1, suffix[0] == UInt8(ascii: "e") || suffix[0] == UInt8(ascii: "E") else { return nil }
        // strconv.ParseInt(suffix[1:], 10, 64)
        var rest = suffix.dropFirst()
        var sign = 1
        if let f = rest.first, f == UInt8(ascii: "-") || f == UInt8(ascii: "+") {
            if f == UInt8(ascii: "-") { sign = -1 }
            rest = rest.dropFirst()
        }
        guard !rest.isEmpty, rest.allSatisfy(isDigit) else { return nil }
        var n = 0
        for c in rest {
            let (m, o1) = n.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int(c - 48))
            if o1 || o2 { return nil }
            n = a
        }
        return (10, sign * n, .decimalExponent)
    }

    // MARK: - Digit arithmetic

    private static func decimalDigits(of n: UInt64) -> [UInt8] {
        if n == 0 { return [] }
        var out: [UInt8] = []
        var m = n
        while m > 0 { out.append(UInt8(m % 10)); m /= 10 }
        return out.reversed()
    }

    private static func text(of digits: [UInt8]) -> String {
        String(decoding: digits.map { $0 + 48 }, as: UTF8.self)
    }

    /// Removes leading zeros and moves trailing zeros into the exponent.
    private static func normalize(_ raw: [UInt8], _ exponent: Int) -> ([UInt8], Int) {
        guard let first = raw.firstIndex(where: { $0 != 0 }), let last = raw.lastIndex(where: { $0 != 0 }) else {
            return ([], 0)
        }
        return (Array(raw[first...last]), exponent + (raw.count - 1 - last))
    }

    /// Multiplies a digit string by 2^power (power <= 60).
    private static func multiply(_ digits: inout [UInt8], byPowerOfTwo power: Int) {
        var remaining = power
        while remaining > 0 {
            let step = min(remaining, 30)
            let factor = UInt64(1) << UInt64(step)
            var carry: UInt64 = 0
            for i in stride(from: digits.count - 1, through: 0, by: -1) {
                let v = UInt64(digits[i]) * factor + carry
                digits[i] = UInt8(v % 10)
                carry = v / 10
            }
            var head: [UInt8] = []
            while carry > 0 { head.append(UInt8(carry % 10)); carry /= 10 }
            digits.insert(contentsOf: head.reversed(), at: 0)
            remaining -= step
        }
    }

    /// Rounds a normalized magnitude up (away from zero) to a multiple of 10^-9.
    private static func roundUpToNano(_ digits: [UInt8], _ exponent: Int) -> ([UInt8], Int) {
        guard !digits.isEmpty, exponent < -9 else { return (digits, exponent) }
        let drop = -9 - exponent
        if drop >= digits.count { return ([1], -9) }
        // The dropped digits end in a non-zero digit (the significand is normalized): round up.
        var kept = Array(digits[0..<(digits.count - drop)])
        var i = kept.count - 1
        while i >= 0 {
            if kept[i] == 9 { kept[i] = 0; i -= 1 } else { kept[i] += 1; break }
        }
        if i < 0 { kept.insert(1, at: 0) }
        return normalize(kept, -9)
    }

    /// Compares two normalized magnitudes: -1, 0 or 1.
    private static func compareMagnitudes(_ a: [UInt8], _ ea: Int, _ b: [UInt8], _ eb: Int) -> Int {
        if a.isEmpty || b.isEmpty { return a.isEmpty ? (b.isEmpty ? 0 : -1) : 1 }
        let la = a.count + ea, lb = b.count + eb  // position of the leading digit
        if la != lb { return la < lb ? -1 : 1 }
        for i in 0..<max(a.count, b.count) {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            if x != y { return x < y ? -1 : 1 }
        }
        return 0
    }

    /// ceil(±digits × 10^exponent), saturated to Int64.
    private static func ceilScaled(_ digits: [UInt8], _ exponent: Int, negative: Bool) -> Int64 {
        if digits.isEmpty { return 0 }
        let wholeCount = digits.count + exponent
        if wholeCount > 19 { return negative ? Int64.min : Int64.max }
        var n: UInt64 = 0
        var overflow = false
        if wholeCount > 0 {
            for i in 0..<wholeCount {
                let d = i < digits.count ? UInt64(digits[i]) : 0
                let (m, o1) = n.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(d)
                if o1 || o2 { overflow = true; break }
                n = a
            }
        }
        let fraction = exponent < 0  // a normalized significand ends in a non-zero digit
        if negative {
            // ceil of a negative number truncates towards zero
            if overflow || n > UInt64(Int64.max) + 1 { return Int64.min }
            return n == UInt64(Int64.max) + 1 ? Int64.min : -Int64(n)
        }
        if overflow || n > UInt64(Int64.max) { return Int64.max }
        let v = Int64(n)
        return fraction && v < Int64.max ? v + 1 : v
    }
}

/// A quantity that does not parse.
public struct QuantityError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The text that failed to parse.
    public let text: String
    /// Why it failed.
    public let reason: String

    /// An error for `text`, explained by `reason`.
    public init(text: String, reason: String = "not a quantity") {
        self.text = text
        self.reason = reason
    }

    /// `invalid quantity '<text>': <reason>`
    public var description: String { "invalid quantity '\(text)': \(reason)" }
}
