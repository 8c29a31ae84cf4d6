-- expect: score 0 expected a number from 0 to 100, got nan
return { name = "x", score = function(pod, node, state) return 0/0 end }
