-- every-hook: one scheduler plugin that uses every extension point, as a worked example
-- for docs/lua-api.md. The idea: teams share a cluster. Nodes labelled `team=X` are
-- dedicated to team X; each team may hold at most QUOTA pods in flight; pods labelled
-- `pin=NODE` only look at that node; nodes named `maint-*` take no new pods.
--
--   kubelab check docs/examples/every-hook.lua
--   kubelab schedule --nodes nodes.yaml --pods pods.yaml --plugin docs/examples/every-hook.lua --explain

local QUOTA = 3
local in_flight = {} -- team -> pods reserved and not yet bound

local function team(pod) return pod.labels.team or 'none' end

return {
  name = 'every-hook',
  weight = 2,

  -- QueueSort: higher priority first, then the pod created first, then by name.
  queue_sort = function(a, b)
    if a.priority ~= b.priority then return a.priority > b.priority end
    if a.created ~= b.created then return a.created < b.created end
    return a.name < b.name
  end,

  -- PreFilter: a pinned pod only looks at its node; pods without a team skip `filter`.
  prefilter = function(pod, state)
    if pod.labels.pin then return { nodes = { pod.labels.pin } } end
    if not pod.labels.team then return 'skip' end
  end,

  -- Filter: a dedicated node takes its own team's pods only.
  filter = function(pod, node, state)
    local owner = node.labels.team
    if owner and owner ~= team(pod) then return false, 'node dedicated to team ' .. owner end
    return true
  end,

  -- PostFilter: batch pods never preempt; others let DefaultPreemption choose (nil).
  postfilter = function(pod, failures, state)
    if team(pod) == 'batch' then return false, 'batch pods do not preempt' end
    return nil
  end,

  -- PreScore: the most free cpu among the feasible nodes, kept for `score`.
  prescore = function(pod, nodes, state)
    local most = 0
    for _, n in ipairs(nodes) do most = math.max(most, n.free.cpu) end
    state.most_free = most
  end,

  -- Score: room left, relative to the roomiest feasible node (0..100).
  score = function(pod, node, state)
    if state.most_free == 0 then return 0 end
    return 100 * node.free.cpu // state.most_free
  end,

  -- NormalizeScore: the best node gets 100, the others in proportion.
  normalize = function(pod, scores, state)
    local best = 0
    for _, s in pairs(scores) do best = math.max(best, s) end
    local out = {}
    for node, s in pairs(scores) do out[node] = best == 0 and 0 or s * 100 // best end
    return out
  end,

  -- Reserve / Unreserve: a team's pods in flight, up to QUOTA.
  reserve = function(pod, node_name, state)
    local t = team(pod)
    if (in_flight[t] or 0) >= QUOTA then return false, 'team ' .. t .. ' has ' .. QUOTA .. ' pods in flight' end
    in_flight[t] = (in_flight[t] or 0) + 1
  end,
  unreserve = function(pod, node_name, state)
    local t = team(pod)
    in_flight[t] = math.max(0, (in_flight[t] or 0) - 1)
  end,

  -- Permit: pods labelled `hold` wait up to 5 seconds (and time out); the rest go.
  permit = function(pod, node_name, state)
    if pod.labels.hold then return 'wait', 5 end
    return 'allow'
  end,

  -- PreBind: no new pods on a node under maintenance.
  prebind = function(pod, node_name, state)
    if node_name:match('^maint%-') then return false, 'node under maintenance' end
  end,

  -- Bind: leave binding to DefaultBinder.
  bind = function(pod, node_name, state)
    return nil
  end,

  -- PostBind: the pod is bound; its team has one pod less in flight.
  postbind = function(pod, node_name, state)
    local t = team(pod)
    in_flight[t] = math.max(0, (in_flight[t] or 0) - 1)
    kubelab.log('bound ' .. pod.name .. ' (team ' .. t .. ') to ' .. node_name)
  end,
}
