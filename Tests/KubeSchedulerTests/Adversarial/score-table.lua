-- expect: score 0 expected a number from 0 to 100, got a table
return { name = "x", score = function(pod, node, state) return { 100 } end }
