-- expect: filter 3 pod view is read-only (field 'x')
return { name = "x", filter = function(pod, node, state)
  pod.labels.x = "1"
  return true
end }
