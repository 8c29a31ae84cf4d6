-- expect: filter 3 instruction budget exceeded
return { name = "mover", filter = function(pod, node, state)
  table.move({}, 1, 1e12, 2)
  return true
end }
