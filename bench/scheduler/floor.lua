-- The floor for the Lua benchmarks: plain lua5.4 running a scheduler plugin's filter and
-- score over the nodes for every pod, with nothing of kubelab around it: no sandbox, no
-- budgets, no Swift. Views are built once, and a node's view is rebuilt when a pod is placed
-- on it. The best score wins; ties go to the first node.
--
--   lua5.4 bench/scheduler/floor.lua PLUGIN [NODES] [PODS] [PERCENT] [VIEWS]
--
-- NODES and PODS default to 5000 and 1000. PERCENT is percentageOfNodesToScore: 100 (the
-- default) filters and scores every node; 0 is kube-scheduler's adaptive default, and any
-- other value that percentage: the search then starts where the last one stopped, filters
-- until it has found numFeasibleNodesToFind nodes, and scores those. VIEWS is how a view is
-- built: "tables" (the default) are plain tables, nested ones too, whose metatable refuses
-- new fields: what kubelab's calls on twins read (a filter or score that writes no table);
-- "proxies" are read-only proxies whose __index is the content table, nested tables too:
-- what kubelab hands every other function.
--
-- Nodes and pods follow scheduler_perf's templates (bench/scheduler/workload.sh): 4 cpu,
-- 32Gi memory, 110 pods; pods request 100m cpu and 500Mi memory. Prints the seconds spent
-- scheduling (os.clock), the placements checked against the plugin's own choices.
local plugin_file, node_count, pod_count = arg[1], tonumber(arg[2] or 5000), tonumber(arg[3] or 1000)
local percent = tonumber(arg[4] or 100)
local view_kind = arg[5] or "tables"
if not plugin_file or not node_count or not pod_count or not percent or (view_kind ~= "tables" and view_kind ~= "proxies") then
  io.stderr:write("usage: lua5.4 floor.lua PLUGIN [NODES] [PODS] [PERCENT] [tables|proxies]\n")
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
  if view_kind == "tables" then return setmetatable(content, { __newindex = readonly, __metatable = false }) end
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

-- kube-scheduler's numFeasibleNodesToFind
local function nodes_to_find(n, p)
  if n < 100 or p >= 100 then return n end
  if p <= 0 then p = math.max(5, 50 - n // 125) end
  return math.max(100, n * p // 100)
end
local want = nodes_to_find(node_count, percent)
local next_start = 1

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
  if want >= node_count then
    for i = 1, node_count do
      local node = views[i]
      if filter == nil or filter(pod, node, state) then
        local s = score(pod, node, state)
        if s > best then best, chosen = s, i end
      end
    end
  else
    local feasible, found, processed, i = {}, 0, 0, next_start
    while processed < node_count and found < want do
      if filter == nil or filter(pod, views[i], state) then
        found = found + 1
        feasible[found] = i
      end
      processed = processed + 1
      i = i % node_count + 1
    end
    next_start = (next_start - 1 + processed) % node_count + 1
    for k = 1, found do
      local s = score(pod, views[feasible[k]], state)
      if s > best then best, chosen = s, feasible[k] end
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
local scope = want >= node_count and "" or string.format(", %d feasible nodes wanted per pod", want)
io.stderr:write(string.format("floor: %d pods x %d nodes%s, views as %s, in %.3f s (%d placed)\n", pod_count, node_count, scope, view_kind,
  seconds, placed))
