-- expect: filter 0 expected true or false, got a table
return { name = "x", filter = function(pod, node, state) return {} end }
