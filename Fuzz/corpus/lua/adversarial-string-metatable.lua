-- expect: load 2 attempt to index
getmetatable("").__index = { evil = true }
return { name = "x", score = function() return 1 end }
