-- The floor for the full-scan benchmark: plain lua5.4 running a scheduler plugin's filter
-- and score over every node for every pod, with nothing of kubelab around it: no sandbox,
-- no budgets, no Swift. Views are built once, as kubelab builds them (read-only proxies whose
-- __index is the content table, nested tables too), and a node's view is rebuilt when a pod
-- is placed on it. The best score wins; ties go to the first node.
--
--   lua5.4 bench/scheduler/floor.lua PLUGIN [NODES] [PODS]     (defaults 5000 and 1000)
--
-- Nodes and pods follow scheduler_perf's templates (bench/scheduler/workload.sh): 4 cpu,
-- 32Gi memory, 110 pods; pods request 100m cpu and 500Mi memory. Prints the seconds spent
-- scheduling (os.clock), the placements checked against the plugin's own choices.
local plugin_file, node_count, pod_count = arg[1], tonumber(arg[2] or 5000), tonumber(arg[3] or 1000)
if not plugin_file then
  io.stderr:write("usage: lua5.4 floor.lua PLUGIN [NODES] [PODS]\n")
  os.exit(2)
end
local plugin = dofile(plugin_file)
local filter, score = plugin.filter, plugin.score

local function readonly(_, key)
  error("view is read-only (field '" .. tostring(key) .. "')", 2)
end

local function view(content)
  for k, v in pairs(content) do
    if type(v) == "table" then content[k] = view(v) end
  end
  return setmetatable({}, { __index = content, __newindex = readonly, __metatable = false })
end

local GiB, MiB = 1024 * 1024 * 1024, 1024 * 1024
local nodes = {}
for i = 1, node_count do
  nodes[i] = {
    name = string.format("scheduler-perf-%05d", i - 1),
    allocatable = { cpu = 4000, memory = 32 * GiB, pods = 110 },
    requested = { cpu = 0, memory = 0 },
    pod_count = 0,
  }
end

local function node_view(n)
  return view({
    name = n.name, labels = {}, taints = {}, unschedulable = false, ready = true, images = {},
    allocatable = { cpu = n.allocatable.cpu, memory = n.allocatable.memory, pods = n.allocatable.pods },
    requested = { cpu = n.requested.cpu, memory = n.requested.memory },
    free = { cpu = n.allocatable.cpu - n.requested.cpu, memory = n.allocatable.memory - n.requested.memory },
    pod_count = n.pod_count,
  })
end

local views = {}
for i = 1, node_count do views[i] = node_view(nodes[i]) end

local start = os.clock()
local placed = 0
for p = 1, pod_count do
  local pod = view({
    name = string.format("pod-%06d", p - 1), namespace = "default", labels = {}, annotations = {},
    requests = { cpu = 100, memory = 500 * MiB }, limits = { cpu = 100, memory = 500 * MiB },
    priority = 0, phase = "Pending", tolerations = {}, ports = {},
  })
  local state = {}
  local best, chosen = -1, nil
  for i = 1, node_count do
    local node = views[i]
    if filter == nil or filter(pod, node, state) then
      local s = score(pod, node, state)
      if s > best then best, chosen = s, i end
    end
  end
  if chosen then
    local n = nodes[chosen]
    n.requested.cpu = n.requested.cpu + 100
    n.requested.memory = n.requested.memory + 500 * MiB
    n.pod_count = n.pod_count + 1
    views[chosen] = node_view(n)
    placed = placed + 1
  end
end
local seconds = os.clock() - start
print(string.format("%.3f", seconds))
io.stderr:write(string.format("floor: %d pods x %d nodes in %.3f s (%d placed)\n", pod_count, node_count, seconds, placed))
