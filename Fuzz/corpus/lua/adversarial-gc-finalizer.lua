-- expect: load 2 __gc metamethods are not allowed
setmetatable({}, { __gc = function() while true do end end })
return { name = "x", score = function() return 1 end }
