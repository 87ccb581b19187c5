-- Allocation-heavy Lua for the bundled trace lua-objects: binary trees (short- and long-lived
-- tables), string building and concatenation, closures, and a table used as a growing map with
-- keys removed again.
local function tree(depth)
  if depth == 0 then return { } end
  return { tree(depth - 1), tree(depth - 1) }
end

local function check(t)
  if t[1] == nil then return 1 end
  return 1 + check(t[1]) + check(t[2])
end

local long_lived = tree(11)
local total = 0
for depth = 4, 10, 2 do
  local iterations = 2 ^ (10 - depth + 3)
  for _ = 1, iterations do total = total + check(tree(depth)) end
end

local words = {}
for i = 1, 20000 do
  local w = string.format("w%05d-%s", i, string.rep(string.char(97 + i % 26), 1 + i % 13))
  words[#words + 1] = w
end
local counts = {}
for i, w in ipairs(words) do
  local key = w:sub(1, 3 + i % 5)
  counts[key] = (counts[key] or 0) + 1
  if i % 3 == 0 then counts[words[i - 1]:sub(1, 4)] = nil end
end

local parts = {}
for i = 1, 5000 do
  local f = function(x) return x * i end
  parts[#parts + 1] = tostring(f(i)) .. ":" .. words[i]
end
local joined = table.concat(parts, ",")

local n = 0
for _ in pairs(counts) do n = n + 1 end
print(total + check(long_lived), n, #joined)
