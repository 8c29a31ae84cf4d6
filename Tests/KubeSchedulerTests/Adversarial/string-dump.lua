-- expect: load 2 field 'dump'
local bytes = string.dump(function() end)
return { name = "x", score = function() return 1 end }
