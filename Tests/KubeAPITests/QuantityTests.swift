import Testing
@testable import KubeAPI

/// One row of the parse table: the text, MilliValue(), Value() and String() as Kubernetes gives them.
struct QuantityCase: CustomTestStringConvertible, Sendable {
    let text: String
    let milli: Int64
    let value: Int64
    let canonical: String
    init(_ text: String, milli: Int64, value: Int64, _ canonical: String) {
        self.text = text; self.milli = milli; self.value = value; self.canonical = canonical
    }
    var testDescription: String { "'\(text)'" }
}

private let gi: Int64 = 1 << 30
private let mi: Int64 = 1 << 20

/// Cases from k8s.io/apimachinery/pkg/api/resource/quantity_test.go (TestQuantityParse,
/// TestQuantityString, TestQuantityParseEmit), with MilliValue/Value worked out by hand.
let quantityCases: [QuantityCase] = [
    .init("0", milli: 0, value: 0, "0"),
    .init("0n", milli: 0, value: 0, "0"),
    .init("0Ki", milli: 0, value: 0, "0"),
    .init("1", milli: 1000, value: 1, "1"),
    .init("500m", milli: 500, value: 1, "500m"),
    .init("1.5", milli: 1500, value: 2, "1500m"),
    .init("0.1", milli: 100, value: 1, "100m"),
    .init("1m", milli: 1, value: 1, "1m"),
    .init("1n", milli: 1, value: 1, "1n"),
    .init("5n", milli: 1, value: 1, "5n"),
    .init("4u", milli: 1, value: 1, "4u"),
    .init("-1", milli: -1000, value: -1, "-1"),
    .init("-1.5", milli: -1500, value: -1, "-1500m"),
    .init("-1m", milli: -1, value: 0, "-1m"),
    .init("+1", milli: 1000, value: 1, "1"),
    .init("1Ki", milli: 1_024_000, value: 1024, "1Ki"),
    .init("8Ki", milli: 8 * 1_024_000, value: 8192, "8Ki"),
    .init("100Mi", milli: 100 * mi * 1000, value: 100 * mi, "100Mi"),
    .init("1Gi", milli: gi * 1000, value: gi, "1Gi"),
    .init("1024Mi", milli: gi * 1000, value: gi, "1Gi"),
    .init("1.5Gi", milli: 1536 * mi * 1000, value: 1536 * mi, "1536Mi"),
    .init("0.5Mi", milli: 512 * 1_024_000, value: 512 * 1024, "512Ki"),
    .init("5Ti", milli: 5 * (gi << 10) * 1000, value: 5 * (gi << 10), "5Ti"),
    .init("4Pi", milli: 4 * (gi << 20) * 1000, value: 4 * (gi << 20), "4Pi"),
    .init("3Ei", milli: Int64.max, value: 3 * (gi << 30), "3Ei"),
    .init("1000", milli: 1_000_000, value: 1000, "1k"),
    .init("8k", milli: 8_000_000, value: 8000, "8k"),
    .init("50k", milli: 50_000_000, value: 50_000, "50k"),
    .init("1G", milli: 1_000_000_000_000, value: 1_000_000_000, "1G"),
    .init("1000M", milli: 1_000_000_000_000, value: 1_000_000_000, "1G"),
    .init("7M", milli: 7_000_000_000, value: 7_000_000, "7M"),
    .init("1E", milli: Int64.max, value: 1_000_000_000_000_000_000, "1E"),
    .init("12E", milli: Int64.max, value: Int64.max, "12E"),  // fast path: not capped, Value() saturates
    .init("1e3", milli: 1_000_000, value: 1000, "1e3"),
    .init("1E6", milli: 1_000_000_000, value: 1_000_000, "1e6"),
    .init("1E-3", milli: 1, value: 1, "1e-3"),
    .init("12E-1", milli: 1200, value: 2, "1200e-3"),
    .init("1.2e3", milli: 1_200_000, value: 1200, "1200"),
    .init("1.3E+6", milli: 1_300_000_000, value: 1_300_000, "1300e3"),
    .init("0.5e0", milli: 500, value: 1, "500e-3"),
    .init("100.035k", milli: 100_035_000, value: 100_035, "100035"),
    .init("10.035M", milli: 10_035_000_000, value: 10_035_000, "10035k"),
    .init("0.001", milli: 1, value: 1, "1m"),
    .init("0.0005k", milli: 500, value: 1, "500m"),
    .init("0.00500", milli: 5, value: 1, "5m"),
    .init("9.01", milli: 9010, value: 10, "9010m"),
    .init("6.987654321G", milli: 6_987_654_321_000, value: 6_987_654_321, "6987654321"),
    // things that round up to 1n, or saturate
    .init("3.001n", milli: 1, value: 1, "4n"),
    .init("1.1E-9", milli: 1, value: 1, "2e-9"),
    .init("0.0000000001", milli: 1, value: 1, "1n"),
    .init("0.00000012345", milli: 1, value: 1, "124n"),
    .init("0.000000000001Ki", milli: 1, value: 1, "2n"),
    .init("9Ei", milli: Int64.max, value: Int64.max, "9223372036854775807"),  // capped at 2^63-1
    .init("9223372036854775807Ki", milli: Int64.max, value: Int64.max, "9223372036854775807"),
    .init("1e100", milli: Int64.max, value: Int64.max, "10e99"),
    .init("-1e100", milli: Int64.min, value: Int64.min, "-10e99"),
    // fractional binary
    .init("100.035Ki", milli: 102_435_840, value: 102_436, "102435840m"),
    .init(".001Ki", milli: 1024, value: 2, "1024m"),
    // "written by trolls": Kubernetes accepts these
    .init(".001", milli: 1, value: 1, "1m"),
    .init("1.", milli: 1000, value: 1, "1"),
    .init("1.G", milli: 1_000_000_000_000, value: 1_000_000_000, "1G"),
    .init(".", milli: 0, value: 0, "0"),
]

