// Feeds arbitrary bytes (decoded as UTF-8, invalid sequences replaced) to the manifest
// decoder. Throwing ManifestError is the expected outcome for bad input; a trap, a crash or
// an ASan report is a finding.
import KubeAPI

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        let docs = try ManifestDecoder.decode(text, file: "fuzz.yaml")
        for d in docs {
            _ = d.object  // touch every decoded document
        }
    } catch {
        _ = error.description
    }
    return 0
}
