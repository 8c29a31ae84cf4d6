-- A plugin with a syntax error on line 4.
local M = {}
function M.filter(pod, node)
  return pod.name ==
end
return M