/// Rejected by Kubernetes' ParseQuantity.
let invalidQuantities = [
    "", "1KB", "1gi", "1Gii", "abc", "aoeu", "1 Gi", " 1", "1 ", "++1", "1.1.M", "1+1.0M", "0.1mi", "0.1am",
    ".5i", "1i", "-3.01i", "-3.01e-", "1e", "1e3m", "1Mb", "1,5", "1_000", "0x10", "1e99999999999999999999",
]

@Suite struct QuantityTests {
    @Test(arguments: quantityCases)
    func parses(_ c: QuantityCase) throws {
        let q = try Quantity(parsing: c.text)
        #expect(q.milliValue == c.milli)
        #expect(q.value == c.value)
        #expect(q.description == c.canonical)
        #expect(q.isNegative == (c.text.hasPrefix("-") && !q.isZero))
    }

    @Test(arguments: quantityCases)
    func canonicalFormParsesBackToTheSameValue(_ c: QuantityCase) throws {
        let q = try Quantity(parsing: c.text)
        let back = try Quantity(parsing: q.description)
        #expect(back == q)
        #expect(back.description == q.description)
    }

    /// Found by fuzzing (Fuzz/regressions/quantity): as in Kubernetes, the fast path keeps a
    /// value just above 2^63-1 exactly, and its canonical text reads back capped.
    @Test func aValueAboveTheInt64RangeReadsBackCappedAsInKubernetes() throws {
        let q = try Quantity(parsing: "9223372036854775.9k")
        #expect(q.description == "9223372036854775900")
        let back = try Quantity(parsing: q.description)
        #expect(back.description == "9223372036854775807")
        #expect(back.value == Int64.max)
        #expect(try Quantity(parsing: back.description) == back)
    }

    @Test(arguments: invalidQuantities)
    func rejects(_ text: String) {
        #expect(throws: QuantityError.self) { try Quantity(parsing: text) }
        do {
            _ = try Quantity(parsing: text)
        } catch {
            #expect(error.text == text)
            #expect(error.description.hasPrefix("invalid quantity '\(text)': "))
        }
    }

    @Test func errorMessagesExplain() {
        #expect(throws: QuantityError(text: "1KB", reason: "unexpected 'B' at position 3; quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")) {
            try Quantity(parsing: "1KB")
        }
        do {
            _ = try Quantity(parsing: "1Gii")
            Issue.record("1Gii parsed")
        } catch {
            #expect(error.description.hasPrefix("invalid quantity '1Gii': unknown suffix 'Gii'"))
        }
        do {
            _ = try Quantity(parsing: "")
            Issue.record("empty parsed")
        } catch {
            #expect(error.description == "invalid quantity '': the quantity is empty")
        }
    }

    @Test func equalityAndHashingAreByValue() throws {
        let spellings = ["1", "1000m", "1e0", "0.001k", "1000000u",
                         "1000000000n", "10e-1", "1.000"]
        let qs = try spellings.map { try Quantity(parsing: $0) }
        for q in qs {
            #expect(q == Quantity(value: 1))
            #expect(q == Quantity(milli: 1000))
            #expect(q.hashValue == Quantity(value: 1).hashValue)
        }
        #expect(Set(qs).count == 1)
        #expect(try Quantity(parsing: "1Ki") == Quantity(parsing: "1024"))
        #expect(try Quantity(parsing: "1Gi") != Quantity(parsing: "1G"))
        #expect(try Quantity(parsing: "-0") == Quantity(value: 0))
        #expect(try Quantity(parsing: "-0").isNegative == false)
    }

    @Test func ordering() throws {
        let sorted = try ["-1", "0", "1n", "500m", "1", "1Ki", "1M", "1Mi", "1G", "1Gi", "1e100"].map { try Quantity(parsing: $0) }
        #expect(sorted == sorted.sorted())
        #expect(try Quantity(parsing: "-2") < Quantity(parsing: "-1"))
        #expect(try !(Quantity(parsing: "1") < Quantity(parsing: "1000m")))
    }

    @Test func integerInitializers() throws {
        #expect(Quantity(milli: 500).description == "500m")
        #expect(Quantity(milli: 500).value == 1)
        #expect(Quantity(milli: 2000).description == "2")
        #expect(Quantity(value: 110).milliValue == 110_000)
        #expect(Quantity(value: 0).isZero)
        #expect(Quantity(milli: -1).isNegative)
        #expect(Quantity(value: -3).value == -3)
        let min = Quantity(milli: Int64.min)
        #expect(min.milliValue == Int64.min)
        #expect(min.description == "-9223372036854775808m")
        #expect(try Quantity(parsing: min.description) == min)
        #expect(Quantity(value: Int64.max).milliValue == Int64.max)
        #expect(Quantity(value: Int64.max).value == Int64.max)
        #expect(Quantity(value: Int64.min).value == Int64.min)
    }

    @Test func formats() throws {
        #expect(try Quantity(parsing: "1Gi").format == .binarySI)
        #expect(try Quantity(parsing: "1G").format == .decimalSI)
        #expect(try Quantity(parsing: "1e9").format == .decimalExponent)
        // binary quantities below 1024 are written in decimal
        #expect(try Quantity(parsing: "0.5Ki").description == "512")
        #expect(try Quantity(parsing: "1025Ki").description == "1025Ki")
        // inf.Dec path: binary amounts below 1 become DecimalSI, as in Kubernetes
        #expect(try Quantity(parsing: "0.000000000001Ki").format == .decimalSI)
        #expect(try Quantity(parsing: "0.5Ki").format == .binarySI)
    }
}
