-- expect: filter 3 nil
return { name = "x", filter = function(pod, node, state)
  error(nil)
end }
