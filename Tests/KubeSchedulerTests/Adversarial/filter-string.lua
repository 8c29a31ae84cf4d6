-- expect: filter 0 expected true or false, got the string "yes"
return { name = "x", filter = function(pod, node, state) return "yes" end }
