---@meta
-- Types of the kubelab Lua API for the Lua language server (LuaLS). Point your editor's
-- `workspace.library` at this folder (the repository's .luarc.json does).

---@class kubelab.Resources
---@field cpu integer millicores
---@field memory integer bytes
---@field pods? integer allocatable pod count (node.allocatable only)
---@field [string] integer extended resources by full name, e.g. ["nvidia.com/gpu"]

---@class kubelab.Toleration
---@field key string
---@field operator "Exists"|"Equal"
---@field value string
---@field effect? "NoSchedule"|"PreferNoSchedule"|"NoExecute" nil tolerates every effect
---@field seconds? integer tolerationSeconds

---@class kubelab.Taint
---@field key string
---@field value string
---@field effect "NoSchedule"|"PreferNoSchedule"|"NoExecute"

---@class kubelab.Pod read-only view of a pod
---@field name string
---@field namespace string
---@field uid string
---@field labels table<string, string>
---@field annotations table<string, string>
---@field phase "Pending"|"Running"|"Succeeded"|"Failed"|"Unknown"
---@field ready boolean
---@field node? string nil until bound
---@field requests kubelab.Resources effective requests (init containers and sidecars counted as kube-scheduler does)
---@field nonzero_requests { cpu: integer, memory: integer } requests as the resource scores count them (100m cpu, 200Mi memory for a container without)
---@field limits kubelab.Resources
---@field priority integer
---@field scheduler_name string
---@field node_selector table<string, string>
---@field tolerations kubelab.Toleration[]
---@field affinity? table node_affinity / pod_affinity / pod_anti_affinity, snake_case
---@field topology_spread table[]
---@field ports table[] { container_port, host_port, protocol }
---@field owner? { kind: string, name: string }
---@field created number seconds of virtual time
---@field deleting boolean

---@class kubelab.Node read-only view of a node
---@field name string
---@field labels table<string, string>
---@field taints kubelab.Taint[]
---@field unschedulable boolean
---@field ready boolean
---@field allocatable kubelab.Resources
---@field requested kubelab.Resources sum of its pods' requests
---@field nonzero_requested { cpu: integer, memory: integer } sum of its pods' nonzero_requests
---@field free kubelab.Resources allocatable - requested
---@field pod_count integer
---@field pods kubelab.Pod[] sorted by namespace/name
---@field images string[]

---@class kubelab.SchedulerPlugin a scheduler plugin file returns one, or an array of them (a set sharing the file's locals; each needs a name)
---@field name string
---@field weight? integer score weight 1..100 (default 1)
---@field filter? fun(pod: kubelab.Pod, node: kubelab.Node, state: table): boolean, string?
---@field score? fun(pod: kubelab.Pod, node: kubelab.Node, state: table): number
---@field queue_sort? fun(a: kubelab.Pod, b: kubelab.Pod): boolean true when a is scheduled before b
---@field permit? fun(pod: kubelab.Pod, node_name: string, state: table): "allow"|"deny"|"wait", (string|number)?
---@field reserve? fun(pod: kubelab.Pod, node_name: string, state: table): boolean?, string?
---@field unreserve? fun(pod: kubelab.Pod, node_name: string, state: table)
---@field prefilter? fun(pod: kubelab.Pod, state: table): (boolean|"skip"|{ nodes: string[] })?, string?
---@field prescore? fun(pod: kubelab.Pod, nodes: kubelab.Node[], state: table): (boolean|"skip")?
---@field normalize? fun(pod: kubelab.Pod, scores: table<string, integer>, state: table): table<string, number>
---@field prebind? fun(pod: kubelab.Pod, node_name: string, state: table): (boolean|"skip")?, string? false rejects the pod
---@field bind? fun(pod: kubelab.Pod, node_name: string, state: table): (boolean|"skip")?, string? nil/"skip" leaves it to DefaultBinder
---@field postbind? fun(pod: kubelab.Pod, node_name: string, state: table)
---@field postfilter? fun(pod: kubelab.Pod, failures: kubelab.NodeFailure[], state: table): ({ node: string, victims: string[]? }|false)?, string? nil defers to DefaultPreemption

---@class kubelab.NodeFailure
---@field node string
---@field code "Unschedulable"|"UnschedulableAndUnresolvable"|"Error"
---@field reasons string[]

---@class kubelab.PodFilter
---@field labels? table<string, string>
---@field phase? string
---@field node? string
---@field namespace? string
---@field ready? boolean

---@alias kubelab.Duration string|number "500ms", "30s", "5m", "1h" or seconds

---@class kubelab.Scenario the `k` argument of a scenario's run(k)
---@field apply fun(path_or_yaml: string): string[] create or update the objects of a manifest file (relative to the scenario) or YAML text
---@field create fun(manifest: table): string create one object from a manifest-shaped table
---@field delete fun(kind: string, name?: string, namespace?: string) e.g. k.delete("deployment/web") or k.delete("pod", "web-1")
---@field sleep fun(d: kubelab.Duration)
---@field wait_until fun(fn: fun(): boolean, timeout?: kubelab.Duration, poll?: kubelab.Duration): boolean
---@field now fun(): number seconds of virtual time
---@field crash_node fun(name: string)
---@field recover_node fun(name: string)
---@field pods fun(filter?: kubelab.PodFilter): kubelab.Pod[]
---@field nodes fun(filter?: kubelab.PodFilter): kubelab.Node[]
---@field ready fun(ref: string, namespace?: string): boolean e.g. k.ready("deployment/web")
---@field log fun(...)

---@class kubelab.ScenarioPlugin
---@field name string
---@field cluster? { nodes: table[] }
---@field settings? table<string, string|number>
---@field run fun(k: kubelab.Scenario)

---@class kubelab.ListFilter
---@field labels? table<string, string>
---@field namespace? string
---@field node? string pods on this node

---@class kubelab.Ctx the `ctx` argument of a controller's reconcile
---@field get fun(kind: string, key: string): table? a read-only view, or nil
---@field list fun(kind: string, filter?: kubelab.ListFilter): table[] views sorted by namespace and name
---@field delete fun(kind: string, key: string): boolean false when it was not there
---@field create fun(manifest: table): string "namespace/name" of the new object
---@field log fun(...)
---@field now fun(): number seconds of virtual time

---@class kubelab.ControllerPlugin
---@field name string
---@field watch string[] kinds whose changes enqueue a reconcile, e.g. { "Node" }
---@field permissions? table<string, string[]> resource -> verbs, e.g. { pods = { "list", "delete" } }
---@field replaces? "deployment-controller"|"node-lifecycle-controller"|"replicaset-controller"
---@field reconcile fun(ctx: kubelab.Ctx, key: string, kind: string): { requeue_after: number }?

kubelab = {}

---Appends a line to the run's event log.
---@param ... any
function kubelab.log(...) end

---The current virtual time in seconds.
---@return number
function kubelab.now() end

---A cpu quantity in millicores: kubelab.cpu("500m") == 500, kubelab.cpu("2") == 2000.
---@param q string|number
---@return integer
function kubelab.cpu(q) end

---A quantity in base units, rounded up: kubelab.bytes("1Gi") == 1073741824.
---@param q string|number
---@return integer
function kubelab.bytes(q) end

---A quantity as a number: kubelab.quantity("1.5") == 1.5.
---@param q string|number
---@return number
function kubelab.quantity(q) end
