-- binpack with a filter of its own: the Lua plugin of the scheduler benchmarks. The filter
-- keeps nodes with room for the pod's cpu and memory; the score is the shipped binpack's
-- (plugins/schedulers/binpack.lua): the node's cpu and memory use after placing the pod,
-- in percent, averaged.

local function used_percent(pod, node, resource)
  local allocatable = node.allocatable[resource] or 0
  if allocatable <= 0 then
    return 0
  end
  local wanted = (node.requested[resource] or 0) + (pod.requests[resource] or 0)
  if wanted >= allocatable then
    return 100
  end
  return wanted * 100 // allocatable
end

return {
  name = 'binpack',

  filter = function(pod, node, state)
    if pod.requests.cpu > node.free.cpu then
      return false, 'not enough cpu'
    end
    if pod.requests.memory > node.free.memory then
      return false, 'not enough memory'
    end
    return true
  end,

  score = function(pod, node, state)
    return (used_percent(pod, node, 'cpu') + used_percent(pod, node, 'memory')) // 2
  end,
}
