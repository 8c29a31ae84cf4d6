-- expect: load 4 __close metamethods are not allowed
-- In Lua 5.4.4 a chain of coroutine.close calls from __close handlers overflows the C stack.
local function closer()
  return setmetatable({}, { __close = function() coroutine.close(coroutine.create(closer)) end })
end
local guard <close> = closer()
return { name = "closer", score = function() return 1 end }
