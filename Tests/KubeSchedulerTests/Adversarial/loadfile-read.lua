-- expect: load 2 global 'loadfile'
local f = loadfile("/etc/passwd")
return { name = "x", score = function() return 1 end }
