-- expect: load 2 instruction budget exceeded
while true do end
return { name = "x", score = function() return 1 end }
