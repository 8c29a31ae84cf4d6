-- The same DAG returned from a hook: LoadedPlugin.call converts the result before anyone
-- checks that a score must be a number, so every score call stalls the host.
return { score = function()
  local t = {}
  for i = 1, 26 do t = { t, t } end
  return t
end }
