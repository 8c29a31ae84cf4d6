-- A plugin whose hook fails at run time.
local M = {}

local function divide(a, b)
  local t = nil
  return a / b + t.missing
end

function M.score(pod)
  local result = divide(pod, 2)
  return result
end

return M
