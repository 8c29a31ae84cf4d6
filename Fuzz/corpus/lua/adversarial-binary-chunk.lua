-- expect: load 3 binary chunk refused
local f, err = load("\27Lua\84\0\25\147\13\10\26\10\4\8\8\120\86")
if not f then error("binary chunk refused: " .. tostring(err)) end
return { name = "x", score = function() return 1 end }
