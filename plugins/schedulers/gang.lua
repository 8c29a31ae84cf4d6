-- gang: all or nothing for a group of pods (coscheduling).
--
-- Pods labelled `pod-group: NAME` and `pod-group-size: "N"` form a gang: none of them is
-- bound until N of them hold a place. Each member that finds a node is reserved there
-- (`reserve`) and then waits at Permit for up to 30 seconds; the member that completes the
-- group is allowed at once, and the waiting ones are allowed when Permit asks them again.
-- If the group does not fill up in time, every waiting member is rejected and its place
-- released (`unreserve`), so a half-placed job never holds nodes that others could use.
-- Pods without the labels are not affected.
--
-- Try: kubelab run plugins/scenarios/node-crash.lua --scheduler plugins/schedulers/gang.lua

local GROUP, SIZE = 'pod-group', 'pod-group-size'
local TIMEOUT = 30

-- group -> { [namespace/name] = true } for members reserved or bound
local members = {}

local function group_of(pod)
  local name = pod.labels[GROUP]
  if name == nil then
    return nil
  end
  return pod.namespace .. '/' .. name, tonumber(pod.labels[SIZE]) or 1
end

local function count(set)
  local n = 0
  for _ in pairs(set) do
    n = n + 1
  end
  return n
end

return {
  name = 'gang',

  reserve = function(pod, node, state)
    local g = group_of(pod)
    if g ~= nil then
      members[g] = members[g] or {}
      members[g][pod.namespace .. '/' .. pod.name] = true
    end
  end,

  unreserve = function(pod, node, state)
    local g = group_of(pod)
    if g ~= nil and members[g] ~= nil then
      members[g][pod.namespace .. '/' .. pod.name] = nil
    end
  end,

  permit = function(pod, node, state)
    local g, size = group_of(pod)
    if g == nil or count(members[g] or {}) >= size then
      return 'allow'
    end
    return 'wait', TIMEOUT
  end,
}
