-- An infinite loop inside a gsub replacement function (Lua code called by C).
return function(text)
  local calls = 0
  return (text:gsub("%w", function(c)
    calls = calls + 1
    while true do end
  end))
end
