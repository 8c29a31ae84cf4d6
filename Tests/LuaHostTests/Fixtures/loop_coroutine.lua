-- The plugin creates its own coroutine and spins inside it, then keeps going.
return function()
  local co = coroutine.create(function()
    while true do end
  end)
  local ok, err = coroutine.resume(co)
  -- the budget error was caught by resume; keep going as if nothing happened
  local wrapped = coroutine.wrap(function() while true do end end)
  pcall(wrapped)
  while true do end
end
