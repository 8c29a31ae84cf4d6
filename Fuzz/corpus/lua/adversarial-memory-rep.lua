-- expect: score 3 memory
return { name = "x", score = function(pod, node, state)
  local s = string.rep("x", 1 << 40)
  return #s
end }
