-- expect: load 2 method 'dump'
local bytes = ("x"):dump()
return { name = "x", score = function() return 1 end }
