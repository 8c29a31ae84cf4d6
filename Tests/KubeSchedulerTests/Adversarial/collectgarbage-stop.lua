-- expect: load 2 collectgarbage
collectgarbage("stop")
local t = {}
for i = 1, 1e7 do t[i] = tostring(i) end
return { name = "x", score = function() return 1 end }
