-- expect: score 4 instruction budget exceeded
return { name = "x", score = function(pod, node, state)
  local n = 0
  repeat n = n + 1 until false
end }
