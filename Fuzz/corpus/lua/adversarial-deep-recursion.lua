-- expect: score 2 memory limit exceeded
local function f(n) return f(n + 1) + 1 end
return { name = "x", score = function(pod, node, state)
  return f(1)
end }
