-- expect: filter 3 global 'os'
return { name = "x", filter = function(pod, node, state)
  return os.execute("true")
end }
