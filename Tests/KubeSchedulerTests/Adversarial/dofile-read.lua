-- expect: load 2 global 'dofile'
dofile("/etc/passwd")
return { name = "x", score = function() return 1 end }
