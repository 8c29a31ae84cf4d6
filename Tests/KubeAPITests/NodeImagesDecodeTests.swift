import Testing
@testable import KubeAPI

struct NodeImagesDecodeTests {
    @Test func imagesKeepEveryNameAndTheSize() throws {
        let docs = try ManifestDecoder.decode("""
        apiVersion: v1
        kind: Node
        metadata: {name: n}
        status:
          images:
          - names: [registry.k8s.io/pause@sha256:abc, registry.k8s.io/pause:3.9]
            sizeBytes: 1000
          - names: [nginx:1.25]
          - names: []
            sizeBytes: 5
        """, file: "nodes.yaml")
        let n = try #require(docs.first?.object?.node)
        #expect(n.status.containerImages == [
            ContainerImage(names: ["registry.k8s.io/pause@sha256:abc", "registry.k8s.io/pause:3.9"], sizeBytes: 1000),
            ContainerImage(names: ["nginx:1.25"], sizeBytes: 0),
            ContainerImage(names: [], sizeBytes: 5),
        ])
        // The short view keeps the first name of each image that has one.
        #expect(n.status.images == ["registry.k8s.io/pause@sha256:abc", "nginx:1.25"])
    }

    @Test func negativeSizeIsAnError() {
        #expect(throws: ManifestError.self) {
            try ManifestDecoder.decode("""
            apiVersion: v1
            kind: Node
            metadata: {name: n}
            status:
              images:
              - names: [a]
                sizeBytes: -1
            """, file: "nodes.yaml")
        }
    }

    @Test func settingImagesReplacesTheList() {
        var s = NodeStatus()
        s.images = ["a:1", "b:2"]
        #expect(s.containerImages == [ContainerImage(names: ["a:1"]), ContainerImage(names: ["b:2"])])
        #expect(s.images == ["a:1", "b:2"])
    }
}
