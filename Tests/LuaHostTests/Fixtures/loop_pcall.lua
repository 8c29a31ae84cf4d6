-- Tries to swallow the budget error with pcall and xpcall.
while true do
  pcall(function() while true do end end)
  xpcall(function() while true do end end, function(e) return e end)
end
