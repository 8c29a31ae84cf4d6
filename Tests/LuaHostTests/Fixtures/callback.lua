-- Calls host functions, once under pcall and once not.
local M = {}

function M.caught()
  local ok, err = pcall(function() kubelab.fail("nope") end)
  return ok, err
end

function M.uncaught()
  local x = 1
  kubelab.fail("boom")   -- line 11
  return x
end

function M.badarg()
  local r = kubelab.echo({ 1, 2, x = 3 })   -- line 16
  return r
end

return M
