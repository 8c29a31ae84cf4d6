-- expect: score 0 expected a number from 0 to 100, got 101
return { name = "x", score = function(pod, node, state) return 101 end }
