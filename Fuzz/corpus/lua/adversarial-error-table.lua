-- expect: filter 3 error object is a table value
return { name = "x", filter = function(pod, node, state)
  error({ code = 42 })
end }
