-- expect: filter 4 instruction budget exceeded
return { name = "x", filter = function(pod, node, state)
  local co = coroutine.wrap(function()
    while true do end
  end)
  co()
  return true
end }
