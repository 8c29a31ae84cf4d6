-- node-crash: a 3-replica Deployment on 4 nodes; the node running its first pod crashes.
--
-- What happens next is what Kubernetes does by default:
--   1. the kubelet stops renewing its Lease (every 10s);
--   2. 40s after the last renewal the node lifecycle controller marks the node
--      Ready=Unknown and taints it node.kubernetes.io/unreachable:NoExecute;
--   3. the pods tolerate that taint for 300s (the default toleration added at admission),
--      then they are evicted and the ReplicaSet creates replacements elsewhere.
-- So the replacements appear about 5m40s after the crash. Then the node comes back.
--
-- Try: kubelab run plugins/scenarios/node-crash.lua --set default_toleration_seconds=30

local function running_web(k, avoid)
  local n = 0
  for _, pod in ipairs(k.pods({ labels = { app = 'web' }, phase = 'Running', ready = true })) do
    if not pod.deleting and pod.node ~= avoid then
      n = n + 1
    end
  end
  return n
end

return {
  name = 'node-crash',
  cluster = { nodes = { { count = 4, cpu = '4', memory = '16Gi', labels = { zone = 'a' } } } },

  run = function(k)
    k.apply('web.yaml')
    if not k.wait_until(function() return k.ready('deployment/web') end, '2m') then
      error('deployment/web did not become ready within 2 minutes')
    end
    k.sleep('30s')

    local victim = k.pods({ labels = { app = 'web' } })[1].node
    k.log('crashing ' .. victim .. ', which runs a web pod')
    k.crash_node(victim)

    local ok = k.wait_until(function() return running_web(k, victim) == 3 end, '15m', '1s')
    k.log(ok and 'web is back at 3 running pods' or 'web did not recover within 15 minutes')

    k.sleep('30s')
    k.recover_node(victim)
    k.wait_until(function() return #k.nodes({ ready = true }) == 4 end, '2m', '1s')
    k.sleep('15s')
  end,
}
