-- expect: score 0 expected a number from 0 to 100, got nil
return { name = "x", score = function(pod, node, state) end }
