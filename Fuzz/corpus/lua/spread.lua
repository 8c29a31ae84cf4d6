-- spread: keep replicas of the same app apart and balance load across nodes.
--
-- Each node starts from its free cpu in percent (as kube-scheduler's LeastAllocated does),
-- and loses 20 points for every pod of the same app (same `app` label) already on it.
-- The filter refuses a node that already runs `max_per_node` pods of the app, so that a
-- single node failure cannot take a whole app down.

local max_per_node = 2

local function same_app(pod, node)
  local app = pod.labels.app
  if app == nil then
    return 0
  end
  local count = 0
  for _, other in ipairs(node.pods) do
    if other.labels.app == app and not other.deleting then
      count = count + 1
    end
  end
  return count
end

return {
  name = 'spread',

  filter = function(pod, node, state)
    if same_app(pod, node) >= max_per_node then
      return false, 'node already runs ' .. max_per_node .. ' pods of app ' .. tostring(pod.labels.app)
    end
    return true
  end,

  score = function(pod, node, state)
    local allocatable = node.allocatable.cpu
    local free = 0
    if allocatable > 0 then
      free = math.max(0, node.free.cpu - pod.requests.cpu) * 100 // allocatable
    end
    return math.max(0, free - 20 * same_app(pod, node))
  end,
}
