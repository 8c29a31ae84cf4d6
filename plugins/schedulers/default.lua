-- default: kube-scheduler's two default resource scores, written in Lua. With this file a
-- profile places pods exactly where the built-in NodeResourcesFit (LeastAllocated) and
-- NodeResourcesBalancedAllocation scores would: same formulas, same integer arithmetic,
-- same weights (1 and 1). Start from here to change one of them.
--
-- The file returns a set of two plugins (an array of plugin tables): the default profile
-- adds two scores, and one score from 0 to 100 cannot hold the sum of two without ties
-- the built-ins do not have. Both plugins share this file's locals.
--
-- LeastAllocated prefers the emptiest node. For cpu and memory (weight 1 each), with the
-- non-zero requests kube-scheduler scores with (a container that requests nothing counts
-- 100m cpu and 200Mi memory):
--   score(resource) = (allocatable - requested) * 100 // allocatable  (0 when over)
--   score = sum of the scores // number of resources
--
-- BalancedAllocation prefers the node whose cpu and memory would be used in equal
-- fractions, with the real requests:
--   f = min(requested / allocatable, 1) for cpu and memory
--   score = truncate((1 - |f_cpu - f_memory| / 2) * 100)
-- A pod that requests neither cpu nor memory is not scored by it (kube's PreScore skips).

local RESOURCES = { 'cpu', 'memory' }

local function least_allocated(pod, node)
  local sum, count = 0, 0
  for _, r in ipairs(RESOURCES) do
    local allocatable = node.allocatable[r]
    if allocatable > 0 then
      local requested = node.nonzero_requested[r] + pod.nonzero_requests[r]
      if requested <= allocatable then
        sum = sum + (allocatable - requested) * 100 // allocatable
      end
      count = count + 1
    end
  end
  if count == 0 then return 0 end
  return sum // count
end

local function balanced_allocation(pod, node)
  local fractions = {}
  for _, r in ipairs(RESOURCES) do
    local allocatable = node.allocatable[r]
    if allocatable ~= 0 then
      fractions[#fractions + 1] = math.min((node.requested[r] + pod.requests[r]) / allocatable, 1)
    end
  end
  local std = 0
  if #fractions == 2 then std = math.abs((fractions[1] - fractions[2]) / 2) end
  return math.floor((1 - std) * 100)
end

return {
  {
    name = 'lua-least-allocated',
    weight = 1,
    score = least_allocated,
  },
  {
    name = 'lua-balanced-allocation',
    weight = 1,
    prescore = function(pod, nodes, state)
      if pod.requests.cpu == 0 and pod.requests.memory == 0 then return 'skip' end
    end,
    score = balanced_allocation,
  },
}
