-- expect: filter 4 memory limit exceeded
return { name = "x", filter = function(pod, node, state)
  local s = "x"
  while true do s = s .. s end
end }
