-- expect: filter 3 global 'io'
return { name = "x", filter = function(pod, node, state)
  return io.open("/etc/passwd") ~= nil
end }
