-- expect: filter 3 read-only
return { name = "x", filter = function(pod, node, state)
  rawset(node, "name", "evil")
  return true
end }
