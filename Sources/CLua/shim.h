#ifndef KUBELAB_CLUA_SHIM_H
#define KUBELAB_CLUA_SHIM_H
// Debian installs the Lua 5.4 headers under /usr/include/lua5.4; pkg-config lua5.4
// adds that folder to the search path.
#include <lua.h>
#include <lualib.h>
#include <lauxlib.h>
#endif
