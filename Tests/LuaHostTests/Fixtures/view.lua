-- Reads and tries to write a read-only pod view.
local M = {}

function M.inspect(pod)
  local names = {}
  for i, c in ipairs(pod.containers) do
    names[#names + 1] = i .. "=" .. c.name
  end
  local keys = {}
  for k in pairs(pod) do keys[#keys + 1] = k end
  local ok1, e1 = pcall(function() pod.node = "n1" end)
  local ok2, e2 = pcall(function() pod.labels.x = 1 end)
  local ok3, e3 = pcall(rawset, pod, "node", "n1")
  local ok4, e4 = pcall(setmetatable, pod, {})
  local ok5, e5 = pcall(table.insert, pod.containers, "c")
  return {
    name = pod.name,
    count = #pod.containers,
    names = table.concat(names, ","),
    keys = table.concat(keys, ","),
    app = pod.labels.app,
    e1 = e1, e2 = e2, e3 = e3, e4 = e4, e5 = e5,
    mt = getmetatable(pod),
    writes_failed = not (ok1 or ok2 or ok3 or ok4 or ok5),
  }
end

function M.bind(pod)
  pod.node = "n1"   -- line 29
end

return M
