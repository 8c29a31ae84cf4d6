-- expect: filter 3 instruction budget exceeded
return { name = "x", filter = function(pod, node, state)
  local s = node.name:gsub(".", function(c) while true do end end)
  return s ~= nil
end }
