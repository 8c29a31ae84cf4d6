-- expect: score 4 instruction budget exceeded
return { name = "backtrack", score = function(pod, node, state)
  local s = string.rep("a", 30000)
  if s:find(".-.-.-.-.-b") then return 100 end
  return 0
end }
