import Testing
@testable import KubeAPI

/// A Pod is a value: its fields share one box between copies, and changing a copy never
/// shows in another.
struct PodValueTests {
    @Test func aChangedCopyLeavesTheOriginal() {
        var original = Pod(metadata: ObjectMeta(name: "web", namespace: "default", labels: ["app": "web"]))
        original.spec.containers = [Container(name: "nginx")]
        let before = original
        var copy = original
        #expect(copy == original && copy.storage === original.storage)
        copy.spec.nodeName = "n1"
        copy.metadata.labels["tier"] = "front"
        copy.status.phase = .running
        copy.spec.containers[0].image = "nginx:1.27"
        #expect(copy.storage !== original.storage)
        #expect(original.spec.nodeName.isEmpty && original.metadata.labels == ["app": "web"])
        #expect(original.status.phase != .running && original.spec.containers[0].image.isEmpty)
        #expect(original == before && copy != original)
        #expect(copy.spec.nodeName == "n1" && copy.metadata.labels["tier"] == "front" && copy.spec.containers[0].image == "nginx:1.27")
        // Equal fields in separate boxes are equal pods.
        var twin = copy
        twin.spec.nodeName = "n1"
        #expect(twin == copy)
    }
}
