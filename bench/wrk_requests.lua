-- wrk script of bench/load.py: each wrk thread sends its share of the requests listed in the file, in order,
-- starting again from its first when it runs out (a list shorter than the threads: each sends all of it). A line: METHOD<TAB>PATH<TAB>BODY<TAB>Header: value<TAB>...
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  local nthreads = tonumber(args[2])
  local lines = {}
  for line in io.lines(args[1]) do
    table.insert(lines, line)
  end
  if #lines < nthreads then
    nthreads = 1 -- fewer requests than threads (one page asked for again and again): every thread sends them all
    id = 0
  end
  requests = {}
  local n = 0
  for _, line in ipairs(lines) do
    if n % nthreads == id then
      local fields = {}
      for field in (line .. "\t"):gmatch("([^\t]*)\t") do
        table.insert(fields, field)
      end
      local headers = {}
      for i = 4, #fields do
        local name, value = fields[i]:match("^([^:]+):%s*(.*)$")
        if name then
          headers[name] = value
        end
      end
      local body = fields[3]
      if body == "" then
        body = nil
      end
      table.insert(requests, wrk.format(fields[1], fields[2], headers, body))
    end
    n = n + 1
  end
  index = 0
end

function request()
  index = index % #requests + 1
  return requests[index]
end
