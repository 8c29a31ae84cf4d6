-- expect: score 2 memory limit exceeded
local function f(n, a, b, c, d, e, g, h) return f(n + 1, a, b, c, d, e, g, h) + 1 end
return { name = "x", score = function(pod, node, state)
  return f(1, 1, 2, 3, 4, 5, 6, 7)
end }
