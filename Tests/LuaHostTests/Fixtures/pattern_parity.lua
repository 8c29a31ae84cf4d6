-- Compares the sandbox's step-counted string.find/match/gmatch/gsub with the stock Lua
-- functions (global `stock`, exposed by the test) on generated patterns and subjects:
-- results and error messages must be identical.
local stock = stock
local pieces = {
  "a", "b", "c", ".", "%a", "%d", "%s", "%w", "%A", "%p", "%x", "%z", "%g", "%u", "%l", "%.", "%%",
  "[ab]", "[^a]", "[a-c]", "[%a_]", "[]]", "[^]a]", "[a-]", "[%]]", "[%d%s]",
  "%b()", "%bab", "%f[%w]", "%f[%s]", "%f[^a]", "()", "(", ")", "(a)", "(%w+)", "%1", "%2", "%0",
  "*", "+", "-", "?", "$", "^", "\0", " ", "_",
  "%", "[a", "%b", "%bx", "%f", "%fa", "[",
}
local subjects_chars = { "a", "b", "c", "(", ")", " ", "1", "2", "_", "\0", ".", "%", "]", "x", "A" }

local function pattern()
  local n = math.random(1, 6)
  local t = {}
  if math.random(4) == 1 then t[#t + 1] = "^" end
  for _ = 1, n do t[#t + 1] = pieces[math.random(#pieces)] end
  if math.random(5) == 1 then t[#t + 1] = "$" end
  return table.concat(t)
end

local function subject()
  local n = math.random(0, 14)
  local t = {}
  for i = 1, n do t[i] = subjects_chars[math.random(#subjects_chars)] end
  return table.concat(t)
end

local function pack(ok, ...)
  local t = { ok and "ok" or "err" }
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    t[#t + 1] = type(v) .. ":" .. tostring(v)
  end
  return table.concat(t, "|")
end

local function gmatch_all(f, s, p, init)
  return pcall(function()
    local out = {}
    for a, b in f(s, p, init) do
      out[#out + 1] = tostring(a) .. "," .. tostring(b)
      if #out > 40 then break end
    end
    return table.concat(out, ";")
  end)
end

local repls = { "%0", "%1", "<%1%2>", "x", "%%", "%", "%a", 7 }
local function repl_fn(a, b) if a == "a" then return false end return (a or "") .. "!" .. tostring(b) end
local repl_tab = { a = "A", b = false, ["("] = 1, c = {} }

local checked, mismatches, first = 0, 0, nil
local function compare(what, s, p, x, y)
  checked = checked + 1
  if x ~= y then
    mismatches = mismatches + 1
    first = first or string.format("%s(%q, %q): stock %s, sandbox %s", what, s, p, x, y)
  end
end

for _ = 1, tonumber(ROUNDS or 3000) do
  local s, p = subject(), pattern()
  local init = math.random(-6, 16)
  compare("find", s, p, pack(pcall(stock.find, s, p)), pack(pcall(string.find, s, p)))
  compare("find+init", s, p, pack(pcall(stock.find, s, p, init)), pack(pcall(string.find, s, p, init)))
  compare("find plain", s, p, pack(pcall(stock.find, s, p, init, true)), pack(pcall(string.find, s, p, init, true)))
  compare("match", s, p, pack(pcall(stock.match, s, p)), pack(pcall(string.match, s, p)))
  compare("match+init", s, p, pack(pcall(stock.match, s, p, init)), pack(pcall(string.match, s, p, init)))
  compare("gmatch", s, p, pack(gmatch_all(stock.gmatch, s, p)), pack(gmatch_all(string.gmatch, s, p)))
  compare("gmatch+init", s, p, pack(gmatch_all(stock.gmatch, s, p, init)), pack(gmatch_all(string.gmatch, s, p, init)))
  local r = repls[math.random(#repls)]
  local max = math.random(4) == 1 and math.random(0, 3) or nil
  compare("gsub", s, p, pack(pcall(stock.gsub, s, p, r, max)), pack(pcall(string.gsub, s, p, r, max)))
  compare("gsub fn", s, p, pack(pcall(stock.gsub, s, p, repl_fn)), pack(pcall(string.gsub, s, p, repl_fn)))
  compare("gsub table", s, p, pack(pcall(stock.gsub, s, p, repl_tab)), pack(pcall(string.gsub, s, p, repl_tab)))
end
return checked, mismatches, first
