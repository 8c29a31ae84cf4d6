-- expect: score 3 yield
return { name = "x", score = function(pod, node, state)
  coroutine.yield(1)
  return 1
end }
