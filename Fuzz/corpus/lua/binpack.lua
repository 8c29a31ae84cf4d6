-- binpack: put each pod on the fullest node that still fits it, so that pods are packed
-- onto as few nodes as possible and whole nodes stay free (for big pods, or to be turned
-- off). This is kube-scheduler's MostAllocated strategy, written in Lua: the score is the
-- node's cpu and memory use after placing the pod, in percent, averaged.
--
-- The built-in filters (NodeResourcesFit, TaintToleration, ...) still decide where a pod
-- fits; this plugin only scores. Its score replaces the default LeastAllocated score.

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

  score = function(pod, node, state)
    return (used_percent(pod, node, 'cpu') + used_percent(pod, node, 'memory')) // 2
  end,
}
