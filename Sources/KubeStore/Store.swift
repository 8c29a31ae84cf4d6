public import KubeAPI

/// What happened to an object.
public enum WatchEventType: String, Sendable {
    case added = "ADDED", modified = "MODIFIED", deleted = "DELETED"
}

/// One change, as a watch delivers it.
public struct WatchEvent: Sendable, Equatable {
    public let type: WatchEventType
    /// The object after the change (before it, for a delete).
    public let object: KubeObject
    /// The store revision of the change.
    public let revision: Int64

    public init(type: WatchEventType, object: KubeObject, revision: Int64) {
        self.type = type; self.object = object; self.revision = revision
    }
}

/// Why a store operation failed.
public struct StoreError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Code: String, Sendable {
        case alreadyExists = "AlreadyExists", notFound = "NotFound", conflict = "Conflict", compacted = "Compacted"
    }
    public let code: Code
    public let message: String
    public var description: String { message }
}

/// An etcd-like versioned store: one global revision that every write advances, a
/// per-object `resourceVersion` (the revision of its last write), optimistic concurrency,
/// and watches that start from any revision still in the history.
///
/// The store knows nothing of time or latency; the API server in front of it decides when
/// watchers see an event.
public final class Store {
    /// The revision of the last write (0 before the first).
    public private(set) var revision: Int64 = 0
    private var objects: [Kind: [String: KubeObject]] = [:]
    private var history: [WatchEvent] = []
    /// Events at or below this revision have been compacted away.
    public private(set) var compactedRevision: Int64 = 0
    private var watchers: [Int: (kind: Kind, handler: (WatchEvent) -> Void)] = [:]
    private var watcherOrder: [Int] = []
    private var nextWatcher = 0

    public init() {}

    static func key(_ namespace: String, _ name: String) -> String {
        namespace.isEmpty ? name : "\(namespace)/\(name)"
    }

    /// The object of `kind` at namespace/name.
    public func get(_ kind: Kind, namespace: String, name: String) -> KubeObject? {
        objects[kind]?[Store.key(namespace, name)]
    }

    /// All objects of `kind` (in `namespace` when given), sorted by namespace/name.
    public func list(_ kind: Kind, namespace: String? = nil) -> [KubeObject] {
        guard let all = objects[kind] else { return [] }
        return all.keys.sorted().compactMap { k in
            guard let o = all[k] else { return nil }
            if let ns = namespace, o.metadata.namespace != ns { return nil }
            return o
        }
    }

    /// Number of objects of `kind`.
    public func count(_ kind: Kind) -> Int { objects[kind]?.count ?? 0 }

    /// Stores a new object.
    ///
    /// - Throws: `alreadyExists` when the key is taken.
    @discardableResult
    public func create(_ object: KubeObject) throws(StoreError) -> KubeObject {
        let k = Store.key(object.metadata.namespace, object.metadata.name)
        if objects[object.kind]?[k] != nil {
            throw StoreError(code: .alreadyExists, message: "\(object.kind.resource) \"\(object.metadata.name)\" already exists")
        }
        var o = object
        revision += 1
        o.metadata.resourceVersion = revision
        objects[o.kind, default: [:]][k] = o
        emit(WatchEvent(type: .added, object: o, revision: revision))
        return o
    }

    /// Replaces an object. A non-zero `resourceVersion` on `object` must match the stored
    /// one (compare-and-swap); zero means an unconditional update.
    ///
    /// - Throws: `notFound`, or `conflict` when the object changed since it was read.
    @discardableResult
    public func update(_ object: KubeObject) throws(StoreError) -> KubeObject {
        let k = Store.key(object.metadata.namespace, object.metadata.name)
        guard let current = objects[object.kind]?[k] else {
            throw StoreError(code: .notFound, message: "\(object.kind.resource) \"\(object.metadata.name)\" not found")
        }
        let rv = object.metadata.resourceVersion
        if rv != 0 && rv != current.metadata.resourceVersion {
            throw StoreError(code: .conflict, message: "Operation cannot be fulfilled on \(object.kind.resource) \"\(object.metadata.name)\": the object has been modified; please apply your changes to the latest version and try again")
        }
        var o = object
        revision += 1
        o.metadata.resourceVersion = revision
        objects[o.kind, default: [:]][k] = o
        emit(WatchEvent(type: .modified, object: o, revision: revision))
        return o
    }

    /// Removes an object.
    ///
    /// - Throws: `notFound`.
    @discardableResult
    public func delete(_ kind: Kind, namespace: String, name: String) throws(StoreError) -> KubeObject {
        let k = Store.key(namespace, name)
        guard var o = objects[kind]?.removeValue(forKey: k) else {
            throw StoreError(code: .notFound, message: "\(kind.resource) \"\(name)\" not found")
        }
        revision += 1
        o.metadata.resourceVersion = revision
        emit(WatchEvent(type: .deleted, object: o, revision: revision))
        return o
    }

    /// Watches `kind` from `revision` (exclusive): events still in the history are
    /// replayed at once, then every new change is delivered synchronously, in order.
    ///
    /// - Returns: an id for `cancelWatch`.
    /// - Throws: `compacted` when the history no longer reaches back to `revision`.
    public func watch(_ kind: Kind, from fromRevision: Int64, _ handler: @escaping (WatchEvent) -> Void) throws(StoreError) -> Int {
        if fromRevision < compactedRevision {
            throw StoreError(code: .compacted, message: "required revision \(fromRevision) has been compacted")
        }
        for e in history where e.revision > fromRevision && e.object.kind == kind { handler(e) }
        let id = nextWatcher
        nextWatcher += 1
        watchers[id] = (kind, handler)
        watcherOrder.append(id)
        return id
    }

    /// Stops a watch.
    public func cancelWatch(_ id: Int) {
        watchers[id] = nil
        watcherOrder.removeAll { $0 == id }
    }

    /// Drops history at or below `revision` (etcd compaction).
    public func compact(to rev: Int64) {
        guard rev > compactedRevision else { return }
        compactedRevision = min(rev, revision)
        history.removeAll { $0.revision <= compactedRevision }
    }

    /// Keeps the history bounded: Events and Leases churn, and nobody watches far back.
    private static let historyLimit = 10_000

    private func emit(_ e: WatchEvent) {
        history.append(e)
        if history.count > 2 * Store.historyLimit {
            compact(to: history[history.count - Store.historyLimit].revision - 1)
        }
        for id in watcherOrder {
            guard let w = watchers[id], w.kind == e.object.kind else { continue }
            w.handler(e)
        }
    }
}
