-- expect: score 0 expected a number from 0 to 100, got -5
return { name = "x", score = function(pod, node, state) return -5 end }
