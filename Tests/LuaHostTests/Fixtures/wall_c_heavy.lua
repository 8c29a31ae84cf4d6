-- C work the instruction budget does not see: each s:upper() copies 64 KiB in a handful
-- of instructions. pcall around the inner loop must not swallow the wall-time verdict.
local s = "x"
for _ = 1, 16 do s = s .. s end
while true do
  pcall(function()
    while true do local _ = s:upper() end
  end)
end
