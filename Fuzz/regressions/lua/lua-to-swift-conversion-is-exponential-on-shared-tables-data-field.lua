-- A table DAG of depth 26 (27 tables, 26 loop iterations) becomes 2^26 leaves when the host
-- converts the plugin's data fields (settings) to LuaValue: no budget applies to the
-- conversion (StateCore.pullTable in Sources/LuaHost/LuaState+Convert.swift).
local t = {}
for i = 1, 26 do t = { t, t } end
return { filter = function() return true end, settings = t }
