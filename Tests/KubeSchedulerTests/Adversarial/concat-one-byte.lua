-- expect: score 4 instruction budget exceeded
return { name = "grow", score = function(pod, node, state)
  local s = ""
  while true do s = s .. "1" end
end }
