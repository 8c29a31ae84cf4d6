-- Lists what a plugin can see.
local globals = {}
for k in pairs(_G) do globals[#globals + 1] = k end
table.sort(globals)
return {
  globals = table.concat(globals, " "),
  io = type(io), os = type(os), debug = type(debug), package = type(package),
  require = type(require), dofile = type(dofile), loadfile = type(loadfile),
  dump = type(string.dump), method_dump = type(("").dump),
  string_mt = getmetatable(""),
}
