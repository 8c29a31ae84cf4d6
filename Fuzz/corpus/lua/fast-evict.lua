-- fast-evict: evict a node's pods as soon as the node is NotReady.
--
-- By default Kubernetes waits: the node lifecycle controller marks a silent node NotReady
-- after 40s and taints it unreachable:NoExecute, and pods tolerate that taint for 300s
-- before they are evicted. This controller deletes the pods of a NotReady node at once, so
-- their ReplicaSets replace them about 5 minutes sooner. The price: a node that was only
-- briefly unreachable loses its pods too.
--
-- Try: kubelab run plugins/scenarios/node-crash.lua --controller plugins/controllers/fast-evict.lua

return {
  name = 'fast-evict',
  watch = { 'Node' },
  permissions = { pods = { 'list', 'delete' }, nodes = { 'get' } },

  reconcile = function(ctx, key)
    local node = ctx.get('Node', key)
    if node == nil or node.ready then
      return nil
    end
    local evicted = 0
    for _, pod in ipairs(ctx.list('Pod', { node = key })) do
      if not pod.deleting then
        ctx.delete('Pod', pod.namespace .. '/' .. pod.name)
        evicted = evicted + 1
      end
    end
    if evicted > 0 then
      ctx.log('node ' .. key .. ' is NotReady: evicted ' .. evicted .. ' pods')
    end
    -- Look again while the node stays NotReady: pods that tolerate the taint may land there.
    return { requeue_after = 30 }
  end,
}
