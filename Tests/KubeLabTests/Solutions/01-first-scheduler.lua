-- Reference solution of lab 01 (must score full marks on every seed).
local function is_gpu(labels)
  return labels.gpu == 'true'
end

return {
  name = 'first-scheduler-solution',

  filter = function(pod, node, state)
    if is_gpu(pod.labels) ~= is_gpu(node.labels) then
      return false, is_gpu(pod.labels) and 'not a GPU node' or 'GPU nodes are kept for GPU pods'
    end
    return true
  end,

  score = function(pod, node, state)
    local allocatable = node.allocatable.cpu
    if allocatable <= 0 then
      return 0
    end
    local used = node.requested.cpu + pod.requests.cpu
    return math.min(100, used * 100 // allocatable)
  end,
}
