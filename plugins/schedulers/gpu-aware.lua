-- gpu-aware: keep GPU nodes for GPU pods, and pack GPU pods tightly.
--
-- A node is a GPU node when it has allocatable `nvidia.com/gpu`. Pods that request no GPU
-- are kept off GPU nodes (the filter), so a GPU pod never waits behind web servers that
-- took its node. GPU pods prefer the GPU node with the fewest free GPUs that still fits
-- them (the score), which leaves whole nodes free for the large jobs that need them.
-- Everything else scores by free cpu, as kube-scheduler's LeastAllocated does.

local GPU = 'nvidia.com/gpu'

local function gpus(resources)
  return resources[GPU] or 0
end

return {
  name = 'gpu-aware',

  filter = function(pod, node, state)
    if gpus(node.allocatable) > 0 and gpus(pod.requests) == 0 then
      return false, 'GPU nodes are kept for GPU pods'
    end
    return true
  end,

  score = function(pod, node, state)
    local want = gpus(pod.requests)
    local total = gpus(node.allocatable)
    if want > 0 and total > 0 then
      local used = gpus(node.requested) + want
      return math.min(100, used * 100 // total)
    end
    local cpu = node.allocatable.cpu
    if cpu <= 0 then
      return 0
    end
    local free = cpu - node.requested.cpu - pod.requests.cpu
    return math.max(0, free * 100 // cpu)
  end,
}
