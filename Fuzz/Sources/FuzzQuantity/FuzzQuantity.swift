// Parses arbitrary bytes as a Kubernetes quantity. When they parse, the canonical text
// (`description`) must parse back to an equal value with the same `value` and `milliValue`
// (what Quantity.description documents), and writing that value again must be a fixed point.
// The canonical text itself may change once: like Kubernetes' String(), a binary quantity that
// is not a multiple of 1024 is written without a suffix ("312.5Ki" -> "320000"), which reads
// back as decimal and is then written "320k". A violated property is a fatal error (a finding).
import KubeAPI

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let q: Quantity
    do { q = try Quantity(parsing: text) } catch { _ = error.description; return 0 }
    let canonical = q.description
    let again: Quantity
    do { again = try Quantity(parsing: canonical) } catch {
        fail("\(debug(text)) parses, but its canonical text \(debug(canonical)) does not: \(error)")
    }
    // As in Kubernetes, a value beyond 2^63-1 that the fast path kept exactly ("9223372036854775.9k")
    // is written with 19 or more digits, which the slow path caps when read back: the cap is
    // the only change allowed.
    let capped = again.description == "9223372036854775807" || again.description == "-9223372036854775807"
    if again != q && !capped {
        fail("\(debug(text)) -> \(debug(canonical)) parses back to a different value \(debug(again.description))")
    }
    let second = again.description
    let third: Quantity
    do { third = try Quantity(parsing: second) } catch {
        fail("\(debug(text)) -> \(debug(canonical)) -> \(debug(second)) does not parse: \(error)")
    }
    if third != again || third.description != second {
        fail("\(debug(text)) -> \(debug(canonical)) -> \(debug(second)) -> \(debug(third.description)): writing the value again is not a fixed point")
    }
    if !capped && (again.milliValue != q.milliValue || again.value != q.value) {
        fail("\(debug(text)) -> \(debug(canonical)): milliValue/value \(q.milliValue)/\(q.value) became \(again.milliValue)/\(again.value)")
    }
    if q.isZero != (q.value == 0 && q.milliValue == 0 && !q.isNegative && canonical == "0") {
        fail("\(debug(text)): isZero=\(q.isZero) but value=\(q.value) milliValue=\(q.milliValue) text=\(debug(canonical))")
    }
    return 0
}

private func debug(_ s: String) -> String { String(reflecting: s) }

private func fail(_ message: String) -> Never {
    fatalError("FuzzQuantity: \(message)")
}
