-- C work the instruction budget does not see: comparing two equal, distinct 256 KiB
-- strings runs a memcmp in a handful of instructions and allocates nothing. pcall around
-- the inner loop must not swallow the wall-time verdict.
local a, b = "x", "x"
for _ = 1, 18 do a = a .. a end
for _ = 1, 18 do b = b .. b end
local same = 0
while true do
  pcall(function()
    while true do if a == b then same = same + 1 end end
  end)
end
