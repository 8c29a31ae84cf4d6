-- A scenario coroutine: yields steps to the host and receives answers.
return function(start)
  local seen = kubelab.observe(start)
  local answer = coroutine.yield("step1", start + 1, seen)
  local again = coroutine.yield({ answer = answer, doubled = answer * 2 })
  if again == "fail" then
    error("scenario failed on purpose")
  end
  return "done", again
end
