-- expect: load 2 global 'require'
local json = require("json")
return { name = "x", score = function() return 1 end }
