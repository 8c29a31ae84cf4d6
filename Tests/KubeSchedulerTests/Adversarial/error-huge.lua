-- expect: score 3 xxxxxxxxxx
return { name = "x", score = function(pod, node, state)
  error(string.rep("x", 1000000))
end }
