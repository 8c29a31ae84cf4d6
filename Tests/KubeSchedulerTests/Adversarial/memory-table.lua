-- expect: score 4 memory
return { name = "x", score = function(pod, node, state)
  local t = {}
  for i = 1, 1e12 do t[i] = { i } end
  return 1
end }
