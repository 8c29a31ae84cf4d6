-- expect: filter 0 expected true or false, got 1
return { name = "x", filter = function(pod, node, state) return 1 end }
