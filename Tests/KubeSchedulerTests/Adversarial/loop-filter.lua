-- expect: filter 3 instruction budget exceeded
return { name = "x", filter = function(pod, node, state)
  while true do end
end }
