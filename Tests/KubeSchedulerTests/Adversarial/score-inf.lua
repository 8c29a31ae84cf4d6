-- expect: score 0 expected a number from 0 to 100, got inf
return { name = "x", score = function(pod, node, state) return math.huge end }
