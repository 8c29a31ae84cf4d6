public import KubeAPI
public import KubeStore

/// A client-side cache of one kind, fed by a watch (client-go's informer + lister).
///
/// The cache lags the store by the watch latency, as real caches do.
public final class Informer {
    public let kind: Kind
    private var objects: [String: KubeObject] = [:]
    /// Called after the cache applied an event: (type, new object, old object).
    public var onEvent: ((WatchEventType, KubeObject, KubeObject?) -> Void)?

    /// Starts watching through `client`.
    public init(client: Client, kind: Kind) throws(APIError) {
        self.kind = kind
        try client.watch(kind) { [weak self] e in self?.apply(e) }
    }

    private func apply(_ e: WatchEvent) {
        let key = e.object.namespacedName
        let old = objects[key]
        switch e.type {
        case .added, .modified:
            // A replayed or late event must not roll the cache back.
            if let o = old, o.metadata.resourceVersion > e.object.metadata.resourceVersion { return }
            objects[key] = e.object
        case .deleted:
            objects[key] = nil
        }
        onEvent?(e.type, e.object, old)
    }

    /// One object by `namespace/name` (or `name`).
    public func get(_ key: String) -> KubeObject? { objects[key] }

    /// Every cached object, sorted by namespace/name.
    public func list() -> [KubeObject] {
        objects.keys.sorted().compactMap { objects[$0] }
    }

    public var count: Int { objects.count }
}
